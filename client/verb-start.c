/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jobrunner start: starts a job and prints its id. */

#include <errno.h>
#include <stdio.h>

#include "cli.h"
#include "fanout-jobs.h"
#include "jobs.h"
#include "spec-command.h"

static void help(void) {
        printf("Usage: jobrunner start [OPTIONS] [--] PROGRAM [ARGUMENTS...]\n"
               "\n"
               "Starts PROGRAM on the server as a job and prints the job's id.  PROGRAM is run\n"
               "directly, without a shell or a PATH search: it must be an absolute path on the\n"
               "server.  Everything after '--' (or after the first argument that is not an\n"
               "option) is the job's argv, verbatim.\n"
               "\n"
               "%s\n%s"
               "\n"
               "Exit status: 0 once the job runs (or already ended); 127 if it failed to start\n"
               "(its id is printed all the same); see 'jobrunner --help' for the others.\n",
               spec_options_help, common_options_help);
}

int verb_start(Cli *cli, int argc, char **argv, CliError *e) {
        _cleanup_(spec_args_done) SpecArgs a;
        Jobrunner__V1__StartResponse *resp = NULL;
        const JobStatus *j;
        int r;

        spec_args_init(&a);
        r = spec_command_parse(cli, argc, argv, NULL, NULL, NULL, help, &a, e);
        if (r != 0)
                return r < 0 ? r : 0;
        if (cli_fans_out(cli))
                return fanout_start(cli, &a.spec, e);

        r = cli_start_job(cli, &a.spec, &resp, e);
        if (r < 0)
                return r;
        j = resp->job;

        if (cli->json)
                cli_print_json_job(j);
        else
                printf("%s\n", j->id);

        if (j->state == JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START) {
                _cleanup_free_ char *result = format_job_result(j);

                r = cli_error(e, CLI_EXIT_FAILED_TO_START, -ENOEXEC, "job %s %s", j->id, result ?: "failed to start");
        }
        jobrunner__v1__start_response__free_unpacked(resp, NULL);
        return r < 0 ? r : 0;
}
