/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libjobrunner benchmark, run as root on a systemd host (the test VM):
 *   - jobs started per second over 200 jobs, through the library and, as the
 *     baseline, through a systemd-run loop on the same systemd;
 *   - time from start to running (p50/p90);
 *   - output throughput from one job into its file, and to 1 and 10 followers;
 *   - this process's RSS before and after a job prints 1 GiB.
 * Prints one table.  Usage: lib-bench INIT_PATH [JOBS] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "jobrunner.h"

static sd_event *event;
static jr_manager *manager;
static char state[] = "/var/lib/jobrunner-bench.XXXXXX";

static uint64_t now_us(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static void die(const char *what, int r, const char *message) {
        fprintf(stderr, "lib-bench: %s: %s\n", what, message ?: strerror(-r));
        exit(EXIT_FAILURE);
}

static void run_until(bool (*cond)(void *), void *userdata) {
        while (!cond(userdata)) {
                int r = sd_event_run(event, UINT64_MAX);
                if (r < 0)
                        die("sd_event_run", r, NULL);
        }
}

static jr_job *start(char **argv) {
        jr_spec spec = { .argv = argv };
        jr_error e = {};
        jr_job *j;
        int r;

        r = jr_manager_start(manager, &spec, "bench", NULL, &j, &e);
        if (r < 0)
                die("start", r, e.message);
        return j;
}

static bool started(void *userdata) {
        return jr_job_get_state(userdata) != JR_STATE_STARTING;
}

static bool final(void *userdata) {
        return jr_state_is_final(jr_job_get_state(userdata));
}

struct jobs {
        jr_job **list;
        size_t n;
};

static bool all_final(void *userdata) {
        struct jobs *jobs = userdata;

        for (size_t i = 0; i < jobs->n; i++)
                if (!jr_state_is_final(jr_job_get_state(jobs->list[i])))
                        return false;
        return true;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return (x > y) - (x < y);
}

static void row(const char *what, const char *value) {
        printf("%-52s %s\n", what, value);
        fflush(stdout);
}

static void rowf(const char *what, int decimals, double v) {
        char buf[64];

        snprintf(buf, sizeof(buf), "%.*f", decimals, v);
        row(what, buf);
}

static void bench_starts(size_t n) {
        char *argv[] = { (char *) "/bin/true", NULL };
        uint64_t *latency = calloc(n, sizeof(uint64_t)), t0, t;
        struct jobs jobs = { calloc(n, sizeof(jr_job *)), n };
        char cmd[256];

        /* One after the other, each waited for until it runs (like
         * systemd-run, which waits for its start job). */
        t0 = now_us();
        for (size_t i = 0; i < n; i++) {
                uint64_t s = now_us();

                jobs.list[i] = start(argv);
                run_until(started, jobs.list[i]);
                latency[i] = now_us() - s;
        }
        run_until(all_final, &jobs);
        t = now_us() - t0;
        rowf("library, sequential: jobs started per second", 1, n * 1e6 / (double) t);
        qsort(latency, n, sizeof(uint64_t), cmp_u64);
        rowf("library: start to running, p50 (ms)", 1, latency[n / 2] / 1e3);
        rowf("library: start to running, p90 (ms)", 1, latency[n * 9 / 10] / 1e3);

        /* All at once, then wait for every one to end. */
        t0 = now_us();
        for (size_t i = 0; i < n; i++)
                jobs.list[i] = start(argv);
        run_until(all_final, &jobs);
        t = now_us() - t0;
        rowf("library, pipelined: jobs started and ended per second", 1, n * 1e6 / (double) t);

        /* The baseline: the same number of transient units via systemd-run. */
        snprintf(cmd, sizeof(cmd),
                 "for i in $(seq %zu); do systemd-run --quiet --collect -p DynamicUser=yes /bin/true || exit 1; done", n);
        t0 = now_us();
        if (system(cmd) != 0)
                die("systemd-run loop", -EIO, "failed");
        t = now_us() - t0;
        rowf("systemd-run loop: jobs started per second", 1, n * 1e6 / (double) t);

        free(latency);
        free(jobs.list);
}

struct drain {
        jr_follower *f;
        uint64_t bytes;
        bool ended;
};

static void drain(struct drain *d) {
        static char buf[65536];
        jr_output_event ev;
        int r;

        while (!d->ended && (r = jr_follower_next(d->f, &ev, buf, sizeof(buf))) > 0) {
                if (ev.type == JR_OUTPUT_END)
                        d->ended = true;
                else if (ev.type == JR_OUTPUT_DATA)
                        d->bytes += ev.length;
        }
}

static void on_wake(jr_follower *f, void *userdata) {
        (void) f;
        drain(userdata);
}

struct output_run {
        jr_job *job;
        struct drain *d;
        size_t n;
};

static bool output_done(void *userdata) {
        struct output_run *o = userdata;

        if (!final(o->job))
                return false;
        for (size_t i = 0; i < o->n; i++)
                if (!o->d[i].ended)
                        return false;
        return true;
}

/* MiB/s of a job writing `mib` MiB with n followers reading it live. */
static double bench_output(unsigned mib, size_t n) {
        char script[128];
        char *argv[] = { (char *) "/bin/sh", (char *) "-c", script, NULL };
        struct output_run o = { .d = calloc(n, sizeof(struct drain)), .n = n };
        jr_status s;
        uint64_t t0, t;

        snprintf(script, sizeof(script), "exec head -c %uM /dev/zero", mib);
        t0 = now_us();
        o.job = start(argv);
        for (size_t i = 0; i < n; i++) {
                jr_error e = {};
                int r = jr_follower_new(o.job, 0, 0, JR_STREAMS_ALL, on_wake, &o.d[i], &o.d[i].f, &e);
                if (r < 0)
                        die("follow", r, e.message);
        }
        run_until(output_done, &o);
        t = now_us() - t0;
        jr_job_get_status(o.job, &s);
        if (s.stdout_bytes != (uint64_t) mib << 20)
                die("output", -EIO, "not every byte was captured");
        for (size_t i = 0; i < n; i++) {
                if (o.d[i].bytes != (uint64_t) mib << 20)
                        die("output", -EIO, "a follower missed bytes");
                jr_follower_free(o.d[i].f);
        }
        free(o.d);

        /* The next run needs the space (the VM's disk is memory). */
        char path[256];
        snprintf(path, sizeof(path), "%s/jobs/%s/output.log", state, jr_job_get_id(o.job));
        (void) unlink(path);
        return mib * 1e6 / (double) t;
}

static long rss_kib(void) {
        char line[256];
        long kib = -1;
        FILE *f = fopen("/proc/self/status", "re");

        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
                        break;
        if (f)
                fclose(f);
        return kib;
}

int main(int argc, char *argv[]) {
        size_t jobs = argc > 2 ? strtoul(argv[2], NULL, 10) : 200;
        sd_bus *bus = NULL;
        jr_error e = {};
        long before;
        int r;

        if (argc < 2) {
                fprintf(stderr, "usage: %s INIT_PATH [JOBS]\n", argv[0]);
                return 2;
        }
        /* Each starting job holds a few fds (pipes, its output file, the
         * queued message's duplicates): as a daemon would, raise the soft
         * limit to the hard one. */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
        if (!mkdtemp(state))
                die("mkdtemp", -errno, NULL);
        if ((r = sd_event_default(&event)) < 0 || (r = sd_bus_open_system(&bus)) < 0 ||
            (r = sd_bus_attach_event(bus, event, 0)) < 0)
                die("sd-event/sd-bus", r, NULL);
        r = jr_manager_new(event, bus, &(jr_manager_config) { .state_dir = state, .init_path = argv[1] },
                           &manager, &e);
        if (r < 0)
                die("jr_manager_new", r, e.message);

        printf("%-52s %s\n", "libjobrunner benchmark", "value");
        printf("%-52s %s\n", "----------------------------------------------------", "--------");
        bench_starts(jobs);
        rowf("output into the file, no follower (MiB/s)", 0, bench_output(256, 0));
        rowf("output, 1 follower (MiB/s per follower)", 0, bench_output(256, 1));
        rowf("output, 10 followers (MiB/s per follower)", 0, bench_output(256, 10));

        before = rss_kib();
        bench_output(1024, 1);
        rowf("RSS before a job prints 1 GiB (MiB)", 1, before / 1024.0);
        rowf("RSS after it, all of it followed (MiB)", 1, rss_kib() / 1024.0);

        jr_manager_free(manager);
        sd_bus_flush_close_unref(bus);
        sd_event_unref(event);
        return 0;
}
