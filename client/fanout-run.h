/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* jobrunner run fanned out (fanout.h): the job started on every host,
 * its output followed with the host's prefix, Ctrl-C handled on each host
 * as for one, and a summary at the end. */

#include <stdbool.h>

#include "cli.h"
#include "jobrunner.pb-c.h"

typedef struct FanOutRunOptions {
        Jobrunner__V1__JobSpec *spec;
        bool stop_on_interrupt;
        bool merge;
} FanOutRunOptions;

/* The exit status of the rule in fanout-summary.h, or a negative errno
 * with e set when no host was tried. */
int fanout_run(Cli *cli, const FanOutRunOptions *o, CliError *e);
