/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jobrunner wait: waits for a job to end and exits with its exit status. */

#include <inttypes.h>
#include <stdio.h>

#include "backoff.h"
#include "command.h"
#include "fanout-find.h"
#include "jobs.h"
#include "status.h"

static void help(void) {
        printf("Usage: jobrunner wait [OPTIONS] ID\n"
               "\n"
               "Waits until a job has ended (at once if it has), prints how it ended, and exits\n"
               "with its exit status.  With --timeout, gives up after that long (exit status 6).\n"
               "If the server restarts meanwhile, waits on.  ID is the job's id or a unique\n"
               "prefix of at least 8 characters.\n"
               "\n%s"
               "\n"
               "Exit status: the job's exit code; 128+N if signal N ended it (also when stopped;\n"
               "137 if the OOM killer did); 127 if it failed to start; see 'jobrunner --help'\n"
               "for the others.\n",
               common_options_help);
}

int verb_wait(Cli *cli, int argc, char **argv, CliError *e) {
        _cleanup_message_ Jobrunner__V1__GetStatusResponse *status = NULL;
        _cleanup_message_ Jobrunner__V1__WaitResponse *resp = NULL;
        Jobrunner__V1__WaitRequest req = JOBRUNNER__V1__WAIT_REQUEST__INIT;
        _cleanup_free_ char *result = NULL;
        char id[JOB_ID_LEN + 1], what[JOB_WHAT_MAX];
        const char *arg;
        Backoff b = {};
        int r;

        r = command_parse_id(cli, argc, argv, &(CommandSpec) { .help = help }, &arg, e);
        if (r != 0)
                return r < 0 ? r : 0;
        r = fanout_find_job(cli, arg, &arg, e);
        if (r < 0)
                return r;
        /* First a short call: a job that does not exist, or a server that
         * cannot be reached, is reported at once; and an UNAVAILABLE of the
         * Wait below then means a restart, worth waiting through. */
        r = cli_get_job(cli, arg, id, &status, e);
        if (r < 0)
                return r;

        req.id = id;
        for (;;) {
                _cleanup_(rpc_status_done) RpcStatus st = {};

                r = conn_call(cli->conn, "Wait", &req.base, &jobrunner__v1__wait_response__descriptor,
                              CONN_DEADLINE_LONG, &st, (ProtobufCMessage **) &resp, e);
                if (r < 0)
                        return r;
                if (st.code == JR_CODE_OK)
                        break;
                if (st.code != JR_CODE_UNAVAILABLE || !backoff_wait(&b, false))
                        return conn_fail(cli->conn, &st, job_what(id, what), e);
        }
        if (!resp->job)
                return cli_error(e, CLI_EXIT_API, -EBADMSG, "the server's answer to Wait holds no job");

        if (cli->json)
                cli_print_json_job(resp->job);
        else {
                result = format_job_result(resp->job);
                if (!result)
                        return cli_error_oom(e);
                printf("job %s %s\n", id, result);
        }
        r = job_exit_status(resp->job);
        if (r < 0)
                return cli_error(e, CLI_EXIT_API, -EBADMSG, "job %s: Wait answered with the job in state %s", id,
                                 job_state_name(resp->job->state));
        return r;
}
