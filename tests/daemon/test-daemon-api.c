/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jobrunnerd's API end to end, as proto/jobrunner.proto promises it: Start,
 * GetStatus, Wait, Stop, List with its pages and filters, Logs (stored,
 * followed live, resumed, per stream), followers, and the status codes of
 * malformed calls.  Everything as the operator alice unless said otherwise.
 *
 * Other test binaries use the same daemon at the same time: every test
 * looks only at the jobs it started itself, never assumes an empty job list
 * and never stops or restarts the daemon. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon-harness.h"
#include "exec-limits.h"
#include "macro.h"
#include "status.h"
#include "time-util.h"

/* Deadlines: generous, the VM is slow (TCG), but nothing may hang. */
#define CALL_DEADLINE_MS INT64_C(60000)
#define STREAM_DEADLINE_MS INT64_C(180000)

#define CHUNK_MAX 65536u

#define MAX(a, b) ((a) > (b) ? (a) : (b))

static bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static void setup(void) {
        dh_install();
}

TestSuite(daemon_api, .init = setup, .timeout = 600);

/* ---- helpers ------------------------------------------------------------- */

static const char *state_name(int state) {
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&jobrunner__v1__job_state__descriptor,
                                                                           state);

        return v ? v->name : "(unknown state)";
}

static const char *code_name(int status) {
        return tc_status_name(status) ?: "(unknown code)";
}

static bool state_is_final(int state) {
        return state >= JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED &&
               state <= JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START;
}

static bool id_is_valid(const char *id) {
        if (!id || strlen(id) != 32)
                return false;
        for (const char *p = id; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

/* A well-formed job id that no job has (128 random bits). */
/* A unary call that must reach a status: returns it; *ret_resp only if OK. */
static int rpc(TcConn *c, const char *method, const ProtobufCMessage *req, const ProtobufCMessageDescriptor *type,
               int64_t deadline_ms, char **ret_details, void *ret_resp) {
        _cleanup_free_ char *details = NULL;
        ProtobufCMessage *resp = NULL;
        int status = -1, r;

        r = tc_call(c, method, req, type, deadline_ms, &status, &details, &resp);
        cr_assert(r >= 0, "%s: the client failed: %s", method, strerror(-r));
        if (ret_resp)
                *(ProtobufCMessage **) ret_resp = resp;
        else if (resp)
                protobuf_c_message_free_unpacked(resp, NULL);
        if (ret_details)
                *ret_details = TAKE_PTR(details);
        return status;
}

/* GetStatus, Wait or Stop of id: the status code, and the job if OK. */
static int job_call(TcConn *c, const char *method, const char *id, uint32_t grace_period_ms, int64_t deadline_ms,
                    char **ret_details, Jobrunner__V1__JobStatus **ret_job) {
        Jobrunner__V1__GetStatusRequest get = JOBRUNNER__V1__GET_STATUS_REQUEST__INIT;
        Jobrunner__V1__WaitRequest wait = JOBRUNNER__V1__WAIT_REQUEST__INIT;
        Jobrunner__V1__StopRequest stop = JOBRUNNER__V1__STOP_REQUEST__INIT;
        const ProtobufCMessage *req;
        const ProtobufCMessageDescriptor *type;
        ProtobufCMessage *resp = NULL;
        Jobrunner__V1__JobStatus *job = NULL;
        int status;

        if (streq(method, "GetStatus")) {
                get.id = (char *) id;
                req = &get.base;
                type = &jobrunner__v1__get_status_response__descriptor;
        } else if (streq(method, "Wait")) {
                wait.id = (char *) id;
                req = &wait.base;
                type = &jobrunner__v1__wait_response__descriptor;
        } else {
                cr_assert_str_eq(method, "Stop");
                stop.id = (char *) id;
                stop.grace_period_ms = grace_period_ms;
                req = &stop.base;
                type = &jobrunner__v1__stop_response__descriptor;
        }

        status = rpc(c, method, req, type, deadline_ms, ret_details, &resp);
        if (resp) {
                /* GetStatusResponse, WaitResponse and StopResponse are all
                 * { JobStatus job = 1; }. */
                const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(type, "job");
                Jobrunner__V1__JobStatus **p = (Jobrunner__V1__JobStatus **) ((char *) resp + f->offset);

                job = TAKE_PTR(*p);
                protobuf_c_message_free_unpacked(resp, NULL);
                cr_assert_not_null(job, "%s %s: OK without a job", method, id);
        }
        if (ret_job)
                *ret_job = job;
        else if (job)
                jobrunner__v1__job_status__free_unpacked(job, NULL);
        return status;
}

/* The same for callers that need OK. */
static Jobrunner__V1__JobStatus *job_call_ok(TcConn *c, const char *method, const char *id, uint32_t grace_period_ms,
                                             int64_t deadline_ms) {
        _cleanup_free_ char *details = NULL;
        Jobrunner__V1__JobStatus *job = NULL;
        int status;

        status = job_call(c, method, id, grace_period_ms, deadline_ms, &details, &job);
        cr_assert_eq(status, 0, "%s %s: %s: %s", method, id, code_name(status), details);
        return job;
}

static Jobrunner__V1__JobStatus *get_status(TcConn *c, const char *id) {
        return job_call_ok(c, "GetStatus", id, 0, CALL_DEADLINE_MS);
}

static Jobrunner__V1__JobStatus *wait_job(TcConn *c, const char *id) {
        return job_call_ok(c, "Wait", id, 0, STREAM_DEADLINE_MS);
}

static Jobrunner__V1__JobStatus *stop_job(TcConn *c, const char *id, uint32_t grace_period_ms) {
        return job_call_ok(c, "Stop", id, grace_period_ms, STREAM_DEADLINE_MS);
}

/* Start with a whole spec: the status code, and the job if OK. */
static int start_spec(TcConn *c, Jobrunner__V1__JobSpec *spec, char **ret_details, Jobrunner__V1__JobStatus **ret_job) {
        Jobrunner__V1__StartRequest req = JOBRUNNER__V1__START_REQUEST__INIT;
        Jobrunner__V1__StartResponse *resp = NULL;
        int status;

        req.spec = spec;
        status = rpc(c, "Start", &req.base, &jobrunner__v1__start_response__descriptor, CALL_DEADLINE_MS,
                     ret_details, &resp);
        if (resp) {
                cr_assert_not_null(resp->job, "Start: OK without a job");
                *ret_job = TAKE_PTR(resp->job);
                jobrunner__v1__start_response__free_unpacked(resp, NULL);
        } else
                *ret_job = NULL;
        return status;
}

/* /bin/sh -c script */
static Jobrunner__V1__JobStatus *start_shell(TcConn *c, const char *shell, const char *script) {
        const char *argv[] = { shell, "-c", script, NULL };

        return dh_start(c, argv);
}

/* Calls GetStatus until the job's followers count is want; fails after
 * timeout_ms. */
static void wait_for_followers(TcConn *c, const char *id, uint32_t want, int64_t timeout_ms) {
        int64_t until = (int64_t) now_usec(CLOCK_MONOTONIC) + timeout_ms * 1000;
        uint32_t seen;

        for (;;) {
                _cleanup_job_ Jobrunner__V1__JobStatus *j = get_status(c, id);

                seen = j->followers;
                if (seen == want)
                        return;
                if ((int64_t) now_usec(CLOCK_MONOTONIC) > until)
                        break;
                usleep(200 * 1000);
        }
        cr_assert_fail("job %s: followers is %" PRIu32 ", expected %" PRIu32 " within %" PRIi64 " ms", id, seen,
                       want, timeout_ms);
}

/* ---- Logs ---------------------------------------------------------------- */

/* What one Logs call delivered, checked as it arrived: every message has
 * exactly one event; chunks are 1..CHUNK_MAX bytes of a selected stream,
 * contiguous per stream from the requested offset; no gaps (these jobs
 * never reach the output cap); `end` only as the last message. */
typedef struct Output {
        uint8_t *data[3];               /* by OutputStream: [1] stdout, [2] stderr */
        size_t len[3];
        uint64_t start[3];              /* the requested start offsets */
        unsigned n_chunks;
        size_t max_chunk;
        int64_t first_chunk_us;         /* CLOCK_REALTIME when the first chunk arrived */
        Jobrunner__V1__JobStatus *end;
        int status;
        char *details;
} Output;

static void output_done(Output *o) {
        free(o->data[1]);
        free(o->data[2]);
        dh_job_status_freep(&o->end);
        free(o->details);
        *o = (Output) {};
}

static void output_add_chunk(Output *o, int selected, const Jobrunner__V1__LogChunk *chunk) {
        int s = chunk->stream;
        uint8_t *p;

        cr_assert(s == JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT ||
                  s == JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR, "chunk of stream %d", s);
        cr_assert(selected == JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_UNSPECIFIED || selected == s,
                  "a chunk of stream %d, but only stream %d was asked for", s, selected);
        cr_assert(chunk->data.len >= 1 && chunk->data.len <= CHUNK_MAX, "chunk of %zu bytes", chunk->data.len);
        cr_assert_eq(chunk->offset, o->start[s] + o->len[s],
                     "stream %d: chunk at offset %" PRIu64 ", expected %" PRIu64 " (not contiguous)", s,
                     chunk->offset, o->start[s] + o->len[s]);

        p = realloc(o->data[s], o->len[s] + chunk->data.len);
        cr_assert_not_null(p);
        memcpy(p + o->len[s], chunk->data.data, chunk->data.len);
        o->data[s] = p;
        o->len[s] += chunk->data.len;
        o->n_chunks++;
        if (chunk->data.len > o->max_chunk)
                o->max_chunk = chunk->data.len;
        if (o->first_chunk_us == 0)
                o->first_chunk_us = (int64_t) now_usec(CLOCK_REALTIME);
}

/* Handles one message of a Logs stream into o. */
static void output_add(Output *o, int selected, const Jobrunner__V1__LogsResponse *m) {
        cr_assert_null(o->end, "a message after `end`");
        switch (m->event_case) {
        case JOBRUNNER__V1__LOGS_RESPONSE__EVENT_CHUNK:
                cr_assert_not_null(m->chunk);
                output_add_chunk(o, selected, m->chunk);
                break;
        case JOBRUNNER__V1__LOGS_RESPONSE__EVENT_GAP:
                cr_assert_fail("unexpected gap: stream %d offset %" PRIu64 " length %" PRIu64 " reason %d",
                               m->gap->stream, m->gap->offset, m->gap->length, m->gap->reason);
                break;
        case JOBRUNNER__V1__LOGS_RESPONSE__EVENT_END:
                cr_assert_not_null(m->end);
                /* A copy through pack/unpack: m is freed by the caller. */
                {
                        size_t n = jobrunner__v1__job_status__get_packed_size(m->end);
                        _cleanup_free_ uint8_t *buf = malloc(n + 1);

                        cr_assert_not_null(buf);
                        jobrunner__v1__job_status__pack(m->end, buf);
                        o->end = jobrunner__v1__job_status__unpack(NULL, n, buf);
                        cr_assert_not_null(o->end);
                }
                break;
        default:
                cr_assert_fail("a LogsResponse with no event (case %d)", (int) m->event_case);
        }
}

/* Reads s to its end into o and takes its status. */
static void output_drain(Output *o, TcStream *s, int selected) {
        const char *details = NULL;
        int r;

        for (;;) {
                Jobrunner__V1__LogsResponse *m = NULL;

                r = tc_stream_next(s, &m);
                cr_assert(r >= 0, "Logs: the client failed: %s", strerror(-r));
                if (r == 0)
                        break;
                output_add(o, selected, m);
                jobrunner__v1__logs_response__free_unpacked(m, NULL);
        }
        cr_assert_eq(tc_stream_status(s, &o->status, &details), 0);
        o->details = strdup(details ?: "");
}

static void logs_collect(TcConn *c, const Jobrunner__V1__LogsRequest *req, Output *ret) {
        _cleanup_(tc_stream_freep) TcStream *s = NULL;
        int r;

        *ret = (Output) {
                .start = { 0, req->stdout_offset, req->stderr_offset },
        };
        r = tc_logs_open(c, req, STREAM_DEADLINE_MS, &s);
        cr_assert(r >= 0, "Logs: cannot open: %s", strerror(-r));
        output_drain(ret, s, req->stream);
}

static void assert_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len, const char *what) {
        cr_assert_eq(got_len, want_len, "%s: %zu bytes, expected %zu", what, got_len, want_len);
        for (size_t i = 0; i < want_len; i++)
                cr_assert_eq(got[i], want[i], "%s: byte %zu is 0x%02x, expected 0x%02x", what, i, got[i], want[i]);
}

/* ---- Start ---------------------------------------------------------------- */

Test(daemon_api, start_echoes_the_spec_and_reports_failed_starts) {
        _cleanup_(tc_disconnectp) TcConn *c = dh_connect("alice");
        const char *argv[] = { "/bin/echo", "hello", "wörld", "", "--x=$HOME", NULL };
        const char *missing[] = { "/nonexistent/jobrunner-test/no-such-binary", "arg", NULL };
        _cleanup_job_ Jobrunner__V1__JobStatus *j = NULL, *f = NULL, *w = NULL;
        char unit[128];

        /* A job that runs: RUNNING, or already final if it was that quick. */
        j = dh_start(c, argv);
        cr_assert(id_is_valid(j->id), "job id '%s' is not 32 lowercase hex digits", j->id);
        cr_assert_str_eq(j->owner, "alice");
        snprintf(unit, sizeof(unit), "jobrunner-%s.service", j->id);
        cr_assert_str_eq(j->unit_name, unit);
        cr_assert(j->state == JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING || state_is_final(j->state),
                  "Start returned state %s", state_name(j->state));
        cr_assert_neq(j->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START, "%s", j->failure_reason);
        cr_assert_gt(j->start_time_us, 0);
        cr_assert_eq(j->end_time_us != 0, state_is_final(j->state));
        cr_assert_not_null(j->spec);
        cr_assert_eq(j->spec->n_argv, ELEMENTSOF(argv) - 1);
        for (size_t i = 0; argv[i]; i++)
                cr_assert_str_eq(j->spec->argv[i], argv[i], "argv[%zu] not echoed", i);
        cr_assert_eq(j->spec->n_env, 0);
        cr_assert_str_empty(j->spec->user);
        cr_assert_str_empty(j->spec->working_directory);
        cr_assert_str_empty(j->stopped_by);
        cr_assert_str_empty(j->failure_reason);

        /* argv[0] does not exist: created and returned with OK, but failed. */
        f = dh_start(c, missing);
        cr_assert(id_is_valid(f->id));
        cr_assert_eq(f->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START, "state %s",
                     state_name(f->state));
        cr_assert_str_not_empty(f->failure_reason);
        cr_assert_not_null(strstr(f->failure_reason, missing[0]), "failure_reason '%s' does not name %s",
                           f->failure_reason, missing[0]);
        cr_log_info("failure_reason: %s", f->failure_reason);
        cr_assert_neq(f->end_time_us, 0);
        cr_assert_eq(f->spec->n_argv, 2);
        cr_assert_str_eq(f->spec->argv[0], missing[0]);
        cr_assert_str_eq(f->spec->argv[1], missing[1]);
        /* The main process never ran, so there is no exit status: the proto
         * says exit_code is 0 then ("meaningful only once ... its main
         * process ran"). */
        cr_expect_eq(f->exit_code, 0, "FAILED_TO_START job has exit_code %d, expected 0", f->exit_code);
        cr_expect_eq(f->signal, 0);
        /* It has ended: Wait answers at once, with the same outcome. */
        w = wait_job(c, f->id);
        cr_assert_eq(w->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START);
        cr_assert_str_eq(w->failure_reason, f->failure_reason);

        /* Invalid specs: INVALID_ARGUMENT naming the field. */
        static const struct {
                const char *argv[3];
                const char *env[3];
                const char *field;
        } invalid[] = {
                { { "bin/true" },      {},                        "argv[0]" },
                { { "true", "x" },     {},                        "argv[0]" },
                { {},                  {},                        "argv" },
                { { "/bin/true" },     { "NOEQUALS" },            "env[0]" },
                { { "/bin/true" },     { "A=1", "=empty-key" },   "env[1]" },
                { { "/bin/true" },     { "1BAD=x" },              "env[0]" },
                { { "/bin/true" },     { "DUP=1", "DUP=2" },      "env[1]" },
        };
        for (size_t i = 0; i < ELEMENTSOF(invalid); i++) {
                Jobrunner__V1__JobSpec spec = JOBRUNNER__V1__JOB_SPEC__INIT;
                _cleanup_free_ char *details = NULL;
                _cleanup_job_ Jobrunner__V1__JobStatus *bad = NULL;
                int status;

                while (spec.n_argv < 3 && invalid[i].argv[spec.n_argv])
                        spec.n_argv++;
                while (spec.n_env < 3 && invalid[i].env[spec.n_env])
                        spec.n_env++;
                spec.argv = (char **) invalid[i].argv;
                spec.env = (char **) invalid[i].env;
                status = start_spec(c, &spec, &details, &bad);
                cr_assert_eq(status, JR_CODE_INVALID_ARGUMENT, "invalid spec #%zu (%s): %s: %s", i,
                             invalid[i].field, code_name(status), details);
                cr_assert_not_null(strstr(details, invalid[i].field), "invalid spec #%zu: '%s' does not name %s",
                                   i, details, invalid[i].field);
                cr_log_info("invalid spec #%zu: %s", i, details);
        }

        /* Specs beyond the server's size limits (what execve() takes, see
         * common/exec-limits.h): the proto says "The server limits count
         * and total size (INVALID_ARGUMENT)" for argv, and
         * RESOURCE_EXHAUSTED of Start means job limits only.  cr_expect:
         * the rest of the test still runs if this is wrong. */
        {
                static char long_arg[EXEC_STRING_MAX + 2], big_arg[100000 + 1];
                /* "/bin/true" (18 bytes with its NUL and pointer), as many
                 * empty strings (9 bytes each) as fit, and one more. */
                const size_t n_many = 1 + (EXEC_BYTES_MAX - 18) / 9 + 1;
                _cleanup_free_ char **many = calloc(n_many + 1, sizeof(char *));
                char *too_long[] = { (char *) "/bin/true", long_arg };
                char *too_big[22];
                const struct {
                        char **argv;
                        size_t n_argv;
                        const char *what;
                } limits[] = {
                        { many, n_many, "more empty argv entries than execve() takes" },
                        { too_long, 2, "a 131072-byte argv entry" },
                        { too_big, 22, "argv strings of 2.1 MB together" },
                };

                cr_assert_not_null(many);
                memset(long_arg, 'l', sizeof(long_arg) - 1);
                memset(big_arg, 'b', sizeof(big_arg) - 1);
                many[0] = (char *) "/bin/true";
                for (size_t i = 1; i < n_many; i++)
                        many[i] = (char *) "";
                too_big[0] = (char *) "/bin/true";
                for (size_t i = 1; i < 22; i++)
                        too_big[i] = big_arg;

                for (size_t i = 0; i < ELEMENTSOF(limits); i++) {
                        Jobrunner__V1__JobSpec spec = JOBRUNNER__V1__JOB_SPEC__INIT;
                        _cleanup_free_ char *details = NULL;
                        _cleanup_job_ Jobrunner__V1__JobStatus *bad = NULL;
                        int status;

                        spec.argv = limits[i].argv;
                        spec.n_argv = limits[i].n_argv;
                        status = start_spec(c, &spec, &details, &bad);
                        cr_log_info("%s: %s: %s", limits[i].what, code_name(status), details);
                        cr_assert_neq(status, 0, "%s: accepted", limits[i].what);
                        cr_expect_eq(status, JR_CODE_INVALID_ARGUMENT, "%s: %s, expected INVALID_ARGUMENT: %s",
                                     limits[i].what, code_name(status), details);
                }
        }

        /* No spec at all. */
        {
                _cleanup_free_ char *details = NULL;
                _cleanup_job_ Jobrunner__V1__JobStatus *bad = NULL;
                int status = start_spec(c, NULL, &details, &bad);

                cr_assert_eq(status, JR_CODE_INVALID_ARGUMENT, "no spec: %s: %s", code_name(status), details);
                cr_assert_not_null(strstr(details, "spec"), "'%s' does not name spec", details);
        }
}

/* ---- GetStatus, Wait ------------------------------------------------------ */

Test(daemon_api, wait_blocks_until_the_end_and_returns_the_exit_code) {
        _cleanup_(tc_disconnectp) TcConn *c = dh_connect("alice");
        _cleanup_job_ Jobrunner__V1__JobStatus *j = NULL, *s = NULL, *w = NULL, *w2 = NULL, *after = NULL;
        int64_t t0, t1, waited_us, again_us;

        j = start_shell(c, "/bin/sh", "sleep 4; exit 3");
        cr_assert_eq(j->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING, "%s", state_name(j->state));

        s = get_status(c, j->id);
        cr_assert_str_eq(s->id, j->id);
        cr_assert_str_eq(s->owner, "alice");
        cr_assert_eq(s->start_time_us, j->start_time_us);
        cr_assert_eq(s->spec->n_argv, 3);
        cr_assert_str_eq(s->spec->argv[2], "sleep 4; exit 3");
        /* Still running: so Wait below has to block until the end. */
        cr_assert_eq(s->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING, "%s", state_name(s->state));
        cr_assert_eq(s->end_time_us, 0);

        t0 = (int64_t) now_usec(CLOCK_MONOTONIC);
        w = wait_job(c, j->id);
        t1 = (int64_t) now_usec(CLOCK_MONOTONIC);
        waited_us = t1 - t0;
        cr_assert_eq(w->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED, "%s", state_name(w->state));
        cr_assert_eq(w->exit_code, 3);
        cr_assert_eq(w->signal, 0);
        cr_assert_str_empty(w->signal_name);
        cr_assert_neq(w->end_time_us, 0);
        cr_assert_geq(w->end_time_us, w->start_time_us + 3 * 1000000, "ended %" PRIi64 " us after its start",
                      w->end_time_us - w->start_time_us);
        /* It answered only once the job had ended. */
        cr_assert_leq(w->end_time_us, (int64_t) now_usec(CLOCK_REALTIME));
        cr_log_info("Wait blocked for %" PRIi64 " ms", waited_us / 1000);

        /* On an ended job Wait returns at once, with the same status. */
        t0 = (int64_t) now_usec(CLOCK_MONOTONIC);
        w2 = wait_job(c, j->id);
        again_us = (int64_t) now_usec(CLOCK_MONOTONIC) - t0;
        cr_assert_eq(w2->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED);
        cr_assert_eq(w2->exit_code, 3);
        cr_assert_eq(w2->end_time_us, w->end_time_us);
        cr_assert_lt(again_us, INT64_C(10000000), "Wait on an ended job took %" PRIi64 " ms", again_us / 1000);
        cr_log_info("Wait on the ended job took %" PRIi64 " ms", again_us / 1000);

        after = get_status(c, j->id);
        cr_assert_eq(after->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED);
        cr_assert_eq(after->exit_code, 3);
        cr_assert_eq(after->end_time_us, w->end_time_us);
}

/* ---- Stop ----------------------------------------------------------------- */

Test(daemon_api, stop) {
        _cleanup_(tc_disconnectp) TcConn *c = dh_connect("alice");
        const char *argv[] = { "/bin/sleep", "60", NULL };
        _cleanup_job_ Jobrunner__V1__JobStatus *j = NULL, *s = NULL, *stopped = NULL, *after = NULL;
        _cleanup_free_ char *details = NULL, *details2 = NULL, *details3 = NULL;
        int status;

        j = dh_start(c, argv);
        cr_assert_eq(j->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING, "%s", state_name(j->state));

        /* Above the maximum grace period: refused, and the job untouched. */
        status = job_call(c, "Stop", j->id, 300001, CALL_DEADLINE_MS, &details, NULL);
        cr_assert_eq(status, JR_CODE_INVALID_ARGUMENT, "Stop with grace 300001: %s: %s", code_name(status),
                     details);
        cr_assert_not_null(strstr(details, "grace_period_ms"), "'%s' does not name grace_period_ms", details);
        s = get_status(c, j->id);
        cr_assert_eq(s->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING, "%s", state_name(s->state));
        cr_assert_str_empty(s->stopped_by);

        stopped = stop_job(c, j->id, 5000);
        cr_assert_eq(stopped->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED, "%s",
                     state_name(stopped->state));
        cr_assert_str_eq(stopped->stopped_by, "alice");
        cr_assert_neq(stopped->end_time_us, 0);
        /* sleep dies of SIGTERM at once: no SIGKILL was needed. */
        cr_assert_not(stopped->killed_after_grace);

        /* It has ended: a second Stop is refused. */
        status = job_call(c, "Stop", j->id, 0, CALL_DEADLINE_MS, &details2, NULL);
        cr_assert_eq(status, JR_CODE_FAILED_PRECONDITION, "second Stop: %s: %s", code_name(status), details2);
        /* 300000 is the maximum itself, not above it. */
        status = job_call(c, "Stop", j->id, 300000, CALL_DEADLINE_MS, &details3, NULL);
        cr_assert_eq(status, JR_CODE_FAILED_PRECONDITION, "Stop with grace 300000: %s: %s", code_name(status),
                     details3);

        after = get_status(c, j->id);
        cr_assert_eq(after->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED);
        cr_assert_str_eq(after->stopped_by, "alice");
        cr_assert_eq(after->end_time_us, stopped->end_time_us);
}

/* ---- List ----------------------------------------------------------------- */

typedef struct Listed {
        char id[33];
        char owner[65];
        int64_t start_time_us;
        int state;
} Listed;

typedef struct ListFilter {
        const Jobrunner__V1__JobState *states;
        size_t n_states;
        bool active_only;
} ListFilter;

/* Walks every page of the filtered list with page_size (0: the server's
 * default); returns the jobs in list order and checks each page's size. */
static size_t list_walk(TcConn *c, const ListFilter *filter, uint32_t page_size, Listed **ret, size_t *ret_pages) {
        _cleanup_free_ char *token = strdup("");
        Listed *all = NULL;
        size_t n = 0, pages = 0;

        cr_assert_not_null(token);
        do {
                Jobrunner__V1__ListRequest req = JOBRUNNER__V1__LIST_REQUEST__INIT;
                Jobrunner__V1__ListResponse *resp = NULL;
                _cleanup_free_ char *details = NULL;
                int status;

                req.states = (Jobrunner__V1__JobState *) filter->states;
                req.n_states = filter->n_states;
                req.active_only = filter->active_only;
                req.page_size = page_size;
                req.page_token = token;
                status = rpc(c, "List", &req.base, &jobrunner__v1__list_response__descriptor, CALL_DEADLINE_MS,
                             &details, &resp);
                cr_assert_eq(status, 0, "List page %zu: %s: %s", pages, code_name(status), details);
                pages++;
                cr_assert_lt(pages, 10000, "List never ends");
                if (page_size > 0) {
                        cr_assert_leq(resp->n_jobs, page_size, "page of %zu jobs, page_size %" PRIu32,
                                      resp->n_jobs, page_size);
                        if (resp->next_page_token[0])
                                cr_assert_eq(resp->n_jobs, page_size, "a short page that is not the last");
                }

                all = realloc(all, (n + resp->n_jobs + 1) * sizeof(Listed));
                cr_assert_not_null(all);
                for (size_t i = 0; i < resp->n_jobs; i++) {
                        const Jobrunner__V1__JobStatus *j = resp->jobs[i];

                        all[n] = (Listed) { .start_time_us = j->start_time_us, .state = j->state };
                        snprintf(all[n].id, sizeof(all[n].id), "%s", j->id);
                        snprintf(all[n].owner, sizeof(all[n].owner), "%s", j->owner);
                        n++;
                }
                free(token);
                token = strdup(resp->next_page_token);
                cr_assert_not_null(token);
                jobrunner__v1__list_response__free_unpacked(resp, NULL);
        } while (token[0]);

        *ret = all;
        if (ret_pages)
                *ret_pages = pages;
        return n;
}

static ssize_t listed_find(const Listed *l, size_t n, const char *id) {
        for (size_t i = 0; i < n; i++)
                if (streq(l[i].id, id))
                        return (ssize_t) i;
        return -1;
}

/* Newest first, then by id; no job twice; every job alice's. */
static void assert_list_order(const Listed *l, size_t n) {
        for (size_t i = 0; i < n; i++) {
                cr_assert_str_eq(l[i].owner, "alice", "alice sees job %s of %s", l[i].id, l[i].owner);
                if (i > 0) {
                        cr_assert(l[i - 1].start_time_us > l[i].start_time_us ||
                                  (l[i - 1].start_time_us == l[i].start_time_us && strcmp(l[i - 1].id, l[i].id) < 0),
                                  "List order: %s (%" PRIi64 ") before %s (%" PRIi64 ")", l[i - 1].id,
                                  l[i - 1].start_time_us, l[i].id, l[i].start_time_us);
                }
                for (size_t k = 0; k < i; k++)
                        cr_assert_str_neq(l[k].id, l[i].id, "job %s listed twice", l[i].id);
        }
}

static int list_status(TcConn *c, const ListFilter *filter, uint32_t page_size, const char *token, char **ret_details,
                       Jobrunner__V1__ListResponse **ret) {
        Jobrunner__V1__ListRequest req = JOBRUNNER__V1__LIST_REQUEST__INIT;

        req.states = (Jobrunner__V1__JobState *) filter->states;
        req.n_states = filter->n_states;
        req.active_only = filter->active_only;
        req.page_size = page_size;
        req.page_token = (char *) token;
        return rpc(c, "List", &req.base, &jobrunner__v1__list_response__descriptor, CALL_DEADLINE_MS, ret_details,
                   ret);
}

/* Asserts which of ids (n_ids) are in the filtered list, and that every
 * listed job passes the filter. */
static void assert_filtered(TcConn *c, const ListFilter *filter, const char *what, char ids[][33], size_t n_ids,
                            const bool *expected) {
        _cleanup_free_ Listed *l = NULL;
        size_t n = list_walk(c, filter, 1000, &l, NULL);

        assert_list_order(l, n);
        for (size_t i = 0; i < n; i++) {
                bool pass = filter->n_states == 0;

                for (size_t k = 0; k < filter->n_states; k++)
                        pass = pass || (int) filter->states[k] == l[i].state;
                if (filter->active_only)
                        pass = pass && !state_is_final(l[i].state);
                cr_assert(pass, "%s: job %s in state %s does not pass the filter", what, l[i].id,
                          state_name(l[i].state));
        }
        for (size_t i = 0; i < n_ids; i++)
                cr_assert_eq(listed_find(l, n, ids[i]) >= 0, expected[i], "%s: job %s is %s", what, ids[i],
                             expected[i] ? "missing" : "listed");
}

Test(daemon_api, list_pages_and_filters) {
        _cleanup_(tc_disconnectp) TcConn *c = dh_connect("alice");
        const char *true_argv[] = { "/bin/true", NULL };
        const char *sleep_argv[] = { "/bin/sleep", "60", NULL };
        static const Jobrunner__V1__JobState running[] = { JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING };
        static const Jobrunner__V1__JobState exited[] = { JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED };
        static const Jobrunner__V1__JobState stopped[] = { JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED };
        static const Jobrunner__V1__JobState exited_or_running[] = {
                JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED, JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING };
        const ListFilter none = {};
        _cleanup_free_ Listed *all = NULL, *paged = NULL;
        _cleanup_free_ char *first_token = NULL;
        char ids[4][33];        /* three ended jobs, oldest first, then the running one */
        size_t n_all, n_paged, pages;
        ssize_t pos[4];

        for (size_t i = 0; i < 3; i++) {
                _cleanup_job_ Jobrunner__V1__JobStatus *j = dh_start(c, true_argv), *w = NULL;

                snprintf(ids[i], sizeof(ids[i]), "%s", j->id);
                w = wait_job(c, j->id);
                cr_assert_eq(w->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED);
        }
        {
                _cleanup_job_ Jobrunner__V1__JobStatus *j = dh_start(c, sleep_argv);

                cr_assert_eq(j->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING);
                snprintf(ids[3], sizeof(ids[3]), "%s", j->id);
        }

        /* Everything alice may see (other tests' jobs of alice too), newest
         * first: ours in reverse order of their start. */
        n_all = list_walk(c, &none, 0, &all, NULL);
        assert_list_order(all, n_all);
        for (size_t i = 0; i < 4; i++) {
                pos[i] = listed_find(all, n_all, ids[i]);
                cr_assert_geq(pos[i], 0, "job %s not listed", ids[i]);
        }
        cr_assert(pos[3] < pos[2] && pos[2] < pos[1] && pos[1] < pos[0], "not newest first: %zd %zd %zd %zd",
                  pos[3], pos[2], pos[1], pos[0]);
        cr_log_info("alice sees %zu jobs", n_all);

        /* One job per page: every page, no job twice, same order. */
        n_paged = list_walk(c, &none, 1, &paged, &pages);
        cr_log_info("page_size=1: %zu jobs on %zu pages", n_paged, pages);
        assert_list_order(paged, n_paged);
        cr_assert_geq(pages, n_paged);
        for (size_t i = 0; i < 4; i++)
                pos[i] = listed_find(paged, n_paged, ids[i]);
        cr_assert(pos[3] >= 0 && pos[3] < pos[2] && pos[2] < pos[1] && pos[1] < pos[0],
                  "page_size=1 walk: %zd %zd %zd %zd", pos[3], pos[2], pos[1], pos[0]);

        /* A token belongs to its filters: with others, or made up, it is
         * INVALID_ARGUMENT. */
        {
                Jobrunner__V1__ListResponse *resp = NULL;
                _cleanup_free_ char *details = NULL;
                int status = list_status(c, &none, 1, "", &details, &resp);

                cr_assert_eq(status, 0, "%s: %s", code_name(status), details);
                cr_assert_str_not_empty(resp->next_page_token, "alice has several jobs, but one page");
                first_token = strdup(resp->next_page_token);
                jobrunner__v1__list_response__free_unpacked(resp, NULL);
        }
        {
                _cleanup_free_ char *tampered = strdup(first_token);
                size_t len = strlen(tampered);
                const struct {
                        ListFilter filter;
                        const char *token;
                        const char *what;
                } bad[] = {
                        { { .active_only = true }, first_token, "token with active_only" },
                        { { .states = exited, .n_states = 1 }, first_token, "token with states" },
                        { {}, "garbage", "garbage token" },
                        { {}, tampered, "tampered token" },
                };

                tampered[len - 1] = tampered[len - 1] == '0' ? '1' : '0';
                for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                        Jobrunner__V1__ListResponse *resp = NULL;
                        _cleanup_free_ char *details = NULL;
                        int status = list_status(c, &bad[i].filter, 1, bad[i].token, &details, &resp);

                        cr_assert_eq(status, JR_CODE_INVALID_ARGUMENT, "%s: %s: %s", bad[i].what, code_name(status),
                                     details);
                        cr_assert_not_null(strstr(details, "page_token"), "%s: '%s'", bad[i].what, details);
                }
        }
        {
                /* The same token with the same filters is fine. */
                Jobrunner__V1__ListResponse *resp = NULL;
                _cleanup_free_ char *details = NULL;
                int status = list_status(c, &none, 1, first_token, &details, &resp);

                cr_assert_eq(status, 0, "%s: %s", code_name(status), details);
                jobrunner__v1__list_response__free_unpacked(resp, NULL);
        }

        /* Filters: states and active_only, alone and together. */
        {
                const ListFilter f_running = { .states = running, .n_states = 1 };
                const ListFilter f_exited = { .states = exited, .n_states = 1 };
                const ListFilter f_both = { .states = exited_or_running, .n_states = 2 };
                const ListFilter f_active = { .active_only = true };
                const ListFilter f_exited_active = { .states = exited, .n_states = 1, .active_only = true };
                const bool only_running[] = { false, false, false, true };
                const bool only_ended[] = { true, true, true, false };
                const bool all4[] = { true, true, true, true };
                const bool nothing[] = { false, false, false, false };
                _cleanup_free_ Listed *l = NULL;

                assert_filtered(c, &f_running, "states=[RUNNING]", ids, 4, only_running);
                assert_filtered(c, &f_exited, "states=[EXITED]", ids, 4, only_ended);
                assert_filtered(c, &f_both, "states=[EXITED, RUNNING]", ids, 4, all4);
                assert_filtered(c, &f_active, "active_only", ids, 4, only_running);
                /* An ended state and active_only: nothing at all. */
                cr_assert_eq(list_walk(c, &f_exited_active, 1000, &l, NULL), 0);
                assert_filtered(c, &f_exited_active, "states=[EXITED] + active_only", ids, 4, nothing);
        }

        /* Stopped, the job moves from RUNNING to STOPPED. */
        {
                _cleanup_job_ Jobrunner__V1__JobStatus *s = stop_job(c, ids[3], 2000);
                const ListFilter f_running = { .states = running, .n_states = 1 };
                const ListFilter f_stopped = { .states = stopped, .n_states = 1 };
                const ListFilter f_active = { .active_only = true };
                const bool only_last[] = { false, false, false, true };
                const bool nothing[] = { false, false, false, false };

                cr_assert_eq(s->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED);
                assert_filtered(c, &f_running, "states=[RUNNING] after Stop", ids, 4, nothing);
                assert_filtered(c, &f_active, "active_only after Stop", ids, 4, nothing);
                assert_filtered(c, &f_stopped, "states=[STOPPED]", ids, 4, only_last);
        }
}

/* ---- Logs ----------------------------------------------------------------- */

/* "1\n2\n...n\n" from first to last by step, as seq(1) prints it. */
static size_t seq_text(long first, long step, long last, char **ret) {
        size_t len = 0, size = 16;
        char *buf = malloc(size);

        cr_assert_not_null(buf);
        for (long i = first; step > 0 ? i <= last : i >= last; i += step) {
                if (len + 24 > size) {
                        size *= 2;
                        buf = realloc(buf, size);
                        cr_assert_not_null(buf);
                }
                len += (size_t) snprintf(buf + len, size - len, "%ld\n", i);
        }
        *ret = buf;
        return len;
}

static Output logs(TcConn *c, const char *id, int stream, uint64_t stdout_offset, uint64_t stderr_offset, bool follow) {
        Jobrunner__V1__LogsRequest req = JOBRUNNER__V1__LOGS_REQUEST__INIT;
        Output o;

        req.id = (char *) id;
        req.stream = stream;
        req.stdout_offset = stdout_offset;
        req.stderr_offset = stderr_offset;
        req.follow = follow;
        logs_collect(c, &req, &o);
        return o;
}

#define STDOUT_ JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT
#define STDERR_ JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR
#define BOTH_ JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_UNSPECIFIED

static void assert_complete(const Output *o, const char *what) {
        cr_assert_eq(o->status, 0, "%s: %s: %s", what, code_name(o->status), o->details);
        cr_assert_not_null(o->end, "%s: no `end` although the job has ended", what);
        cr_assert(state_is_final(o->end->state), "%s: `end` with state %s", what, state_name(o->end->state));
}

Test(daemon_api, logs_of_an_ended_job) {
        _cleanup_(tc_disconnectp) TcConn *c = dh_connect("alice");
        /* stdout before and after stderr, more than 64 KiB of it. */
        static const char script[] = "seq 1 20000; seq 5000 -1 1 >&2; seq 20001 30000";
        _cleanup_free_ char *out = NULL, *err = NULL;
        _cleanup_job_ Jobrunner__V1__JobStatus *j = NULL, *w = NULL;
        size_t out_len, err_len;
        uint64_t mid = 12345;
        Output o;

        out_len = seq_text(1, 1, 30000, &out);
        err_len = seq_text(5000, -1, 1, &err);

        j = start_shell(c, "/bin/sh", script);
        w = wait_job(c, j->id);
        cr_assert_eq(w->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED, "%s", state_name(w->state));
        cr_assert_eq(w->exit_code, 0);
        cr_assert_eq(w->stdout_bytes, out_len);
        cr_assert_eq(w->stderr_bytes, err_len);
        cr_assert_not(w->output_truncated);

        /* Both streams, the exact bytes, each contiguous from 0, then `end`. */
        o = logs(c, j->id, BOTH_, 0, 0, false);
        assert_complete(&o, "both streams");
        assert_bytes(o.data[STDOUT_], o.len[STDOUT_], (const uint8_t *) out, out_len, "stdout");
        assert_bytes(o.data[STDERR_], o.len[STDERR_], (const uint8_t *) err, err_len, "stderr");
        cr_assert_eq(o.end->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED);
        cr_assert_str_eq(o.end->id, j->id);
        cr_assert_eq(o.end->stdout_bytes, out_len);
        cr_assert_eq(o.end->stderr_bytes, err_len);
        cr_assert_gt(o.n_chunks, 2, "%zu bytes of stdout in %u chunks", out_len, o.n_chunks);
        cr_log_info("stored output: %u chunks, largest %zu bytes", o.n_chunks, o.max_chunk);
        output_done(&o);

        /* Resuming stdout at an offset: the rest only. */
        o = logs(c, j->id, STDOUT_, mid, 0, false);
        assert_complete(&o, "stdout from 12345");
        assert_bytes(o.data[STDOUT_], o.len[STDOUT_], (const uint8_t *) out + mid, out_len - mid, "stdout rest");
        cr_assert_eq(o.len[STDERR_], 0);
        output_done(&o);

        /* stderr only. */
        o = logs(c, j->id, STDERR_, 0, 0, false);
        assert_complete(&o, "stderr only");
        assert_bytes(o.data[STDERR_], o.len[STDERR_], (const uint8_t *) err, err_len, "stderr");
        cr_assert_eq(o.len[STDOUT_], 0);
        output_done(&o);

        /* Both streams from inside each. */
        o = logs(c, j->id, BOTH_, 100000, 1000, false);
        assert_complete(&o, "both from offsets");
        assert_bytes(o.data[STDOUT_], o.len[STDOUT_], (const uint8_t *) out + 100000, out_len - 100000,
                     "stdout from 100000");
        assert_bytes(o.data[STDERR_], o.len[STDERR_], (const uint8_t *) err + 1000, err_len - 1000,
                     "stderr from 1000");
        output_done(&o);

        /* At the very end: nothing but `end`. */
        o = logs(c, j->id, BOTH_, out_len, err_len, false);
        assert_complete(&o, "both from their ends");
        cr_assert_eq(o.n_chunks, 0);
        output_done(&o);

        /* follow = true on an ended job: the rest, then `end`, no waiting. */
        o = logs(c, j->id, STDOUT_, mid, 0, true);
        assert_complete(&o, "follow from 12345 on an ended job");
        assert_bytes(o.data[STDOUT_], o.len[STDOUT_], (const uint8_t *) out + mid, out_len - mid, "stdout rest");
        output_done(&o);

        /* The offset of a stream that is not selected is ignored. */
        o = logs(c, j->id, STDERR_, out_len + 1000000, 0, false);
        assert_complete(&o, "stderr with a stdout_offset beyond the end");
        assert_bytes(o.data[STDERR_], o.len[STDERR_], (const uint8_t *) err, err_len, "stderr");
        output_done(&o);

        /* Beyond the end of a selected stream: OUT_OF_RANGE. */
        o = logs(c, j->id, BOTH_, out_len + 1, 0, false);
        cr_assert_eq(o.status, JR_CODE_OUT_OF_RANGE, "stdout_offset beyond the end: %s: %s", code_name(o.status),
                     o.details);
        cr_assert_eq(o.n_chunks, 0);
        cr_assert_null(o.end);
        output_done(&o);
        o = logs(c, j->id, STDERR_, 0, err_len + 1, true);
        cr_assert_eq(o.status, JR_CODE_OUT_OF_RANGE, "stderr_offset beyond the end: %s: %s", code_name(o.status),
                     o.details);
        output_done(&o);

        /* A stream that does not exist. */
        o = logs(c, j->id, 7, 0, 0, false);
        cr_assert_eq(o.status, JR_CODE_INVALID_ARGUMENT, "stream 7: %s: %s", code_name(o.status), o.details);
        output_done(&o);
}

/* The live job: every byte value, 16 KiB + a line per round, a line on
 * stderr per round, rounds 0.4 s apart. */
#define LIVE_ROUNDS 8
static const char live_script[] =
        "s=$(printf '\\\\%03o' {0..255}); b=; for k in {1..64}; do b+=$s; done; "
        "for r in 1 2 3 4 5 6 7 8; do printf \"$b\"; printf 'round %d\\n' $r; printf 'e%d\\n' $r >&2; "
        "sleep 0.4; done";

static size_t live_expected(uint8_t **ret_out, char **ret_err, size_t *ret_err_len) {
        size_t size = LIVE_ROUNDS * (64 * 256 + 32), len = 0, err_len = 0;
        uint8_t *out = malloc(size);
        char *err = malloc(LIVE_ROUNDS * 8 + 1);

        cr_assert(out && err);
        for (int r = 1; r <= LIVE_ROUNDS; r++) {
                for (int k = 0; k < 64; k++)
                        for (int b = 0; b < 256; b++)
                                out[len++] = (uint8_t) b;
                len += (size_t) snprintf((char *) out + len, size - len, "round %d\n", r);
                err_len += (size_t) snprintf(err + err_len, LIVE_ROUNDS * 8 + 1 - err_len, "e%d\n", r);
        }
        *ret_out = out;
        *ret_err = err;
        *ret_err_len = err_len;
        return len;
}

Test(daemon_api, logs_follow_a_running_job_byte_exact) {
        _cleanup_(tc_disconnectp) TcConn *c = dh_connect("alice");
        _cleanup_job_ Jobrunner__V1__JobStatus *j = NULL, *w = NULL;
        _cleanup_free_ uint8_t *out = NULL;
        _cleanup_free_ char *err = NULL;
        size_t out_len, err_len;
        unsigned counts[256] = {};
        Output o;

        out_len = live_expected(&out, &err, &err_len);

        j = start_shell(c, "/bin/bash", live_script);
        cr_assert_eq(j->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING, "%s %s", state_name(j->state),
                     j->failure_reason);

        o = logs(c, j->id, BOTH_, 0, 0, true);
        assert_complete(&o, "follow");
        cr_assert_eq(o.end->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED, "%s", state_name(o.end->state));
        cr_assert_eq(o.end->exit_code, 0);
        assert_bytes(o.data[STDOUT_], o.len[STDOUT_], out, out_len, "followed stdout");
        assert_bytes(o.data[STDERR_], o.len[STDERR_], (const uint8_t *) err, err_len, "followed stderr");
        for (size_t i = 0; i < o.len[STDOUT_]; i++)
                counts[o.data[STDOUT_][i]]++;
        for (size_t b = 0; b < 256; b++)
                cr_assert_geq(counts[b], 64 * LIVE_ROUNDS, "byte 0x%02zx seen %u times", b, counts[b]);
        /* Live: output arrived while the job still ran, not all at its end. */
        cr_assert_lt(o.first_chunk_us, o.end->end_time_us,
                     "the first chunk came %" PRIi64 " us after the job ended",
                     o.first_chunk_us - o.end->end_time_us);
        cr_log_info("followed %zu + %zu bytes in %u chunks (largest %zu); first chunk %" PRIi64
                    " ms before the end", o.len[STDOUT_], o.len[STDERR_], o.n_chunks, o.max_chunk,
                    (o.end->end_time_us - o.first_chunk_us) / 1000);
        output_done(&o);

        w = wait_job(c, j->id);
        cr_assert_eq(w->stdout_bytes, out_len);
        cr_assert_eq(w->stderr_bytes, err_len);
        cr_assert_eq(w->followers, 0);

        /* Resuming in the middle of the binary data: the rest only. */
        o = logs(c, j->id, STDOUT_, 40000, 0, false);
        assert_complete(&o, "stdout from 40000");
        assert_bytes(o.data[STDOUT_], o.len[STDOUT_], out + 40000, out_len - 40000, "stdout from 40000");
        output_done(&o);
}

/* ---- followers -------------------------------------------------------------- */

/* Reads one stream until it delivered data of its stream beyond offset
 * (exclusive), tracking contiguity in o. */
static void read_beyond(TcStream *s, Output *o, uint64_t offset) {
        while (o->start[STDOUT_] + o->len[STDOUT_] <= offset) {
                Jobrunner__V1__LogsResponse *m = NULL;
                int r = tc_stream_next(s, &m);

                cr_assert(r >= 0, "Logs: the client failed: %s", strerror(-r));
                if (r == 0) {
                        int status = -1;
                        const char *details = NULL;

                        (void) tc_stream_status(s, &status, &details);
                        cr_assert_fail("a follow stream ended early: %s: %s", code_name(status), details);
                }
                output_add(o, STDOUT_, m);
                cr_assert_null(o->end, "`end` while the job runs");
                jobrunner__v1__logs_response__free_unpacked(m, NULL);
        }
}

Test(daemon_api, followers_count_follow_streams) {
        _cleanup_(tc_disconnectp) TcConn *c = dh_connect("alice");
        _cleanup_job_ Jobrunner__V1__JobStatus *j = NULL, *stopped = NULL;
        Jobrunner__V1__LogsRequest req = JOBRUNNER__V1__LOGS_REQUEST__INIT;
        TcStream *s[3] = {};
        Output o[3] = {};
        uint64_t at_cancel;
        int r;

        j = start_shell(c, "/bin/sh", "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.3; done");
        cr_assert_eq(j->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING);

        req.id = j->id;
        req.stream = STDOUT_;
        req.follow = true;
        for (size_t i = 0; i < 3; i++) {
                r = tc_logs_open(c, &req, STREAM_DEADLINE_MS, &s[i]);
                cr_assert(r >= 0, "Logs: %s", strerror(-r));
        }
        /* Data on each: the server has taken all three calls. */
        for (size_t i = 0; i < 3; i++)
                read_beyond(s[i], &o[i], 0);
        wait_for_followers(c, j->id, 3, 10000);

        /* Cancel the second one mid-stream. */
        tc_stream_cancel(s[1]);
        for (;;) {
                Jobrunner__V1__LogsResponse *m = NULL;

                r = tc_stream_next(s[1], &m);
                cr_assert(r >= 0, "%s", strerror(-r));
                if (r == 0)
                        break;
                output_add(&o[1], STDOUT_, m);
                jobrunner__v1__logs_response__free_unpacked(m, NULL);
        }
        {
                const char *details = NULL;

                cr_assert_eq(tc_stream_status(s[1], &o[1].status, &details), 0);
                cr_assert_eq(o[1].status, JR_CODE_CANCELLED, "the cancelled stream ended with %s: %s",
                             code_name(o[1].status), details);
                cr_assert_null(o[1].end);
        }
        at_cancel = o[1].len[STDOUT_];
        tc_stream_free(TAKE_PTR(s[1]));
        wait_for_followers(c, j->id, 2, 15000);

        /* The others keep receiving: output written after the cancel (and
         * after the count dropped), a few more ticks of the job. */
        {
                _cleanup_job_ Jobrunner__V1__JobStatus *now = get_status(c, j->id);
                uint64_t beyond = MAX(now->stdout_bytes, at_cancel) + 20;

                read_beyond(s[0], &o[0], beyond);
                read_beyond(s[2], &o[2], beyond);
        }
        cr_assert_eq(memcmp(o[0].data[STDOUT_], o[2].data[STDOUT_],
                            o[0].len[STDOUT_] < o[2].len[STDOUT_] ? o[0].len[STDOUT_] : o[2].len[STDOUT_]), 0,
                     "two followers saw different output");

        /* Stopped: both get `end` and OK, and nobody follows any more. */
        stopped = stop_job(c, j->id, 2000);
        cr_assert_eq(stopped->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED);
        for (size_t i = 0; i < 3; i += 2) {
                output_drain(&o[i], s[i], STDOUT_);
                assert_complete(&o[i], "a follower after Stop");
                cr_assert_eq(o[i].end->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED);
                cr_assert_eq(o[i].len[STDOUT_], o[i].end->stdout_bytes);
                tc_stream_free(TAKE_PTR(s[i]));
        }
        assert_bytes(o[0].data[STDOUT_], o[0].len[STDOUT_], o[2].data[STDOUT_], o[2].len[STDOUT_],
                     "the two followers' output");
        wait_for_followers(c, j->id, 0, 10000);
        for (size_t i = 0; i < 3; i++)
                output_done(&o[i]);
}

/* ---- malformed calls ----------------------------------------------------------- */

/* The daemon still serves: GetStatus of bob's job from bob's connection. */
static void assert_serving(TcConn *other, const char *id, const char *after) {
        _cleanup_free_ char *details = NULL;
        int status = job_call(other, "GetStatus", id, 0, CALL_DEADLINE_MS, &details, NULL);

        cr_assert_eq(status, 0, "after %s, GetStatus from another connection: %s: %s", after, code_name(status),
                     details);
}

static int raw_call(TcConn *c, const char *method, const void *data, size_t len, char **ret_details) {
        TcResult result;
        int r, status;

        r = tc_unary(c, method, data, len, CALL_DEADLINE_MS, &result);
        cr_assert(r >= 0, "%s: the client failed: %s", method, strerror(-r));
        status = result.status;
        cr_log_info("%s (%zu bytes): %s: %s", method, len, code_name(status), result.details);
        if (ret_details)
                *ret_details = TAKE_PTR(result.details);
        tc_result_done(&result);
        return status;
}

Test(daemon_api, malformed_calls_get_their_codes_and_the_daemon_serves_on) {
        _cleanup_(tc_disconnectp) TcConn *c = dh_connect("alice");
        _cleanup_(tc_disconnectp) TcConn *other = dh_connect("bob");
        const char *true_argv[] = { "/bin/true", NULL };
        static const uint8_t garbage[] = { 0xff, 0xff, 0xff };
        _cleanup_job_ Jobrunner__V1__JobStatus *bobs = dh_start(other, true_argv);
        char unknown[33];
        int status;

        assert_serving(other, bobs->id, "the start");

        /* Methods we do not serve. */
        status = raw_call(c, "/jobrunner.v1.JobRunner/Nope", NULL, 0, NULL);
        cr_assert_eq(status, JR_CODE_UNIMPLEMENTED, "Nope: %s", code_name(status));
        assert_serving(other, bobs->id, "an unknown method");
        status = raw_call(c, "/other.Service/X", NULL, 0, NULL);
        cr_assert_eq(status, JR_CODE_UNIMPLEMENTED, "/other.Service/X: %s", code_name(status));
        assert_serving(other, bobs->id, "an unknown service");

        /* Bytes that are no protobuf message. */
        status = raw_call(c, "Start", garbage, sizeof(garbage), NULL);
        cr_assert_eq(status, JR_CODE_INVALID_ARGUMENT, "Start ff ff ff: %s", code_name(status));
        assert_serving(other, bobs->id, "a garbage Start");
        status = raw_call(c, "GetStatus", garbage, sizeof(garbage), NULL);
        cr_assert_eq(status, JR_CODE_INVALID_ARGUMENT, "GetStatus ff ff ff: %s", code_name(status));
        assert_serving(other, bobs->id, "a garbage GetStatus");

        /* An 8 MiB StartRequest: beyond the server's request limit. */
        {
                Jobrunner__V1__JobSpec spec = JOBRUNNER__V1__JOB_SPEC__INIT;
                Jobrunner__V1__StartRequest req = JOBRUNNER__V1__START_REQUEST__INIT;
                _cleanup_free_ char *huge = malloc(8u * 1024 * 1024 + 1);
                _cleanup_free_ uint8_t *buf = NULL;
                char *argv[2];
                size_t len;

                cr_assert_not_null(huge);
                memset(huge, 'a', 8u * 1024 * 1024);
                huge[8u * 1024 * 1024 - 64] = 0;        /* the whole message about 8 MiB */
                argv[0] = (char *) "/bin/echo";
                argv[1] = huge;
                spec.argv = argv;
                spec.n_argv = 2;
                req.spec = &spec;
                buf = malloc(jobrunner__v1__start_request__get_packed_size(&req));
                cr_assert_not_null(buf);
                len = jobrunner__v1__start_request__pack(&req, buf);
                cr_assert_geq(len, 8u * 1024 * 1024 - 64);
                status = raw_call(c, "Start", buf, len, NULL);
                cr_assert_eq(status, JR_CODE_RESOURCE_EXHAUSTED, "8 MiB Start: %s", code_name(status));
                assert_serving(other, bobs->id, "an oversized Start");
        }

        /* Malformed job ids, for every method that takes one. */
        {
                static const char *const bad_ids[] = {
                        "xyz", "", "0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcde",
                        "0123456789abcdef0123456789abcdef0", "0123456789abcdef0123456789abcdeg",
                        "../../../etc/passwd",
                };
                static const char *const methods[] = { "GetStatus", "Wait", "Stop", "Logs" };

                for (size_t i = 0; i < ELEMENTSOF(bad_ids); i++) {
                        status = dh_call_on_job(c, "GetStatus", bad_ids[i]);
                        cr_assert_eq(status, JR_CODE_INVALID_ARGUMENT, "GetStatus '%s': %s", bad_ids[i],
                                     code_name(status));
                }
                for (size_t i = 0; i < ELEMENTSOF(methods); i++) {
                        status = dh_call_on_job(c, methods[i], "xyz");
                        cr_assert_eq(status, JR_CODE_INVALID_ARGUMENT, "%s 'xyz': %s", methods[i],
                                     code_name(status));
                }
                assert_serving(other, bobs->id, "malformed ids");

                /* A well-formed id of no job. */
                dh_random_id(unknown);
                for (size_t i = 0; i < ELEMENTSOF(methods); i++) {
                        status = dh_call_on_job(c, methods[i], unknown);
                        cr_assert_eq(status, JR_CODE_NOT_FOUND, "%s %s: %s", methods[i], unknown,
                                     code_name(status));
                }
                assert_serving(other, bobs->id, "unknown ids");
        }

        /* The connection that made all these calls still works too. */
        {
                _cleanup_job_ Jobrunner__V1__JobStatus *j = dh_start(c, true_argv), *w = wait_job(c, j->id);

                cr_assert_eq(w->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED);
        }
}
