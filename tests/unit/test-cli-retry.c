/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The jobrunner CLI ($JOBRUNNER_CLI) begun while the daemon restarts: its
 * connection waits in the socket's backlog, or the daemon going away closes
 * it, and logs -f and run retry their first calls until a server answers,
 * then go on as if it had answered at once.  What must still fail at once
 * does, and run never starts a job twice.  The restart is played by a TCP
 * front (fake-front.h) before a fake server over mutual TLS; the real
 * daemon's restart is tests/daemon/test-cli-restart.sh, in the VM. */

#include <criterion/criterion.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli-runner.h"
#include "fake-front.h"
#include "fake-server.h"
#include "jobrunner.pb-c.h"
#include "macro.h"

#define streq(a, b) (strcmp((a), (b)) == 0)

#define OUT JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT
#define ERR JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR

#define ID_DONE "0d0d0d0d00000000000000000000000d"   /* what Start of /bin/sh creates: exits 7 */
#define RETRYING "jobrunner: cannot reach the server yet ("
#define MAY_HAVE_STARTED "the job may or may not have been started; see 'jobrunner list'"

/* ---- keys: a CA, the server, alice, and old (expired) ------------------------------------ */

static char keys_dir[PATH_MAX];

static const FakeKeysStep key_steps[] = {
        { NULL, { "init" } },
        { NULL, { "server", "127.0.0.1", "localhost" } },
        { NULL, { "user", "alice", "operator" } },
        { NULL, { "user", "--not-before", "20200101000000Z", "--not-after", "20201231235959Z", "old", "operator" } },
};

ReportHook(PRE_ALL)(struct criterion_test_set *set) {
        (void) set;
        (void) fake_keys_make(keys_dir, sizeof(keys_dir), "/tmp/jr-test-cli-retry.XXXXXX", key_steps,
                              ELEMENTSOF(key_steps));
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats) {
        (void) stats;
        fake_keys_remove(keys_dir);
}

/* ---- the fake server: Start, GetStatus and Logs of one job ------------------------------ */

enum { M_START, M_GET_STATUS, M_LOGS, _M_MAX };

static const char *const method_paths[_M_MAX] = {
        [M_START]      = "/jobrunner.v1.JobRunner/Start",
        [M_GET_STATUS] = "/jobrunner.v1.JobRunner/GetStatus",
        [M_LOGS]       = "/jobrunner.v1.JobRunner/Logs",
};

static struct {
        atomic_int start_calls;
        atomic_int hang_started;        /* a Start of /hang came */
} srv;

static Jobrunner__V1__JobStatus job_status(Jobrunner__V1__JobState state) {
        Jobrunner__V1__JobStatus s = JOBRUNNER__V1__JOB_STATUS__INIT;

        s.id = (char *) ID_DONE;
        s.owner = (char *) "alice";
        s.state = state;
        if (state == JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED)
                s.exit_code = 7;
        return s;
}

/* Answers with { JobStatus job = 1; }, the shape of Start's and
 * GetStatus's responses. */
static void reply_job(FakeRequest *r, const ProtobufCMessageDescriptor *type, Jobrunner__V1__JobState state) {
        Jobrunner__V1__JobStatus s = job_status(state);
        Jobrunner__V1__GetStatusResponse resp = JOBRUNNER__V1__GET_STATUS_RESPONSE__INIT;

        SRV_CHECK(protobuf_c_message_descriptor_get_field(type, 1)->type == PROTOBUF_C_TYPE_MESSAGE);
        resp.job = &s;
        fake_finish_call(r->call, true, fake_pack_message(&resp.base), GRPC_STATUS_OK, NULL, true);
}

static void serve_start(FakeRequest *r) {
        Jobrunner__V1__StartRequest *req =
                (Jobrunner__V1__StartRequest *) fake_request_unpack(r, &jobrunner__v1__start_request__descriptor);

        SRV_CHECK(req && req->spec && req->spec->n_argv > 0);
        atomic_fetch_add(&srv.start_calls, 1);
        if (streq(req->spec->argv[0], "/hang")) {
                grpc_op op = { .op = GRPC_OP_RECV_CLOSE_ON_SERVER };
                int cancelled = 0;

                /* Never answers: the test cuts the connection meanwhile. */
                atomic_store(&srv.hang_started, 1);
                op.data.recv_close_on_server.cancelled = &cancelled;
                (void) fake_server_batch(r->call, &op, 1);
        } else
                reply_job(r, &jobrunner__v1__start_response__descriptor,
                          JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING);
        jobrunner__v1__start_request__free_unpacked(req, NULL);
}

static void serve_logs(FakeRequest *r) {
        Jobrunner__V1__LogsResponse m = JOBRUNNER__V1__LOGS_RESPONSE__INIT;
        Jobrunner__V1__JobStatus end = job_status(JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED);

        SRV_CHECK(fake_send_chunk(r->call, OUT, 0, "hello\n", 6, true));
        SRV_CHECK(fake_send_chunk(r->call, ERR, 0, "oops\n", 5, false));
        m.event_case = JOBRUNNER__V1__LOGS_RESPONSE__EVENT_END;
        m.end = &end;
        SRV_CHECK(fake_send_logs_message(r->call, &m, false));
        fake_finish_call(r->call, false, NULL, GRPC_STATUS_OK, NULL, true);
}

static void serve_get_status(FakeRequest *r) {
        reply_job(r, &jobrunner__v1__get_status_response__descriptor, JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED);
}

static void serve(FakeRequest *r) {
        static void (*const by_method[_M_MAX])(FakeRequest *r) = {
                [M_START] = serve_start,
                [M_GET_STATUS] = serve_get_status,
                [M_LOGS] = serve_logs,
        };

        SRV_CHECK(r->method < _M_MAX);
        by_method[r->method](r);
}

static void setup(void) {
        cli_server_start(method_paths, _M_MAX, serve);
}

static void teardown(void) {
        fake_front_stop();
        fake_server_stop();
}

TestSuite(retry, .init = setup, .fini = teardown, .timeout = 120);

/* Points the CLI at the front. */
static void front(FakeFrontMode mode) {
        fake_front_start(mode);
        cli_target = fake_front_target;
}

/* Until a connection waits in the front's backlog (at most 10 s). */
static void wait_for_queued_connection(void) {
        for (int i = 0; i < 1000 && fake_front_queued() == 0; i++)
                usleep(10000);
        cr_assert_gt(fake_front_queued(), 0, "the CLI never connected");
}

/* The job's output, as if the server had answered at once. */
static void assert_job_output(const CliRun *t, const char *notices) {
        char err[512];

        snprintf(err, sizeof(err), "%soops\n", notices);
        cr_assert_str_eq(t->out, "hello\n");
        cr_assert_str_eq(t->err, err);
}

/* ---- a daemon that is still starting: the connection waits in the backlog ------------------- */

/* --timeout 1s: the first call's deadline passes while the connection waits. */
Test(retry, logs_follow_waits_for_the_daemon_to_accept) {
        _cleanup_(cli_run_done) CliRun t;

        front(FAKE_FRONT_HOLD);
        t = cli_spawn(AS_ALICE, "--timeout", "1s", "logs", "-f", ID_DONE, NULL);
        wait_for_queued_connection();
        wait_for_error_output(&t, RETRYING);
        fake_front_set_mode(FAKE_FRONT_FORWARD);
        cli_finish(&t);

        cr_assert_eq(t.exit_status, 0);
        assert_job_output(&t, RETRYING "no TLS handshake within 1s); retrying...\njobrunner: connected\n");
}

Test(retry, run_waits_for_the_daemon_to_accept_and_starts_once) {
        _cleanup_(cli_run_done) CliRun t;

        front(FAKE_FRONT_HOLD);
        t = cli_spawn(AS_ALICE, "--timeout", "1s", "run", "/bin/sh", NULL);
        wait_for_queued_connection();
        wait_for_error_output(&t, RETRYING);
        fake_front_set_mode(FAKE_FRONT_FORWARD);
        cli_finish(&t);

        cr_assert_eq(t.exit_status, 7);
        assert_job_output(&t, RETRYING "no TLS handshake within 1s); retrying...\njobrunner: connected\n");
        cr_assert_eq(atomic_load(&srv.start_calls), 1);
}

/* ---- a daemon on its way out: it closes the connection -------------------------------------- */

/* The cause is gRPC's, "Socket closed" or a reset. */
static void assert_retried_closed_connections(const CliRun *t) {
        const char *tail = "); retrying...\njobrunner: connected\noops\n";

        size_t lines = 0;

        /* One notice when the wait begins, one when it ends, then the
         * job's stderr. */
        for (const char *p = t->err; *p; p++)
                lines += *p == '\n';
        cr_assert_eq(lines, 3, "%s", t->err);
        cr_assert_eq(strncmp(t->err, RETRYING, strlen(RETRYING)), 0, "%s", t->err);
        cr_assert_geq(t->err_len, strlen(RETRYING) + strlen(tail), "%s", t->err);
        cr_assert_str_eq(t->err + t->err_len - strlen(tail), tail);
        cr_assert_str_eq(t->out, "hello\n");
        cr_assert_eq(fake_front_closed(), 2);
}

Test(retry, logs_follow_retries_connections_the_daemon_closes) {
        _cleanup_(cli_run_done) CliRun t;

        front(FAKE_FRONT_FORWARD);
        fake_front_close_next(2, FAKE_FRONT_FORWARD);
        t = cli("logs", "-f", ID_DONE);

        cr_assert_eq(t.exit_status, 0);
        assert_retried_closed_connections(&t);
}

Test(retry, run_retries_connections_the_daemon_closes_and_starts_once) {
        _cleanup_(cli_run_done) CliRun t;

        front(FAKE_FRONT_FORWARD);
        fake_front_close_next(2, FAKE_FRONT_FORWARD);
        t = cli("run", "--", "/bin/sh", "-c", "exit 7");

        cr_assert_eq(t.exit_status, 7);
        assert_retried_closed_connections(&t);
        cr_assert_eq(atomic_load(&srv.start_calls), 1);
}

/* A closed handshake is also how a refused client certificate looks: after
 * a few seconds of it, it is one. */
Test(retry, a_server_that_keeps_closing_refused_the_certificate) {
        _cleanup_(cli_run_done) CliRun t;

        front(FAKE_FRONT_CLOSE);
        t = cli("logs", "-f", ID_DONE);

        cr_assert_eq(t.exit_status, 69);
        cr_assert_not_null(strstr(t.err, RETRYING), "%s", t.err);
        cr_assert_not_null(strstr(t.err, "\njobrunner: 127.0.0.1:"), "%s", t.err);
        cr_assert_not_null(strstr(t.err, " closed the connection during the TLS handshake ("), "%s", t.err);
        cr_assert_not_null(strstr(t.err, "): it most likely refused the client certificate "), "%s", t.err);
        cr_assert_gt(fake_front_closed(), 1);
        cr_assert_eq(atomic_load(&srv.start_calls), 0);
}

/* ---- a daemon that goes away with Start open: never a second job --------------------------- */

Test(retry, a_start_cut_off_is_not_repeated) {
        _cleanup_(cli_run_done) CliRun t;

        front(FAKE_FRONT_FORWARD);
        t = cli_spawn(AS_ALICE, "run", "/hang", NULL);
        wait_for(&srv.hang_started);
        fake_front_cut();
        cli_finish(&t);

        cr_assert_eq(t.exit_status, 69);
        cr_assert_not_null(strstr(t.err, "jobrunner: the connection to the server broke before it answered ("),
                           "%s", t.err);
        cr_assert_not_null(strstr(t.err, MAY_HAVE_STARTED "\n"), "%s", t.err);
        cr_assert_null(strstr(t.err, RETRYING), "%s", t.err);
        cr_assert_eq(atomic_load(&srv.start_calls), 1);
}

/* ---- what retrying cannot help: at once, as before ------------------------------------------- */

Test(retry, nobody_listening_fails_at_once) {
        _cleanup_(cli_run_done) CliRun t;

        cli_target = "127.0.0.1:1";
        t = cli("run", "/bin/sh");
        cli_target = NULL;

        cr_assert_eq(t.exit_status, 69);
        cr_assert_str_eq(t.err, "jobrunner: cannot connect to 127.0.0.1:1: Connection refused (is jobrunner.socket "
                                "listening there? see --server)\n");
}

/* The local checks explain the closed handshake: no retrying. */
Test(retry, a_refused_certificate_the_checks_explain_fails_at_once) {
        _cleanup_(cli_run_done) CliRun t = cli_as(AS_OLD, "logs", "-f", ID_DONE, NULL);
        _cleanup_(cli_run_done) CliRun u = cli_as(AS_OLD, "run", "/bin/sh", NULL);

        cr_assert_eq(t.exit_status, 69);
        cr_assert_null(strstr(t.err, RETRYING), "%s", t.err);
        cr_assert_not_null(strstr(t.err, "It expired on 2020-12-31 23:59:59 UTC."), "%s", t.err);
        cr_assert_eq(u.exit_status, 69);
        cr_assert_null(strstr(u.err, RETRYING), "%s", u.err);
        cr_assert_not_null(strstr(u.err, "It expired on 2020-12-31 23:59:59 UTC."), "%s", u.err);
        cr_assert_eq(atomic_load(&srv.start_calls), 0);
}
