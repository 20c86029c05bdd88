/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Capture from real pipes with sd-event, read back by followers.  The loop
 * is driven until a condition holds; nothing sleeps. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "output-capture.h"
#include "output-follower.h"

#define MiB (UINT64_C(1024) * 1024)
#define OUT OUTPUT_STREAM_STDOUT
#define ERR OUTPUT_STREAM_STDERR

static char dir[] = "/tmp/test-output-capture-XXXXXX";
static int dir_fd = -EBADF;
static sd_event *event;
static OutputStore *store;
static uint8_t *expected[3];            /* per stream, what the writer writes */
static size_t expected_size[3];

static void setup(void) {
        cr_assert_not_null(mkdtemp(dir));
        dir_fd = open(dir, O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(dir_fd, 0);
        cr_assert_eq(sd_event_new(&event), 0);
        cr_assert_eq(output_store_open(dir_fd, OUTPUT_FILE_NAME, OUTPUT_STORE_CREATE, event, &store), 0);
}

static void teardown(void) {
        store = output_store_unref(store);
        event = sd_event_unref(event);
        for (size_t i = 0; i < ELEMENTSOF(expected); i++) {
                free(expected[i]);
                expected[i] = NULL;
        }
        (void) unlinkat(dir_fd, OUTPUT_FILE_NAME, 0);
        dir_fd = safe_close(dir_fd);
        (void) rmdir(dir);
}

TestSuite(output_capture, .init = setup, .fini = teardown, .timeout = 60);

/* Random bytes that both the writer and the checker can produce. */
static void make_expected(OutputStream stream, size_t size, uint64_t seed) {
        uint64_t x = seed * 0x9e3779b97f4a7c15u + 1;

        expected[stream] = malloc(size ?: 1);
        cr_assert_not_null(expected[stream]);
        expected_size[stream] = size;
        for (size_t i = 0; i < size; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                expected[stream][i] = (uint8_t) (x >> 24);
        }
}

static void write_all(int fd, const uint8_t *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        _exit(EXIT_FAILURE);
                p += k;
                n -= (size_t) k;
        }
}

/* A child that writes expected[] to the pipes in chunks of varying size,
 * alternating streams, then exits.  Returns the read ends. */
static pid_t spawn_writer(int *ret_out, int *ret_err) {
        int out[2], err[2];
        pid_t pid;

        cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
        cr_assert_eq(pipe2(err, O_CLOEXEC), 0);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                size_t pos[3] = {}, chunk = 1;

                while (pos[OUT] < expected_size[OUT] || pos[ERR] < expected_size[ERR])
                        for (OutputStream s = OUT; s <= ERR; s++) {
                                size_t n = expected_size[s] - pos[s] < chunk ? expected_size[s] - pos[s] : chunk;

                                write_all(s == OUT ? out[1] : err[1], expected[s] + pos[s], n);
                                pos[s] += n;
                                chunk = chunk * 7 % 200003 + 1;
                        }
                _exit(EXIT_SUCCESS);
        }
        safe_close(out[1]);
        safe_close(err[1]);
        *ret_out = out[0];
        *ret_err = err[0];
        return pid;
}

static void reap(pid_t pid) {
        int status;

        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer failed");
}

typedef struct Job {
        bool done;
        bool finish_on_done;            /* play the job code: the unit ended with the pipes */
        unsigned eofs;
        unsigned data_calls;
} Job;

static void on_data(OutputCapture *c, OutputStream stream, void *userdata) {
        Job *j = userdata;

        (void) c;
        (void) stream;
        j->data_calls++;
}

static void on_eof(OutputCapture *c, OutputStream stream, void *userdata) {
        Job *j = userdata;

        (void) c;
        (void) stream;
        j->eofs++;
}

static void on_done(OutputCapture *c, void *userdata) {
        Job *j = userdata;

        j->done = true;
        if (j->finish_on_done)
                output_store_set_finished(output_capture_get_store(c));
}

static const OutputCaptureCallbacks callbacks = { .on_data = on_data, .on_eof = on_eof, .on_done = on_done };

static OutputCapture *capture(int out, int err, uint64_t cap, Job *j) {
        OutputCapture *c = NULL;

        cr_assert_eq(output_capture_new(event, out, err, store, cap, &callbacks, j, &c), 0);
        return c;
}

/* A reader that checks every byte against expected[] as it drains. */
typedef struct Reader {
        OutputFollower *f;
        uint64_t data[3], gaps[3];
        unsigned gap_records;
        bool ended;
} Reader;

static void reader_drain(Reader *r) {
        static uint8_t buf[OUTPUT_RECORD_DATA_MAX];
        OutputEvent ev;
        int k;

        while (!r->ended && (k = output_follower_next(r->f, &ev, buf, sizeof(buf))) > 0) {
                uint64_t at = r->data[ev.stream] + r->gaps[ev.stream];

                switch (ev.type) {
                case OUTPUT_EVENT_DATA:
                        cr_assert_eq(ev.offset, at);
                        cr_assert_leq(ev.offset + ev.length, expected_size[ev.stream]);
                        cr_assert_eq(memcmp(buf, expected[ev.stream] + ev.offset, ev.length), 0,
                                     "stream %d differs at %" PRIu64, ev.stream, ev.offset);
                        r->data[ev.stream] += ev.length;
                        break;
                case OUTPUT_EVENT_GAP:
                        cr_assert_eq(ev.offset, at);
                        cr_assert_eq(ev.reason, OUTPUT_GAP_TRUNCATED);
                        r->gaps[ev.stream] += ev.length;
                        r->gap_records++;
                        break;
                case OUTPUT_EVENT_END:
                        r->ended = true;
                        break;
                }
        }
        cr_assert_geq(k, 0);
}

static void reader_wake(OutputFollower *f, void *userdata) {
        (void) f;
        reader_drain(userdata);
}

static void reader_start(Reader *r, unsigned mask, bool live) {
        *r = (Reader) {};
        cr_assert_eq(output_follower_new(store, 0, 0, mask, live ? reader_wake : NULL, r, &r->f), 0);
        if (live)
                reader_drain(r);
}

/* A follower that is told there is output and never reads it. */
static void idle_wake(OutputFollower *f, void *userdata) {
        unsigned *wakes = userdata;

        (void) f;
        (*wakes)++;
}

static void run_until(const bool *cond) {
        while (!*cond)
                cr_assert_geq(sd_event_run(event, UINT64_MAX), 0);
}

static void assert_complete(const Reader *r, unsigned mask) {
        cr_assert(r->ended);
        for (OutputStream s = OUT; s <= ERR; s++)
                cr_assert_eq(r->data[s] + r->gaps[s], (mask & OUTPUT_STREAM_BIT(s)) ? expected_size[s] : 0);
}

Test(output_capture, pipes_round_trip_to_24_live_followers) {
        static const unsigned masks[] = { OUTPUT_STREAMS_ALL, OUTPUT_STREAM_BIT(OUT), OUTPUT_STREAM_BIT(ERR) };
        Reader readers[24];
        Job j = { .finish_on_done = true };
        OutputCapture *c;
        int out, err;
        pid_t pid;

        make_expected(OUT, 8 * MiB + 12345, 1);
        make_expected(ERR, 1 * MiB + 777, 2);
        pid = spawn_writer(&out, &err);
        c = capture(out, err, 0, &j);
        for (size_t i = 0; i < ELEMENTSOF(readers); i++)
                reader_start(&readers[i], masks[i % ELEMENTSOF(masks)], true);
        cr_assert_eq(output_store_n_followers(store), ELEMENTSOF(readers));

        for (size_t i = 0; i < ELEMENTSOF(readers); i++)
                run_until(&readers[i].ended);
        reap(pid);

        cr_assert(j.done);
        cr_assert_eq(j.eofs, 2);
        cr_assert_gt(j.data_calls, 0);
        cr_assert_leq(j.data_calls, (expected_size[OUT] + expected_size[ERR]));
        cr_assert_eq(output_store_get_end(store, OUT), expected_size[OUT]);
        cr_assert_eq(output_store_get_end(store, ERR), expected_size[ERR]);
        for (size_t i = 0; i < ELEMENTSOF(readers); i++) {
                assert_complete(&readers[i], masks[i % ELEMENTSOF(masks)]);
                cr_assert_eq(readers[i].gap_records, 0);
                output_follower_free(readers[i].f);
        }
        output_capture_free(c);
}

Test(output_capture, an_undrained_follower_does_not_stop_the_writer) {
        Reader idle = {}, late;
        unsigned idle_wakes = 0;
        OutputEvent ev;
        uint8_t b[1];
        Job j = {};
        OutputCapture *c;
        int out, err;
        pid_t pid;

        make_expected(OUT, 32 * MiB, 3);
        make_expected(ERR, 64 * 1024, 4);
        cr_assert_eq(output_follower_new(store, 0, 0, OUTPUT_STREAMS_ALL, idle_wake, &idle_wakes, &idle.f), 0);
        cr_assert_eq(output_follower_next(idle.f, &ev, b, sizeof(b)), 0);
        pid = spawn_writer(&out, &err);
        c = capture(out, err, 0, &j);
        run_until(&j.done);
        reap(pid);                                      /* the writer finished */
        cr_assert_eq(idle_wakes, 1);

        /* A follower attached after both EOFs gets everything, but no END
         * until the job is declared finished. */
        reader_start(&late, OUTPUT_STREAMS_ALL, false);
        reader_drain(&late);
        cr_assert_not(late.ended);
        cr_assert_eq(late.data[OUT], expected_size[OUT]);
        cr_assert_eq(late.data[ERR], expected_size[ERR]);
        output_store_set_finished(store);
        reader_drain(&late);
        assert_complete(&late, OUTPUT_STREAMS_ALL);

        reader_drain(&idle);
        assert_complete(&idle, OUTPUT_STREAMS_ALL);
        output_follower_free(idle.f);
        output_follower_free(late.f);
        output_capture_free(c);
}

Test(output_capture, end_waits_for_finished_even_after_both_eofs) {
        Reader r;
        Job j = {};
        OutputCapture *c;
        int out, err;
        pid_t pid;

        make_expected(OUT, 100000, 5);
        make_expected(ERR, 0, 6);
        reader_start(&r, OUTPUT_STREAMS_ALL, true);
        pid = spawn_writer(&out, &err);
        c = capture(out, err, 0, &j);
        run_until(&j.done);
        reap(pid);
        while (sd_event_run(event, 0) > 0)
                ;
        cr_assert_eq(r.data[OUT], expected_size[OUT]);
        cr_assert_not(r.ended);

        output_store_set_finished(store);
        run_until(&r.ended);
        assert_complete(&r, OUTPUT_STREAMS_ALL);
        output_follower_free(r.f);
        output_capture_free(c);
}

static void one_line_then_close(bool exit_first) {
        static const char line[] = "one line\n";
        Job j = { .finish_on_done = true };
        Reader r;
        OutputCapture *c;
        int out[2];
        pid_t pid;

        make_expected(OUT, strlen(line), 0);
        memcpy(expected[OUT], line, strlen(line));
        make_expected(ERR, 0, 0);
        cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                write_all(out[1], (const uint8_t *) line, strlen(line));
                _exit(EXIT_SUCCESS);
        }
        safe_close(out[1]);
        if (exit_first)
                reap(pid);                              /* the line and EOF wait in the pipe */

        reader_start(&r, OUTPUT_STREAMS_ALL, true);
        c = capture(out[0], -EBADF, 0, &j);             /* no stderr pipe: already at EOF */
        run_until(&r.ended);
        if (!exit_first)
                reap(pid);
        assert_complete(&r, OUTPUT_STREAMS_ALL);
        cr_assert_eq(j.eofs, 1);
        output_follower_free(r.f);
        output_capture_free(c);
}

Test(output_capture, one_line_then_close_loses_nothing) {
        one_line_then_close(false);
}

Test(output_capture, one_line_from_a_writer_that_already_exited) {
        one_line_then_close(true);
}

Test(output_capture, the_cap_drops_exactly_and_offsets_keep_counting) {
        Job j = { .finish_on_done = true };
        OutputCaptureTotals totals = { .stored = 5, .dropped_cap = 7 };
        Reader r;
        OutputCapture *c;
        int out, err;
        pid_t pid;

        make_expected(OUT, 5 * MiB, 7);
        make_expected(ERR, 2 * MiB + 3, 8);
        reader_start(&r, OUTPUT_STREAMS_ALL, true);
        pid = spawn_writer(&out, &err);
        c = capture(out, err, 1 * MiB, &j);
        output_capture_set_totals(c, &totals);
        run_until(&r.ended);
        /* Added to what the totals held: they outlive captures. */
        cr_assert_eq(totals.stored, 5 + 1 * MiB);
        cr_assert_eq(totals.dropped_cap, 7 + 6 * MiB + 3);
        cr_assert_eq(totals.dropped_io, 0);
        reap(pid);

        assert_complete(&r, OUTPUT_STREAMS_ALL);
        cr_assert_eq(r.data[OUT] + r.data[ERR], 1 * MiB);
        cr_assert_eq(r.gaps[OUT] + r.gaps[ERR], 6 * MiB + 3);
        cr_assert_leq(r.gap_records, 2);                /* one per stream, written at EOF */
        cr_assert_eq(output_store_get_data_bytes(store), 1 * MiB);
        cr_assert(output_store_get_truncated(store));
        cr_assert_eq(output_store_get_end(store, OUT), 5 * MiB);
        cr_assert_eq(output_store_get_end(store, ERR), 2 * MiB + 3);
        output_follower_free(r.f);
        output_capture_free(c);
}

static void write_some(int fd, OutputStream stream, size_t *pos, size_t n) {
        write_all(fd, expected[stream] + *pos, n);
        *pos += n;
        while (output_store_get_end(store, stream) < *pos)
                cr_assert_geq(sd_event_run(event, UINT64_MAX), 0);
}

Test(output_capture, fds_can_be_handed_over_and_capture_resumed) {
        Job j = { .finish_on_done = true };
        Reader r;
        OutputCapture *c;
        int out[2], err[2], out_r, err_r;
        size_t pos[3] = {};

        make_expected(OUT, 200000, 9);
        make_expected(ERR, 100000, 10);
        cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
        cr_assert_eq(pipe2(err, O_CLOEXEC), 0);

        c = capture(out[0], err[0], 150000, &j);
        write_some(out[1], OUT, &pos[OUT], 60000);
        write_some(err[1], ERR, &pos[ERR], 50000);
        write_some(out[1], OUT, &pos[OUT], 60000);     /* 20000 past the cap, pending */

        /* The daemon stops: the read ends go to the fd store, the file stays. */
        output_capture_take_fds(c, &out_r, &err_r);
        output_capture_free(c);
        cr_assert_eq(out_r, out[0]);
        cr_assert_eq(err_r, err[0]);
        write_all(out[1], expected[OUT] + pos[OUT], 20000);     /* written while nobody reads */
        pos[OUT] += 20000;
        store = output_store_unref(store);

        /* ... and starts again. */
        cr_assert_eq(output_store_open(dir_fd, OUTPUT_FILE_NAME, OUTPUT_STORE_APPEND, event, &store), 0);
        cr_assert_eq(output_store_get_end(store, OUT), 120000);
        cr_assert_eq(output_store_get_data_bytes(store), 150000);
        c = capture(out_r, err_r, 150000, &j);
        while (pos[OUT] < expected_size[OUT])
                write_some(out[1], OUT, &pos[OUT], expected_size[OUT] - pos[OUT] < 30000 ? expected_size[OUT] - pos[OUT] : 30000);
        write_some(err[1], ERR, &pos[ERR], expected_size[ERR] - pos[ERR]);
        safe_close(out[1]);
        safe_close(err[1]);

        reader_start(&r, OUTPUT_STREAMS_ALL, true);
        run_until(&r.ended);
        assert_complete(&r, OUTPUT_STREAMS_ALL);
        cr_assert_eq(r.data[OUT], 100000);
        cr_assert_eq(r.data[ERR], 50000);
        output_follower_free(r.f);
        output_capture_free(c);
}
