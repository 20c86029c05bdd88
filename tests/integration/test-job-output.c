/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Output capture end to end: every byte, for every follower, however slow. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "job-harness.h"

static Harness h;
static char data_dir[64];
static char data_path[128];
static const uint8_t *data;     /* the file, mapped: what every follower must see */
static uint64_t data_size;

#define STDERR_HEAD 1000

/* size bytes of pseudo-random data (xorshift; incompressible enough), in a
 * file the job's dynamic user can read. */
static void make_data(uint64_t size) {
        uint64_t x = 0x9e3779b97f4a7c15u;
        static uint64_t block[8192];
        FILE *f;
        int fd;

        snprintf(data_dir, sizeof(data_dir), "/var/lib/jobrunner-data.XXXXXX");
        cr_assert_not_null(mkdtemp(data_dir));
        chmod(data_dir, 0755);
        snprintf(data_path, sizeof(data_path), "%s/data", data_dir);
        f = fopen(data_path, "we");
        cr_assert_not_null(f);
        for (uint64_t done = 0; done < size; done += sizeof(block)) {
                for (size_t i = 0; i < 8192; i++) {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        block[i] = x;
                }
                cr_assert_eq(fwrite(block, sizeof(block), 1, f), 1);
        }
        cr_assert_eq(fclose(f), 0);
        chmod(data_path, 0644);

        fd = open(data_path, O_RDONLY | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        data = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
        cr_assert_neq(data, MAP_FAILED);
        close(fd);
        data_size = size;
}

static void drop_data(void) {
        munmap((void *) data, data_size);
        unlink(data_path);
        rmdir(data_dir);
}

static void setup(void) {
        harness_setup(&h);
}

static void teardown(void) {
        harness_teardown(&h);
}

TestSuite(job_output, .init = setup, .fini = teardown, .timeout = 900);

/* A follower that checks every byte against the data as it arrives: stdout
 * must be the data, stderr "E\n" then the data's first STDERR_HEAD bytes. */
typedef struct Checker {
        jr_follower *follower;
        uint64_t out_bytes, err_bytes;
        bool ended;
        bool stalled;           /* reads nothing until released */
} Checker;

static void check_data(Checker *c, const jr_output_event *ev, const uint8_t *buf) {
        uint64_t *seen = ev->stream == JR_STREAM_STDOUT ? &c->out_bytes : &c->err_bytes;

        cr_assert_eq(ev->offset, *seen, "stream %d: offset %llu after %llu bytes", ev->stream,
                     (unsigned long long) ev->offset, (unsigned long long) *seen);
        if (ev->stream == JR_STREAM_STDOUT) {
                cr_assert_leq(ev->offset + ev->length, data_size, "more stdout than was written");
                cr_assert_eq(memcmp(buf, data + ev->offset, ev->length), 0, "stdout differs near offset %llu",
                             (unsigned long long) ev->offset);
        } else
                for (uint64_t i = 0; i < ev->length; i++) {
                        uint64_t o = ev->offset + i;

                        cr_assert_lt(o, 2 + STDERR_HEAD, "more stderr than was written");
                        cr_assert_eq(buf[i], o < 2 ? (uint8_t) "E\n"[o] : data[o - 2],
                                     "stderr differs at offset %llu", (unsigned long long) o);
                }
        *seen += ev->length;
}

static void checker_drain(Checker *c) {
        static uint8_t buf[65536];
        jr_output_event ev;
        int r;

        if (c->stalled || c->ended)
                return;
        while ((r = jr_follower_next(c->follower, &ev, buf, sizeof(buf))) > 0) {
                if (ev.type == JR_OUTPUT_END) {
                        c->ended = true;
                        return;
                }
                cr_assert_eq(ev.type, JR_OUTPUT_DATA, "unexpected gap at %llu", (unsigned long long) ev.offset);
                check_data(c, &ev, buf);
        }
        cr_assert_geq(r, 0, "jr_follower_next: %s", strerror(-r));
}

static void on_wake(jr_follower *f, void *userdata) {
        (void) f;
        checker_drain(userdata);
}

static void on_wake_ignore(jr_follower *f, void *userdata) {
        (void) f;
        (void) userdata;        /* the test's loop reads after every event */
}

static void checker_init(Checker *c, jr_job *j) {
        jr_error e = {};

        *c = (Checker) {};
        cr_assert_eq(jr_follower_new(j, 0, 0, JR_STREAMS_ALL, on_wake, c, &c->follower, &e), 0, "%s", e.message);
}

static void checker_done(Checker *c) {
        cr_assert(c->ended);
        cr_assert_eq(c->out_bytes, data_size);
        cr_assert_eq(c->err_bytes, 2 + STDERR_HEAD);
        jr_follower_free(c->follower);
}

typedef struct Run {
        jr_job *job;
        Checker *checkers;
        size_t n;
} Run;

static bool all_ended(void *userdata) {
        Run *run = userdata;

        for (size_t i = 0; i < run->n; i++)
                if (!run->checkers[i].ended)
                        return false;
        return true;
}

static bool job_final(void *userdata) {
        return jr_state_is_final(jr_job_get_state(userdata));
}

/* Starts a job that writes the data to stdout and a little to stderr, with
 * n live followers attached from its start and one stalled follower that
 * reads nothing until the job has ended and all its output is stored. */
static void run_output_job(uint64_t size, size_t n) {
        char script[512];
        char *argv[] = { "/bin/sh", "-c", script, NULL };
        jr_spec spec = harness_spec(argv);
        Checker *checkers = calloc(n, sizeof(Checker)), stalled, late;
        jr_status s;
        Run run;

        cr_assert_not_null(checkers);
        make_data(size);
        snprintf(script, sizeof(script), "cat %s; printf 'E\\n' >&2; head -c %d %s >&2", data_path,
                 STDERR_HEAD, data_path);
        run = (Run) { .job = harness_start(&h, &spec), .checkers = checkers, .n = n };
        /* A first read arms each live follower's wake-up. */
        for (size_t i = 0; i < n; i++) {
                checker_init(&checkers[i], run.job);
                checker_drain(&checkers[i]);
        }
        checker_init(&stalled, run.job);
        stalled.stalled = true;

        /* The job runs to its end while one follower has not read a byte:
         * no follower can slow the job. */
        harness_run_until(&h, job_final, run.job);
        jr_job_get_status(run.job, &s);
        cr_assert_eq(s.state, JR_STATE_EXITED, "state %s", jr_state_to_string(s.state));
        cr_assert_eq(s.exit_code, 0);
        cr_assert_eq(stalled.out_bytes, 0);

        harness_run_until(&h, all_ended, &run);
        jr_job_get_status(run.job, &s);
        cr_assert_eq(s.stdout_bytes, data_size);
        cr_assert_eq(s.stderr_bytes, 2 + STDERR_HEAD);
        cr_assert_not(s.output_truncated);
        printf("%zu followers of %llu MiB, byte-exact; the job ended while one follower read nothing\n", n,
               (unsigned long long) (size >> 20));
        for (size_t i = 0; i < n; i++)
                checker_done(&checkers[i]);

        /* The stalled one, and one attached after the end, get everything. */
        stalled.stalled = false;
        checker_drain(&stalled);
        checker_done(&stalled);
        checker_init(&late, run.job);
        checker_drain(&late);
        checker_done(&late);

        free(checkers);
        drop_data();
}

Test(job_output, hundred_mib_of_binary_output_arrive_byte_exact) {
        run_output_job(UINT64_C(100) << 20, 2);
}

Test(job_output, fifty_concurrent_followers_all_get_every_byte) {
        run_output_job(UINT64_C(16) << 20, 50);
}

Test(job_output, a_one_line_job_that_exits_at_once_loses_nothing) {
        char *argv[] = { "/bin/echo", "hello from a short job", NULL };
        jr_spec spec = harness_spec(argv);
        char *out, *err;
        size_t out_len, err_len;
        jr_job *j = harness_start(&h, &spec);

        harness_read_output(&h, j, &out, &out_len, &err, &err_len);
        cr_assert_str_eq(out, "hello from a short job\n");
        cr_assert_eq(err_len, 0);
        free(out);
        free(err);
}

Test(job_output, the_output_cap_drops_with_a_visible_gap) {
        char *argv[] = { "/bin/sh", "-c", "head -c 3000000 /dev/zero; echo done >&2", NULL };
        jr_spec spec = harness_spec(argv);
        jr_manager_config config = { .state_dir = h.state_dir, .init_path = getenv("JOBRUNNER_INIT"),
                                     .output_cap = 1u << 20 };
        jr_manager *capped;
        jr_error e = {};
        jr_follower *f;
        jr_output_event ev;
        static uint8_t buf[65536];
        uint64_t stored = 0, gap = 0;
        jr_status s;
        jr_job *j;
        int r;

        /* A second manager over the same bus, with a 1 MiB cap. */
        jr_manager_free(h.manager);
        cr_assert_eq(jr_manager_new(h.event, h.bus, &config, &capped, &e), 0, "%s", e.message);
        h.manager = capped;

        j = harness_start(&h, &spec);
        harness_wait_final(&h, j);
        cr_assert_eq(jr_follower_new(j, 0, 0, 1u << JR_STREAM_STDOUT, on_wake_ignore, NULL, &f, &e), 0, "%s",
                     e.message);
        for (;;) {
                r = jr_follower_next(f, &ev, buf, sizeof(buf));
                cr_assert_geq(r, 0);
                if (r == 0) {
                        sd_event_run(h.event, UINT64_MAX);
                        continue;
                }
                if (ev.type == JR_OUTPUT_END)
                        break;
                if (ev.type == JR_OUTPUT_DATA)
                        stored += ev.length;
                else {
                        cr_assert_eq(ev.gap_reason, JR_GAP_TRUNCATED);
                        gap += ev.length;
                }
        }
        jr_follower_free(f);
        jr_job_get_status(j, &s);
        cr_assert(s.output_truncated);
        cr_assert_eq(s.state, JR_STATE_EXITED, "the job must never block on a full cap");
        cr_assert_leq(stored, 1u << 20);
        cr_assert_eq(stored + gap, 3000000, "data %llu + gap %llu", (unsigned long long) stored, (unsigned long long) gap);
}
