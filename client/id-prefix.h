/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Finding the one job an id prefix means among the jobs the caller can
 * see. */

#include <stddef.h>

#include "error.h"
#include "format.h"

/* *ret: the id of the only job whose id starts with prefix (borrowed from
 * jobs).  No match: a CLI_EXIT_NOT_FOUND error; several: a CLI_EXIT_USAGE
 * error listing them (at most 10). */
int id_prefix_match(const char *prefix, JobStatus *const *jobs, size_t n, const char **ret, CliError *e);
