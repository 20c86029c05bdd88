/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jobrunner stop: SIGTERM, then SIGKILL after the grace period. */

#include <stdio.h>

#include "command.h"
#include "fanout-find.h"
#include "jobs.h"
#include "parse.h"
#include "status.h"

enum {
        ARG_GRACE = 0x3000,
};

static void help(void) {
        printf("Usage: jobrunner stop [OPTIONS] ID\n"
               "\n"
               "Stops a job: SIGTERM to every process of the job, then SIGKILL to those left\n"
               "after the grace period.  Returns once the job has ended and prints how it\n"
               "ended.  ID is the job's id or a unique prefix of at least 8 characters.\n"
               "\n"
               "  --grace DURATION       time between SIGTERM and SIGKILL, 1ms..5min, e.g. 30s,\n"
               "                         500ms, 2min (default: the server's, 10s)\n"
               "\n%s"
               "\n"
               "Stopping a job that has already ended is an error (exit status 5).\n",
               common_options_help);
}

static int stop_option(Cli *cli, int opt, const char *arg, void *userdata, CliError *e) {
        uint32_t *grace_ms = userdata;
        int r;

        (void) cli;
        if (opt != ARG_GRACE)
                return 0;
        r = parse_grace(arg, grace_ms, e);
        return r < 0 ? r : 1;
}

/* The job has ended already: say how. */
static int already_ended(Cli *cli, const char *id, CliError *e) {
        _cleanup_message_ Jobrunner__V1__GetStatusResponse *resp = NULL;
        _cleanup_free_ char *result = NULL;

        if (get_status(cli->conn, id, &resp, NULL) >= 0)
                result = format_job_result(resp->job);
        return cli_error(e, CLI_EXIT_API, -EALREADY, "job %s has already ended%s%s", id, result ? ": " : "",
                         result ?: "");
}

int verb_stop(Cli *cli, int argc, char **argv, CliError *e) {
        static const struct option options[] = {
                { "grace", required_argument, NULL, ARG_GRACE },
                {}
        };
        _cleanup_(rpc_status_done) RpcStatus st = {};
        _cleanup_message_ Jobrunner__V1__StopResponse *resp = NULL;
        Jobrunner__V1__StopRequest req = JOBRUNNER__V1__STOP_REQUEST__INIT;
        _cleanup_free_ char *result = NULL;
        char id[JOB_ID_LEN + 1], what[JOB_WHAT_MAX];
        uint32_t grace_ms = 0;
        const char *arg;
        int r;

        r = command_parse_id(cli, argc, argv,
                             &(CommandSpec) { .options = options, .handler = stop_option, .userdata = &grace_ms,
                                              .help = help },
                             &arg, e);
        if (r != 0)
                return r < 0 ? r : 0;
        r = fanout_find_job(cli, arg, &arg, e);
        if (r < 0)
                return r;
        r = cli_resolve_job(cli, arg, id, e);
        if (r < 0)
                return r;

        req.id = id;
        req.grace_period_ms = grace_ms;
        r = conn_call(cli->conn, "Stop", &req.base, &jobrunner__v1__stop_response__descriptor, CONN_DEADLINE_LONG,
                      &st, (ProtobufCMessage **) &resp, e);
        if (r < 0)
                return r;
        if (st.code == JR_CODE_FAILED_PRECONDITION)
                return already_ended(cli, id, e);
        if (st.code != JR_CODE_OK)
                return conn_fail(cli->conn, &st, job_what(id, what), e);
        if (!resp->job)
                return cli_error(e, CLI_EXIT_API, -EBADMSG, "the server's answer to Stop holds no job");

        if (cli->json) {
                cli_print_json_job(resp->job);
                return 0;
        }
        result = format_job_result(resp->job);
        if (!result)
                return cli_error_oom(e);
        printf("job %s %s\n", id, result);
        return 0;
}
