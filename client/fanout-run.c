/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fanout-run.h"
#include "fanout.h"
#include "interrupt.h"
#include "jobs.h"
#include "logs-follow.h"
#include "print.h"
#include "run-interrupt.h"

static void build_start(JsonWriter *w, const void *arg) {
        json_begin_object(w);
        json_kv_string(w, "type", "start");
        json_key(w, "job");
        json_job_status(w, arg);
        json_end_object(w);
}

static void host_ran(FanHost *h, const JobStatus *end) {
        host_result_done(&h->result);
        h->result.outcome = HOST_RAN;
        h->result.status = job_exit_status(end);
        h->result.text = format_job_result(end);
}

static void host_interrupted(FanHost *h, const char *text) {
        host_result_done(&h->result);
        h->result.outcome = HOST_INTERRUPTED;
        h->result.text = strdup(text);
}

/* The job's start, its output to the end, on one host; the result in
 * h->result.  Errors are the host's, never the command's. */
static int run_on(FanHost *h, const FanOutRunOptions *o, CliError *e) {
        _cleanup_(start_response_freep) Jobrunner__V1__StartResponse *resp = NULL;
        _cleanup_(job_status_freep) JobStatus *end = NULL;
        char id[JOB_ID_LEN + 1], text[JOB_ID_LEN + 64];
        const JobStatus *j;
        LogsFollowOptions fo;
        LogsCursor cursor;
        RunInterrupt ri;
        int r;

        /* Ctrl-C before this host's turn: nothing is started any more.
         * Received, not requested: this thread may have handled it for
         * the host before. */
        if (interrupt_received()) {
                host_interrupted(h, "not started (interrupted)");
                return 0;
        }
        r = fanout_connect(h, e);
        if (r < 0)
                return r;
        /* Not first-contact.h's waiting out of a daemon that seems to be
         * restarting, up to minutes: a host that does not answer within
         * Start's deadline (--timeout, by default 30 s) is reported as
         * such, like one that refuses the connection, for the others'
         * summary not to wait on it. */
        r = start_job(h->conn, o->spec, &resp, e);
        if (r < 0)
                return r;
        j = resp->job;
        snprintf(id, sizeof(id), "%s", j->id);
        if (h->fanout->cli->json)
                (void) logs_output_json(&h->logs, build_start, j);
        if (j->state == JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START) {
                host_ran(h, j);
                return 0;
        }

        logs_cursor_init(&cursor, 0, 0);
        ri = (RunInterrupt) {
                .conn = h->conn,
                .id = id,
                .context = h->name,
                .stop_on_interrupt = o->stop_on_interrupt,
                .out = &h->logs,
                .cursor = &cursor,
        };
        fo = (LogsFollowOptions) {
                .follow = true,
                .interruptible = true,
                .on_interrupt = run_interrupt,
                .userdata = &ri,
        };
        r = logs_follow(h->conn, id, &fo, &cursor, &h->logs, &end, e);
        if (r == -EINTR) {
                snprintf(text, sizeof(text), "detached from job %s", id);
                host_interrupted(h, text);
                return 0;
        }
        r = job_followed_exit(h->conn, id, r, &end, e);
        if (r < 0)
                return r;
        host_ran(h, end);
        return 0;
}

static void build_error(JsonWriter *w, const void *arg) {
        const HostResult *r = arg;

        json_begin_object(w);
        json_kv_string(w, "type", "error");
        json_kv_string(w, "message", r->text ?: "");
        json_end_object(w);
}

static void run_host(FanHost *h, void *userdata) {
        _cleanup_cli_error_ CliError e = {};
        const FanOutRunOptions *o = userdata;

        h->logs.merge = o->merge;
        if (run_on(h, o, &e) >= 0)
                return;
        fanout_host_failed(h, &e);
        /* In the stream of JSON lines, where the host's events would be. */
        if (h->fanout->cli->json)
                (void) logs_output_json(&h->logs, build_error, &h->result);
}

int fanout_run(Cli *cli, const FanOutRunOptions *o, CliError *e) {
        /* What the signal handler writes on a second Ctrl-C. */
        static const char last_words[] =
                "\njobrunner: interrupted; the jobs started may still be running: see 'jobrunner -c CONTEXT list'\n";
        FanOut *f;
        int r;

        r = fanout_open(cli, &f, e);
        if (r < 0)
                return r;
        /* Before the first host starts its job: from then on, Ctrl-C
         * reaches every host's thread (interrupt.h). */
        r = interrupt_install(last_words);
        if (r < 0)
                return cli_error(e, CLI_EXIT_LOCAL, r, "cannot handle Ctrl-C: %s", strerror(-r));
        fanout_each(f, run_host, (void *) o);
        return fanout_finish(f, true, e);
}
