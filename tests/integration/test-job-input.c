/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A job's input through libjobrunner, in real units: a stdin pipe byte for
 * byte, its end, its holder, its life across a restart of the manager; a
 * terminal that is the command's controlling terminal (Ctrl-C reaches its
 * foreground process group, the size set on the master reaches it). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "job-harness.h"
#include "macro.h"

static Harness h;

/* What the manager reported to keep across restarts, as the daemon's fd
 * store would. */
#define KEPT_MAX 8
static jr_pipe kept[KEPT_MAX];
static size_t n_kept;

static void on_pipe(const char *job_id, jr_stream stream, int fd, void *userdata) {
        (void) userdata;
        for (size_t i = 0; i < n_kept; i++)
                if (kept[i].stream == stream && strcmp(kept[i].job_id, job_id) == 0) {
                        safe_close(kept[i].fd);
                        kept[i] = kept[--n_kept];
                        break;
                }
        if (fd < 0)
                return;
        cr_assert_lt(n_kept, KEPT_MAX);
        kept[n_kept] = (jr_pipe) { .stream = stream, .fd = fcntl(fd, F_DUPFD_CLOEXEC, 3) };
        snprintf(kept[n_kept].job_id, sizeof kept[n_kept].job_id, "%s", job_id);
        cr_assert_geq(kept[n_kept].fd, 0);
        n_kept++;
}

static jr_manager_config config(void) {
        return (jr_manager_config) { .init_path = getenv("JOBRUNNER_INIT"), .on_pipe = on_pipe };
}

static void setup(void) {
        harness_setup_config(&h, config());
}

static void teardown(void) {
        harness_teardown(&h);
        for (size_t i = 0; i < n_kept; i++)
                safe_close(kept[i].fd);
        n_kept = 0;
}

TestSuite(job_input, .init = setup, .fini = teardown, .timeout = 300);

/* Writes data into a job's input as fast as it takes it, from the event
 * loop, and ends the input after it if asked to. */
typedef struct Feeder {
        jr_input *in;
        const uint8_t *data;
        size_t size, done;
        bool close_at_end;
        bool finished;
        bool closed_under_us;           /* -EPIPE */
        unsigned waits;                 /* writes that found the input full */
} Feeder;

static void feed(Feeder *f) {
        while (f->done < f->size) {
                ssize_t n = jr_input_write(f->in, f->data + f->done, f->size - f->done < 65536 ? f->size - f->done : 65536);

                if (n == -EPIPE) {
                        f->closed_under_us = f->finished = true;
                        return;
                }
                cr_assert_geq(n, 0, "write: %s", strerror((int) -n));
                if (n == 0) {
                        f->waits++;
                        return;         /* the wake calls us again */
                }
                f->done += (size_t) n;
        }
        if (f->close_at_end)
                cr_assert_eq(jr_input_close(f->in), 0);
        f->finished = true;
}

static void on_wake(jr_input *in, void *userdata) {
        Feeder *f = userdata;

        (void) in;
        if (!f->finished)
                feed(f);
}

static bool feeder_finished(void *userdata) {
        return ((Feeder *) userdata)->finished;
}

static jr_job *start(char **argv, jr_stdin mode, bool terminal) {
        jr_spec spec = harness_spec(argv);

        spec.stdin_mode = mode;
        spec.terminal = terminal;
        return harness_start(&h, &spec);
}

static uint8_t *pattern(size_t size) {
        uint8_t *p = malloc(size);
        uint32_t x = 2463534242u;

        cr_assert_not_null(p);
        /* Every byte value, no period a lost or repeated block could hide
         * in (xorshift32). */
        for (size_t i = 0; i < size; i++) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                p[i] = (uint8_t) x;
        }
        return p;
}

Test(job_input, a_stdin_pipe_carries_every_byte_and_its_end) {
        char *argv[] = { "/bin/cat", NULL };
        const size_t size = 8u << 20;
        _cleanup_free_ uint8_t *data = pattern(size);
        Feeder f = { .data = data, .size = size, .close_at_end = true };
        jr_error e = {};
        char *out, *err;
        size_t out_len, err_len;
        jr_status s;
        jr_job *j;

        j = start(argv, JR_STDIN_PIPE, false);
        cr_assert_eq(jr_input_new(j, on_wake, &f, &f.in, &e), 0, "%s", e.message);
        feed(&f);
        harness_run_until(&h, feeder_finished, &f);
        cr_assert(!f.closed_under_us);
        /* 8 MiB do not fit a pipe: the writer waited for the job. */
        cr_expect_gt(f.waits, 0);
        cr_expect_eq(jr_input_get_bytes(f.in), size);
        cr_expect(jr_input_is_closed(f.in));
        harness_wait_final(&h, j);
        jr_input_free(f.in);

        jr_job_get_status(j, &s);
        cr_assert_eq(s.state, JR_STATE_EXITED, "%s: %s", jr_state_to_string(s.state), s.failure_reason ?: "");
        cr_assert_eq(s.exit_code, 0);
        harness_read_output(&h, j, &out, &out_len, &err, &err_len);
        cr_assert_eq(out_len, size, "%zu bytes came out of %zu", out_len, size);
        cr_assert_eq(memcmp(out, data, size), 0, "the output differs from the input");
        free(out);
        free(err);
}

Test(job_input, one_holder_at_a_time_and_only_with_an_input) {
        char *argv[] = { "/bin/cat", NULL };
        char *plain_argv[] = { "/bin/true", NULL };
        jr_input *a = NULL, *b = NULL;
        jr_error e = {};
        jr_job *j, *plain;

        j = start(argv, JR_STDIN_PIPE, false);
        cr_assert_eq(jr_input_new(j, NULL, NULL, &a, &e), 0, "%s", e.message);
        cr_expect_eq(jr_input_new(j, NULL, NULL, &b, &e), -EBUSY);
        cr_expect_eq(jr_input_resize(a, 24, 80), -ENOTTY);
        /* Let go: the next one may take it, and the input stays open. */
        jr_input_free(a);
        cr_assert_eq(jr_input_new(j, NULL, NULL, &b, &e), 0, "%s", e.message);
        cr_expect(!jr_input_is_closed(b));
        cr_assert_eq(jr_input_write(b, "x\n", 2), 2);
        harness_wait_output(&h, j, "x\n");
        cr_assert_eq(jr_input_close(b), 0);
        harness_wait_final(&h, j);
        cr_expect_eq(jr_input_write(b, "y", 1), -EPIPE);
        jr_input_free(b);

        plain = start(plain_argv, JR_STDIN_DEFAULT, false);
        cr_expect_eq(jr_input_new(plain, NULL, NULL, &a, &e), -ENOTCONN);
        harness_wait_final(&h, plain);
}

static void count_wake(jr_input *in, void *userdata) {
        (void) in;
        (*(unsigned *) userdata)++;
}

static bool is_final(void *userdata) {
        return jr_state_is_final(jr_job_get_state(userdata));
}

/* A job that does not read: its holder waits, and learns when the job
 * ends that its input is gone. */
Test(job_input, the_end_of_the_job_closes_its_input) {
        char *argv[] = { "/bin/sh", "-c", "echo ready; exec sleep 2", NULL };
        uint8_t chunk[65536] = {};
        unsigned wakes = 0;
        jr_input *in;
        jr_error e = {};
        ssize_t n;
        jr_job *j;

        j = start(argv, JR_STDIN_PIPE, false);
        harness_wait_output(&h, j, "ready");
        cr_assert_eq(jr_input_new(j, count_wake, &wakes, &in, &e), 0, "%s", e.message);
        /* Fill the pipe until it takes nothing more. */
        while ((n = jr_input_write(in, chunk, sizeof chunk)) > 0)
                ;
        cr_assert_eq(n, 0);
        harness_run_until(&h, is_final, j);
        harness_run_until(&h, is_final, j);     /* and the wake's turn */
        sd_event_run(h.event, 100000);
        cr_expect_geq(wakes, 1, "the holder was not woken");
        cr_expect(jr_input_is_closed(in));
        cr_expect_eq(jr_input_write(in, chunk, 1), -EPIPE);
        jr_input_free(in);
}

/* The daemon goes away and comes back: the stdin pipe's write end was
 * kept, and the job reads on from it without a gap. */
Test(job_input, a_stdin_pipe_survives_a_restart) {
        char *argv[] = { "/bin/cat", NULL };
        char id[JR_ID_STRING_MAX];
        jr_manager_config c = config();
        jr_input *in;
        jr_error e = {};
        char *out, *err;
        size_t out_len, err_len;
        jr_job *j;

        j = start(argv, JR_STDIN_PIPE, false);
        snprintf(id, sizeof id, "%s", jr_job_get_id(j));
        cr_assert_eq(jr_input_new(j, NULL, NULL, &in, &e), 0, "%s", e.message);
        cr_assert_eq(jr_input_write(in, "before\n", 7), 7);
        harness_wait_output(&h, j, "before\n");
        jr_input_free(in);

        /* The manager goes; the kept descriptors go to the next one, as
         * the fd store would hand them over. */
        jr_manager_free(h.manager);
        jr_pipe handed[KEPT_MAX];
        memcpy(handed, kept, n_kept * sizeof(jr_pipe));
        c.pipes = handed;
        c.n_pipes = n_kept;
        n_kept = 0;             /* the manager takes them over */
        harness_new_manager(&h, c);
        j = jr_manager_get_job(h.manager, id);
        cr_assert_not_null(j);
        harness_wait_started(&h, j);

        cr_assert_eq(jr_input_new(j, NULL, NULL, &in, &e), 0, "%s", e.message);
        cr_assert(!jr_input_is_closed(in), "the stdin pipe was lost in the restart");
        cr_assert_eq(jr_input_write(in, "after\n", 6), 6);
        cr_assert_eq(jr_input_close(in), 0);
        jr_input_free(in);
        harness_wait_final(&h, j);
        harness_read_output(&h, j, &out, &out_len, &err, &err_len);
        cr_expect_str_eq(out, "before\nafter\n");
        free(out);
        free(err);
}

/* ---- terminal ------------------------------------------------------------ */

static void write_all_input(jr_input *in, const char *s) {
        size_t len = strlen(s), done = 0;

        while (done < len) {
                ssize_t n = jr_input_write(in, s + done, len - done);

                cr_assert_geq(n, 0, "write: %s", strerror((int) -n));
                if (n == 0)
                        sd_event_run(h.event, 10000);
                done += (size_t) n;
        }
}

Test(job_input, a_terminal_is_the_controlling_terminal) {
        /* A non-interactive sh has no job control: sleep runs in its
         * process group, the terminal's foreground one, and Ctrl-C reaches
         * both; sh survives it with its trap.  `stty size` asks the
         * terminal itself. */
        char *argv[] = { "/bin/sh", "-c",
                         "trap 'echo interrupted' INT; tty; stty size; echo ready; read line; echo got:$line; "
                         "stty size; sleep 100; echo after; exit 3", NULL };
        jr_input *in;
        jr_error e = {};
        char *out, *err;
        size_t out_len, err_len;
        jr_status s;
        jr_job *j;

        j = start(argv, JR_STDIN_DEFAULT, true);
        cr_assert_eq(jr_input_new(j, NULL, NULL, &in, &e), 0, "%s", e.message);
        harness_wait_output(&h, j, "ready");
        cr_assert_eq(jr_input_resize(in, 30, 100), 0);
        write_all_input(in, "hello\n");
        harness_wait_output(&h, j, "30 100");
        /* Ctrl-C, once sleep runs: the line after it shows sh got past. */
        usleep(500 * 1000);
        write_all_input(in, "\x03");
        harness_wait_final(&h, j);
        cr_expect_eq(jr_input_close(in), -ENOTTY);
        jr_input_free(in);

        jr_job_get_status(j, &s);
        cr_assert_eq(s.state, JR_STATE_EXITED, "%s: %s", jr_state_to_string(s.state), s.failure_reason ?: "");
        cr_expect_eq(s.exit_code, 3);
        harness_read_output(&h, j, &out, &out_len, &err, &err_len);
        cr_expect(strstr(out, "/dev/pts/"), "tty names no pty: %s", out);
        cr_expect(strstr(out, "24 80"), "not the initial size: %s", out);
        /* The terminal echoes the input and turns \n into \r\n. */
        cr_expect(strstr(out, "hello\r\n"), "no echo: %s", out);
        cr_expect(strstr(out, "got:hello\r\n"), "the line did not arrive: %s", out);
        cr_expect(strstr(out, "interrupted"), "Ctrl-C did not reach the foreground group: %s", out);
        cr_expect(strstr(out, "after"), "sh did not survive Ctrl-C: %s", out);
        cr_expect_eq(err_len, 0, "a terminal job has no stderr: %s", err);
        free(out);
        free(err);
}
