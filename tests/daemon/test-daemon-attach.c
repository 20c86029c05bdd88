/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Attach end to end, as proto/jobrunner.proto promises it: the input of a
 * STDIN_MODE_PIPE job reaches it byte for byte over several messages, its
 * end gives the job end of file and the holder one input_closed with the
 * byte count, and the output streams as Logs with follow; one call at a
 * time holds the input; who may attach; the codes of misused calls; the
 * audit record counts the input.  As the operator alice unless said
 * otherwise.
 *
 * Other test binaries use the same daemon at the same time: every test
 * looks only at the jobs it started itself. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon-harness.h"
#include "macro.h"
#include "status.h"
#include "time-util.h"

/* Deadlines: generous, the VM is slow (TCG), but nothing may hang. */
#define CALL_DEADLINE_MS INT64_C(60000)
#define STREAM_DEADLINE_MS INT64_C(180000)

#define INPUT_MAX 65536u

static void setup(void) {
        dh_install();
}

TestSuite(daemon_attach, .init = setup, .timeout = 600);

/* ---- helpers ------------------------------------------------------------- */

static const char *code_name(int status) {
        return tc_status_name(status) ?: "(unknown code)";
}

/* Starts argv with the given stdin mode; fails the test unless OK. */
static Jobrunner__V1__JobStatus *start_with_stdin(TcConn *c, const char *const *argv, Jobrunner__V1__StdinMode mode) {
        Jobrunner__V1__JobSpec spec = JOBRUNNER__V1__JOB_SPEC__INIT;
        Jobrunner__V1__StartRequest req = JOBRUNNER__V1__START_REQUEST__INIT;
        Jobrunner__V1__StartResponse *resp = NULL;
        _cleanup_free_ char *details = NULL;
        Jobrunner__V1__JobStatus *job;
        int status = -1, r;

        while (argv[spec.n_argv])
                spec.n_argv++;
        spec.argv = (char **) argv;
        spec.stdin = mode;
        req.spec = &spec;
        r = tc_call(c, "Start", &req.base, &jobrunner__v1__start_response__descriptor, CALL_DEADLINE_MS, &status,
                    &details, (ProtobufCMessage **) &resp);
        cr_assert(r >= 0, "Start: the client failed: %s", strerror(-r));
        cr_assert_eq(status, JR_CODE_OK, "Start %s: %s: %s", argv[0], code_name(status), details);
        cr_assert_not_null(resp->job);
        cr_assert_eq(resp->job->spec->stdin, mode, "the status echoes the stdin mode");
        job = TAKE_PTR(resp->job);
        jobrunner__v1__start_response__free_unpacked(resp, NULL);
        return job;
}

static TcStream *attach_open(TcConn *c, const char *id, bool input) {
        Jobrunner__V1__AttachRequest req = JOBRUNNER__V1__ATTACH_REQUEST__INIT;
        Jobrunner__V1__AttachStart start = JOBRUNNER__V1__ATTACH_START__INIT;
        TcStream *s = NULL;
        int r;

        start.id = (char *) id;
        start.input = input;
        req.event_case = JOBRUNNER__V1__ATTACH_REQUEST__EVENT_START;
        req.start = &start;
        r = tc_attach_open(c, &req, STREAM_DEADLINE_MS, &s);
        cr_assert(r >= 0, "Attach: cannot open: %s", strerror(-r));
        return s;
}

/* 0, or -EPIPE once the server has ended the call (its status says why). */
static int send_input(TcStream *s, const void *data, size_t len) {
        Jobrunner__V1__AttachRequest req = JOBRUNNER__V1__ATTACH_REQUEST__INIT;
        int r;

        req.event_case = JOBRUNNER__V1__ATTACH_REQUEST__EVENT_INPUT;
        req.input = (ProtobufCBinaryData) { .len = len, .data = (uint8_t *) data };
        r = tc_stream_send(s, &req.base);
        cr_assert(r >= 0 || r == -EPIPE, "Attach: cannot send input: %s", strerror(-r));
        return r;
}

static int send_end_of_input(TcStream *s) {
        Jobrunner__V1__AttachRequest req = JOBRUNNER__V1__ATTACH_REQUEST__INIT;
        Jobrunner__V1__EndOfInput end = JOBRUNNER__V1__END_OF_INPUT__INIT;
        int r;

        req.event_case = JOBRUNNER__V1__ATTACH_REQUEST__EVENT_END_OF_INPUT;
        req.end_of_input = &end;
        r = tc_stream_send(s, &req.base);
        cr_assert(r >= 0 || r == -EPIPE, "Attach: cannot send end_of_input: %s", strerror(-r));
        return r;
}

/* What one Attach call delivered, checked as it arrived: stdout contiguous
 * from 0, no gaps (these jobs are small), at most one input_closed and
 * never after `end`, `end` last. */
typedef struct Attached {
        char *out;
        size_t out_len;
        unsigned n_input_closed;
        uint64_t input_bytes;
        bool input_closed_before_end;
        Jobrunner__V1__JobState end_state;
        int32_t end_exit_code;
        bool ended;
        int status;
        char *details;
} Attached;

static void attached_done(Attached *a) {
        free(a->out);
        free(a->details);
        *a = (Attached) {};
}

static void attached_add(Attached *a, const Jobrunner__V1__AttachResponse *m) {
        cr_assert(!a->ended, "a message after `end`");
        switch (m->event_case) {
        case JOBRUNNER__V1__ATTACH_RESPONSE__EVENT_CHUNK: {
                char *p;

                cr_assert_eq(m->chunk->stream, JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT,
                             "output on stream %d", m->chunk->stream);
                cr_assert_eq(m->chunk->offset, a->out_len, "stdout chunk at %" PRIu64 ", expected %zu",
                             m->chunk->offset, a->out_len);
                p = realloc(a->out, a->out_len + m->chunk->data.len + 1);
                cr_assert_not_null(p);
                memcpy(p + a->out_len, m->chunk->data.data, m->chunk->data.len);
                a->out = p;
                a->out_len += m->chunk->data.len;
                a->out[a->out_len] = 0;
                break;
        }
        case JOBRUNNER__V1__ATTACH_RESPONSE__EVENT_GAP:
                cr_assert_fail("unexpected gap: stream %d offset %" PRIu64 " length %" PRIu64, m->gap->stream,
                               m->gap->offset, m->gap->length);
                break;
        case JOBRUNNER__V1__ATTACH_RESPONSE__EVENT_INPUT_CLOSED:
                a->n_input_closed++;
                a->input_bytes = m->input_closed->input_bytes;
                a->input_closed_before_end = true;
                break;
        case JOBRUNNER__V1__ATTACH_RESPONSE__EVENT_END:
                a->ended = true;
                a->end_state = m->end->state;
                a->end_exit_code = m->end->exit_code;
                break;
        default:
                cr_assert_fail("an AttachResponse with no event (case %d)", (int) m->event_case);
        }
}

/* Reads s to its end into a and takes its status. */
static void attach_drain(TcStream *s, Attached *a) {
        const char *details = NULL;
        int r;

        for (;;) {
                Jobrunner__V1__AttachResponse *m = NULL;

                r = tc_attach_next(s, &m);
                cr_assert(r >= 0, "Attach: the client failed: %s", strerror(-r));
                if (r == 0)
                        break;
                attached_add(a, m);
                jobrunner__v1__attach_response__free_unpacked(m, NULL);
        }
        cr_assert_eq(tc_stream_status(s, &a->status, &details), 0);
        a->details = strdup(details ?: "");
        cr_log_info("Attach: %s: %s", code_name(a->status), a->details);
}

/* The status of a call the server refuses, and its message. */
static int attach_refused(TcStream *s, char **ret_details) {
        _cleanup_(attached_done) Attached a = {};

        attach_drain(s, &a);
        cr_assert(!a.ended, "a refused call got `end`");
        *ret_details = TAKE_PTR(a.details);
        return a.status;
}

/* Polls GetStatus until the job has want followers. */
static void wait_for_followers(TcConn *c, const char *id, uint32_t want) {
        int64_t until = (int64_t) now_usec(CLOCK_MONOTONIC) + STREAM_DEADLINE_MS * 1000;

        for (;;) {
                Jobrunner__V1__GetStatusRequest req = JOBRUNNER__V1__GET_STATUS_REQUEST__INIT;
                Jobrunner__V1__GetStatusResponse *resp = NULL;
                int status = -1;
                uint32_t seen;

                req.id = (char *) id;
                cr_assert_geq(tc_call(c, "GetStatus", &req.base, &jobrunner__v1__get_status_response__descriptor,
                                      CALL_DEADLINE_MS, &status, NULL, (ProtobufCMessage **) &resp), 0);
                cr_assert_eq(status, JR_CODE_OK, "GetStatus: %s", code_name(status));
                seen = resp->job->followers;
                jobrunner__v1__get_status_response__free_unpacked(resp, NULL);
                if (seen == want)
                        return;
                cr_assert((int64_t) now_usec(CLOCK_MONOTONIC) < until, "job %s: %" PRIu32 " followers, expected %"
                          PRIu32, id, seen, want);
                usleep(100 * 1000);
        }
}

/* What sha256sum prints for data read from its stdin. */
static char *sha256sum_of(const uint8_t *data, size_t len) {
        char path[] = "/tmp/attach-input-XXXXXX", command[128];
        int fd = mkstemp(path);
        char *out;

        cr_assert_geq(fd, 0);
        cr_assert_eq(write(fd, data, len), (ssize_t) len);
        close(fd);
        snprintf(command, sizeof(command), "sha256sum < %s", path);
        out = dh_shell_output(command, NULL);
        unlink(path);
        return out;
}

/* ---- tests --------------------------------------------------------------- */

/* The input in several messages, one of the largest size, reaches the job
 * byte for byte; end_of_input ends it; input_closed counts it and comes
 * before `end`; the audit record counts it too. */
Test(daemon_attach, input_reaches_a_pipe_job_byte_for_byte) {
        _cleanup_(tc_disconnectp) TcConn *c = dh_connect("alice");
        const char *argv[] = { "/usr/bin/sha256sum", NULL };
        static const size_t sizes[] = { 1, 1000, INPUT_MAX, 4097, INPUT_MAX, 3 };
        _cleanup_job_ Jobrunner__V1__JobStatus *job = NULL;
        _cleanup_(tc_stream_freep) TcStream *s = NULL;
        _cleanup_(attached_done) Attached a = {};
        _cleanup_free_ uint8_t *data = NULL;
        _cleanup_free_ char *want = NULL, *record = NULL;
        char matches[256];
        size_t total = 0, sent = 0;
        time_t since = time(NULL) - 1;

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++)
                total += sizes[i];
        data = malloc(total);
        cr_assert_not_null(data);
        for (size_t i = 0; i < total; i++)
                data[i] = (uint8_t) (i * 7 + i / 251);  /* every byte value, NUL included */
        want = sha256sum_of(data, total);

        job = start_with_stdin(c, argv, JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_PIPE);
        s = attach_open(c, job->id, true);
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                cr_assert_eq(send_input(s, data + sent, sizes[i]), 0, "input message %zu refused", i);
                sent += sizes[i];
        }
        cr_assert_eq(send_end_of_input(s), 0);
        attach_drain(s, &a);

        cr_assert_eq(a.status, JR_CODE_OK, "Attach: %s: %s", code_name(a.status), a.details);
        cr_assert_eq(a.n_input_closed, 1, "%u input_closed", a.n_input_closed);
        cr_assert_eq(a.input_bytes, total, "input_closed says %" PRIu64 " bytes, %zu were sent", a.input_bytes,
                     total);
        cr_assert(a.ended);
        cr_assert_eq(a.end_state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED);
        cr_assert_eq(a.end_exit_code, 0);
        cr_assert_str_eq(a.out ?: "", want, "the job read other bytes than were sent");

        snprintf(matches, sizeof(matches), "JOBRUNNER_METHOD=Attach JOBRUNNER_JOB_ID=%s JOBRUNNER_INPUT_BYTES=%zu",
                 job->id, total);
        record = dh_wait_audit_record(since, matches);
        cr_assert(strstr(record, "input ") && strstr(record, ": OK"), "audit record: %s", record);
}

/* One call at a time holds the input; others may follow the output but
 * not write; the holder's end_of_input still works after their attempts. */
Test(daemon_attach, one_call_holds_the_input) {
        _cleanup_(tc_disconnectp) TcConn *c = dh_connect("alice");
        const char *argv[] = { "/usr/bin/sha256sum", NULL };
        _cleanup_job_ Jobrunner__V1__JobStatus *job = NULL;
        _cleanup_(tc_stream_freep) TcStream *holder = NULL, *second = NULL, *follower = NULL;
        _cleanup_(attached_done) Attached a = {};
        _cleanup_free_ char *details = NULL, *details2 = NULL, *want = NULL;
        int status;

        job = start_with_stdin(c, argv, JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_PIPE);
        holder = attach_open(c, job->id, true);
        /* The input is taken before the follower opens. */
        wait_for_followers(c, job->id, 1);

        second = attach_open(c, job->id, true);
        status = attach_refused(second, &details);
        cr_assert_eq(status, JR_CODE_FAILED_PRECONDITION, "a second holder: %s: %s", code_name(status), details);
        cr_assert_str_eq(details, "another client holds the job's input");

        /* Following beside the holder is fine; writing is not. */
        follower = attach_open(c, job->id, false);
        wait_for_followers(c, job->id, 2);
        (void) send_input(follower, "x", 1);
        status = attach_refused(follower, &details2);
        cr_assert_eq(status, JR_CODE_FAILED_PRECONDITION, "input from a follower: %s: %s", code_name(status),
                     details2);

        cr_assert_eq(send_input(holder, "abc", 3), 0);
        cr_assert_eq(send_end_of_input(holder), 0);
        attach_drain(holder, &a);
        cr_assert_eq(a.status, JR_CODE_OK, "Attach: %s: %s", code_name(a.status), a.details);
        cr_assert_eq(a.n_input_closed, 1);
        cr_assert_eq(a.input_bytes, 3);
        want = sha256sum_of((const uint8_t *) "abc", 3);
        cr_assert_str_eq(a.out ?: "", want);
}

/* Attach can write: a viewer may not, even to follow; an operator sees only
 * its own jobs; an admin may attach to anyone's. */
Test(daemon_attach, who_may_attach) {
        _cleanup_(tc_disconnectp) TcConn *alice = dh_connect("alice"), *bob = dh_connect("bob"),
                                          *victor = dh_connect("victor"), *root = dh_connect("root");
        const char *argv[] = { "/usr/bin/sha256sum", NULL };
        _cleanup_job_ Jobrunner__V1__JobStatus *job = NULL;
        _cleanup_(tc_stream_freep) TcStream *viewer = NULL, *other = NULL, *admin = NULL;
        _cleanup_(attached_done) Attached a = {};
        _cleanup_free_ char *d1 = NULL, *d2 = NULL;
        int status;

        job = start_with_stdin(alice, argv, JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_PIPE);

        viewer = attach_open(victor, job->id, false);
        status = attach_refused(viewer, &d1);
        cr_assert_eq(status, JR_CODE_PERMISSION_DENIED, "viewer: %s: %s", code_name(status), d1);

        other = attach_open(bob, job->id, true);
        status = attach_refused(other, &d2);
        cr_assert_eq(status, JR_CODE_NOT_FOUND, "another operator: %s: %s", code_name(status), d2);

        admin = attach_open(root, job->id, true);
        cr_assert_eq(send_end_of_input(admin), 0);
        attach_drain(admin, &a);
        cr_assert_eq(a.status, JR_CODE_OK, "admin: %s: %s", code_name(a.status), a.details);
        cr_assert_eq(a.n_input_closed, 1);
        cr_assert_eq(a.input_bytes, 0);
        cr_assert_eq(a.end_state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED);
}

/* The codes of misused calls, each on a job that stays usable. */
Test(daemon_attach, misused_calls_get_their_codes) {
        _cleanup_(tc_disconnectp) TcConn *c = dh_connect("alice");
        const char *pipe_argv[] = { "/usr/bin/sha256sum", NULL };
        const char *sleep_argv[] = { "/bin/sleep", "600", NULL };
        _cleanup_job_ Jobrunner__V1__JobStatus *piped = NULL, *plain = NULL;
        int status;

        piped = start_with_stdin(c, pipe_argv, JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_PIPE);
        plain = start_with_stdin(c, sleep_argv, JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_UNSPECIFIED);

        /* The first message must be start. */
        {
                Jobrunner__V1__AttachRequest req = JOBRUNNER__V1__ATTACH_REQUEST__INIT;
                _cleanup_(tc_stream_freep) TcStream *s = NULL;
                _cleanup_free_ char *details = NULL;

                req.event_case = JOBRUNNER__V1__ATTACH_REQUEST__EVENT_INPUT;
                req.input = (ProtobufCBinaryData) { .len = 1, .data = (uint8_t *) "x" };
                cr_assert_geq(tc_attach_open(c, &req, STREAM_DEADLINE_MS, &s), 0);
                status = attach_refused(s, &details);
                cr_assert_eq(status, JR_CODE_INVALID_ARGUMENT, "input first: %s: %s", code_name(status), details);
        }

        /* Input asked for a job started without one. */
        {
                _cleanup_(tc_stream_freep) TcStream *s = attach_open(c, plain->id, true);
                _cleanup_free_ char *details = NULL;

                status = attach_refused(s, &details);
                cr_assert_eq(status, JR_CODE_FAILED_PRECONDITION, "input of a job without: %s: %s",
                             code_name(status), details);
                cr_assert_str_eq(details, "the job was started without an input");
        }

        /* A later start, and a resize of a job without a terminal. */
        {
                Jobrunner__V1__AttachRequest req = JOBRUNNER__V1__ATTACH_REQUEST__INIT;
                Jobrunner__V1__AttachStart start = JOBRUNNER__V1__ATTACH_START__INIT;
                Jobrunner__V1__TerminalSize size = JOBRUNNER__V1__TERMINAL_SIZE__INIT;
                _cleanup_(tc_stream_freep) TcStream *s1 = attach_open(c, piped->id, false);
                _cleanup_(tc_stream_freep) TcStream *s2 = NULL;
                _cleanup_free_ char *d1 = NULL, *d2 = NULL;

                start.id = piped->id;
                req.event_case = JOBRUNNER__V1__ATTACH_REQUEST__EVENT_START;
                req.start = &start;
                (void) tc_stream_send(s1, &req.base);
                status = attach_refused(s1, &d1);
                cr_assert_eq(status, JR_CODE_INVALID_ARGUMENT, "a second start: %s: %s", code_name(status), d1);

                s2 = attach_open(c, piped->id, true);
                size.rows = 50;
                size.columns = 132;
                req = (Jobrunner__V1__AttachRequest) JOBRUNNER__V1__ATTACH_REQUEST__INIT;
                req.event_case = JOBRUNNER__V1__ATTACH_REQUEST__EVENT_RESIZE;
                req.resize = &size;
                (void) tc_stream_send(s2, &req.base);
                status = attach_refused(s2, &d2);
                cr_assert_eq(status, JR_CODE_FAILED_PRECONDITION, "resize without a terminal: %s: %s",
                             code_name(status), d2);
        }

        /* Input above 65536 bytes. */
        {
                _cleanup_(tc_stream_freep) TcStream *s = attach_open(c, piped->id, true);
                _cleanup_free_ uint8_t *big = calloc(1, INPUT_MAX + 1);
                _cleanup_free_ char *details = NULL;

                cr_assert_not_null(big);
                (void) send_input(s, big, INPUT_MAX + 1);
                status = attach_refused(s, &details);
                cr_assert_eq(status, JR_CODE_INVALID_ARGUMENT, "input of 65537 bytes: %s: %s", code_name(status),
                             details);
        }

        /* The input was let go by every call above: it can still be ended. */
        {
                _cleanup_(tc_stream_freep) TcStream *s = attach_open(c, piped->id, true);
                _cleanup_(attached_done) Attached a = {};

                cr_assert_eq(send_end_of_input(s), 0);
                attach_drain(s, &a);
                cr_assert_eq(a.status, JR_CODE_OK, "Attach: %s: %s", code_name(a.status), a.details);
                cr_assert_eq(a.input_bytes, 0);
        }

        {
                Jobrunner__V1__StopRequest req = JOBRUNNER__V1__STOP_REQUEST__INIT;
                int r;

                req.id = plain->id;
                r = tc_call(c, "Stop", &req.base, &jobrunner__v1__stop_response__descriptor, STREAM_DEADLINE_MS,
                            &status, NULL, NULL);
                cr_assert_geq(r, 0);
                cr_assert_eq(status, JR_CODE_OK, "Stop: %s", code_name(status));
        }
}
