/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Attach's handler as the daemon runs it (daemon/rpc-attach.c), on the fuzz
 * target's call without gRPC, against a manager without systemd that holds
 * two running jobs of alice's: one with a stdin pipe whose other end the
 * test reads, slowly, and one without an input.  What a running job says
 * never ends, so each call ends when nothing is left to run: the fake client
 * goes away then (on_abort), and the test looks at what was sent. */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon.h"
#include "fake-call.h"
#include "fake-manager.h"
#include "job.h"
#include "macro.h"
#include "rpc.h"

#define PIPE_JOB "0123456789abcdef0123456789abcde0"
#define PLAIN_JOB "0123456789abcdef0123456789abcde1"

/* The pipe holds this much at most, and the test reads it this much per
 * turn of the loop: the handler must wait for the job many times. */
#define PIPE_SIZE 4096
#define READ_SIZE 1000

static struct {
        sd_event *event;
        Daemon daemon;
        jr_job *piped, *plain;
        OutputStore *stores[2];
        int read_fd;
        sd_event_source *reader;
        uint8_t *got;
        size_t n_got;
        bool eof;
} t;

static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        uint8_t buf[READ_SIZE];
        ssize_t n = read(fd, buf, sizeof(buf));

        (void) revents, (void) userdata;
        if (n <= 0) {
                t.eof = n == 0;
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);
        }
        t.got = realloc(t.got, t.n_got + (size_t) n);
        cr_assert_not_null(t.got);
        memcpy(t.got + t.n_got, buf, (size_t) n);
        t.n_got += (size_t) n;
        return 0;
}

static jr_job *add_job(size_t i, const char *id, jr_stdin mode) {
        char *argv[] = { (char *) "/bin/cat", NULL };
        jr_spec spec = { .argv = argv, .stdin_mode = mode };
        int fd = memfd_create("output.log", MFD_CLOEXEC);
        jr_job *j;

        cr_assert_geq(fd, 0);
        cr_assert_eq(output_store_open_fd(fd, t.event, &t.stores[i]), 0);
        cr_assert_eq(output_store_append_data(t.stores[i], OUTPUT_STREAM_STDOUT, "hello\n", 6), 0);
        cr_assert_eq(job_new(t.daemon.manager, id, "alice", &spec, &j), 0);
        j->state = JR_STATE_RUNNING;
        j->store = output_store_ref(t.stores[i]);
        cr_assert_eq(manager_add_job(t.daemon.manager, j), 0);
        return j;
}

static void setup(void) {
        int p[2];

        /* As the daemon does: a reader that went away is EPIPE. */
        signal(SIGPIPE, SIG_IGN);
        cr_assert_geq(sd_event_new(&t.event), 0);
        t.daemon = (Daemon) {
                .manager = fake_manager_new(t.event),
                .limits = { 0, 0, DAEMON_MAX_FOLLOWERS_PER_JOB_DEFAULT },
        };
        t.piped = add_job(0, PIPE_JOB, JR_STDIN_PIPE);
        t.plain = add_job(1, PLAIN_JOB, JR_STDIN_DEFAULT);

        cr_assert_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
        cr_assert_geq(fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE), PIPE_SIZE);
        job_input_set(t.piped, p[1]);
        t.read_fd = p[0];
        cr_assert_geq(sd_event_add_io(t.event, &t.reader, t.read_fd, EPOLLIN, on_readable, NULL), 0);
}

static void teardown(void) {
        sd_event_source_disable_unref(t.reader);
        safe_close(t.read_fd);
        jr_manager_free(t.daemon.manager);
        output_store_unref(t.stores[0]);
        output_store_unref(t.stores[1]);
        sd_event_unref(t.event);
        free(t.got);
}

TestSuite(rpc_attach, .init = setup, .fini = teardown);

/* ---- the calls ------------------------------------------------------------- */

static const RpcMethod *attach_method(void) {
        for (size_t i = 0; i < rpc_n_methods; i++)
                if (strcmp(rpc_methods[i].name, "Attach") == 0)
                        return &rpc_methods[i];
        cr_assert_fail("no Attach in the method table");
        return NULL;
}

static Call *new_call(const char *who, AuthzRole role) {
        AuthzIdentity id = { .role = role };

        snprintf(id.name, sizeof(id.name), "%s", who);
        return fake_call_new(attach_method(), &id);
}

/* Hands the call its start; it runs only with run(). */
static void start(Call *c, const char *job, bool input, const Jobrunner__V1__TerminalSize *size) {
        Jobrunner__V1__AttachRequest req = JOBRUNNER__V1__ATTACH_REQUEST__INIT;
        Jobrunner__V1__AttachStart st = JOBRUNNER__V1__ATTACH_START__INIT;

        st.id = (char *) job;
        st.input = input;
        st.terminal_size = (Jobrunner__V1__TerminalSize *) size;
        req.event_case = JOBRUNNER__V1__ATTACH_REQUEST__EVENT_START;
        req.start = &st;
        attach_method()->handle(c, &req.base, &t.daemon);
}

static void push_input(Call *c, const uint8_t *data, size_t len) {
        Jobrunner__V1__AttachRequest req = JOBRUNNER__V1__ATTACH_REQUEST__INIT;

        req.event_case = JOBRUNNER__V1__ATTACH_REQUEST__EVENT_INPUT;
        req.input = (ProtobufCBinaryData) { .len = len, .data = (uint8_t *) data };
        fake_call_push_message(c, &req.base);
}

static void push_end_of_input(Call *c) {
        Jobrunner__V1__AttachRequest req = JOBRUNNER__V1__ATTACH_REQUEST__INIT;
        Jobrunner__V1__EndOfInput end = JOBRUNNER__V1__END_OF_INPUT__INIT;

        req.event_case = JOBRUNNER__V1__ATTACH_REQUEST__EVENT_END_OF_INPUT;
        req.end_of_input = &end;
        fake_call_push_message(c, &req.base);
}

static void push_resize(Call *c) {
        Jobrunner__V1__AttachRequest req = JOBRUNNER__V1__ATTACH_REQUEST__INIT;
        Jobrunner__V1__TerminalSize size = JOBRUNNER__V1__TERMINAL_SIZE__INIT;

        size.rows = 50;
        size.columns = 132;
        req.event_case = JOBRUNNER__V1__ATTACH_REQUEST__EVENT_RESIZE;
        req.resize = &size;
        fake_call_push_message(c, &req.base);
}

/* Runs the call until it ends: false if the handler let the fake client
 * go away (a running job's output never ends). */
static bool run(Call *c) {
        return fake_call_run(c, t.event);
}

static const Jobrunner__V1__AttachResponse *message(const Call *c, size_t i) {
        return (const Jobrunner__V1__AttachResponse *) fake_call_message(c, i);
}

/* The index of the only input_closed, or SIZE_MAX if there is none. */
static size_t input_closed_at(const Call *c) {
        size_t at = SIZE_MAX;

        for (size_t i = 0; i < fake_call_n_messages(c); i++)
                if (message(c, i)->event_case == JOBRUNNER__V1__ATTACH_RESPONSE__EVENT_INPUT_CLOSED) {
                        cr_assert_eq(at, SIZE_MAX, "a second input_closed");
                        at = i;
                }
        return at;
}

static void expect_refused(Call *c, JrCode code, const char *details) {
        cr_assert(run(c), "the call was not answered");
        cr_assert_eq(fake_call_code(c), code, "code %d, not %d (%s)", (int) fake_call_code(c), (int) code,
                     details);
}

/* ---- tests ----------------------------------------------------------------- */

/* More than the pipe holds, in messages up to the largest: the job gets
 * every byte in order, the call waits for it, end_of_input gives end of
 * file and one input_closed with the count, and the audit counts the same. */
Test(rpc_attach, input_reaches_the_job_as_it_takes_it) {
        static const size_t sizes[] = { 1, 65536, 3463, 5000 };
        _cleanup_free_ uint8_t *data = NULL;
        size_t total = 0, sent = 0, at;
        Call *c = new_call("alice", AUTHZ_ROLE_OPERATOR);

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++)
                total += sizes[i];
        data = malloc(total);
        cr_assert_not_null(data);
        for (size_t i = 0; i < total; i++)
                data[i] = (uint8_t) (i * 31 + i / 256);
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                push_input(c, data + sent, sizes[i]);
                sent += sizes[i];
        }
        push_end_of_input(c);
        fake_call_set_client_keeps_open(c, true);

        start(c, PIPE_JOB, true, NULL);
        cr_assert(!run(c), "a running job's Attach ended");
        cr_assert_eq(t.n_got, total, "the job got %zu bytes of %zu", t.n_got, total);
        cr_assert(memcmp(t.got, data, total) == 0, "the job got other bytes");
        cr_assert(t.eof, "no end of file after end_of_input");

        at = input_closed_at(c);
        cr_assert_neq(at, SIZE_MAX, "no input_closed");
        cr_assert_eq(message(c, at)->input_closed->input_bytes, total);
        cr_assert_eq(fake_call_audit_input_bytes(c), total);
        /* The output streams beside it. */
        cr_assert_eq(message(c, at == 0 ? 1 : 0)->event_case, JOBRUNNER__V1__ATTACH_RESPONSE__EVENT_CHUNK);
        fake_call_free(c);
}

Test(rpc_attach, input_after_end_of_input_is_refused) {
        Call *c = new_call("alice", AUTHZ_ROLE_OPERATOR);

        push_end_of_input(c);
        push_input(c, (const uint8_t *) "late", 4);
        start(c, PIPE_JOB, true, NULL);
        cr_assert(run(c));
        cr_assert_eq(fake_call_code(c), JR_CODE_FAILED_PRECONDITION);
        cr_assert_neq(input_closed_at(c), SIZE_MAX);
        fake_call_free(c);
}

/* The job closed its input: one input_closed, then input is discarded and
 * the call goes on following the output. */
Test(rpc_attach, a_closed_input_discards_later_input) {
        Call *c = new_call("alice", AUTHZ_ROLE_OPERATOR);
        size_t at;

        t.reader = sd_event_source_disable_unref(t.reader);
        t.read_fd = safe_close(t.read_fd);
        push_input(c, (const uint8_t *) "0123456789", 10);
        push_input(c, (const uint8_t *) "more", 4);
        start(c, PIPE_JOB, true, NULL);
        cr_assert(!run(c), "the call ended: %d", (int) fake_call_code(c));
        at = input_closed_at(c);
        cr_assert_neq(at, SIZE_MAX, "no input_closed");
        cr_assert_eq(message(c, at)->input_closed->input_bytes, 0);
        fake_call_free(c);
}

/* One holder at a time; while it holds, another may follow but not take
 * the input, and once it let go, the next may. */
Test(rpc_attach, one_call_holds_the_input) {
        Call *holder = new_call("alice", AUTHZ_ROLE_OPERATOR), *second = new_call("alice", AUTHZ_ROLE_OPERATOR),
             *follower = new_call("alice", AUTHZ_ROLE_OPERATOR), *next = new_call("alice", AUTHZ_ROLE_OPERATOR);

        fake_call_set_client_keeps_open(holder, true);
        start(holder, PIPE_JOB, true, NULL);
        start(second, PIPE_JOB, true, NULL);
        expect_refused(second, JR_CODE_FAILED_PRECONDITION, "a second holder");

        push_input(follower, (const uint8_t *) "x", 1);
        start(follower, PIPE_JOB, false, NULL);
        expect_refused(follower, JR_CODE_FAILED_PRECONDITION, "input from a follower");

        cr_assert(!run(holder));
        fake_call_free(holder);         /* its on_abort let go of the input */
        push_input(next, (const uint8_t *) "abc", 3);
        start(next, PIPE_JOB, true, NULL);
        cr_assert(!run(next));
        cr_assert_eq(t.n_got, 3);
        fake_call_free(next);
        fake_call_free(second);
        fake_call_free(follower);
}

Test(rpc_attach, who_may_attach) {
        Call *viewer = new_call("victor", AUTHZ_ROLE_VIEWER), *other = new_call("bob", AUTHZ_ROLE_OPERATOR),
             *admin = new_call("root", AUTHZ_ROLE_ADMIN);

        start(viewer, PIPE_JOB, false, NULL);
        expect_refused(viewer, JR_CODE_PERMISSION_DENIED, "a viewer");
        start(other, PIPE_JOB, false, NULL);
        expect_refused(other, JR_CODE_NOT_FOUND, "another operator");
        push_input(admin, (const uint8_t *) "ok", 2);
        start(admin, PIPE_JOB, true, NULL);
        cr_assert(!run(admin));
        cr_assert_eq(t.n_got, 2);
        fake_call_free(viewer);
        fake_call_free(other);
        fake_call_free(admin);
}

Test(rpc_attach, misuse_gets_its_code) {
        static const uint8_t big[65537];
        Jobrunner__V1__TerminalSize size = JOBRUNNER__V1__TERMINAL_SIZE__INIT;
        Jobrunner__V1__AttachRequest not_start = JOBRUNNER__V1__ATTACH_REQUEST__INIT;
        Call *c;

        /* The first message must be start. */
        c = new_call("alice", AUTHZ_ROLE_OPERATOR);
        not_start.event_case = JOBRUNNER__V1__ATTACH_REQUEST__EVENT_END_OF_INPUT;
        attach_method()->handle(c, &not_start.base, &t.daemon);
        expect_refused(c, JR_CODE_INVALID_ARGUMENT, "end_of_input first");
        fake_call_free(c);

        /* Input of a job started without one. */
        c = new_call("alice", AUTHZ_ROLE_OPERATOR);
        start(c, PLAIN_JOB, true, NULL);
        expect_refused(c, JR_CODE_FAILED_PRECONDITION, "input of a job without");
        fake_call_free(c);

        /* A terminal's size: not without the input, not without a terminal. */
        size.rows = 24;
        size.columns = 80;
        c = new_call("alice", AUTHZ_ROLE_OPERATOR);
        start(c, PIPE_JOB, false, &size);
        expect_refused(c, JR_CODE_FAILED_PRECONDITION, "terminal_size without input");
        fake_call_free(c);
        c = new_call("alice", AUTHZ_ROLE_OPERATOR);
        start(c, PIPE_JOB, true, &size);
        expect_refused(c, JR_CODE_FAILED_PRECONDITION, "terminal_size without a terminal");
        fake_call_free(c);

        /* Later messages. */
        for (int i = 0; i < 5; i++) {
                static const JrCode codes[] = {
                        JR_CODE_INVALID_ARGUMENT, JR_CODE_INVALID_ARGUMENT, JR_CODE_FAILED_PRECONDITION,
                        JR_CODE_INVALID_ARGUMENT, JR_CODE_FAILED_PRECONDITION,
                };
                Jobrunner__V1__AttachRequest again = JOBRUNNER__V1__ATTACH_REQUEST__INIT;
                Jobrunner__V1__AttachStart st = JOBRUNNER__V1__ATTACH_START__INIT;

                c = new_call("alice", AUTHZ_ROLE_OPERATOR);
                switch (i) {
                case 0:
                        push_input(c, big, 0);
                        break;
                case 1:
                        push_input(c, big, sizeof(big));
                        break;
                case 2:
                        push_resize(c);
                        break;
                case 3:
                        st.id = (char *) PIPE_JOB;
                        again.event_case = JOBRUNNER__V1__ATTACH_REQUEST__EVENT_START;
                        again.start = &st;
                        fake_call_push_message(c, &again.base);
                        break;
                case 4:
                        push_end_of_input(c);   /* from a follower */
                        break;
                }
                start(c, PIPE_JOB, i != 4, NULL);
                cr_assert(run(c), "case %d: not answered", i);
                cr_assert_eq(fake_call_code(c), codes[i], "case %d: code %d", i, (int) fake_call_code(c));
                fake_call_free(c);
        }
        cr_assert_eq(t.n_got, 0, "refused input reached the job");
}
