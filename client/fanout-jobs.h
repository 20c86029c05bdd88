/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* jobrunner start and list fanned out (fanout.h).  Each host's call runs
 * on its thread; the answers are printed at the end in the order of the
 * hosts' names, and each host that failed is named on stderr with its
 * error.  The exit status follows the rule of fanout-summary.h. */

#include <stdbool.h>

#include "cli.h"
#include "jobrunner.pb-c.h"

/* "CONTEXT ID" per host (with --json, the job's object with a "host"
 * member). */
int fanout_start(Cli *cli, Jobrunner__V1__JobSpec *spec, CliError *e);

typedef enum FanOutListFormat {
        FANOUT_LIST_TABLE,              /* a HOST column first */
        FANOUT_LIST_QUIET,              /* CONTEXT/ID per line */
        FANOUT_LIST_JSON,               /* one array, each object with "host" */
} FanOutListFormat;

/* filter->owner NULL and mine: each host's own user (its certificate's
 * CN). */
int fanout_list(Cli *cli, const Jobrunner__V1__ListRequest *filter, bool mine, FanOutListFormat format,
                CliError *e);
