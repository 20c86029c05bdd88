/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jobrunner status: everything the server knows about one job. */

#include <stdio.h>
#include <sys/time.h>

#include "command.h"
#include "fanout-find.h"
#include "jobs.h"
#include "print.h"

static void help(void) {
        printf("Usage: jobrunner status [OPTIONS] ID\n"
               "\n"
               "Shows a job: its command, limits and isolation, state and result (exit code or\n"
               "signal, OOM kill, who stopped it), start and end times, resource usage, output\n"
               "sizes and the number of clients following its output.  ID is the job's id or\n"
               "a unique prefix of at least 8 characters of it.\n"
               "\n%s",
               common_options_help);
}

int verb_status(Cli *cli, int argc, char **argv, CliError *e) {
        _cleanup_message_ Jobrunner__V1__GetStatusResponse *resp = NULL;
        char id[JOB_ID_LEN + 1];
        const char *arg;
        struct timeval tv;
        int r;

        r = command_parse_id(cli, argc, argv, &(CommandSpec) { .help = help }, &arg, e);
        if (r != 0)
                return r < 0 ? r : 0;
        r = fanout_find_job(cli, arg, &arg, e);
        if (r < 0)
                return r;
        r = cli_get_job(cli, arg, id, &resp, e);
        if (r < 0)
                return r;

        if (cli->json) {
                cli_print_json_job(resp->job);
                return 0;
        }
        gettimeofday(&tv, NULL);
        r = print_job_status(stdout, resp->job, (int64_t) tv.tv_sec * 1000000 + tv.tv_usec);
        return r < 0 ? cli_error_oom(e) : 0;
}
