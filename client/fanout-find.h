/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The commands on one job (status, logs, wait, stop) with several
 * contexts selected: the job's ID or prefix is looked up on every selected
 * context's server, and must be found on exactly one; the command then
 * goes on there as for one context.  A prefix that matches on several
 * hosts is ambiguous, and the error names the CONTEXT/ID to give. */

#include "cli.h"

/* With one context or none: *ret_id is arg.  Otherwise the lookup; then
 * cli has that one context and its connection, and *ret_id is the whole
 * id (in cli). */
int fanout_find_job(Cli *cli, const char *arg, const char **ret_id, CliError *e);
