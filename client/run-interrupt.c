/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "interrupt.h"
#include "jobs.h"
#include "run-interrupt.h"
#include "status.h"

void run_tell_detached(RunInterrupt *run) {
        uint64_t o = run->cursor->next[JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT],
                 x = run->cursor->next[JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR];
        const char *label = run->attach ? "attach again:" : "follow it again:";
        char offsets[64] = "", context[128] = "", command[64];

        /* Where this left off: following again from there neither repeats
         * nor skips anything, so a gap up to there is told now. */
        (void) logs_output_flush(run->out);
        if ((o > 0 || x > 0) && !(run->attach && run->replay))
                snprintf(offsets, sizeof(offsets), "--stdout-offset %" PRIu64 " --stderr-offset %" PRIu64 " ", o, x);
        if (run->context)
                snprintf(context, sizeof(context), "-c %s ", run->context);
        if (run->attach)
                snprintf(command, sizeof(command), "attach %s%s", run->attach, run->attach[0] ? " " : "");
        else
                snprintf(command, sizeof(command), "logs -f ");
        (void) logs_output_notice(run->out,
                                  "detached from job %s, which keeps running.\n"
                                  "jobrunner: %s jobrunner %s%s%s%s\n"
                                  "jobrunner: %-*s jobrunner %sstop %s",
                                  run->id, label, context, command, offsets, run->id, (int) strlen(label), "stop it:",
                                  context, run->id);
}

int run_interrupt(void *userdata, CliError *e) {
        RunInterrupt *run = userdata;
        Jobrunner__V1__StopRequest req = JOBRUNNER__V1__STOP_REQUEST__INIT;
        _cleanup_(rpc_status_done) RpcStatus st = {};
        ProtobufCMessage *resp = NULL;
        char what[JOB_WHAT_MAX];
        int r;

        if (!run->stop_on_interrupt) {
                run_tell_detached(run);
                return 1;
        }
        if (run->stopping)
                return 0;
        run->stopping = true;

        (void) logs_output_notice(run->out, "stopping job %s (Ctrl-C again to leave without waiting)", run->id);
        req.id = (char *) run->id;
        r = conn_call(run->conn, "Stop", &req.base, &jobrunner__v1__stop_response__descriptor, CONN_DEADLINE_LONG,
                      &st, &resp, e);
        if (r < 0)
                return r;
        if (resp)
                protobuf_c_message_free_unpacked(resp, NULL);
        /* Already ended (FAILED_PRECONDITION) is as good: the end of the
         * output comes all the same. */
        if (st.code != 0 && st.code != JR_CODE_FAILED_PRECONDITION)
                return conn_fail(run->conn, &st, job_what(run->id, what), e);
        return 0;
}

int run_interrupt_install(const char *id, CliError *e) {
        /* Kept by pointer: one job is followed per process. */
        static char last_words[256];
        int r;

        snprintf(last_words, sizeof(last_words),
                 "\njobrunner: interrupted; job %s may still be running: jobrunner status %s\n", id, id);
        r = interrupt_install(last_words);
        if (r < 0)
                return cli_error(e, CLI_EXIT_LOCAL, r, "cannot handle Ctrl-C: %s", strerror(-r));
        return 0;
}
