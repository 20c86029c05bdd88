/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* tests/client/ against a real gRPC server over mutual TLS: a small fake of
 * the API (its answers are made up, the transport is not) on a thread of the
 * test process, with keys from keys/jobrunner-keys ($JOBRUNNER_KEYS), and the
 * jr-test-client tool ($JR_TEST_CLIENT) against the same server. */

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake-server.h"
#include "health.pb-c.h"
#include "macro.h"
#include "test-client.h"
#include "tls.h"
#include "time-util.h"

#define streq(a, b) (strcmp((a), (b)) == 0)

extern char **environ;

/* ---- helpers --------------------------------------------------------------- */

/* Runs argv with stdout and stderr to files (NULL: /dev/null); returns the
 * exit status, or -1. */
static int run(char *const *argv, const char *out, const char *err) {
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int status, r;

        cr_assert_eq(posix_spawn_file_actions_init(&fa), 0);
        posix_spawn_file_actions_addopen(&fa, 1, out ?: "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_addopen(&fa, 2, err ?: "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        cr_assert_eq(r, 0, "cannot run %s: %s", argv[0], strerror(r));
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *last_line(const char *s) {
        size_t n = strlen(s);
        const char *p;

        while (n > 0 && s[n - 1] == '\n')
                n--;
        for (p = s + n; p > s && p[-1] != '\n'; p--)
                ;
        return p;
}

/* ---- keys ------------------------------------------------------------------- *
 * Made once for the whole run, in the runner, before the tests are spawned:
 * a CA, a server certificate for 127.0.0.1 and localhost, the user alice
 * (operator), and a second, unrelated CA. */

static char keys_dir[PATH_MAX];

static const FakeKeysStep key_steps[] = {
        { NULL,    { "init" } },
        { NULL,    { "server", "127.0.0.1", "localhost" } },
        { NULL,    { "user", "alice", "operator" } },
        { "other", { "init" } },
};

ReportHook(PRE_ALL)(struct criterion_test_set *set) {
        (void) set;
        (void) fake_keys_make(keys_dir, sizeof(keys_dir), "/tmp/jr-test-client.XXXXXX", key_steps,
                              ELEMENTSOF(key_steps));
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats) {
        (void) stats;
        fake_keys_remove(keys_dir);
}

/* ---- the fake server ----------------------------------------------------------- */

typedef enum Method {
        METHOD_GET_STATUS,      /* "missing": NOT_FOUND; else a job of that id, owner = caller's CN */
        METHOD_ECHO,            /* /test.Echo/Echo: the request bytes back */
        METHOD_WAIT,            /* never answers: the client's deadline ends it */
        METHOD_LOGS,            /* see serve_logs() */
        METHOD_START,           /* the spec back in a RUNNING job */
        METHOD_LIST,            /* two pages: jobs a and b, then c */
        METHOD_HEALTH,          /* "" SERVING, "stopping" NOT_SERVING, else NOT_FOUND */
        _METHOD_REGISTERED,
        METHOD_GENERIC = _METHOD_REGISTERED, /* anything else: UNIMPLEMENTED */
} Method;

static const char *const method_paths[_METHOD_REGISTERED] = {
        [METHOD_GET_STATUS] = "/jobrunner.v1.JobRunner/GetStatus",
        [METHOD_ECHO]       = "/test.Echo/Echo",
        [METHOD_WAIT]       = "/jobrunner.v1.JobRunner/Wait",
        [METHOD_LOGS]       = "/jobrunner.v1.JobRunner/Logs",
        [METHOD_START]      = "/jobrunner.v1.JobRunner/Start",
        [METHOD_LIST]       = "/jobrunner.v1.JobRunner/List",
        [METHOD_HEALTH]     = "/grpc.health.v1.Health/Check",
};

/* The fake's own state; the server is fake_server. */
static struct {
        atomic_int logs_cancelled;              /* a following Logs call saw the client cancel */
        atomic_int logs_served;
} srv;

static void serve_get_status(FakeRequest *r) {
        Jobrunner__V1__GetStatusRequest *req;
        Jobrunner__V1__GetStatusResponse resp = JOBRUNNER__V1__GET_STATUS_RESPONSE__INIT;
        Jobrunner__V1__JobStatus job = JOBRUNNER__V1__JOB_STATUS__INIT;
        _cleanup_free_ char *cn = NULL, *details = NULL;

        req = (Jobrunner__V1__GetStatusRequest *) fake_request_unpack(r, &jobrunner__v1__get_status_request__descriptor);
        if (!req) {
                fake_finish_call(r->call, true, NULL, GRPC_STATUS_INVALID_ARGUMENT, "cannot parse the request", true);
                return;
        }
        if (streq(req->id, "missing")) {
                SRV_CHECK(asprintf(&details, "no job %s", req->id) >= 0);
                fake_finish_call(r->call, true, NULL, GRPC_STATUS_NOT_FOUND, details, true);
        } else {
                cn = fake_peer_cn(r->call);
                job.id = req->id;
                job.owner = cn;
                job.state = JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING;
                job.failure_reason = (char *) "two\nlines";
                job.followers = 2;
                resp.job = &job;
                fake_finish_call(r->call, true, fake_pack_message(&resp.base), GRPC_STATUS_OK, NULL, true);
        }
        jobrunner__v1__get_status_request__free_unpacked(req, NULL);
}

static void serve_echo(FakeRequest *r) {
        if (!r->payload) {
                fake_finish_call(r->call, true, NULL, GRPC_STATUS_INVALID_ARGUMENT, "no message", true);
                return;
        }
        fake_finish_call(r->call, true, grpc_byte_buffer_copy(r->payload), GRPC_STATUS_OK, "echo", true);
}

static void serve_wait(FakeRequest *r) {
        grpc_op op = { .op = GRPC_OP_RECV_CLOSE_ON_SERVER };
        int cancelled = 0;

        /* Completes when the call is over: here, at the client's deadline. */
        op.data.recv_close_on_server.cancelled = &cancelled;
        (void) fake_server_batch(r->call, &op, 1);
        SRV_CHECK(cancelled);
}

/* id "missing": NOT_FOUND.  follow: "tick N\n" on stdout every 5 ms until
 * the client goes away (at most 10 s).  Otherwise stdout_offset (abused as
 * a count) chunks alternating "out N\n" on stdout and "err N\n" on stderr,
 * then one chunk of all 256 byte values on stdout, a gap on stderr and the
 * end, state EXITED, exit code 3. */
static void serve_logs(FakeRequest *r) {
        const Jobrunner__V1__OutputStream out = JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT;
        const Jobrunner__V1__OutputStream err = JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR;
        Jobrunner__V1__LogsRequest *req;
        grpc_op close_op = { .op = GRPC_OP_RECV_CLOSE_ON_SERVER };
        uint64_t offsets[3] = {};
        int cancelled = 0, close_tag;
        bool first = true;
        char text[32];

        req = (Jobrunner__V1__LogsRequest *) fake_request_unpack(r, &jobrunner__v1__logs_request__descriptor);
        if (!req) {
                fake_finish_call(r->call, true, NULL, GRPC_STATUS_INVALID_ARGUMENT, "cannot parse the request", true);
                return;
        }
        if (streq(req->id, "missing")) {
                /* A trailers-only response.  The (empty) initial metadata
                 * must be sent all the same: chttp2 turns it into trailers
                 * itself, and without it never writes the status at all
                 * (the client sees its deadline expire). */
                fake_finish_call(r->call, true, NULL, GRPC_STATUS_NOT_FOUND, "no job missing", true);
                jobrunner__v1__logs_request__free_unpacked(req, NULL);
                return;
        }

        close_op.data.recv_close_on_server.cancelled = &cancelled;
        SRV_CHECK(grpc_call_start_batch(r->call, &close_op, 1, &close_tag, NULL) == GRPC_CALL_OK);

        if (req->follow) {
                for (int i = 0; i < 2000; i++) {
                        int len = snprintf(text, sizeof(text), "tick %d\n", i);

                        if (!fake_send_chunk(r->call, out, offsets[out], text, (size_t) len, first))
                                break;
                        first = false;
                        offsets[out] += (uint64_t) len;
                        fake_server_idle(5);
                }
                (void) fake_server_pluck(&close_tag);
                if (cancelled)
                        atomic_store(&srv.logs_cancelled, 1);
        } else {
                Jobrunner__V1__LogsResponse m = JOBRUNNER__V1__LOGS_RESPONSE__INIT;
                Jobrunner__V1__LogGap gap = JOBRUNNER__V1__LOG_GAP__INIT;
                Jobrunner__V1__JobStatus end = JOBRUNNER__V1__JOB_STATUS__INIT;
                uint8_t all[256];
                bool ok = true;

                for (uint64_t i = 0; ok && i < req->stdout_offset; i++) {
                        Jobrunner__V1__OutputStream s = i % 2 == 0 ? out : err;
                        int len = snprintf(text, sizeof(text), "%s %" PRIu64 "\n", s == out ? "out" : "err", i);

                        ok = fake_send_chunk(r->call, s, offsets[s], text, (size_t) len, first);
                        first = false;
                        offsets[s] += (uint64_t) len;
                }
                for (size_t i = 0; i < sizeof(all); i++)
                        all[i] = (uint8_t) i;
                ok = ok && fake_send_chunk(r->call, out, offsets[out], all, sizeof(all), first);
                offsets[out] += sizeof(all);

                gap.stream = err;
                gap.offset = offsets[err];
                gap.length = 100;
                gap.reason = JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_OUTPUT_TRUNCATED;
                m.event_case = JOBRUNNER__V1__LOGS_RESPONSE__EVENT_GAP;
                m.gap = &gap;
                ok = ok && fake_send_logs_message(r->call, &m, false);

                end.id = req->id;
                end.state = JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED;
                end.exit_code = 3;
                end.stdout_bytes = offsets[out];
                end.stderr_bytes = offsets[err] + 100;
                m.event_case = JOBRUNNER__V1__LOGS_RESPONSE__EVENT_END;
                m.end = &end;
                ok = ok && fake_send_logs_message(r->call, &m, false);

                fake_finish_call(r->call, false, NULL, GRPC_STATUS_OK, NULL, false);
                (void) fake_server_pluck(&close_tag);
        }
        atomic_fetch_add(&srv.logs_served, 1);
        jobrunner__v1__logs_request__free_unpacked(req, NULL);
}

static void serve_start(FakeRequest *r) {
        Jobrunner__V1__StartRequest *req;
        Jobrunner__V1__StartResponse resp = JOBRUNNER__V1__START_RESPONSE__INIT;
        Jobrunner__V1__JobStatus job = JOBRUNNER__V1__JOB_STATUS__INIT;
        _cleanup_free_ char *cn = NULL;

        req = (Jobrunner__V1__StartRequest *) fake_request_unpack(r, &jobrunner__v1__start_request__descriptor);
        if (!req || !req->spec || req->spec->n_argv == 0) {
                fake_finish_call(r->call, true, NULL, GRPC_STATUS_INVALID_ARGUMENT, "no argv", true);
                if (req)
                        jobrunner__v1__start_request__free_unpacked(req, NULL);
                return;
        }
        cn = fake_peer_cn(r->call);
        job.id = (char *) "00112233445566778899aabbccddeeff";
        job.owner = cn;
        job.spec = req->spec;
        job.state = JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING;
        resp.job = &job;
        fake_finish_call(r->call, true, fake_pack_message(&resp.base), GRPC_STATUS_OK, NULL, true);
        jobrunner__v1__start_request__free_unpacked(req, NULL);
}

static void serve_list(FakeRequest *r) {
        Jobrunner__V1__ListRequest *req;
        Jobrunner__V1__ListResponse resp = JOBRUNNER__V1__LIST_RESPONSE__INIT;
        Jobrunner__V1__JobStatus jobs[3] = {
                JOBRUNNER__V1__JOB_STATUS__INIT, JOBRUNNER__V1__JOB_STATUS__INIT, JOBRUNNER__V1__JOB_STATUS__INIT,
        };
        Jobrunner__V1__JobStatus *page[2];
        static const char *const ids[3] = { "a", "b", "c" };
        size_t first, n;

        req = (Jobrunner__V1__ListRequest *) fake_request_unpack(r, &jobrunner__v1__list_request__descriptor);
        if (!req || !(streq(req->page_token, "") || streq(req->page_token, "p2"))) {
                fake_finish_call(r->call, true, NULL, GRPC_STATUS_INVALID_ARGUMENT, "bad page_token", true);
                if (req)
                        jobrunner__v1__list_request__free_unpacked(req, NULL);
                return;
        }
        first = streq(req->page_token, "") ? 0 : 2;
        n = first == 0 ? 2 : 1;
        for (size_t i = 0; i < n; i++) {
                jobs[first + i].id = (char *) ids[first + i];
                jobs[first + i].owner = req->owner[0] ? req->owner : (char *) "alice";
                jobs[first + i].state = req->active_only ? JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING :
                                                           JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED;
                page[i] = &jobs[first + i];
        }
        resp.jobs = page;
        resp.n_jobs = n;
        resp.next_page_token = (char *) (first == 0 ? "p2" : "");
        fake_finish_call(r->call, true, fake_pack_message(&resp.base), GRPC_STATUS_OK, NULL, true);
        jobrunner__v1__list_request__free_unpacked(req, NULL);
}

static void serve_health(FakeRequest *r) {
        Grpc__Health__V1__HealthCheckRequest *req;
        Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;

        req = (Grpc__Health__V1__HealthCheckRequest *) fake_request_unpack(
                        r, &grpc__health__v1__health_check_request__descriptor);
        if (!req || !(streq(req->service, "") || streq(req->service, "stopping"))) {
                fake_finish_call(r->call, true, NULL, GRPC_STATUS_NOT_FOUND, "unknown service", true);
                if (req)
                        grpc__health__v1__health_check_request__free_unpacked(req, NULL);
                return;
        }
        resp.status = streq(req->service, "") ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING :
                                                GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
        fake_finish_call(r->call, true, fake_pack_message(&resp.base), GRPC_STATUS_OK, NULL, true);
        grpc__health__v1__health_check_request__free_unpacked(req, NULL);
}

static void serve_generic(FakeRequest *r) {
        _cleanup_free_ char *details = NULL;

        SRV_CHECK(asprintf(&details, "unknown method %.*s", (int) GRPC_SLICE_LENGTH(r->details.method),
                           (const char *) GRPC_SLICE_START_PTR(r->details.method)) >= 0);
        fake_finish_call(r->call, true, NULL, GRPC_STATUS_UNIMPLEMENTED, details, true);
}

/* One call at a time, each to its end. */
static void serve(FakeRequest *r) {
        switch (r->method) {
        case METHOD_GET_STATUS:
                serve_get_status(r);
                break;
        case METHOD_ECHO:
                serve_echo(r);
                break;
        case METHOD_WAIT:
                serve_wait(r);
                break;
        case METHOD_LOGS:
                serve_logs(r);
                break;
        case METHOD_START:
                serve_start(r);
                break;
        case METHOD_LIST:
                serve_list(r);
                break;
        case METHOD_HEALTH:
                serve_health(r);
                break;
        default:
                serve_generic(r);
                break;
        }
}

static void setup(void) {
        fake_server_start(&(const FakeServerOptions) {
                .method_paths = method_paths,
                .n_methods = _METHOD_REGISTERED,
                .generic = true,
                .serve = serve,
        });
}

static void teardown(void) {
        fake_server_stop();
        srv = (typeof(srv)) {};
}

/* ---- the library ------------------------------------------------------------------- */

static char ca_path[PATH_MAX + 32], cert_path[PATH_MAX + 32], key_path[PATH_MAX + 32], other_ca_path[PATH_MAX + 32];

static void paths(void) {
        fake_keys_path(ca_path, sizeof(ca_path), "ca.crt");
        fake_keys_path(cert_path, sizeof(cert_path), "users/alice/client.crt");
        fake_keys_path(key_path, sizeof(key_path), "users/alice/client.key");
        fake_keys_path(other_ca_path, sizeof(other_ca_path), "other/ca.crt");
}

static TcConn *connect_alice(void) {
        TcConn *c = NULL;

        paths();
        cr_assert_eq(tc_connect(fake_server.target, cert_path, key_path, ca_path, &c), 0);
        return c;
}

TestSuite(client, .init = setup, .fini = teardown, .timeout = 60);

Test(client, method_paths_and_names) {
        char buf[64];

        cr_assert_str_eq(tc_method_path("Start", buf, sizeof(buf)), "/jobrunner.v1.JobRunner/Start");
        cr_assert_str_eq(tc_method_path("/a.B/C", buf, sizeof(buf)), "/a.B/C");
        cr_assert_null(tc_method_path("Start", buf, 10));
        cr_assert_str_eq(tc_status_name(0), "OK");
        cr_assert_str_eq(tc_status_name(GRPC_STATUS_UNAVAILABLE), "UNAVAILABLE");
        cr_assert_str_eq(tc_status_name(GRPC_STATUS_UNAUTHENTICATED), "UNAUTHENTICATED");
        cr_assert_null(tc_status_name(17));
        cr_assert_null(tc_status_name(-1));
}

Test(client, call_ok) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        Jobrunner__V1__GetStatusRequest req = JOBRUNNER__V1__GET_STATUS_REQUEST__INIT;
        Jobrunner__V1__GetStatusResponse *resp = NULL;
        _cleanup_free_ char *details = NULL;
        int status = -1;

        req.id = (char *) "0123456789abcdef0123456789abcdef";
        cr_assert_eq(tc_call(c, "GetStatus", &req.base, &jobrunner__v1__get_status_response__descriptor, 0,
                             &status, &details, (ProtobufCMessage **) &resp), 0);
        cr_assert_eq(status, GRPC_STATUS_OK, "status %d: %s", status, details);
        cr_assert_str_eq(details, "");
        cr_assert_not_null(resp);
        cr_assert_not_null(resp->job);
        cr_assert_str_eq(resp->job->id, req.id);
        /* The server saw alice's certificate. */
        cr_assert_str_eq(resp->job->owner, "alice");
        cr_assert_eq(resp->job->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING);
        jobrunner__v1__get_status_response__free_unpacked(resp, NULL);
}

Test(client, many_calls_on_one_connection) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        Jobrunner__V1__GetStatusRequest req = JOBRUNNER__V1__GET_STATUS_REQUEST__INIT;

        for (int i = 0; i < 50; i++) {
                Jobrunner__V1__GetStatusResponse *resp = NULL;
                char id[16];
                int status = -1;

                snprintf(id, sizeof(id), "job%d", i);
                req.id = id;
                cr_assert_eq(tc_call(c, "GetStatus", &req.base, &jobrunner__v1__get_status_response__descriptor,
                                     0, &status, NULL, (ProtobufCMessage **) &resp), 0);
                cr_assert_eq(status, GRPC_STATUS_OK);
                cr_assert_str_eq(resp->job->id, id);
                jobrunner__v1__get_status_response__free_unpacked(resp, NULL);
        }
}

Test(client, health_check) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        int status = -1, serving = -2;
        char *details = NULL;

        cr_assert_eq(tc_health_check(c, NULL, 0, &status, &details, &serving), 0);
        cr_assert_eq(status, GRPC_STATUS_OK, "%s", details);
        cr_assert_eq(serving, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
        free(details);

        cr_assert_eq(tc_health_check(c, "stopping", 0, &status, NULL, &serving), 0);
        cr_assert_eq(status, GRPC_STATUS_OK);
        cr_assert_eq(serving, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);

        cr_assert_eq(tc_health_check(c, "nope", 0, &status, &details, &serving), 0);
        cr_assert_eq(status, GRPC_STATUS_NOT_FOUND);
        cr_assert_str_eq(details, "unknown service");
        cr_assert_eq(serving, -1);
        free(details);

        cr_assert_str_eq(tc_serving_status_name(1), "SERVING");
        cr_assert_str_eq(tc_serving_status_name(2), "NOT_SERVING");
        cr_assert_null(tc_serving_status_name(4));
}

Test(client, call_error_status) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        Jobrunner__V1__GetStatusRequest req = JOBRUNNER__V1__GET_STATUS_REQUEST__INIT;
        ProtobufCMessage *resp = (ProtobufCMessage *) 1;
        _cleanup_free_ char *details = NULL;
        int status = -1;

        req.id = (char *) "missing";
        cr_assert_eq(tc_call(c, "GetStatus", &req.base, &jobrunner__v1__get_status_response__descriptor, 0,
                             &status, &details, &resp), 0);
        cr_assert_eq(status, GRPC_STATUS_NOT_FOUND);
        cr_assert_str_eq(details, "no job missing");
        cr_assert_null(resp);
}

Test(client, garbage_payload) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        TcResult r;

        cr_assert_eq(tc_unary(c, "GetStatus", "\xff\xff\xff\xff", 4, 0, &r), 0);
        cr_assert_eq(r.status, GRPC_STATUS_INVALID_ARGUMENT);
        cr_assert_str_eq(r.details, "cannot parse the request");
        cr_assert_null(r.response);
        tc_result_done(&r);
}

Test(client, unknown_method) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        TcResult r;

        cr_assert_eq(tc_unary(c, "Frobnicate", NULL, 0, 0, &r), 0);
        cr_assert_eq(r.status, GRPC_STATUS_UNIMPLEMENTED);
        cr_assert_str_eq(r.details, "unknown method /jobrunner.v1.JobRunner/Frobnicate");
        tc_result_done(&r);

        cr_assert_eq(tc_unary(c, "/other.Service/Method", "x", 1, 0, &r), 0);
        cr_assert_eq(r.status, GRPC_STATUS_UNIMPLEMENTED);
        cr_assert_str_eq(r.details, "unknown method /other.Service/Method");
        tc_result_done(&r);
}

Test(client, raw_bytes_round_trip) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        _cleanup_free_ uint8_t *big = NULL;
        uint8_t all[256];
        size_t big_len = 3 * 1024 * 1024;
        TcResult r;

        for (size_t i = 0; i < sizeof(all); i++)
                all[i] = (uint8_t) (255 - i);
        cr_assert_eq(tc_unary(c, "/test.Echo/Echo", all, sizeof(all), 0, &r), 0);
        cr_assert_eq(r.status, GRPC_STATUS_OK);
        cr_assert_str_eq(r.details, "echo");
        cr_assert_eq(r.response_len, sizeof(all));
        cr_assert_arr_eq(r.response, all, sizeof(all));
        tc_result_done(&r);

        /* An empty message is a message: non-NULL, length 0. */
        cr_assert_eq(tc_unary(c, "/test.Echo/Echo", NULL, 0, 0, &r), 0);
        cr_assert_eq(r.status, GRPC_STATUS_OK);
        cr_assert_not_null(r.response);
        cr_assert_eq(r.response_len, 0);
        tc_result_done(&r);

        /* Below the server's 4 MiB limit, above the client's default one. */
        big = malloc(big_len);
        for (size_t i = 0; i < big_len; i++)
                big[i] = (uint8_t) (i * 7);
        cr_assert_eq(tc_unary(c, "/test.Echo/Echo", big, big_len, 0, &r), 0);
        cr_assert_eq(r.status, GRPC_STATUS_OK, "%d: %s", r.status, r.details);
        cr_assert_eq(r.response_len, big_len);
        cr_assert(memcmp(r.response, big, big_len) == 0);
        tc_result_done(&r);
}

Test(client, unary_calls_in_flight_waited_in_any_order) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        static const unsigned order[] = { 4, 1, 3, 0, 5, 2 };
        TcUnary *u[ELEMENTSOF(order)];
        char payload[ELEMENTSOF(order)][16];
        TcResult r;

        for (size_t i = 0; i < ELEMENTSOF(u); i++) {
                snprintf(payload[i], sizeof(payload[i]), "call %zu", i);
                cr_assert_eq(tc_unary_start(c, "/test.Echo/Echo", payload[i], strlen(payload[i]), 0, &u[i]), 0);
        }
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                unsigned k = order[i];

                cr_assert_eq(tc_unary_wait(u[k], &r), 0);
                cr_assert_eq(r.status, GRPC_STATUS_OK, "%d: %s", r.status, r.details);
                cr_assert_eq(r.response_len, strlen(payload[k]));
                cr_assert(memcmp(r.response, payload[k], r.response_len) == 0, "call %u got another's answer", k);
                tc_result_done(&r);
        }

        /* A result nobody wants is released too. */
        cr_assert_eq(tc_unary_start(c, "/test.Echo/Echo", "x", 1, 0, &u[0]), 0);
        cr_assert_eq(tc_unary_wait(u[0], NULL), 0);
}

Test(client, oversized_request) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        size_t len = 5 * 1024 * 1024;
        _cleanup_free_ uint8_t *data = calloc(1, len);
        TcResult r;

        cr_assert_eq(tc_unary(c, "/test.Echo/Echo", data, len, 0, &r), 0);
        cr_assert_eq(r.status, GRPC_STATUS_RESOURCE_EXHAUSTED, "%d: %s", r.status, r.details);
        cr_log_info("oversized: %s", r.details);
        tc_result_done(&r);

        /* The connection survives it. */
        cr_assert_eq(tc_unary(c, "/test.Echo/Echo", "ok", 2, 0, &r), 0);
        cr_assert_eq(r.status, GRPC_STATUS_OK);
        tc_result_done(&r);
}

Test(client, deadline) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        int64_t t = (int64_t) (now_usec(CLOCK_MONOTONIC) / USEC_PER_MSEC);
        TcResult r;

        cr_assert_eq(tc_unary(c, "Wait", NULL, 0, 300, &r), 0);
        t = (int64_t) (now_usec(CLOCK_MONOTONIC) / USEC_PER_MSEC) - t;
        cr_assert_eq(r.status, GRPC_STATUS_DEADLINE_EXCEEDED);
        cr_assert_geq(t, 250);
        cr_assert_lt(t, 5000);
        tc_result_done(&r);
}

static void expect_unavailable(TcConn *c, int64_t max_ms) {
        Jobrunner__V1__GetStatusRequest req = JOBRUNNER__V1__GET_STATUS_REQUEST__INIT;
        _cleanup_free_ char *details = NULL;
        ProtobufCMessage *resp = NULL;
        int64_t t = (int64_t) (now_usec(CLOCK_MONOTONIC) / USEC_PER_MSEC);
        int status = -1;

        req.id = (char *) "abc";
        cr_assert_eq(tc_call(c, "GetStatus", &req.base, &jobrunner__v1__get_status_response__descriptor, 0,
                             &status, &details, &resp), 0);
        t = (int64_t) (now_usec(CLOCK_MONOTONIC) / USEC_PER_MSEC) - t;
        cr_assert_eq(status, GRPC_STATUS_UNAVAILABLE, "status %d: %s", status, details);
        cr_assert_null(resp);
        cr_assert_lt(t, max_ms, "took %" PRIi64 " ms", t);
        cr_assert_neq(details[0], '\0');
        cr_log_info("UNAVAILABLE after %" PRIi64 " ms: %s", t, details);
}

Test(client, no_client_certificate) {
        _cleanup_(tc_disconnectp) TcConn *c = NULL;

        paths();
        cr_assert_eq(tc_connect(fake_server.target, NULL, NULL, ca_path, &c), 0);
        /* Fails fast, far below the default deadline of 30 s. */
        expect_unavailable(c, 10000);
        /* And again, on the same channel. */
        expect_unavailable(c, 10000);
}

Test(client, unknown_server_ca) {
        _cleanup_(tc_disconnectp) TcConn *c = NULL;

        paths();
        cr_assert_eq(tc_connect(fake_server.target, cert_path, key_path, other_ca_path, &c), 0);
        expect_unavailable(c, 10000);
}

Test(client, server_name_override) {
        _cleanup_(tc_disconnectp) TcConn *c = NULL;
        TcOptions o = { .target_name_override = "localhost" };
        TcResult r;

        paths();
        /* The certificate has no name "wrong". */
        cr_assert_eq(tc_connect_full(fake_server.target, cert_path, key_path, ca_path,
                                     &(TcOptions) { .target_name_override = "wrong" }, &c), 0);
        expect_unavailable(c, 10000);
        tc_disconnect(TAKE_PTR(c));

        cr_assert_eq(tc_connect_full(fake_server.target, cert_path, key_path, ca_path, &o, &c), 0);
        cr_assert_eq(tc_unary(c, "/test.Echo/Echo", "x", 1, 0, &r), 0);
        cr_assert_eq(r.status, GRPC_STATUS_OK, "%d: %s", r.status, r.details);
        tc_result_done(&r);
}

Test(client, tls13_only) {
        _cleanup_(tc_disconnectp) TcConn *c = NULL;
        TcResult r;

        /* The server's grpc_init() came first: too late for this process. */
        paths();
        cr_assert_eq(tc_connect_full(fake_server.target, cert_path, key_path, ca_path,
                                     &(TcOptions) { .tls13_only = true }, &c), -EALREADY);
        cr_assert_null(c);
        cr_assert_eq(tc_connect(fake_server.target, cert_path, key_path, ca_path, &c), 0);
        cr_assert_eq(tc_unary(c, "/test.Echo/Echo", "x", 1, 0, &r), 0);
        cr_assert_eq(r.status, GRPC_STATUS_OK);
        tc_result_done(&r);
}

Test(client, bad_arguments) {
        TcConn *c = NULL;

        paths();
        cr_assert_eq(tc_connect(fake_server.target, cert_path, NULL, ca_path, &c), -EINVAL);
        cr_assert_eq(tc_connect(fake_server.target, NULL, key_path, ca_path, &c), -EINVAL);
        cr_assert_eq(tc_connect(fake_server.target, "/nonexistent", key_path, ca_path, &c), -ENOENT);
        cr_assert_null(c);
}

/* Nothing listens there: a bound socket that does not listen refuses. */
Test(no_server, unavailable, .timeout = 60) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t l = sizeof(a);
        _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        _cleanup_(tc_disconnectp) TcConn *c = NULL;
        char target[64];

        cr_assert_geq(fd, 0);
        cr_assert_eq(bind(fd, (struct sockaddr *) &a, sizeof(a)), 0);
        cr_assert_eq(getsockname(fd, (struct sockaddr *) &a, &l), 0);
        snprintf(target, sizeof(target), "127.0.0.1:%u", (unsigned) ntohs(a.sin_port));

        paths();
        cr_assert_eq(tc_connect(target, cert_path, key_path, ca_path, &c), 0);
        expect_unavailable(c, 10000);
}

/* ---- Logs ----------------------------------------------------------------------------- */

TestSuite(stream, .init = setup, .fini = teardown, .timeout = 60);

static TcStream *open_logs(TcConn *c, const char *id, uint64_t count, bool follow) {
        Jobrunner__V1__LogsRequest req = JOBRUNNER__V1__LOGS_REQUEST__INIT;
        TcStream *s = NULL;

        req.id = (char *) id;
        req.stdout_offset = count;
        req.follow = follow;
        cr_assert_eq(tc_logs_open(c, &req, 0, &s), 0);
        return s;
}

static void expect_chunk(TcStream *s, Jobrunner__V1__OutputStream stream, const char *text) {
        Jobrunner__V1__LogsResponse *m = NULL;

        cr_assert_eq(tc_stream_next(s, &m), 1);
        cr_assert_eq(m->event_case, JOBRUNNER__V1__LOGS_RESPONSE__EVENT_CHUNK);
        cr_assert_eq(m->chunk->stream, stream);
        cr_assert_eq(m->chunk->data.len, strlen(text));
        cr_assert(memcmp(m->chunk->data.data, text, strlen(text)) == 0);
        jobrunner__v1__logs_response__free_unpacked(m, NULL);
}

static void expect_rest(TcStream *s) {
        Jobrunner__V1__LogsResponse *m = NULL;
        const char *details = NULL;
        int status = -1;

        cr_assert_eq(tc_stream_next(s, &m), 1);
        cr_assert_eq(m->event_case, JOBRUNNER__V1__LOGS_RESPONSE__EVENT_CHUNK);
        cr_assert_eq(m->chunk->data.len, 256);
        for (size_t i = 0; i < 256; i++)
                cr_assert_eq(m->chunk->data.data[i], i);
        jobrunner__v1__logs_response__free_unpacked(m, NULL);

        cr_assert_eq(tc_stream_next(s, &m), 1);
        cr_assert_eq(m->event_case, JOBRUNNER__V1__LOGS_RESPONSE__EVENT_GAP);
        cr_assert_eq(m->gap->length, 100);
        jobrunner__v1__logs_response__free_unpacked(m, NULL);

        cr_assert_eq(tc_stream_status(s, &status, &details), -EBUSY);

        cr_assert_eq(tc_stream_next(s, &m), 1);
        cr_assert_eq(m->event_case, JOBRUNNER__V1__LOGS_RESPONSE__EVENT_END);
        cr_assert_eq(m->end->exit_code, 3);
        jobrunner__v1__logs_response__free_unpacked(m, NULL);

        cr_assert_eq(tc_stream_next(s, &m), 0);
        cr_assert_eq(tc_stream_next(s, &m), 0);
        cr_assert_eq(tc_stream_status(s, &status, &details), 0);
        cr_assert_eq(status, GRPC_STATUS_OK, "%d: %s", status, details);
        cr_assert_str_eq(details, "");
}

Test(stream, to_the_end) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        _cleanup_(tc_stream_freep) TcStream *s = open_logs(c, "job", 4, false);

        expect_chunk(s, JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT, "out 0\n");
        expect_chunk(s, JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR, "err 1\n");
        expect_chunk(s, JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT, "out 2\n");
        expect_chunk(s, JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR, "err 3\n");
        expect_rest(s);
}

Test(stream, error_status) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        _cleanup_(tc_stream_freep) TcStream *s = open_logs(c, "missing", 0, false);
        Jobrunner__V1__LogsResponse *m = NULL;
        const char *details = NULL;
        int status = -1;

        cr_assert_eq(tc_stream_next(s, &m), 0);
        cr_assert_eq(tc_stream_status(s, &status, &details), 0);
        cr_assert_eq(status, GRPC_STATUS_NOT_FOUND, "%d: %s", status, details);
        cr_assert_str_eq(details, "no job missing");
}

Test(stream, two_streams_interleaved) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        _cleanup_(tc_stream_freep) TcStream *a = open_logs(c, "a", 2, false);
        _cleanup_(tc_stream_freep) TcStream *b = open_logs(c, "b", 2, false);

        expect_chunk(b, JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT, "out 0\n");
        expect_chunk(a, JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT, "out 0\n");
        expect_chunk(b, JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR, "err 1\n");
        expect_chunk(a, JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR, "err 1\n");
        expect_rest(a);
        expect_rest(b);
}

/* Within 2 s: long before the 10 s the server would keep streaming. */
static void wait_server_saw_cancel(void) {
        for (int i = 0; i < 200 && !atomic_load(&srv.logs_cancelled); i++)
                usleep(10000);
        cr_assert(atomic_load(&srv.logs_cancelled), "the server did not see the cancellation");
}

Test(stream, cancel) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        _cleanup_(tc_stream_freep) TcStream *s = open_logs(c, "job", 0, true);
        Jobrunner__V1__LogsResponse *m = NULL;
        const char *details = NULL;
        int status = -1, r, extra = 0;

        expect_chunk(s, JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT, "tick 0\n");
        expect_chunk(s, JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT, "tick 1\n");
        tc_stream_cancel(s);
        tc_stream_cancel(s);
        while ((r = tc_stream_next(s, &m)) == 1) {
                jobrunner__v1__logs_response__free_unpacked(m, NULL);
                extra++;
        }
        cr_assert_eq(r, 0);
        cr_assert_lt(extra, 100);
        cr_assert_eq(tc_stream_status(s, &status, &details), 0);
        cr_assert_eq(status, GRPC_STATUS_CANCELLED, "%d: %s", status, details);
        wait_server_saw_cancel();
}

Test(stream, free_midway) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        TcStream *s = open_logs(c, "job", 0, true);
        TcResult r;

        expect_chunk(s, JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT, "tick 0\n");
        tc_stream_free(s);
        wait_server_saw_cancel();

        /* Also before anything was read. */
        tc_stream_free(open_logs(c, "job", 3, false));

        cr_assert_eq(tc_unary(c, "/test.Echo/Echo", "x", 1, 0, &r), 0);
        cr_assert_eq(r.status, GRPC_STATUS_OK);
        tc_result_done(&r);
}

Test(stream, unavailable) {
        _cleanup_(tc_disconnectp) TcConn *c = NULL;
        _cleanup_(tc_stream_freep) TcStream *s = NULL;
        Jobrunner__V1__LogsResponse *m = NULL;
        const char *details = NULL;
        int status = -1;

        paths();
        cr_assert_eq(tc_connect(fake_server.target, NULL, NULL, ca_path, &c), 0);
        s = open_logs(c, "job", 1, false);
        cr_assert_eq(tc_stream_next(s, &m), 0);
        cr_assert_eq(tc_stream_status(s, &status, &details), 0);
        cr_assert_eq(status, GRPC_STATUS_UNAVAILABLE, "%d: %s", status, details);
}

/* ---- jr-test-client ----------------------------------------------------------------------- */

TestSuite(tool, .init = setup, .fini = teardown, .timeout = 60);

typedef struct ToolRun {
        int exit_status;
        char *out, *err;
        size_t out_len, err_len;
} ToolRun;

static void tool_run_done(ToolRun *t) {
        free(t->out);
        free(t->err);
}

/* jr-test-client --target ... [--cert --key] --ca ... ARGS..., NULL-terminated.
 * with_cert is an int: va_start() after a parameter that undergoes default
 * argument promotion, such as a bool, is undefined behaviour. */
static ToolRun tool(int with_cert, ...) {
        const char *exe = getenv("JR_TEST_CLIENT");
        char out[PATH_MAX + 32], err[PATH_MAX + 32];
        char *argv[32];
        size_t n = 0;
        ToolRun t = {};
        va_list ap;

        cr_assert_not_null(exe, "$JR_TEST_CLIENT is not set");
        paths();
        argv[n++] = (char *) exe;
        argv[n++] = (char *) "--target";
        argv[n++] = fake_server.target;
        argv[n++] = (char *) "--ca";
        argv[n++] = ca_path;
        if (with_cert) {
                argv[n++] = (char *) "--cert";
                argv[n++] = cert_path;
                argv[n++] = (char *) "--key";
                argv[n++] = key_path;
        } else
                argv[n++] = (char *) "--no-cert";
        va_start(ap, with_cert);
        for (char *a; (a = va_arg(ap, char *));) {
                cr_assert_lt(n, ELEMENTSOF(argv) - 1);
                argv[n++] = a;
        }
        va_end(ap);
        argv[n] = NULL;

        snprintf(out, sizeof(out), "/tmp/jr-test-client-out.%d", (int) getpid());
        snprintf(err, sizeof(err), "/tmp/jr-test-client-err.%d", (int) getpid());
        t.exit_status = run(argv, out, err);
        t.out = fake_read_file(out, &t.out_len);
        t.err = fake_read_file(err, &t.err_len);
        unlink(out);
        unlink(err);
        cr_log_info("exit %d\nstdout:\n%s\nstderr:\n%s", t.exit_status, t.out, t.err);
        return t;
}

Test(tool, status) {
        _cleanup_(tool_run_done) ToolRun t = tool(true, "status", "0123456789abcdef0123456789abcdef", NULL);
        const char *head = "0123456789abcdef0123456789abcdef\nid=0123456789abcdef0123456789abcdef\n";

        cr_assert_eq(t.exit_status, 0);
        cr_assert(strncmp(t.out, head, strlen(head)) == 0);
        cr_assert(strstr(t.out, "\nowner=alice\n"));
        cr_assert(strstr(t.out, "\nstate=JOB_STATE_RUNNING\n"));
        cr_assert(strstr(t.out, "\nfollowers=2\n"));
        cr_assert(strstr(t.out, "\nfailure_reason=two\\nlines\n"));
        cr_assert_str_eq(last_line(t.err), "status: OK: \n");
}

Test(tool, status_not_found) {
        _cleanup_(tool_run_done) ToolRun t = tool(true, "status", "missing", NULL);

        cr_assert_eq(t.exit_status, GRPC_STATUS_NOT_FOUND);
        cr_assert_str_eq(t.out, "");
        cr_assert_str_eq(last_line(t.err), "status: NOT_FOUND: no job missing\n");
}

Test(tool, no_cert) {
        _cleanup_(tool_run_done) ToolRun t = tool(false, "status", "abc", NULL);

        cr_assert_eq(t.exit_status, GRPC_STATUS_UNAVAILABLE);
        cr_assert(strncmp(last_line(t.err), "status: UNAVAILABLE: ", 21) == 0);
}

Test(tool, raw) {
        _cleanup_(tool_run_done) ToolRun t = tool(true, "raw", "/test.Echo/Echo", "00ff10", NULL);
        _cleanup_(tool_run_done) ToolRun u = tool(true, "raw", "/jobrunner.v1.JobRunner/Nope", "", NULL);
        _cleanup_(tool_run_done) ToolRun v = tool(true, "raw", "GetStatus", "ffff", NULL);

        cr_assert_eq(t.exit_status, 0);
        cr_assert_str_eq(t.out, "response_bytes=3\nresponse=00ff10\n");
        cr_assert_eq(u.exit_status, GRPC_STATUS_UNIMPLEMENTED);
        cr_assert_str_eq(last_line(u.err), "status: UNIMPLEMENTED: unknown method /jobrunner.v1.JobRunner/Nope\n");
        cr_assert_eq(v.exit_status, GRPC_STATUS_INVALID_ARGUMENT);
}

Test(tool, oversized) {
        _cleanup_(tool_run_done) ToolRun t = tool(true, "oversized", "/test.Echo/Echo", "1000", NULL);
        _cleanup_(tool_run_done) ToolRun u = tool(true, "oversized", "/test.Echo/Echo", NULL);
        Jobrunner__V1__StartRequest *req;
        uint8_t buf[1000];

        cr_assert_eq(t.exit_status, 0);
        cr_assert(strncmp(t.out, "request_bytes=1000\nresponse_bytes=1000\nresponse=", 48) == 0);
        /* A valid StartRequest. */
        for (size_t i = 0; i < sizeof(buf); i++)
                cr_assert_eq(sscanf(t.out + 48 + 2 * i, "%2hhx", &buf[i]), 1);
        req = jobrunner__v1__start_request__unpack(NULL, sizeof(buf), buf);
        cr_assert_not_null(req);
        cr_assert_eq(req->spec->n_argv, 2);
        cr_assert_str_eq(req->spec->argv[0], "/bin/true");
        jobrunner__v1__start_request__free_unpacked(req, NULL);

        cr_assert_eq(u.exit_status, GRPC_STATUS_RESOURCE_EXHAUSTED);
        cr_assert_str_eq(u.out, "request_bytes=8388608\n");
}

Test(tool, logs) {
        _cleanup_(tool_run_done) ToolRun t = tool(true, "logs", "job", "--stdout-offset", "3", "--events", NULL);
        uint8_t expect[6 + 6 + 256];

        cr_assert_eq(t.exit_status, 0);
        memcpy(expect, "out 0\nout 2\n", 12);
        for (size_t i = 0; i < 256; i++)
                expect[12 + i] = (uint8_t) i;
        cr_assert_eq(t.out_len, sizeof(expect));
        cr_assert_arr_eq(t.out, expect, sizeof(expect));
        cr_assert(strstr(t.err, "err 1\n"));
        cr_assert(strstr(t.err, "event: gap stream=OUTPUT_STREAM_STDERR offset=6 length=100 "
                                "reason=LOG_GAP_REASON_OUTPUT_TRUNCATED\n"));
        cr_assert(strstr(t.err, "event: end state=JOB_STATE_EXITED exit_code=3 "));
        cr_assert_str_eq(last_line(t.err), "status: OK: \n");
}

Test(tool, logs_cancel) {
        _cleanup_(tool_run_done) ToolRun t = tool(true, "logs", "job", "--follow", "--cancel-after", "2", NULL);

        cr_assert_eq(t.exit_status, GRPC_STATUS_CANCELLED);
        cr_assert(strncmp(t.out, "tick 0\ntick 1\n", 14) == 0);
        cr_assert(strncmp(last_line(t.err), "status: CANCELLED: ", 19) == 0);
        wait_server_saw_cancel();
}

Test(tool, usage) {
        _cleanup_(tool_run_done) ToolRun t = tool(true, "frobnicate", NULL);
        _cleanup_(tool_run_done) ToolRun u = tool(true, "status", NULL);

        cr_assert_eq(t.exit_status, 100);
        cr_assert_eq(u.exit_status, 100);
}

Test(tool, tls13) {
        _cleanup_(tool_run_done) ToolRun t = tool(true, "--tls13", "status", "x", NULL);

        cr_assert_eq(t.exit_status, 0);
        cr_assert_str_eq(last_line(t.err), "status: OK: \n");
}

Test(tool, start) {
        _cleanup_(tool_run_done) ToolRun t = tool(true, "start", "--memory", "1048576", "--user", "bob",
                                                  "--env", "A=b", "--", "/bin/echo", "hello", "--flag", NULL);
        _cleanup_(tool_run_done) ToolRun u = tool(true, "start", "/bin/true", NULL);
        _cleanup_(tool_run_done) ToolRun v = tool(true, "start", NULL);

        cr_assert_eq(t.exit_status, 0);
        cr_assert(strncmp(t.out, "00112233445566778899aabbccddeeff\nid=00112233445566778899aabbccddeeff\n", 69) == 0);
        cr_assert(strstr(t.out, "\nspec.n_argv=3\nspec.argv[0]=/bin/echo\nspec.argv[1]=hello\nspec.argv[2]=--flag\n"
                                "spec.env[0]=A=b\n"));
        cr_assert(strstr(t.out, "\nspec.user=bob\n"));
        cr_assert(strstr(t.out, "\nspec.limits.memory_max_bytes=1048576\n"));
        cr_assert(strstr(t.out, "\nstate=JOB_STATE_RUNNING\n"));

        cr_assert_eq(u.exit_status, 0);
        cr_assert(strstr(u.out, "\nspec.n_argv=1\nspec.argv[0]=/bin/true\n"));
        cr_assert_null(strstr(u.out, "spec.limits"));

        cr_assert_eq(v.exit_status, 100);
}

Test(tool, list) {
        _cleanup_(tool_run_done) ToolRun t = tool(true, "list", NULL);
        _cleanup_(tool_run_done) ToolRun u = tool(true, "list", "--page-size", "2", "--owner", "bob", "--active", NULL);
        _cleanup_(tool_run_done) ToolRun v = tool(true, "list", "--page-token", "bad", NULL);

        cr_assert_eq(t.exit_status, 0);
        cr_assert_str_eq(t.out,
                         "id=a owner=alice state=JOB_STATE_EXITED exit_code=0 signal=0 start_time_us=0\n"
                         "id=b owner=alice state=JOB_STATE_EXITED exit_code=0 signal=0 start_time_us=0\n"
                         "id=c owner=alice state=JOB_STATE_EXITED exit_code=0 signal=0 start_time_us=0\n"
                         "jobs=3\n");
        cr_assert_eq(u.exit_status, 0);
        cr_assert_str_eq(u.out,
                         "id=a owner=bob state=JOB_STATE_RUNNING exit_code=0 signal=0 start_time_us=0\n"
                         "id=b owner=bob state=JOB_STATE_RUNNING exit_code=0 signal=0 start_time_us=0\n"
                         "next_page_token=p2\n"
                         "jobs=2\n");
        cr_assert_eq(v.exit_status, GRPC_STATUS_INVALID_ARGUMENT);
        cr_assert_str_eq(last_line(v.err), "status: INVALID_ARGUMENT: bad page_token\n");
}

Test(tool, health) {
        _cleanup_(tool_run_done) ToolRun t = tool(true, "health", NULL);
        _cleanup_(tool_run_done) ToolRun u = tool(true, "health", "stopping", NULL);
        _cleanup_(tool_run_done) ToolRun v = tool(true, "health", "nope", NULL);
        _cleanup_(tool_run_done) ToolRun w = tool(true, "health", "a", "b", NULL);

        cr_assert_eq(t.exit_status, 0);
        cr_assert_str_eq(t.out, "serving_status=SERVING\n");
        cr_assert_str_eq(last_line(t.err), "status: OK: \n");
        cr_assert_eq(u.exit_status, 0);
        cr_assert_str_eq(u.out, "serving_status=NOT_SERVING\n");
        cr_assert_eq(v.exit_status, GRPC_STATUS_NOT_FOUND);
        cr_assert_str_eq(v.out, "");
        cr_assert_str_eq(last_line(v.err), "status: NOT_FOUND: unknown service\n");
        cr_assert_eq(w.exit_status, 100);
}

Test(tool, stop_wait) {
        _cleanup_(tool_run_done) ToolRun t = tool(true, "stop", "x", "500", NULL);
        _cleanup_(tool_run_done) ToolRun u = tool(true, "--deadline-ms", "200", "wait", "x", NULL);

        /* The fake server has no Stop. */
        cr_assert_eq(t.exit_status, GRPC_STATUS_UNIMPLEMENTED);
        cr_assert_str_eq(last_line(t.err), "status: UNIMPLEMENTED: unknown method /jobrunner.v1.JobRunner/Stop\n");
        cr_assert_eq(u.exit_status, GRPC_STATUS_DEADLINE_EXCEEDED);
        cr_assert_str_eq(last_line(u.err), "status: DEADLINE_EXCEEDED: Deadline Exceeded\n");
}
