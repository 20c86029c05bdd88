/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* run -i and attach against a fake of the Attach call (fake-server.h): a
 * job that echoes its input as its stdout, so that what the CLI writes
 * is what it sent, byte for byte; the call broken once in the middle, to
 * see the CLI take the input again and say it may have been cut; the
 * refusals that need the job's spec.  The terminal side (raw mode, the
 * detach keys) is tested locally in test-cli-attach-local.c; the real
 * daemon in the VM. */

#include <criterion/criterion.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <fcntl.h>
#include <grpc/grpc.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "cli-runner.h"
#include "fake-server.h"
#include "jobrunner.pb-c.h"
#include "macro.h"

#define streq(a, b) (strcmp((a), (b)) == 0)

#define OUT JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT

#define ID_ECHO   "00112233445566778899aabbccddeeff"  /* what Start creates: echoes its input */
#define ID_BROKEN "11112222333344445555666677778888"  /* echoes; its first Attach call breaks */
#define ID_NOINPUT "22223333444455556666777788889999" /* started without -i: exited 3 with "hello\n" */
#define ID_HELD   "44445555666677778888999900001111"  /* as ID_BROKEN, and the input still held once after */
#define ID_TTY    "33334444555566667777888899990000"  /* started with -t: a prompt, then takes input */

static char keys_dir[PATH_MAX];

ReportHook(PRE_ALL)(struct criterion_test_set *set) {
        (void) set;
        (void) fake_keys_make_operator(keys_dir, sizeof(keys_dir), "/tmp/jr-test-cli-attach.XXXXXX");
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats) {
        (void) stats;
        fake_keys_remove(keys_dir);
}

typedef enum Method {
        M_START,
        M_GET_STATUS,
        M_ATTACH,
        M_WAIT,
        _M_MAX,
} Method;

static const char *const method_paths[_M_MAX] = {
        [M_START]      = "/jobrunner.v1.JobRunner/Start",
        [M_GET_STATUS] = "/jobrunner.v1.JobRunner/GetStatus",
        [M_ATTACH]     = "/jobrunner.v1.JobRunner/Attach",
        [M_WAIT]       = "/jobrunner.v1.JobRunner/Wait",
};

/* What the server saw, and the job's echoed output so far. */
static struct {
        pthread_mutex_t lock;
        bool start_stdin_pipe;
        unsigned attach_calls;
        bool start_input[4];
        uint64_t start_offset[4];
        size_t largest_input;
        unsigned ends_of_input;
        uint8_t *echo;
        size_t echo_len;
        bool broke;
        /* The terminal job's. */
        unsigned size_rows, size_columns, resize_rows, resize_columns;
        char typed[64];
        size_t typed_len;
        atomic_int prompted;
} srv;

static void status_of(Jobrunner__V1__JobStatus *s, Jobrunner__V1__JobSpec *spec, const char *id, bool ended) {
        static char *argv[] = { (char *) "/bin/cat" };

        *spec = (Jobrunner__V1__JobSpec) JOBRUNNER__V1__JOB_SPEC__INIT;
        spec->argv = argv;
        spec->n_argv = 1;
        if (streq(id, ID_TTY))
                spec->terminal = true;
        else if (!streq(id, ID_NOINPUT))
                spec->stdin = JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_PIPE;
        *s = (Jobrunner__V1__JobStatus) JOBRUNNER__V1__JOB_STATUS__INIT;
        s->id = (char *) id;
        s->owner = (char *) "alice";
        s->spec = spec;
        s->state = JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING;
        s->start_time_us = 1700000000000000;
        if (ended || streq(id, ID_NOINPUT)) {
                s->state = JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED;
                s->exit_code = streq(id, ID_NOINPUT) ? 3 : 0;
                s->end_time_us = s->start_time_us + 1000000;
        }
}

/* A response whose field 1 is a JobStatus. */
static void reply_status(FakeRequest *r, const ProtobufCMessageDescriptor *type, const char *id, bool ended) {
        uint8_t storage[256] __attribute__((aligned(16)));
        ProtobufCMessage *resp = (ProtobufCMessage *) storage;
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(type, 1);
        Jobrunner__V1__JobStatus s;
        Jobrunner__V1__JobSpec spec;

        status_of(&s, &spec, id, ended);
        protobuf_c_message_init(type, resp);
        *(Jobrunner__V1__JobStatus **) (storage + f->offset) = &s;
        fake_finish_call(r->call, true, fake_pack_message(resp), GRPC_STATUS_OK, NULL, true);
}

static bool send_response(grpc_call *call, const Jobrunner__V1__AttachResponse *m, bool *send_metadata) {
        bool metadata = *send_metadata;

        *send_metadata = false;
        return fake_send_message(call, &m->base, metadata);
}

static bool send_echo(grpc_call *call, uint64_t offset, size_t len, bool *send_metadata) {
        Jobrunner__V1__AttachResponse m = JOBRUNNER__V1__ATTACH_RESPONSE__INIT;
        Jobrunner__V1__LogChunk chunk = JOBRUNNER__V1__LOG_CHUNK__INIT;
        bool ok;

        if (len == 0)
                return true;
        pthread_mutex_lock(&srv.lock);
        chunk.stream = OUT;
        chunk.offset = offset;
        chunk.data = (ProtobufCBinaryData) { .len = len, .data = srv.echo + offset };
        m.event_case = JOBRUNNER__V1__ATTACH_RESPONSE__EVENT_CHUNK;
        m.chunk = &chunk;
        ok = send_response(call, &m, send_metadata);
        pthread_mutex_unlock(&srv.lock);
        return ok;
}

static Jobrunner__V1__AttachRequest *recv_request(grpc_call *call) {
        grpc_op op = { .op = GRPC_OP_RECV_MESSAGE };
        grpc_byte_buffer *bb = NULL;
        grpc_byte_buffer_reader reader;
        Jobrunner__V1__AttachRequest *m;
        grpc_slice all;

        op.data.recv_message.recv_message = &bb;
        if (!fake_server_batch(call, &op, 1) || !bb)
                return NULL;
        SRV_CHECK(grpc_byte_buffer_reader_init(&reader, bb));
        all = grpc_byte_buffer_reader_readall(&reader);
        grpc_byte_buffer_reader_destroy(&reader);
        m = jobrunner__v1__attach_request__unpack(NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
        grpc_slice_unref(all);
        grpc_byte_buffer_destroy(bb);
        SRV_CHECK(m);
        return m;
}

/* A terminal job: a prompt, then it takes what is typed and the resizes
 * until the client goes away. */
static void serve_tty(FakeRequest *r, const Jobrunner__V1__AttachStart *start) {
        static const char prompt[] = "$ ";
        Jobrunner__V1__AttachResponse m = JOBRUNNER__V1__ATTACH_RESPONSE__INIT;
        Jobrunner__V1__LogChunk chunk = JOBRUNNER__V1__LOG_CHUNK__INIT;
        bool metadata = true;

        pthread_mutex_lock(&srv.lock);
        if (start->terminal_size) {
                srv.size_rows = start->terminal_size->rows;
                srv.size_columns = start->terminal_size->columns;
        }
        pthread_mutex_unlock(&srv.lock);
        chunk.stream = OUT;
        chunk.data = (ProtobufCBinaryData) { .len = strlen(prompt), .data = (uint8_t *) prompt };
        m.event_case = JOBRUNNER__V1__ATTACH_RESPONSE__EVENT_CHUNK;
        m.chunk = &chunk;
        (void) send_response(r->call, &m, &metadata);
        atomic_store(&srv.prompted, 1);

        for (;;) {
                Jobrunner__V1__AttachRequest *q = recv_request(r->call);

                if (!q)
                        break;
                pthread_mutex_lock(&srv.lock);
                if (q->event_case == JOBRUNNER__V1__ATTACH_REQUEST__EVENT_INPUT) {
                        SRV_CHECK(srv.typed_len + q->input.len <= sizeof(srv.typed));
                        memcpy(srv.typed + srv.typed_len, q->input.data, q->input.len);
                        srv.typed_len += q->input.len;
                } else if (q->event_case == JOBRUNNER__V1__ATTACH_REQUEST__EVENT_RESIZE) {
                        srv.resize_rows = q->resize->rows;
                        srv.resize_columns = q->resize->columns;
                } else
                        SRV_CHECK(false);
                pthread_mutex_unlock(&srv.lock);
                jobrunner__v1__attach_request__free_unpacked(q, NULL);
        }
        fake_finish_call(r->call, metadata, NULL, GRPC_STATUS_CANCELLED, NULL, true);
}

/* The job: echoes its input; ends (exit 0) at the end of its input. */
static void serve_attach(FakeRequest *r) {
        Jobrunner__V1__AttachRequest *start;
        bool metadata = true, broken_job;
        uint64_t offset, taken = 0;
        unsigned call_no;

        start = (Jobrunner__V1__AttachRequest *) fake_request_unpack(r, &jobrunner__v1__attach_request__descriptor);
        SRV_CHECK(start && start->event_case == JOBRUNNER__V1__ATTACH_REQUEST__EVENT_START);
        pthread_mutex_lock(&srv.lock);
        call_no = srv.attach_calls++;
        if (call_no < 4) {
                srv.start_input[call_no] = start->start->input;
                srv.start_offset[call_no] = start->start->stdout_offset;
        }
        offset = start->start->stdout_offset;
        SRV_CHECK(streq(start->start->id, ID_NOINPUT) || offset <= srv.echo_len);
        pthread_mutex_unlock(&srv.lock);
        broken_job = streq(start->start->id, ID_BROKEN) || streq(start->start->id, ID_HELD);
        if (streq(start->start->id, ID_HELD) && call_no == 1) {
                fake_finish_call(r->call, true, NULL, GRPC_STATUS_FAILED_PRECONDITION,
                                 "the input is held by another Attach call", true);
                jobrunner__v1__attach_request__free_unpacked(start, NULL);
                return;
        }
        if (streq(start->start->id, ID_TTY)) {
                serve_tty(r, start->start);
                jobrunner__v1__attach_request__free_unpacked(start, NULL);
                return;
        }

        if (streq(start->start->id, ID_NOINPUT)) {
                static const char hello[] = "hello\n";
                Jobrunner__V1__AttachResponse m = JOBRUNNER__V1__ATTACH_RESPONSE__INIT;
                Jobrunner__V1__LogChunk chunk = JOBRUNNER__V1__LOG_CHUNK__INIT;
                Jobrunner__V1__JobStatus s;
                Jobrunner__V1__JobSpec spec;

                SRV_CHECK(offset < sizeof(hello));
                chunk.stream = OUT;
                chunk.offset = offset;
                chunk.data = (ProtobufCBinaryData) { .len = strlen(hello) - offset, .data = (uint8_t *) hello + offset };
                m.event_case = JOBRUNNER__V1__ATTACH_RESPONSE__EVENT_CHUNK;
                m.chunk = &chunk;
                if (chunk.data.len > 0)
                        (void) send_response(r->call, &m, &metadata);
                status_of(&s, &spec, ID_NOINPUT, true);
                m = (Jobrunner__V1__AttachResponse) JOBRUNNER__V1__ATTACH_RESPONSE__INIT;
                m.event_case = JOBRUNNER__V1__ATTACH_RESPONSE__EVENT_END;
                m.end = &s;
                (void) send_response(r->call, &m, &metadata);
                fake_finish_call(r->call, metadata, NULL, GRPC_STATUS_OK, NULL, true);
                jobrunner__v1__attach_request__free_unpacked(start, NULL);
                return;
        }

        /* What the last call may not have seen yet. */
        pthread_mutex_lock(&srv.lock);
        taken = srv.echo_len;
        pthread_mutex_unlock(&srv.lock);
        if (!send_echo(r->call, offset, (size_t) (taken - offset), &metadata))
                goto out;
        taken = 0;

        for (;;) {
                Jobrunner__V1__AttachRequest *m = recv_request(r->call);
                Jobrunner__V1__AttachResponse resp = JOBRUNNER__V1__ATTACH_RESPONSE__INIT;
                Jobrunner__V1__InputClosed closed = JOBRUNNER__V1__INPUT_CLOSED__INIT;
                Jobrunner__V1__JobStatus s;
                Jobrunner__V1__JobSpec spec;
                size_t at;

                if (!m)
                        goto out;
                if (m->event_case == JOBRUNNER__V1__ATTACH_REQUEST__EVENT_INPUT) {
                        pthread_mutex_lock(&srv.lock);
                        if (m->input.len > srv.largest_input)
                                srv.largest_input = m->input.len;
                        at = srv.echo_len;
                        srv.echo = realloc(srv.echo, srv.echo_len + m->input.len);
                        SRV_CHECK(srv.echo);
                        memcpy(srv.echo + at, m->input.data, m->input.len);
                        srv.echo_len += m->input.len;
                        pthread_mutex_unlock(&srv.lock);
                        taken += m->input.len;
                        (void) send_echo(r->call, at, m->input.len, &metadata);
                        jobrunner__v1__attach_request__free_unpacked(m, NULL);

                        /* The daemon restarts once, after 100 KiB. */
                        pthread_mutex_lock(&srv.lock);
                        if (broken_job && !srv.broke && srv.echo_len >= 100 * 1024) {
                                srv.broke = true;
                                pthread_mutex_unlock(&srv.lock);
                                fake_finish_call(r->call, metadata, NULL, GRPC_STATUS_UNAVAILABLE,
                                                 "the server is shutting down", true);
                                goto done;
                        }
                        pthread_mutex_unlock(&srv.lock);
                        continue;
                }
                SRV_CHECK(m->event_case == JOBRUNNER__V1__ATTACH_REQUEST__EVENT_END_OF_INPUT);
                jobrunner__v1__attach_request__free_unpacked(m, NULL);
                pthread_mutex_lock(&srv.lock);
                srv.ends_of_input++;
                pthread_mutex_unlock(&srv.lock);

                closed.input_bytes = taken;
                resp.event_case = JOBRUNNER__V1__ATTACH_RESPONSE__EVENT_INPUT_CLOSED;
                resp.input_closed = &closed;
                (void) send_response(r->call, &resp, &metadata);
                status_of(&s, &spec, start->start->id, true);
                resp = (Jobrunner__V1__AttachResponse) JOBRUNNER__V1__ATTACH_RESPONSE__INIT;
                resp.event_case = JOBRUNNER__V1__ATTACH_RESPONSE__EVENT_END;
                resp.end = &s;
                (void) send_response(r->call, &resp, &metadata);
                break;
        }
out:
        fake_finish_call(r->call, metadata, NULL, GRPC_STATUS_OK, NULL, true);
done:
        jobrunner__v1__attach_request__free_unpacked(start, NULL);
}

static void serve(FakeRequest *r) {
        switch (r->method) {
        case M_START: {
                Jobrunner__V1__StartRequest *req = (Jobrunner__V1__StartRequest *) fake_request_unpack(
                        r, &jobrunner__v1__start_request__descriptor);

                SRV_CHECK(req && req->spec);
                pthread_mutex_lock(&srv.lock);
                srv.start_stdin_pipe = req->spec->stdin == JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_PIPE &&
                                       !req->spec->terminal;
                pthread_mutex_unlock(&srv.lock);
                reply_status(r, &jobrunner__v1__start_response__descriptor,
                             streq(req->spec->argv[0], "/bin/flaky") ? ID_BROKEN :
                             streq(req->spec->argv[0], "/bin/held")  ? ID_HELD :
                             req->spec->terminal                     ? ID_TTY :
                                                                       ID_ECHO,
                             false);
                jobrunner__v1__start_request__free_unpacked(req, NULL);
                break;
        }
        case M_GET_STATUS:
        case M_WAIT: {
                const ProtobufCMessageDescriptor *type = r->method == M_WAIT ?
                        &jobrunner__v1__wait_request__descriptor : &jobrunner__v1__get_status_request__descriptor;
                ProtobufCMessage *req = fake_request_unpack(r, type);
                const char *id = *(const char **) ((const char *) req +
                                                   protobuf_c_message_descriptor_get_field(type, 1)->offset);

                reply_status(r, r->method == M_WAIT ? &jobrunner__v1__wait_response__descriptor :
                                                      &jobrunner__v1__get_status_response__descriptor,
                             id, r->method == M_WAIT);
                protobuf_c_message_free_unpacked(req, NULL);
                break;
        }
        case M_ATTACH:
                serve_attach(r);
                break;
        default:
                SRV_CHECK(false);
        }
}

static char input_path[PATH_MAX];
static uint8_t *input;
static size_t input_len;

/* 300 KiB that no two offsets share: a repeat or a loss shows. */
static void make_input(void) {
        FILE *f;

        input_len = 300 * 1024 + 7;
        input = malloc(input_len);
        cr_assert_not_null(input);
        for (size_t i = 0; i < input_len; i++)
                input[i] = (uint8_t) ((i * 7 + i / 251) & 0xff);
        snprintf(input_path, sizeof(input_path), "/tmp/jr-test-cli-attach-in.%d", (int) getpid());
        f = fopen(input_path, "w");
        cr_assert_not_null(f);
        cr_assert_eq(fwrite(input, 1, input_len, f), input_len);
        cr_assert_eq(fclose(f), 0);
}

static void setup(void) {
        pthread_mutex_init(&srv.lock, NULL);
        make_input();
        cli_server_start(method_paths, _M_MAX, serve);
}

static void teardown(void) {
        fake_server_stop();
        cli_stdin_path = NULL;
        unlink(input_path);
        free(input);
        free(srv.echo);
}

TestSuite(attach, .init = setup, .fini = teardown, .timeout = 60);

Test(attach, run_i_streams_stdin_byte_for_byte_and_ends_it) {
        cli_stdin_path = input_path;
        _cleanup_(cli_run_done) CliRun t = cli("run", "-i", "--", "/bin/cat");

        cr_assert_eq(t.exit_status, 0, "exit %d, stderr: %s", t.exit_status, t.err);
        cr_assert_eq(t.out_len, input_len);
        cr_assert_eq(memcmp(t.out, input, input_len), 0);
        cr_assert_str_eq(t.err, "");
        cr_assert(srv.start_stdin_pipe);
        cr_assert_eq(srv.attach_calls, 1);
        cr_assert(srv.start_input[0]);
        cr_assert_leq(srv.largest_input, 65536);
        cr_assert_eq(srv.ends_of_input, 1);
}

Test(attach, run_i_takes_the_input_again_after_a_restart_and_says_it_may_be_cut) {
        cli_stdin_path = input_path;
        _cleanup_(cli_run_done) CliRun t = cli("run", "-i", "--", "/bin/flaky");

        size_t prefix = 0, rest;

        cr_assert_eq(t.exit_status, 0, "exit %d, stderr: %s", t.exit_status, t.err);
        /* What the job took, written once, in order. */
        cr_assert_eq(t.out_len, srv.echo_len, "%zu bytes out, %zu taken; stderr: %s", t.out_len, srv.echo_len,
                     t.err);
        cr_assert_eq(memcmp(t.out, srv.echo, t.out_len), 0);
        /* The input up to the break, then the rest of it from where the
         * local reading stood: gRPC takes messages into its buffers before
         * the server reads them, and those the break caught are lost, as
         * the contract allows and as the CLI says.  Never a byte twice. */
        while (prefix < srv.echo_len && prefix < input_len && srv.echo[prefix] == input[prefix])
                prefix++;
        cr_assert_geq(prefix, 100 * 1024);
        rest = srv.echo_len - prefix;
        cr_assert_leq(prefix + rest, input_len);
        cr_assert_eq(memcmp(srv.echo + prefix, input + input_len - rest, rest), 0);
        cr_assert_eq(srv.attach_calls, 2);
        cr_assert(srv.start_input[1]);
        cr_assert_gt(srv.start_offset[1], 0);
        /* The local end came before the break: told again. */
        cr_assert_eq(srv.ends_of_input, 1);
        cr_assert(strstr(t.err, "may have been cut"), "%s", t.err);
        cr_assert(strstr(t.err, "bytes of input were sent before the connection broke"), "%s", t.err);
        cr_assert(strstr(t.err, "reconnected"), "%s", t.err);
}

Test(attach, a_re_attach_waits_while_the_broken_call_still_holds_the_input) {
        cli_stdin_path = input_path;
        _cleanup_(cli_run_done) CliRun t = cli("run", "-i", "--", "/bin/held");

        cr_assert_eq(t.exit_status, 0, "exit %d, stderr: %s", t.exit_status, t.err);
        cr_assert_eq(srv.attach_calls, 3);
        cr_assert(strstr(t.err, "is still held by the broken call"), "%s", t.err);
        cr_assert_eq(t.out_len, srv.echo_len);
        cr_assert_eq(memcmp(t.out, srv.echo, t.out_len), 0);
        cr_assert_eq(srv.ends_of_input, 1);
}

Test(attach, attach_follows_from_an_offset_and_exits_with_the_jobs_code) {
        _cleanup_(cli_run_done) CliRun t = cli("attach", "--stdout-offset", "2", ID_NOINPUT);

        cr_assert_eq(t.exit_status, 3, "exit %d, stderr: %s", t.exit_status, t.err);
        cr_assert_str_eq(t.out, "llo\n");
        cr_assert_eq(srv.start_offset[0], 2);
        cr_assert_not(srv.start_input[0]);
}

Test(attach, attach_i_to_a_job_without_input_is_refused) {
        _cleanup_(cli_run_done) CliRun t = cli("attach", "-i", ID_NOINPUT);

        cr_assert_eq(t.exit_status, 2);
        cr_assert(strstr(t.err, "has no input: it was started without -i or -t"), "%s", t.err);
        cr_assert_eq(srv.attach_calls, 0);
}

Test(attach, usage_errors) {
        struct {
                const char *args[6];
                const char *message;
        } cases[] = {
                { { "attach", "-t", ID_ECHO }, "-t needs -i" },
                { { "attach", "-it", ID_ECHO }, "the input device is not a TTY" },
                { { "attach", "--from-end", "--stdout-offset", "1", ID_ECHO }, "exclude each other" },
                { { "run", "-it", "/bin/sh" }, "the input device is not a TTY" },
                { { "-c", "a", "-c", "b", "run", "-i" }, "-i takes one context" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(cli_run_done) CliRun t = cli_as(AS_ALICE, cases[i].args[0], cases[i].args[1],
                                                          cases[i].args[2], cases[i].args[3], cases[i].args[4],
                                                          cases[i].args[5], "/bin/sh", NULL);

                cr_assert_eq(t.exit_status, 2, "%s: exit %d", cases[i].message, t.exit_status);
                cr_assert(strstr(t.err, cases[i].message), "%s: %s", cases[i].message, t.err);
        }
        cr_assert_eq(srv.attach_calls, 0);
}

/* On a terminal of the test's own: the size sent at the start and on
 * SIGWINCH, the keys typed reaching the job without the detach keys, the
 * detach with its status and words, and the terminal as it was. */
Test(attach, run_it_sends_keys_and_sizes_and_detaches_on_ctrl_p_ctrl_q) {
        struct winsize ws = { .ws_row = 30, .ws_col = 100 };
        struct termios before, after;
        int master, slave;
        CliRun t;

        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        cr_assert_geq(master, 0);
        cr_assert_eq(grantpt(master), 0);
        cr_assert_eq(unlockpt(master), 0);
        /* Held open, so that the terminal outlives the CLI for the check. */
        slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
        cr_assert_geq(slave, 0);
        cr_assert_eq(ioctl(master, TIOCSWINSZ, &ws), 0);
        cr_assert_eq(tcgetattr(slave, &before), 0);

        cli_stdin_path = ptsname(master);
        t = cli_spawn(AS_ALICE, "run", "-it", "--", "/bin/sh", NULL);
        wait_for(&srv.prompted);
        wait_for_output(&t, "$ ");

        cr_assert_eq(write(master, "ls\r", 3), 3);
        ws = (struct winsize) { .ws_row = 40, .ws_col = 120 };
        cr_assert_eq(ioctl(master, TIOCSWINSZ, &ws), 0);
        /* The CLI's is not the terminal's session: the kernel would not. */
        for (int i = 0; i < 500; i++) {
                bool done;

                pthread_mutex_lock(&srv.lock);
                done = srv.typed_len == 3;
                pthread_mutex_unlock(&srv.lock);
                if (done)
                        break;
                usleep(10000);
        }
        cr_assert_eq(kill(t.pid, SIGWINCH), 0);
        for (int i = 0; i < 500; i++) {
                bool done;

                pthread_mutex_lock(&srv.lock);
                done = srv.resize_rows == 40;
                pthread_mutex_unlock(&srv.lock);
                if (done)
                        break;
                usleep(10000);
        }
        /* A lone Ctrl-P reaches the job with the key after it; then the
         * sequence, split across two writes. */
        cr_assert_eq(write(master, "\x10x", 2), 2);
        usleep(100000);
        cr_assert_eq(write(master, "\x10", 1), 1);
        usleep(100000);
        cr_assert_eq(write(master, "\x11", 1), 1);
        cli_finish(&t);

        cr_assert_eq(t.exit_status, 130, "exit %d, stderr: %s", t.exit_status, t.err);
        cr_assert(strstr(t.err, "detached from job " ID_TTY ", which keeps running"), "%s", t.err);
        cr_assert(strstr(t.err, "attach again: jobrunner attach -it " ID_TTY), "%s", t.err);
        cr_assert_eq(srv.size_rows, 30);
        cr_assert_eq(srv.size_columns, 100);
        cr_assert_eq(srv.resize_rows, 40);
        cr_assert_eq(srv.resize_columns, 120);
        cr_assert_eq(srv.typed_len, 5, "typed %zu bytes", srv.typed_len);
        cr_assert_eq(memcmp(srv.typed, "ls\r\x10x", 5), 0);

        cr_assert_eq(tcgetattr(slave, &after), 0);
        cr_assert_eq(after.c_lflag, before.c_lflag);
        cr_assert_eq(after.c_iflag, before.c_iflag);
        cr_assert_eq(after.c_oflag, before.c_oflag);
        close(slave);
        close(master);
}
