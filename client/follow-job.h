/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* What logs and attach share before they follow one job's output: the
 * options that choose where the output starts, the parsing up to the
 * job's host, and the first call, which may meet a restarting daemon. */

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "command.h"
#include "jobs.h"
#include "logs-output.h"

enum {
        ARG_STDOUT_OFFSET = 0x3100,
        ARG_STDERR_OFFSET,
};

#define OFFSET_LONG_OPTIONS                                                     \
        { "stdout-offset", required_argument, NULL, ARG_STDOUT_OFFSET },        \
        { "stderr-offset", required_argument, NULL, ARG_STDERR_OFFSET }

typedef struct OffsetArgs {
        bool stdout_set, stderr_set;
        uint64_t stdout_offset, stderr_offset;
} OffsetArgs;

/* An OptionHandler's part for OFFSET_LONG_OPTIONS: 1 if it took opt, 0 if
 * not, or a negative errno with e set. */
int offset_option(int opt, const char *arg, OffsetArgs *a, CliError *e);

/* command_parse_id(), then check (the checks that need every option, with
 * spec->userdata), then fanout_find_job(): 0 with the job's argument in
 * *ret_arg, 1 after --help, or a negative errno with e set. */
int follow_job_parse(Cli *cli, int argc, char **argv, const CommandSpec *spec,
                     int (*check)(Cli *cli, void *userdata, CliError *e), const char **ret_arg, CliError *e);

/* Sets out up for this process's stdout and stderr, then cli_get_job() of
 * arg; with follow, that may begin while the daemon restarts, as
 * following may go on across a restart (first-contact.h). */
int follow_job_get(Cli *cli, const char *arg, bool follow, bool merge, LogsOutput *out,
                   char ret_id[static JOB_ID_LEN + 1], Jobrunner__V1__GetStatusResponse **ret, CliError *e);
