/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The jobrunner CLI ($JOBRUNNER_CLI) end to end against a fake of the API:
 * a real gRPC server over mutual TLS on a thread of the test process, with
 * keys from keys/jobrunner-keys ($JOBRUNNER_KEYS), whose answers are made
 * up per job id (see the table of jobs below).  It checks what only a
 * server can show: the requests the CLI builds, its output byte for byte,
 * id prefixes, paging, resuming Logs after UNAVAILABLE without loss or
 * repeats, Ctrl-C in run, exit statuses, and the messages for refused TLS
 * handshakes.  The real daemon is tested in the VM. */

#include <criterion/criterion.h>
#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli-runner.h"
#include "fake-server.h"
#include "jobrunner.pb-c.h"
#include "macro.h"
#include "tls.h"

#define streq(a, b) (strcmp((a), (b)) == 0)

/* ---- keys --------------------------------------------------------------------- *
 * Made once, in the runner, before the tests are spawned: a CA, a server
 * certificate for 127.0.0.1 and localhost, alice (operator), old (an
 * operator whose certificate expired), and a second CA with mallory
 * (admin). */

static char keys_dir[PATH_MAX];

static const FakeKeysStep key_steps[] = {
        { NULL,    { "init" } },
        { NULL,    { "server", "127.0.0.1", "localhost" } },
        { NULL,    { "user", "alice", "operator" } },
        { NULL,    { "user", "--not-before", "20200101000000Z", "--not-after", "20201231235959Z", "old",
                     "operator" } },
        { "other", { "init" } },
        { "other", { "user", "mallory", "admin" } },
};

ReportHook(PRE_ALL)(struct criterion_test_set *set) {
        (void) set;
        (void) fake_keys_make(keys_dir, sizeof(keys_dir), "/tmp/jr-test-cli.XXXXXX", key_steps,
                              ELEMENTSOF(key_steps));
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats) {
        (void) stats;
        fake_keys_remove(keys_dir);
}

/* ---- the fake jobs ------------------------------------------------------------- */

#define OUT JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT
#define ERR JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR

#define ID_EXITED    "aaaaaaaa00000000000000000000000a"  /* exited 3; stdout with all 256 byte values */
#define ID_KILLED    "bbbbbbbb00000000000000000000000b"  /* killed by SIGKILL */
#define ID_AMBIG_1   "abcdef0100000000000000000000000c"  /* "abcdef01" matches both */
#define ID_AMBIG_2   "abcdef0100000000000000000000000d"
#define ID_RUNNING   "cccccccc00000000000000000000000e"  /* running: Logs follow waits for Stop */
#define ID_FLAKY     "dddddddd00000000000000000000000f"  /* Logs: UNAVAILABLE in the middle, once */
#define ID_FAILED    "eeeeeeee000000000000000000000001"  /* failed to start */
#define ID_BOB       "f0f0f0f0000000000000000000000002"  /* bob's, exited 0 */
#define ID_FOREVER   "99999999000000000000000000000003"  /* Wait never answers */
#define ID_TAIL      "77777777000000000000000000000004"  /* stdout: 10 numbered lines; stderr: 3 lines */
#define ID_STARTED   "00112233445566778899aabbccddeeff"  /* what Start creates */
#define ID_CAPPED    "66666666000000000000000000000005"  /* stdout: 20 lines, then 200 MiB past the cap */

typedef struct FakeJob {
        const char *id;
        const char *owner;
        Jobrunner__V1__JobState state;
        int exit_code, signal;
        const char *signal_name;
        int64_t start_time_us;
} FakeJob;

static const FakeJob fake_jobs[] = {
        { ID_EXITED,  "alice", JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED, 3, 0, "", 1700000000000000 },
        { ID_KILLED,  "alice", JOBRUNNER__V1__JOB_STATE__JOB_STATE_KILLED, 0, 9, "SIGKILL", 1700000001000000 },
        { ID_AMBIG_1, "alice", JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED, 0, 0, "", 1700000002000000 },
        { ID_AMBIG_2, "alice", JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED, 0, 0, "", 1700000003000000 },
        { ID_RUNNING, "alice", JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING, 0, 0, "", 1700000004000000 },
        { ID_FLAKY,   "alice", JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED, 0, 0, "", 1700000005000000 },
        { ID_FAILED,  "alice", JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START, 0, 0, "", 1700000006000000 },
        { ID_BOB,     "bob",   JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED, 0, 0, "", 1700000007000000 },
        { ID_FOREVER, "alice", JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING, 0, 0, "", 1700000008000000 },
        { ID_TAIL,    "alice", JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED, 0, 0, "", 1700000009000000 },
};

/* What Start creates; not listed. */
static const FakeJob started_job = {
        ID_STARTED, "alice", JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING, 0, 0, "", 1700000000000000,
};

/* Not listed either, so that the list tests keep their counts. */
static const FakeJob capped_job = {
        ID_CAPPED, "alice", JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED, 0, 0, "", 1700000010000000,
};

static const FakeJob *find_job(const char *id) {
        for (size_t i = 0; i < ELEMENTSOF(fake_jobs); i++)
                if (streq(fake_jobs[i].id, id))
                        return &fake_jobs[i];
        if (streq(id, ID_CAPPED))
                return &capped_job;
        return streq(id, ID_STARTED) ? &started_job : NULL;
}

/* The output of ID_EXITED: "hello\n" then the 256 byte values on stdout,
 * "warning\n" then a gap of 1000 truncated bytes on stderr. */
static uint8_t exited_stdout[6 + 256];
static const char exited_stderr[] = "warning\n";
#define EXITED_GAP_LEN 1000

/* The output of ID_FLAKY, each stream 64 bytes of text. */
static const char flaky_stdout[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\n";
static const char flaky_stderr[] = "the quick brown fox jumps over the lazy dog, again and again..\n";

/* ID_CAPPED: what the job stored, then what the cap discarded, as gaps of
 * CAPPED_GAP_PIECE bytes when read from before them (a live follower gets
 * them so), whole when asked from inside them (as jobrunnerd does). */
static const char capped_stdout[] = "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\nline 9\n"
                                    "line 10\nline 11\nline 12\nline 13\nline 14\nline 15\nline 16\nline 17\n"
                                    "line 18\nline 19\nline 20\n";
#define CAPPED_GAP_LEN (UINT64_C(200) << 20)
#define CAPPED_GAP_PIECE (UINT64_C(64) << 20)

static const char tail_stdout[] = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
static const char tail_stderr[] = "e1\ne2\ne3";

/* ---- the fake server ------------------------------------------------------------- */

typedef enum Method {
        M_START,
        M_STOP,
        M_GET_STATUS,
        M_LIST,
        M_WAIT,
        M_LOGS,
        _M_MAX,
} Method;

static const char *const method_paths[_M_MAX] = {
        [M_START]      = "/jobrunner.v1.JobRunner/Start",
        [M_STOP]       = "/jobrunner.v1.JobRunner/Stop",
        [M_GET_STATUS] = "/jobrunner.v1.JobRunner/GetStatus",
        [M_LIST]       = "/jobrunner.v1.JobRunner/List",
        [M_WAIT]       = "/jobrunner.v1.JobRunner/Wait",
        [M_LOGS]       = "/jobrunner.v1.JobRunner/Logs",
};

/* What the server saw, for the tests to check. */
typedef struct Seen {
        char start_request[4096];       /* the last StartRequest, packed */
        size_t start_request_len;
        char list_owner[64];            /* of the last List */
        unsigned list_states;           /* bit per state of the last List */
        bool list_active;
        int list_pages;                 /* List calls */
        uint64_t logs_offsets[8][3];    /* stdout/stderr offsets of each Logs call */
        int logs_calls;
        int stop_calls;
        uint32_t stop_grace_ms;
} Seen;

/* The fake's own state; the server is fake_server. */
static struct {
        atomic_int running_chunk_sent;          /* ID_RUNNING's first chunk is out */
        atomic_int stopped;                     /* a Stop of ID_RUNNING came */
        atomic_int flaky_failed;                /* ID_FLAKY's first Logs call ended UNAVAILABLE */
        pthread_mutex_t lock;
        Seen seen;
} srv;

static void finish_call(grpc_call *call, bool send_metadata, grpc_byte_buffer *message, grpc_status_code code,
                        const char *details) {
        fake_finish_call(call, send_metadata, message, code, details, true);
}

static void fill_status(Jobrunner__V1__JobStatus *s, Jobrunner__V1__JobSpec *spec, const FakeJob *j) {
        static char *argv[] = { (char *) "/bin/sh", (char *) "-c", (char *) "echo 'hi there'" };

        *spec = (Jobrunner__V1__JobSpec) JOBRUNNER__V1__JOB_SPEC__INIT;
        spec->argv = argv;
        spec->n_argv = ELEMENTSOF(argv);

        *s = (Jobrunner__V1__JobStatus) JOBRUNNER__V1__JOB_STATUS__INIT;
        s->id = (char *) j->id;
        s->owner = (char *) j->owner;
        s->spec = spec;
        s->unit_name = (char *) "jobrunner-x.service";
        s->state = j->state;
        s->exit_code = j->exit_code;
        s->signal = j->signal;
        s->signal_name = (char *) j->signal_name;
        s->start_time_us = j->start_time_us;
        if (j->state != JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING)
                s->end_time_us = j->start_time_us + 1500000;
        if (j->state == JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START)
                s->failure_reason = (char *) "cannot execute /nonexistent: No such file or directory";
        if (streq(j->id, ID_EXITED)) {
                s->stdout_bytes = sizeof(exited_stdout);
                s->stderr_bytes = strlen(exited_stderr) + EXITED_GAP_LEN;
                s->output_truncated = true;
        } else if (streq(j->id, ID_TAIL)) {
                s->stdout_bytes = strlen(tail_stdout);
                s->stderr_bytes = strlen(tail_stderr);
        } else if (streq(j->id, ID_CAPPED)) {
                s->stdout_bytes = strlen(capped_stdout) + CAPPED_GAP_LEN;
                s->output_truncated = true;
        }
}

static void reply_job(FakeRequest *r, const ProtobufCMessageDescriptor *resp_type, const FakeJob *j,
                      const Jobrunner__V1__JobStatus *override) {
        Jobrunner__V1__JobStatus s;
        Jobrunner__V1__JobSpec spec;
        /* GetStatusResponse, WaitResponse, StopResponse, StartResponse:
         * all { JobStatus job = 1; }. */
        uint8_t storage[256] __attribute__((aligned(16)));
        ProtobufCMessage *resp = (ProtobufCMessage *) storage;
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(resp_type, 1);

        SRV_CHECK(resp_type->sizeof_message <= sizeof(storage));
        protobuf_c_message_init(resp_type, resp);
        if (override)
                s = *override;
        else
                fill_status(&s, &spec, j);
        *(Jobrunner__V1__JobStatus **) (storage + f->offset) = &s;
        finish_call(r->call, true, fake_pack_message(resp), GRPC_STATUS_OK, NULL);
}

static const char *request_id(FakeRequest *r, const ProtobufCMessageDescriptor *type, ProtobufCMessage **ret) {
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(type, 1);

        *ret = fake_request_unpack(r, type);
        SRV_CHECK(*ret);
        return *(const char **) ((const char *) *ret + f->offset);
}

static void serve_get_status(FakeRequest *r) {
        ProtobufCMessage *req;
        const char *id = request_id(r, &jobrunner__v1__get_status_request__descriptor, &req);
        const FakeJob *j = find_job(id);

        if (!j)
                finish_call(r->call, true, NULL, GRPC_STATUS_NOT_FOUND, "no such job");
        else
                reply_job(r, &jobrunner__v1__get_status_response__descriptor, j, NULL);
        protobuf_c_message_free_unpacked(req, NULL);
}

static void serve_wait(FakeRequest *r) {
        ProtobufCMessage *req;
        const char *id = request_id(r, &jobrunner__v1__wait_request__descriptor, &req);
        const FakeJob *j = find_job(id);

        if (!j)
                finish_call(r->call, true, NULL, GRPC_STATUS_NOT_FOUND, "no such job");
        else if (streq(id, ID_FOREVER)) {
                grpc_op op = { .op = GRPC_OP_RECV_CLOSE_ON_SERVER };
                int cancelled = 0;

                /* Completes when the client's deadline ends the call. */
                op.data.recv_close_on_server.cancelled = &cancelled;
                (void) fake_server_batch(r->call, &op, 1);
        } else
                reply_job(r, &jobrunner__v1__wait_response__descriptor, j, NULL);
        protobuf_c_message_free_unpacked(req, NULL);
}

static void serve_stop(FakeRequest *r) {
        Jobrunner__V1__StopRequest *req;
        const FakeJob *j;

        req = (Jobrunner__V1__StopRequest *) fake_request_unpack(r, &jobrunner__v1__stop_request__descriptor);
        SRV_CHECK(req);
        pthread_mutex_lock(&srv.lock);
        srv.seen.stop_calls++;
        srv.seen.stop_grace_ms = req->grace_period_ms;
        pthread_mutex_unlock(&srv.lock);

        j = find_job(req->id);
        if (!j)
                finish_call(r->call, true, NULL, GRPC_STATUS_NOT_FOUND, "no such job");
        else if (j->state != JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING)
                finish_call(r->call, true, NULL, GRPC_STATUS_FAILED_PRECONDITION, "the job has already ended");
        else {
                Jobrunner__V1__JobStatus s;
                Jobrunner__V1__JobSpec spec;

                fill_status(&s, &spec, j);
                s.state = JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED;
                s.signal = 15;
                s.signal_name = (char *) "SIGTERM";
                s.stopped_by = (char *) "alice";
                s.end_time_us = s.start_time_us + 2000000;
                atomic_store(&srv.stopped, 1);
                reply_job(r, &jobrunner__v1__stop_response__descriptor, j, &s);
        }
        jobrunner__v1__stop_request__free_unpacked(req, NULL);
}

static void serve_start(FakeRequest *r) {
        Jobrunner__V1__StartRequest *req;
        Jobrunner__V1__JobStatus s = JOBRUNNER__V1__JOB_STATUS__INIT;

        req = (Jobrunner__V1__StartRequest *) fake_request_unpack(r, &jobrunner__v1__start_request__descriptor);
        SRV_CHECK(req && req->spec && req->spec->n_argv > 0);
        SRV_CHECK(protobuf_c_message_get_packed_size(&req->base) <= sizeof(srv.seen.start_request));
        pthread_mutex_lock(&srv.lock);
        srv.seen.start_request_len = protobuf_c_message_pack(&req->base, (uint8_t *) srv.seen.start_request);
        pthread_mutex_unlock(&srv.lock);

        if (streq(req->spec->argv[0], "/forbidden")) {
                finish_call(r->call, true, NULL, GRPC_STATUS_PERMISSION_DENIED,
                            "permission denied: your role may not do this");
                jobrunner__v1__start_request__free_unpacked(req, NULL);
                return;
        }
        s.id = (char *) ID_STARTED;
        s.owner = (char *) "alice";
        s.spec = req->spec;
        s.state = JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING;
        s.start_time_us = 1700000000000000;
        if (streq(req->spec->argv[0], "/bin/sleep"))
                s.id = (char *) ID_RUNNING;
        if (streq(req->spec->argv[0], "/nonexistent")) {
                s.state = JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START;
                s.failure_reason = (char *) "cannot execute /nonexistent: No such file or directory";
        }
        reply_job(r, &jobrunner__v1__start_response__descriptor, NULL, &s);
        jobrunner__v1__start_request__free_unpacked(req, NULL);
}

/* Pages of 3 jobs; tokens "p3", "p6", ... */
static void serve_list(FakeRequest *r) {
        Jobrunner__V1__ListRequest *req;
        Jobrunner__V1__ListResponse resp = JOBRUNNER__V1__LIST_RESPONSE__INIT;
        Jobrunner__V1__JobStatus statuses[ELEMENTSOF(fake_jobs)], *page[3];
        Jobrunner__V1__JobSpec specs[ELEMENTSOF(fake_jobs)];
        const FakeJob *matching[ELEMENTSOF(fake_jobs)];
        size_t n = 0, first = 0;
        char token[16];
        unsigned states = 0;

        req = (Jobrunner__V1__ListRequest *) fake_request_unpack(r, &jobrunner__v1__list_request__descriptor);
        SRV_CHECK(req);
        for (size_t i = 0; i < req->n_states; i++)
                states |= 1u << req->states[i];
        pthread_mutex_lock(&srv.lock);
        snprintf(srv.seen.list_owner, sizeof(srv.seen.list_owner), "%s", req->owner);
        srv.seen.list_states = states;
        srv.seen.list_active = req->active_only;
        srv.seen.list_pages++;
        pthread_mutex_unlock(&srv.lock);

        if (req->page_token[0] && sscanf(req->page_token, "p%zu", &first) != 1) {
                finish_call(r->call, true, NULL, GRPC_STATUS_INVALID_ARGUMENT, "bad page_token");
                jobrunner__v1__list_request__free_unpacked(req, NULL);
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(fake_jobs); i++) {
                const FakeJob *j = &fake_jobs[i];

                if ((req->owner[0] && !streq(req->owner, j->owner)) || (states && !(states & (1u << j->state))) ||
                    (req->active_only && j->state != JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING))
                        continue;
                matching[n++] = j;
        }
        for (size_t i = first; i < n && resp.n_jobs < 3; i++) {
                fill_status(&statuses[i], &specs[i], matching[i]);
                page[resp.n_jobs++] = &statuses[i];
        }
        resp.jobs = page;
        snprintf(token, sizeof(token), "p%zu", first + 3);
        resp.next_page_token = first + 3 < n ? token : (char *) "";
        finish_call(r->call, true, fake_pack_message(&resp.base), GRPC_STATUS_OK, NULL);
        jobrunner__v1__list_request__free_unpacked(req, NULL);
}

static bool send_logs_message(grpc_call *call, const Jobrunner__V1__LogsResponse *m, bool *first) {
        bool send_metadata = *first;

        *first = false;
        return fake_send_logs_message(call, m, send_metadata);
}

static bool send_chunk(grpc_call *call, int stream, uint64_t offset, const void *data, size_t len, bool *first) {
        bool send_metadata = *first;

        *first = false;
        return fake_send_chunk(call, stream, offset, data, len, send_metadata);
}

static bool send_gap(grpc_call *call, int stream, uint64_t offset, uint64_t length, int reason, bool *first) {
        Jobrunner__V1__LogsResponse m = JOBRUNNER__V1__LOGS_RESPONSE__INIT;
        Jobrunner__V1__LogGap gap = JOBRUNNER__V1__LOG_GAP__INIT;

        gap.stream = stream;
        gap.offset = offset;
        gap.length = length;
        gap.reason = reason;
        m.event_case = JOBRUNNER__V1__LOGS_RESPONSE__EVENT_GAP;
        m.gap = &gap;
        return send_logs_message(call, &m, first);
}

static bool send_end(grpc_call *call, const Jobrunner__V1__JobStatus *s, bool *first) {
        Jobrunner__V1__LogsResponse m = JOBRUNNER__V1__LOGS_RESPONSE__INIT;

        m.event_case = JOBRUNNER__V1__LOGS_RESPONSE__EVENT_END;
        m.end = (Jobrunner__V1__JobStatus *) s;
        return send_logs_message(call, &m, first);
}

/* Sends data[from..to) of a stream in chunks of at most size bytes. */
static bool send_range(grpc_call *call, int stream, const void *data, uint64_t from, uint64_t to, size_t size,
                       bool *first) {
        for (uint64_t o = from; o < to; o += size) {
                size_t n = to - o < size ? (size_t) (to - o) : size;

                if (!send_chunk(call, stream, o, (const uint8_t *) data + o, n, first))
                        return false;
        }
        return true;
}

static uint64_t min_u64(uint64_t a, uint64_t b) {
        return a < b ? a : b;
}

static void serve_logs(FakeRequest *r) {
        Jobrunner__V1__LogsRequest *req;
        Jobrunner__V1__JobStatus end;
        Jobrunner__V1__JobSpec spec;
        grpc_op close_op = { .op = GRPC_OP_RECV_CLOSE_ON_SERVER };
        bool want_out, want_err, first = true, ok = true;
        grpc_status_code code = GRPC_STATUS_OK;
        const char *details = NULL;
        int call_no, cancelled = 0, close_tag;
        const FakeJob *j;

        req = (Jobrunner__V1__LogsRequest *) fake_request_unpack(r, &jobrunner__v1__logs_request__descriptor);
        SRV_CHECK(req);
        pthread_mutex_lock(&srv.lock);
        call_no = srv.seen.logs_calls++;
        if (call_no < 8) {
                srv.seen.logs_offsets[call_no][OUT] = req->stdout_offset;
                srv.seen.logs_offsets[call_no][ERR] = req->stderr_offset;
        }
        pthread_mutex_unlock(&srv.lock);

        j = find_job(req->id);
        if (!j) {
                finish_call(r->call, true, NULL, GRPC_STATUS_NOT_FOUND, "no such job");
                jobrunner__v1__logs_request__free_unpacked(req, NULL);
                return;
        }

        /* Completes when the call is over, also when the client cancels. */
        close_op.data.recv_close_on_server.cancelled = &cancelled;
        SRV_CHECK(grpc_call_start_batch(r->call, &close_op, 1, &close_tag, NULL) == GRPC_CALL_OK);

        fill_status(&end, &spec, j);
        want_out = req->stream != ERR;
        want_err = req->stream != OUT;

        if (streq(j->id, ID_EXITED)) {
                if (want_out)
                        ok = send_range(r->call, OUT, exited_stdout, req->stdout_offset, sizeof(exited_stdout), 100,
                                        &first);
                if (ok && want_err && req->stderr_offset < strlen(exited_stderr))
                        ok = send_range(r->call, ERR, exited_stderr, req->stderr_offset, strlen(exited_stderr), 100,
                                        &first);
                if (ok && want_err) {
                        uint64_t from = req->stderr_offset > strlen(exited_stderr) ? req->stderr_offset :
                                                                                      strlen(exited_stderr);

                        ok = send_gap(r->call, ERR, from, strlen(exited_stderr) + EXITED_GAP_LEN - from,
                                      JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_OUTPUT_TRUNCATED, &first);
                }
        } else if (streq(j->id, ID_TAIL)) {
                if (want_out)
                        ok = send_range(r->call, OUT, tail_stdout, req->stdout_offset, strlen(tail_stdout), 3,
                                        &first);
                if (ok && want_err)
                        ok = send_range(r->call, ERR, tail_stderr, req->stderr_offset, strlen(tail_stderr), 3,
                                        &first);
        } else if (streq(j->id, ID_CAPPED) && want_out) {
                const uint64_t stored = strlen(capped_stdout), truncation = JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_OUTPUT_TRUNCATED;

                if (req->stdout_offset > stored && req->stdout_offset < stored + CAPPED_GAP_LEN)
                        ok = send_gap(r->call, OUT, stored, CAPPED_GAP_LEN, truncation, &first);
                else if (req->stdout_offset <= stored) {
                        ok = send_range(r->call, OUT, capped_stdout, req->stdout_offset, stored, 16, &first);
                        for (uint64_t o = 0; ok && o < CAPPED_GAP_LEN; o += CAPPED_GAP_PIECE)
                                ok = send_gap(r->call, OUT, stored + o, min_u64(CAPPED_GAP_PIECE, CAPPED_GAP_LEN - o),
                                              truncation, &first);
                }
        } else if (streq(j->id, ID_FLAKY)) {
                if (!atomic_exchange(&srv.flaky_failed, 1)) {
                        /* Part of each stream, then the daemon "restarts". */
                        ok = send_range(r->call, OUT, flaky_stdout, req->stdout_offset, 20, 7, &first) &&
                             send_range(r->call, ERR, flaky_stderr, req->stderr_offset, 11, 4, &first);
                        code = GRPC_STATUS_UNAVAILABLE;
                        details = "jobrunnerd is shutting down; retry later";
                        goto finish;
                }
                /* Some of it again, from before the offsets asked for, as
                 * a careless server might: the client must drop it. */
                ok = send_range(r->call, OUT, flaky_stdout, req->stdout_offset - min_u64(req->stdout_offset, 5),
                                sizeof(flaky_stdout) - 1, 9, &first) &&
                     send_gap(r->call, ERR, req->stderr_offset, 0,
                              JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_DAEMON_DOWN, &first) &&
                     send_range(r->call, ERR, flaky_stderr, req->stderr_offset - min_u64(req->stderr_offset, 2),
                                sizeof(flaky_stderr) - 1, 13, &first);
        } else if (streq(j->id, ID_RUNNING)) {
                ok = send_chunk(r->call, OUT, 0, "working\n", 8, &first);
                atomic_store(&srv.running_chunk_sent, 1);
                /* Until stopped, or the client goes away (at most 20 s). */
                if (ok && fake_server_wait_flag(&close_tag, &srv.stopped)) {
                        jobrunner__v1__logs_request__free_unpacked(req, NULL);
                        return;
                }
                ok = ok && send_chunk(r->call, ERR, 0, "terminated\n", 11, &first);
                end.state = JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED;
                end.signal = 15;
                end.signal_name = (char *) "SIGTERM";
                end.stopped_by = (char *) "alice";
        } else if (streq(j->id, ID_STARTED)) {
                ok = send_chunk(r->call, OUT, 0, "started\n", 8, &first) &&
                     send_chunk(r->call, ERR, 0, "oops\n", 5, &first);
                end.state = JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED;
                end.exit_code = 42;
        }

        if (ok && (req->follow || j->state != JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING ||
                   streq(j->id, ID_STARTED) || streq(j->id, ID_RUNNING)))
                ok = send_end(r->call, &end, &first);
finish:
        fake_finish_call(r->call, first, NULL, code, details, false);
        (void) fake_server_pluck(&close_tag);
        jobrunner__v1__logs_request__free_unpacked(req, NULL);
}

/* Each call on a thread of its own: run's Stop comes while its Logs call
 * is still being served. */
static void serve(FakeRequest *r) {
        switch (r->method) {
        case M_START:
                serve_start(r);
                break;
        case M_STOP:
                serve_stop(r);
                break;
        case M_GET_STATUS:
                serve_get_status(r);
                break;
        case M_LIST:
                serve_list(r);
                break;
        case M_WAIT:
                serve_wait(r);
                break;
        case M_LOGS:
                serve_logs(r);
                break;
        default:
                SRV_CHECK(false);
        }
}

static void setup(void) {
        for (size_t i = 0; i < sizeof(exited_stdout); i++)
                exited_stdout[i] = i < 6 ? (uint8_t) "hello\n"[i] : (uint8_t) (i - 6);
        pthread_mutex_init(&srv.lock, NULL);

        cli_server_start(method_paths, _M_MAX, serve);
}

static void teardown(void) {
        fake_server_stop();
}

TestSuite(cli, .init = setup, .fini = teardown, .timeout = 60);

/* ---- start and run ----------------------------------------------------------------- */

Test(cli, start_sends_the_spec_and_prints_the_id) {
        _cleanup_(cli_run_done) CliRun t = cli("start", "--cpu", "150%", "--memory", "256M", "--cpu-weight", "50",
                                               "--io-weight", "20", "--io-read-bps", "/dev/vda=10M",
                                               "--io-write-bps", "/dev/vda=1K", "--tasks", "infinity",
                                               "--network", "host", "--no-pid-namespace", "-e", "A=b=c",
                                               "--env", "EMPTY=", "--cwd", "/srv", "--user", "bob",
                                               "--no-private-tmp", "--", "/bin/echo", "--cpu", "x y", "");
        Jobrunner__V1__StartRequest *req;
        Jobrunner__V1__JobSpec *s;

        cr_assert_eq(t.exit_status, 0);
        cr_assert_str_eq(t.out, ID_STARTED "\n");
        cr_assert_str_eq(t.err, "");

        req = jobrunner__v1__start_request__unpack(NULL, srv.seen.start_request_len,
                                                    (const uint8_t *) srv.seen.start_request);
        cr_assert_not_null(req);
        s = req->spec;
        cr_assert_eq(s->n_argv, 4);
        cr_assert_str_eq(s->argv[0], "/bin/echo");
        cr_assert_str_eq(s->argv[1], "--cpu");
        cr_assert_str_eq(s->argv[2], "x y");
        cr_assert_str_eq(s->argv[3], "");
        cr_assert_eq(s->n_env, 2);
        cr_assert_str_eq(s->env[0], "A=b=c");
        cr_assert_str_eq(s->env[1], "EMPTY=");
        cr_assert_str_eq(s->working_directory, "/srv");
        cr_assert_str_eq(s->user, "bob");
        cr_assert_not_null(s->limits);
        cr_assert_eq(s->limits->cpu_quota_percent, 150);
        cr_assert_eq(s->limits->cpu_weight, 50);
        cr_assert_eq(s->limits->memory_max_bytes, 256u * 1024 * 1024);
        cr_assert_eq(s->limits->io_weight, 20);
        cr_assert_eq(s->limits->tasks_max, UINT64_MAX);
        cr_assert_eq(s->limits->n_io_device_limits, 1);
        cr_assert_str_eq(s->limits->io_device_limits[0]->device, "/dev/vda");
        cr_assert_eq(s->limits->io_device_limits[0]->read_bytes_per_second, 10000000);
        cr_assert_eq(s->limits->io_device_limits[0]->write_bytes_per_second, 1000);
        cr_assert_not_null(s->isolation);
        cr_assert_eq(s->isolation->network, JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_HOST);
        cr_assert_eq(s->isolation->pid_namespace, JOBRUNNER__V1__TOGGLE__TOGGLE_OFF);
        cr_assert_eq(s->isolation->private_mounts, JOBRUNNER__V1__TOGGLE__TOGGLE_UNSPECIFIED);
        cr_assert_eq(s->isolation->private_tmp, JOBRUNNER__V1__TOGGLE__TOGGLE_OFF);
        jobrunner__v1__start_request__free_unpacked(req, NULL);
}

Test(cli, start_without_options_leaves_the_spec_unset) {
        _cleanup_(cli_run_done) CliRun t = cli("start", "/bin/true");
        Jobrunner__V1__StartRequest *req;

        cr_assert_eq(t.exit_status, 0);
        req = jobrunner__v1__start_request__unpack(NULL, srv.seen.start_request_len,
                                                    (const uint8_t *) srv.seen.start_request);
        cr_assert_not_null(req);
        cr_assert_eq(req->spec->n_argv, 1);
        cr_assert_null(req->spec->limits);
        cr_assert_null(req->spec->isolation);
        cr_assert_eq(req->spec->n_env, 0);
        jobrunner__v1__start_request__free_unpacked(req, NULL);
}

Test(cli, start_json) {
        _cleanup_(cli_run_done) CliRun t = cli("--json", "start", "--", "/bin/echo", "a\"b");

        cr_assert_eq(t.exit_status, 0);
        cr_assert(strncmp(t.out, "{\"id\":\"" ID_STARTED "\",\"owner\":\"alice\",", 50) == 0, "%s", t.out);
        cr_assert_not_null(strstr(t.out, "\"argv\":[\"/bin/echo\",\"a\\\"b\"]"));
        cr_assert_not_null(strstr(t.out, "\"state\":\"running\""));
        cr_assert_eq(t.out[t.out_len - 1], '\n');
}

Test(cli, start_failed_to_start) {
        _cleanup_(cli_run_done) CliRun t = cli("start", "/nonexistent");

        cr_assert_eq(t.exit_status, 127);
        cr_assert_str_eq(t.out, ID_STARTED "\n");
        cr_assert_str_eq(t.err, "jobrunner: job " ID_STARTED " failed to start: cannot execute /nonexistent: No such "
                                "file or directory\n");
}

Test(cli, start_permission_denied_names_the_identity) {
        _cleanup_(cli_run_done) CliRun t = cli("start", "/forbidden");

        cr_assert_eq(t.exit_status, 4);
        cr_assert_not_null(strstr(t.err, "permission denied: your role may not do this (you are alice (role "
                                         "operator), according to "), "%s", t.err);
}

Test(cli, run_writes_the_output_and_exits_with_the_jobs_code) {
        _cleanup_(cli_run_done) CliRun t = cli("run", "--", "/bin/sh", "-c", "whatever");

        cr_assert_eq(t.exit_status, 42);
        cr_assert_str_eq(t.out, "started\n");
        cr_assert_str_eq(t.err, "oops\n");
}

Test(cli, run_json) {
        _cleanup_(cli_run_done) CliRun t = cli("run", "--json", "/bin/true");

        cr_assert_eq(t.exit_status, 42);
        cr_assert(strncmp(t.out, "{\"type\":\"start\",\"job\":{\"id\":\"" ID_STARTED "\"", 60) == 0, "%s", t.out);
        cr_assert_not_null(strstr(t.out, "}}\n{\"type\":\"chunk\",\"stream\":\"stdout\",\"offset\":0,"
                                         "\"data\":\"c3RhcnRlZAo=\"}\n"
                                         "{\"type\":\"chunk\",\"stream\":\"stderr\",\"offset\":0,"
                                         "\"data\":\"b29wcwo=\"}\n{\"type\":\"end\",\"job\":{"), "%s", t.out);
        cr_assert_str_eq(t.err, "");
}

Test(cli, run_failed_to_start) {
        _cleanup_(cli_run_done) CliRun t = cli("run", "/nonexistent");

        cr_assert_eq(t.exit_status, 127);
        cr_assert_str_eq(t.out, "");
        cr_assert_str_eq(t.err, "jobrunner: job " ID_STARTED " failed to start: cannot execute /nonexistent: No such "
                                "file or directory\n");
}

/* ---- status, list and id prefixes ------------------------------------------------------- */

Test(cli, status_human) {
        _cleanup_(cli_run_done) CliRun t = cli("status", ID_KILLED);

        cr_assert_eq(t.exit_status, 0);
        cr_assert(strncmp(t.out, "Id:          " ID_KILLED "\n", 46) == 0, "%s", t.out);
        cr_assert_not_null(strstr(t.out, "\nCommand:     /bin/sh -c 'echo '\\''hi there'\\'''\n"));
        cr_assert_not_null(strstr(t.out, "\nState:       killed by SIGKILL\n"));
        cr_assert_not_null(strstr(t.out, "\nStarted:     2023-11-14 22:13:21 UTC ("));
        cr_assert_not_null(strstr(t.out, "\nEnded:       2023-11-14 22:13:22 UTC (after 1.5s)\n"));
}

Test(cli, status_by_prefix_and_in_capitals) {
        _cleanup_(cli_run_done) CliRun t = cli("status", "--json", "BBBBBBBB");

        cr_assert_eq(t.exit_status, 0);
        cr_assert(strncmp(t.out, "{\"id\":\"" ID_KILLED "\"", 40) == 0, "%s", t.out);
        cr_assert_not_null(strstr(t.out, "\"state\":\"killed\",\"exit_code\":0,\"signal\":9,\"signal_name\":\"SIGKILL\""));
        /* Prefixes are looked up in every job the caller may see. */
        cr_assert_str_eq(srv.seen.list_owner, "");
}

Test(cli, ambiguous_prefix) {
        _cleanup_(cli_run_done) CliRun t = cli("status", "abcdef01");

        cr_assert_eq(t.exit_status, 2);
        cr_assert_str_eq(t.out, "");
        cr_assert(strncmp(t.err, "jobrunner: job id prefix 'abcdef01' is ambiguous: 2 jobs match; give more "
                                 "characters:\n  " ID_AMBIG_1 "  alice  exited  started ", 120) == 0, "%s", t.err);
        cr_assert_not_null(strstr(t.err, "\n  " ID_AMBIG_2 "  alice  exited  started "));
}

Test(cli, unknown_prefix_and_id) {
        _cleanup_(cli_run_done) CliRun t = cli("status", "12345678");
        _cleanup_(cli_run_done) CliRun u = cli("status", "12345678123456781234567812345678");
        _cleanup_(cli_run_done) CliRun v = cli("status", "1234567");

        cr_assert_eq(t.exit_status, 3);
        cr_assert_str_eq(t.err, "jobrunner: no job id starts with '12345678' among the jobs visible to you\n");
        cr_assert_eq(u.exit_status, 3);
        cr_assert_str_eq(u.err, "jobrunner: job 12345678123456781234567812345678: no such job, or not visible to "
                                "you, alice (role operator)\n");
        cr_assert_eq(v.exit_status, 2);
        cr_assert_str_eq(v.err, "jobrunner: job id '1234567' is too short: give at least 8 of its 32 hexadecimal "
                                "characters\n");
}

Test(cli, list_is_mine_by_default_and_follows_pages) {
        _cleanup_(cli_run_done) CliRun t = cli("list", "-q");
        size_t lines = 0;

        cr_assert_eq(t.exit_status, 0);
        cr_assert_str_eq(srv.seen.list_owner, "alice");
        /* Every job of alice's: 9, in pages of 3. */
        for (const char *p = t.out; *p; p++)
                lines += *p == '\n';
        cr_assert_eq(lines, 9);
        cr_assert_eq(srv.seen.list_pages, 3);
        cr_assert(strncmp(t.out, ID_EXITED "\n" ID_KILLED "\n", 66) == 0);
        cr_assert_null(strstr(t.out, ID_BOB));
}

Test(cli, list_table) {
        _cleanup_(cli_run_done) CliRun t = cli("list", "--all", "--state", "killed,FAILED_TO_START",
                                               "--state", "exited");

        cr_assert_eq(t.exit_status, 0);
        cr_assert_str_eq(srv.seen.list_owner, "");
        cr_assert_eq(srv.seen.list_states, (1u << 3) | (1u << 4) | (1u << 7));
        cr_assert(strncmp(t.out,
                          "ID                                OWNER  STATE            EXIT     STARTED              COMMAND\n"
                          ID_EXITED "  alice  exited           3        2023-11-14 22:13:20  /bin/sh -c 'echo '\\''hi there'\\'''\n"
                          ID_KILLED "  alice  killed           SIGKILL  2023-11-14 22:13:21  /bin/sh",
                          300) == 0, "%s", t.out);
        cr_assert_not_null(strstr(t.out, "\n" ID_FAILED "  alice  failed-to-start  -        2023-11-14 22:13:26  "));
        cr_assert_not_null(strstr(t.out, "\n" ID_BOB "  bob    exited           0        "));
}

Test(cli, list_json_and_filters) {
        _cleanup_(cli_run_done) CliRun t = cli("list", "--owner", "bob", "--json");

        cr_assert_eq(t.exit_status, 0);
        cr_assert(strncmp(t.out, "[{\"id\":\"" ID_BOB "\",\"owner\":\"bob\"", 50) == 0, "%s", t.out);
        cr_assert_str_eq(t.out + t.out_len - 3, "}]\n");
        {
                _cleanup_(cli_run_done) CliRun u = cli("list", "--active", "--json");

                cr_assert_eq(u.exit_status, 0);
                cr_assert(srv.seen.list_active);
                cr_assert(strncmp(u.out, "[{\"id\":\"" ID_RUNNING "\"", 41) == 0, "%s", u.out);
        }
        {
                _cleanup_(cli_run_done) CliRun v = cli("list", "--owner", "nobody");
                _cleanup_(cli_run_done) CliRun w = cli("list", "--owner", "nobody", "--json");

                cr_assert_str_eq(v.out, "No jobs.\n");
                cr_assert_str_eq(w.out, "[]\n");
        }
}

/* ---- wait and stop ------------------------------------------------------------------------- */

Test(cli, wait_exit_statuses) {
        _cleanup_(cli_run_done) CliRun t = cli("wait", ID_EXITED);
        _cleanup_(cli_run_done) CliRun u = cli("wait", ID_KILLED);
        _cleanup_(cli_run_done) CliRun v = cli("wait", ID_FAILED);

        cr_assert_eq(t.exit_status, 3);
        cr_assert_str_eq(t.out, "job " ID_EXITED " exited with code 3\n");
        cr_assert_eq(u.exit_status, 128 + 9);
        cr_assert_str_eq(u.out, "job " ID_KILLED " killed by SIGKILL\n");
        cr_assert_eq(v.exit_status, 127);
        cr_assert_str_eq(v.out, "job " ID_FAILED " failed to start: cannot execute /nonexistent: No such file or "
                                "directory\n");
}

Test(cli, wait_timeout) {
        _cleanup_(cli_run_done) CliRun t = cli("wait", "--timeout", "300ms", ID_FOREVER);
        char expect[256];

        snprintf(expect, sizeof(expect), "jobrunner: no answer from %s within 300ms (see --timeout)\n", fake_server.target);
        cr_assert_eq(t.exit_status, 6);
        cr_assert_str_eq(t.err, expect);
}

Test(cli, stop) {
        _cleanup_(cli_run_done) CliRun t = cli("stop", "--grace", "2s", ID_RUNNING);
        _cleanup_(cli_run_done) CliRun u = cli("stop", ID_EXITED);
        _cleanup_(cli_run_done) CliRun v = cli("stop", "--grace", "6min", ID_RUNNING);

        cr_assert_eq(t.exit_status, 0);
        cr_assert_str_eq(t.out, "job " ID_RUNNING " stopped by alice: ended by SIGTERM\n");
        cr_assert_eq(u.exit_status, 5);
        cr_assert_str_eq(u.err, "jobrunner: job " ID_EXITED " has already ended: exited with code 3\n");
        cr_assert_eq(v.exit_status, 2);
        cr_assert_str_eq(v.err, "jobrunner: invalid grace period '6min': must be between 1ms and 5min\n");
        cr_assert_eq(srv.seen.stop_calls, 2);
}

/* ---- logs -------------------------------------------------------------------------------------- */

Test(cli, logs_are_byte_exact_with_a_gap_notice) {
        _cleanup_(cli_run_done) CliRun t = cli("logs", ID_EXITED);

        cr_assert_eq(t.exit_status, 0);
        cr_assert_eq(t.out_len, sizeof(exited_stdout));
        cr_assert_arr_eq(t.out, exited_stdout, sizeof(exited_stdout));
        cr_assert_str_eq(t.err, "warning\njobrunner: job stderr: 1000 bytes missing at offset 8 (the job's output cap "
                                "was reached: later output is counted but not kept)\n");
}

Test(cli, logs_one_stream_from_an_offset) {
        _cleanup_(cli_run_done) CliRun t = cli("logs", "--stdout", "--offset", "3", ID_EXITED);
        _cleanup_(cli_run_done) CliRun u = cli("logs", "--stderr-offset", "2", "--stdout-offset", "262", ID_EXITED);

        cr_assert_eq(t.exit_status, 0);
        cr_assert_eq(t.out_len, sizeof(exited_stdout) - 3);
        cr_assert_arr_eq(t.out, exited_stdout + 3, t.out_len);
        cr_assert_str_eq(t.err, "");
        cr_assert_eq(u.exit_status, 0);
        cr_assert_eq(u.out_len, 0);
        cr_assert(strncmp(u.err, "rning\njobrunner: job stderr: 1000 bytes missing", 47) == 0, "%s", u.err);
}

/* One stream on stdout, in the order the server sent them; the notice stays
 * on stderr. */
Test(cli, logs_merge_writes_both_streams_to_stdout) {
        _cleanup_(cli_run_done) CliRun t = cli("logs", "--merge", ID_EXITED);
        _cleanup_(cli_run_done) CliRun u = cli("--json", "logs", "--merge", ID_EXITED);

        cr_assert_eq(t.exit_status, 0);
        cr_assert_eq(t.out_len, sizeof(exited_stdout) + strlen(exited_stderr));
        cr_assert_arr_eq(t.out, exited_stdout, sizeof(exited_stdout));
        cr_assert_arr_eq(t.out + sizeof(exited_stdout), exited_stderr, strlen(exited_stderr));
        cr_assert_str_eq(t.err, "jobrunner: job stderr: 1000 bytes missing at offset 8 (the job's output cap "
                                "was reached: later output is counted but not kept)\n");
        cr_assert_eq(u.exit_status, 2);
        cr_assert_not_null(strstr(u.err, "--merge and --json exclude each other"), "%s", u.err);
}

Test(cli, logs_json) {
        _cleanup_(cli_run_done) CliRun t = cli("logs", "--json", "--stderr", ID_EXITED);

        cr_assert_eq(t.exit_status, 0);
        cr_assert(strncmp(t.out,
                          "{\"type\":\"chunk\",\"stream\":\"stderr\",\"offset\":0,\"data\":\"d2FybmluZwo=\"}\n"
                          "{\"type\":\"gap\",\"stream\":\"stderr\",\"offset\":8,\"length\":1000,"
                          "\"reason\":\"output-truncated\"}\n"
                          "{\"type\":\"end\",\"job\":{\"id\":\"" ID_EXITED "\"", 200) == 0, "%s", t.out);
        cr_assert_str_eq(t.err, "");
}

Test(cli, logs_follow_resumes_after_a_restart_without_loss_or_repeats) {
        _cleanup_(cli_run_done) CliRun t = cli("logs", "-f", ID_FLAKY);

        cr_assert_eq(t.exit_status, 0);
        cr_assert_eq(srv.seen.logs_calls, 2);
        cr_assert_eq(srv.seen.logs_offsets[0][OUT], 0);
        cr_assert_eq(srv.seen.logs_offsets[0][ERR], 0);
        /* Resumed where the first call stopped. */
        cr_assert_eq(srv.seen.logs_offsets[1][OUT], 20);
        cr_assert_eq(srv.seen.logs_offsets[1][ERR], 11);
        cr_assert_str_eq(t.out, flaky_stdout);
        cr_assert(strncmp(t.err, flaky_stderr, 11) == 0, "%s", t.err);
        cr_assert_not_null(strstr(t.err, "\njobrunner: lost the connection to the server (jobrunnerd is shutting "
                                         "down; retry later); reconnecting...\njobrunner: reconnected\n"
                                         "jobrunner: job stderr: output of unknown size missing at offset 11 "
                                         "(jobrunnerd was not running when the job wrote it)\n"), "%s", t.err);
        cr_assert_str_eq(t.err + t.err_len - (sizeof(flaky_stderr) - 1 - 11), flaky_stderr + 11);
}

Test(cli, logs_without_follow_gives_up_on_unavailable_before_any_answer) {
        _cleanup_(cli_run_done) CliRun t;

        /* A server that is not there at all: no retrying. */
        cli_target = "127.0.0.1:1";
        t = cli("logs", "-f", ID_FLAKY);
        cli_target = NULL;
        cr_assert_eq(t.exit_status, 69);
        cr_assert_str_eq(t.err, "jobrunner: cannot connect to 127.0.0.1:1: Connection refused (is jobrunner.socket "
                                "listening there? see --server)\n");
}

/* The CLI resolves the name itself (client/resolve.h): "localhost" may
 * give ::1 before 127.0.0.1, where only the latter listens; the
 * certificate is checked against the name as given. */
Test(cli, a_host_name_is_resolved_and_its_addresses_tried_in_order) {
        _cleanup_free_ char *target = NULL;
        _cleanup_(cli_run_done) CliRun t;

        cr_assert_geq(asprintf(&target, "localhost:%d", fake_server.port), 0);
        cli_target = target;
        t = cli("status", "--json", ID_KILLED);
        cli_target = NULL;
        cr_assert_eq(t.exit_status, 0, "%s", t.err);
        cr_assert_not_null(strstr(t.out, ID_KILLED));
}

Test(cli, a_host_name_that_does_not_resolve) {
        _cleanup_(cli_run_done) CliRun t;

        cli_target = "no-such-host.invalid:50051";
        t = cli("list");
        cli_target = NULL;
        cr_assert_eq(t.exit_status, 69);
        cr_assert(strncmp(t.err, "jobrunner: cannot connect to no-such-host.invalid:50051: the host name does not "
                                 "resolve (", 89) == 0, "%s", t.err);
}

Test(cli, logs_tail) {
        _cleanup_(cli_run_done) CliRun t = cli("logs", "--tail", "3", ID_TAIL);
        _cleanup_(cli_run_done) CliRun u = cli("logs", "--tail", "0", "--stdout", ID_TAIL);
        _cleanup_(cli_run_done) CliRun v = cli("logs", "--tail", "100", "--stderr", ID_TAIL);

        cr_assert_eq(t.exit_status, 0);
        cr_assert_str_eq(t.out, "8\n9\n10\n");
        cr_assert_str_eq(t.err, "e1\ne2\ne3");
        cr_assert_eq(u.exit_status, 0);
        cr_assert_str_eq(u.out, "");
        cr_assert_str_eq(v.out, "");
        cr_assert_str_eq(v.err, "e1\ne2\ne3");
}

/* Past the cap: the stored lines, then one notice for all that is missing,
 * also from --tail, whose window lands inside the gap. */
Test(cli, logs_past_the_cap_tell_the_whole_missing_range_once) {
        _cleanup_(cli_run_done) CliRun t = cli("logs", ID_CAPPED);
        _cleanup_(cli_run_done) CliRun u = cli("logs", "--tail", "2", ID_CAPPED);
        _cleanup_(cli_run_done) CliRun v = cli("--json", "logs", "--tail", "1", ID_CAPPED);
        const char *gap;
        static const char notice[] = "jobrunner: job stdout: 209715200 bytes missing at offset 151 (the job's "
                                     "output cap was reached: later output is counted but not kept)\n";

        cr_assert_eq(strlen(capped_stdout), 151);
        cr_assert_eq(t.exit_status, 0);
        cr_assert_str_eq(t.out, capped_stdout);
        cr_assert_str_eq(t.err, notice);
        cr_assert_eq(u.exit_status, 0);
        cr_assert_str_eq(u.out, "line 19\nline 20\n");
        cr_assert_str_eq(u.err, notice);
        cr_assert_eq(v.exit_status, 0);
        gap = strstr(v.out, "{\"type\":\"gap\",");
        cr_assert(gap && strncmp(gap, "{\"type\":\"gap\",\"stream\":\"stdout\",\"offset\":151,\"length\":209715200,"
                                      "\"reason\":\"output-truncated\"}\n{\"type\":\"end\",", 103) == 0, "%s", v.out);
        cr_assert_null(strstr(gap + 1, "{\"type\":\"gap\","));
}

Test(cli, logs_usage_errors) {
        _cleanup_(cli_run_done) CliRun t = cli("logs", "--offset", "3", ID_TAIL);
        _cleanup_(cli_run_done) CliRun u = cli("logs", "--stdout", "--stderr", ID_TAIL);
        _cleanup_(cli_run_done) CliRun v = cli("logs", "--tail", "3", "--stdout-offset", "1", ID_TAIL);
        _cleanup_(cli_run_done) CliRun w = cli("logs");

        cr_assert_eq(t.exit_status, 2);
        cr_assert_not_null(strstr(t.err, "--offset needs --stdout or --stderr"));
        cr_assert_eq(u.exit_status, 2);
        cr_assert_eq(v.exit_status, 2);
        cr_assert_eq(w.exit_status, 2);
        cr_assert_str_eq(w.err, "jobrunner: missing the job ID; see 'jobrunner logs --help'\n");
}

/* ---- Ctrl-C in run ------------------------------------------------------------------------------ */

Test(cli, run_detaches_on_ctrl_c) {
        _cleanup_(cli_run_done) CliRun t = cli_spawn(AS_ALICE, "run", "/bin/sleep", "1000", NULL);

        wait_for(&srv.running_chunk_sent);
        wait_for_output(&t, "working\n");
        cr_assert_eq(kill(t.pid, SIGINT), 0);
        cli_finish(&t);
        cr_assert_eq(t.exit_status, 130);
        cr_assert_str_eq(t.out, "working\n");
        cr_assert_str_eq(t.err, "jobrunner: detached from job " ID_RUNNING ", which keeps running.\n"
                                "jobrunner: follow it again: jobrunner logs -f --stdout-offset 8 --stderr-offset 0 "
                                ID_RUNNING "\n"
                                "jobrunner: stop it:         jobrunner stop " ID_RUNNING "\n");
        cr_assert_eq(srv.seen.stop_calls, 0);
}

Test(cli, run_stops_on_ctrl_c_if_asked) {
        _cleanup_(cli_run_done) CliRun t = cli_spawn(AS_ALICE, "run", "--stop-on-interrupt", "/bin/sleep", "1000",
                                                     NULL);

        wait_for(&srv.running_chunk_sent);
        wait_for_output(&t, "working\n");
        cr_assert_eq(kill(t.pid, SIGINT), 0);
        cli_finish(&t);
        cr_assert_eq(srv.seen.stop_calls, 1);
        cr_assert_eq(t.exit_status, 128 + 15);
        cr_assert_str_eq(t.out, "working\n");
        cr_assert_str_eq(t.err, "jobrunner: stopping job " ID_RUNNING " (Ctrl-C again to leave without waiting)\n"
                                "terminated\n");
}

/* ---- TLS ------------------------------------------------------------------------------------------ */

Test(cli, a_certificate_of_another_ca_is_refused) {
        _cleanup_(cli_run_done) CliRun t = cli_as(AS_MALLORY, "status", ID_EXITED, NULL);

        cr_assert_eq(t.exit_status, 69);
        cr_assert_not_null(strstr(t.err, " closed the connection during the TLS handshake: it refused the client "
                                         "certificate "), "%s", t.err);
        cr_assert_not_null(strstr(t.err, "mallory (role admin)"), "%s", t.err);
}

Test(cli, an_expired_certificate_is_refused) {
        _cleanup_(cli_run_done) CliRun t = cli_as(AS_OLD, "status", ID_EXITED, NULL);

        cr_assert_eq(t.exit_status, 69);
        cr_assert_not_null(strstr(t.err, "expired on 2020-12-31 23:59:59 UTC"), "%s", t.err);
}

Test(cli, the_server_certificate_is_checked) {
        _cleanup_(cli_run_done) CliRun t = cli_as(AS_ALICE_TRUSTING_OTHER_CA, "status", ID_EXITED, NULL);

        cr_assert_eq(t.exit_status, 69);
        cr_assert_not_null(strstr(t.err, "TLS handshake with 127.0.0.1:"), "%s", t.err);
        cr_assert_not_null(strstr(t.err, "the server's certificate was not accepted"), "%s", t.err);
}
