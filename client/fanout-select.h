/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Which contexts a fanned-out command runs on: the -c values, each a
 * context's name or a shell pattern (fnmatch(3)) over the names of the
 * user's contexts, or --all-contexts. */

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

#define FANOUT_PARALLEL_DEFAULT 32u
#define FANOUT_PARALLEL_MAX 1024u

/* Whether a -c value is a pattern: context names never hold '*', '?' or
 * '['. */
bool context_is_pattern(const char *arg);

/* The selected contexts' names, sorted, each once (a strv: free with
 * strv_free()).  A name the file does not define is a CLI_EXIT_CONFIG
 * error, as for one context; a pattern that matches none, and
 * --all-contexts without any context, are usage errors. */
int fanout_select(Cli *cli, char ***ret, size_t *ret_n, CliError *e);
