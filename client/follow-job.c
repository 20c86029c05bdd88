/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <unistd.h>

#include "fanout-find.h"
#include "first-contact.h"
#include "follow-job.h"
#include "parse.h"

int offset_option(int opt, const char *arg, OffsetArgs *a, CliError *e) {
        int r;

        switch (opt) {
        case ARG_STDOUT_OFFSET:
                r = parse_uint64("stdout offset", arg, &a->stdout_offset, e);
                a->stdout_set = true;
                break;
        case ARG_STDERR_OFFSET:
                r = parse_uint64("stderr offset", arg, &a->stderr_offset, e);
                a->stderr_set = true;
                break;
        default:
                return 0;
        }
        return r < 0 ? r : 1;
}

int follow_job_parse(Cli *cli, int argc, char **argv, const CommandSpec *spec,
                     int (*check)(Cli *cli, void *userdata, CliError *e), const char **ret_arg, CliError *e) {
        int r;

        r = command_parse_id(cli, argc, argv, spec, ret_arg, e);
        if (r != 0)
                return r;
        r = check(cli, spec->userdata, e);
        if (r < 0)
                return r;
        return fanout_find_job(cli, *ret_arg, ret_arg, e);
}

int follow_job_get(Cli *cli, const char *arg, bool follow, bool merge, LogsOutput *out,
                   char ret_id[static JOB_ID_LEN + 1], Jobrunner__V1__GetStatusResponse **ret, CliError *e) {
        FirstContact first = {};
        int r;

        fflush(stdout);
        logs_output_init(out, STDOUT_FILENO, STDERR_FILENO, cli->json);
        out->merge = merge;

        if (follow) {
                r = cli_connect(cli, e);
                if (r < 0)
                        return r;
                first_contact_begin(&first, cli->conn, out, true);
        }
        /* Whether the job exists, and where its streams end; also, once the
         * server has answered, an UNAVAILABLE later on means it restarted:
         * worth reconnecting. */
        r = cli_get_job(cli, arg, ret_id, ret, e);
        first_contact_end(&first);
        return r;
}
