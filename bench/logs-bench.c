/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Logs benchmark, run as root in the test VM with jobrunnerd installed
 * (bench/logs does both):
 *   1. Logs throughput over mutual TLS to one follower of a job that writes
 *      as fast as it can;
 *   2. the same with many concurrent followers of one job, each a thread
 *      with its own connection;
 *   3. latency from a job's write to a follower's receipt;
 *   4. baseline: the same jobs through systemd-run + journald, read with
 *      "journalctl -f -o cat -u UNIT";
 *   5. baseline: raw TLS 1.3, "openssl s_client" to "openssl s_server".
 * Every byte count is at the receiving end, first byte to last byte, and
 * every job is logs-writer (bench/logs-writer.c).  Prints one table.
 *
 * Usage: logs-bench WRITER [OPTIONS]   (see --help) */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"
#include "time-util.h"

#define TLS_DIR BENCH_TLS_DIR
#define USER "alice"
#define MIB (1024.0 * 1024.0)
#define RAW_TLS_PORT 4433
/* Generous: TCG is slow, and a stuck phase fails the run, not hangs it. */
#define LOGS_DEADLINE_MS INT64_C(1800000)

extern char **environ;

static struct {
        const char *writer;
        uint64_t bytes;                 /* one follower, journald, raw TLS */
        uint64_t fanout_bytes;          /* the job of the many followers */
        unsigned followers;
        uint64_t journal_bytes;
        uint64_t line_len;
        unsigned stamps;
        unsigned stamp_interval_ms;
        unsigned journal_timeout_s;
        unsigned reps;                  /* of the three single-stream measurements */
} arg = {
        .bytes = UINT64_C(16) << 20,
        .fanout_bytes = UINT64_C(2) << 20,
        .followers = 100,
        .journal_bytes = UINT64_C(16) << 20,
        .line_len = 1024,
        .stamps = 500,
        .stamp_interval_ms = 10,
        .journal_timeout_s = 600,
        .reps = 3,
};

static double mib_per_s(uint64_t bytes, uint64_t ns) {
        return ns > 0 ? (double) bytes / MIB / ((double) ns / 1e9) : 0.0;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return (x > y) - (x < y);
}

/* ---- what a reader received ---------------------------------------------- */

/* Counts the payload bytes of one output stream as they arrive, and, for the
 * timestamp job, turns every complete line into a latency sample. */
typedef struct Sink {
        bool x_only;                    /* payload = lines starting with 'x' (journalctl adds others) */
        bool stamps;                    /* lines are CLOCK_REALTIME ns: collect latencies */

        uint64_t bytes;
        uint64_t t_first, t_last;       /* CLOCK_MONOTONIC ns of the first and last payload byte */

        bool mid_line, line_is_payload;
        char line[32];
        size_t line_len;
        bool line_overflow;

        uint64_t *latency_ns;
        size_t n_latency, n_allocated, n_other_lines;
} Sink;

static void sink_line_end(Sink *s, uint64_t received) {
        uint64_t v = 0;
        bool digits = s->line_len > 0 && !s->line_overflow;

        for (size_t i = 0; digits && i < s->line_len; i++) {
                if (s->line[i] < '0' || s->line[i] > '9')
                        digits = false;
                else
                        v = v * 10 + (uint64_t) (s->line[i] - '0');
        }
        s->line_len = 0;
        s->line_overflow = false;
        if (!digits) {
                s->n_other_lines++;     /* e.g. systemd's "Started ..." through journalctl -u */
                return;
        }
        if (s->n_latency == s->n_allocated) {
                size_t a = s->n_allocated ? s->n_allocated * 2 : 1024;
                uint64_t *p = realloc(s->latency_ns, a * sizeof(uint64_t));

                if (!p)
                        die("out of memory");
                s->latency_ns = p;
                s->n_allocated = a;
        }
        s->latency_ns[s->n_latency++] = received > v ? received - v : 0;
}

static void sink_feed(Sink *s, const uint8_t *p, size_t n) {
        uint64_t mono = now_nsec(CLOCK_MONOTONIC), real = s->stamps ? now_nsec(CLOCK_REALTIME) : 0, payload = 0;

        while (n > 0) {
                const uint8_t *nl = memchr(p, '\n', n);
                size_t len = nl ? (size_t) (nl - p) + 1 : n;

                if (!s->mid_line)
                        s->line_is_payload = !s->x_only || p[0] == 'x';
                if (s->line_is_payload)
                        payload += len;
                if (s->stamps) {
                        size_t text = nl ? len - 1 : len;

                        if (s->line_len + text < sizeof(s->line)) {
                                memcpy(s->line + s->line_len, p, text);
                                s->line_len += text;
                        } else
                                s->line_overflow = true;
                        if (nl)
                                sink_line_end(s, real);
                }
                s->mid_line = !nl;
                p += len;
                n -= len;
        }

        if (payload > 0) {
                if (s->bytes == 0)
                        s->t_first = mono;
                s->t_last = mono;
                s->bytes += payload;
        }
}

static double sink_mib_per_s(const Sink *s) {
        return mib_per_s(s->bytes, s->t_last - s->t_first);
}

/* p in [0, 1]: the nearest-rank percentile, in ms. */
static double sink_percentile_ms(Sink *s, double p) {
        size_t i;

        if (s->n_latency == 0)
                return -1;
        qsort(s->latency_ns, s->n_latency, sizeof(uint64_t), cmp_u64);
        i = (size_t) (p * (double) s->n_latency + 0.999999);
        i = i == 0 ? 0 : i - 1;
        if (i >= s->n_latency)
                i = s->n_latency - 1;
        return (double) s->latency_ns[i] / 1e6;
}

/* In arrival order, so before the percentiles sort them: where the slow
 * lines were. */
static void sink_report_slow(const Sink *s, const char *what, double threshold_ms) {
        size_t n = 0, first = 0, last = 0;

        for (size_t i = 0; i < s->n_latency; i++)
                if ((double) s->latency_ns[i] / 1e6 > threshold_ms) {
                        if (n++ == 0)
                                first = i;
                        last = i;
                }
        progress("%s: %zu of %zu lines over %.0f ms%s (first lines: %.1f %.1f %.1f ms)", what, n, s->n_latency,
                 threshold_ms, n > 0 ? "" : ", none", s->n_latency > 0 ? (double) s->latency_ns[0] / 1e6 : 0,
                 s->n_latency > 1 ? (double) s->latency_ns[1] / 1e6 : 0,
                 s->n_latency > 2 ? (double) s->latency_ns[2] / 1e6 : 0);
        if (n > 0)
                progress("%s: slow lines between #%zu and #%zu", what, first, last);
}

static void sink_done(Sink *s) {
        free(s->latency_ns);
        *s = (Sink) {};
}

/* ---- CPU accounting ------------------------------------------------------ */

static uint64_t self_cpu_us(void) {
        struct rusage ru;

        (void) getrusage(RUSAGE_SELF, &ru);
        return (uint64_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
               (uint64_t) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

typedef struct CpuSnap {
        uint64_t daemon_us, journald_us, self_us;
        uint64_t busy, total;           /* /proc/stat ticks, all CPUs */
} CpuSnap;

static void cpu_snap(CpuSnap *c) {
        *c = (CpuSnap) {
                .daemon_us = cgroup_cpu_us("system.slice/jobrunner.service"),
                .journald_us = cgroup_cpu_us("system.slice/systemd-journald.service"),
                .self_us = self_cpu_us(),
        };
        cpu_ticks(&c->busy, &c->total);
}

typedef struct CpuUse {
        double daemon_s, journald_s, self_s, busy_pct;
} CpuUse;

static CpuUse cpu_since(const CpuSnap *a) {
        CpuSnap b;

        cpu_snap(&b);
        return (CpuUse) {
                .daemon_s = (double) (b.daemon_us - a->daemon_us) / 1e6,
                .journald_s = (double) (b.journald_us - a->journald_us) / 1e6,
                .self_s = (double) (b.self_us - a->self_us) / 1e6,
                .busy_pct = b.total > a->total ?
                        100.0 * (double) (b.busy - a->busy) / (double) (b.total - a->total) : 0,
        };
}

/* ---- jobrunnerd ---------------------------------------------------------- */

/* The duration of every Start call, in order. */
static double start_call_s[64];
static unsigned n_start_calls;

static char *start_job(TcConn *c, char **argv) {
        Jobrunner__V1__JobSpec spec = JOBRUNNER__V1__JOB_SPEC__INIT;
        Jobrunner__V1__StartRequest req = JOBRUNNER__V1__START_REQUEST__INIT;
        Jobrunner__V1__StartResponse *resp = NULL;
        _cleanup_free_ char *details = NULL;
        uint64_t t0;
        char *id;
        int r, status = -1;

        while (argv[spec.n_argv])
                spec.n_argv++;
        spec.argv = argv;
        req.spec = &spec;
        t0 = now_nsec(CLOCK_MONOTONIC);
        r = tc_call(c, "Start", &req.base, &jobrunner__v1__start_response__descriptor, 120000, &status, &details,
                    (ProtobufCMessage **) &resp);
        if (n_start_calls < ELEMENTSOF(start_call_s))
                start_call_s[n_start_calls++] = (double) (now_nsec(CLOCK_MONOTONIC) - t0) / 1e9;
        if (r < 0 || status != 0)
                die("Start %s: %s", argv[0], r < 0 ? strerror(-r) : details);
        if (resp->job->state == JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START)
                die("Start %s: failed to start: %s", argv[0], resp->job->failure_reason);
        id = strdup(resp->job->id);
        if (!id)
                die("out of memory");
        jobrunner__v1__start_response__free_unpacked(resp, NULL);
        return id;
}

/* One Logs call with follow = true, read to its end. */
typedef struct Follow {
        TcConn *conn;
        const char *id;
        Sink sink;                      /* stdout */
        uint64_t stderr_bytes, gaps;
        uint64_t chunks;                /* of stdout */
        uint64_t last_real_ns;          /* CLOCK_REALTIME of the last stdout chunk */
        int64_t job_start_us, job_end_us;
        int error;                      /* negative errno of the client */
        int status;                     /* the call's gRPC status */
        char details[256];
        bool got_end;
        int end_state, end_exit_code;
        pthread_t thread;
} Follow;

static void follow_run(Follow *f) {
        Jobrunner__V1__LogsRequest req = JOBRUNNER__V1__LOGS_REQUEST__INIT;
        TcStream *s = NULL;
        const char *details = NULL;
        int r;

        req.id = (char *) f->id;
        req.follow = true;
        f->status = -1;
        r = tc_logs_open(f->conn, &req, LOGS_DEADLINE_MS, &s);
        if (r < 0) {
                f->error = r;
                return;
        }
        for (;;) {
                Jobrunner__V1__LogsResponse *m;

                r = tc_stream_next(s, &m);
                if (r <= 0)
                        break;
                switch (m->event_case) {
                case JOBRUNNER__V1__LOGS_RESPONSE__EVENT_CHUNK:
                        if (m->chunk->stream == JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT) {
                                sink_feed(&f->sink, m->chunk->data.data, m->chunk->data.len);
                                f->chunks++;
                                f->last_real_ns = now_nsec(CLOCK_REALTIME);
                        } else
                                f->stderr_bytes += m->chunk->data.len;
                        break;
                case JOBRUNNER__V1__LOGS_RESPONSE__EVENT_GAP:
                        f->gaps++;
                        break;
                case JOBRUNNER__V1__LOGS_RESPONSE__EVENT_END:
                        f->got_end = true;
                        f->job_start_us = m->end->start_time_us;
                        f->job_end_us = m->end->end_time_us;
                        f->end_state = m->end->state;
                        f->end_exit_code = m->end->exit_code;
                        break;
                default:
                        break;
                }
                jobrunner__v1__logs_response__free_unpacked(m, NULL);
        }
        if (r < 0)
                f->error = r;
        else if (tc_stream_status(s, &f->status, &details) >= 0)
                snprintf(f->details, sizeof(f->details), "%s", details ?: "");
        tc_stream_free(s);
}

static void *follow_thread(void *userdata) {
        follow_run(userdata);
        return NULL;
}

/* Dies unless the call ended as it must: OK, `end` with an exit code of 0,
 * all of the job's output and nothing else. */
static void follow_check(const Follow *f, uint64_t want_bytes) {
        if (f->error < 0)
                die("Logs %s: client error: %s", f->id, strerror(-f->error));
        if (f->status != 0)
                die("Logs %s: %s: %s", f->id, tc_status_name(f->status) ?: "?", f->details);
        if (!f->got_end || f->end_state != JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED || f->end_exit_code != 0)
                die("Logs %s: no end, or the job did not exit with 0 (state %d, code %d)", f->id, f->end_state,
                    f->end_exit_code);
        if (want_bytes > 0 && f->sink.bytes != want_bytes)
                die("Logs %s: %" PRIu64 " bytes received, %" PRIu64 " written", f->id, f->sink.bytes, want_bytes);
        if (f->stderr_bytes > 0 || f->gaps > 0)
                die("Logs %s: %" PRIu64 " bytes of stderr, %" PRIu64 " gaps", f->id, f->stderr_bytes, f->gaps);
}

/* Established connections to port, from /proc/net/tcp{,6} (in the VM, only
 * ours): tells whether the channels got a TCP (and TLS) connection each or
 * gRPC shares one between them. */
static unsigned count_connections(unsigned port) {
        static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
        unsigned n = 0;

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_fclose_ FILE *f = fopen(files[i], "re");
                char line[512];

                if (!f)
                        continue;
                while (fgets(line, sizeof(line), f)) {
                        unsigned lport, rport, state;

                        if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%x %x", &lport, &rport, &state) == 3 &&
                            rport == port && state == 0x01)
                                n++;
                }
        }
        return n;
}

static bool port_listening(unsigned port) {
        static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_fclose_ FILE *f = fopen(files[i], "re");
                char line[512];

                if (!f)
                        continue;
                while (fgets(line, sizeof(line), f)) {
                        unsigned lport, state;

                        if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", &lport, &state) == 2 &&
                            lport == port && state == 0x0A)
                                return true;
                }
        }
        return false;
}

/* ---- processes ----------------------------------------------------------- */

static int devnull = -EBADF;

/* in/out/err: fds to become 0/1/2 of the child, or -1 for /dev/null. */
static pid_t spawn(char *const *argv, int in, int out, int err) {
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int r;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in >= 0 ? in : devnull, STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&fa, out >= 0 ? out : devnull, STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, err >= 0 ? err : devnull, STDERR_FILENO);
        r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                die("cannot run %s: %s", argv[0], strerror(r));
        return pid;
}

/* Waits for pid; returns its wait status, its CPU time in *ret_cpu_s. */
static int reap(pid_t pid, double *ret_cpu_s) {
        struct rusage ru = {};
        int status = 0;

        while (wait4(pid, &status, 0, &ru) < 0)
                if (errno != EINTR)
                        die("wait4: %m");
        if (ret_cpu_s)
                *ret_cpu_s = (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                             (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
        return status;
}

static void run_checked(char *const *argv) {
        int status = reap(spawn(argv, -1, -1, STDERR_FILENO), NULL);

        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                die("%s failed (wait status %d)", argv[0], status);
}

/* Reads fd into s until EOF, until s has want_bytes of payload or want_lines
 * latency samples (0: no such limit), or for at most timeout_s.  Returns
 * false on timeout. */
static bool read_into(int fd, Sink *s, uint64_t want_bytes, size_t want_lines, unsigned timeout_s) {
        static uint8_t buf[64 * 1024];
        uint64_t deadline = now_nsec(CLOCK_MONOTONIC) + (uint64_t) timeout_s * NSEC_PER_SEC;

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now = now_nsec(CLOCK_MONOTONIC);
                ssize_t n;
                int r;

                if ((want_bytes > 0 && s->bytes >= want_bytes) || (want_lines > 0 && s->n_latency >= want_lines))
                        return true;
                if (now >= deadline)
                        return false;
                r = poll(&p, 1, (int) ((deadline - now) / 1000000) + 1);
                if (r < 0 && errno != EINTR)
                        die("poll: %m");
                if (r <= 0)
                        continue;
                n = read(fd, buf, sizeof(buf));
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        die("read: %m");
                }
                if (n == 0)
                        return true;
                sink_feed(s, buf, (size_t) n);
        }
}

/* ---- the measurements ---------------------------------------------------- */

#define REPS_MAX 9

/* One path's throughput over the repetitions. */
typedef struct Throughput {
        double mibs[REPS_MAX];
        unsigned n;
        uint64_t bytes;                 /* payload received, all repetitions */
        double cpu_a_s, cpu_b_s;        /* the path's two sides, all repetitions */
        double busy_pct[REPS_MAX];
        bool incomplete;
} Throughput;

static void throughput_add(Throughput *t, double mibs, uint64_t bytes, double cpu_a_s, double cpu_b_s,
                           double busy_pct) {
        assert(t->n < REPS_MAX);
        t->busy_pct[t->n] = busy_pct;
        t->mibs[t->n++] = mibs;
        t->bytes += bytes;
        t->cpu_a_s += cpu_a_s;
        t->cpu_b_s += cpu_b_s;
}

static double median(const double *v, unsigned n) {
        double sorted[REPS_MAX];

        if (n == 0)
                return 0;
        memcpy(sorted, v, n * sizeof(double));
        qsort(sorted, n, sizeof(double), cmp_double);
        return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

static double minimum(const double *v, unsigned n) {
        double m = n > 0 ? v[0] : 0;

        for (unsigned i = 1; i < n; i++)
                if (v[i] < m)
                        m = v[i];
        return m;
}

static double maximum(const double *v, unsigned n) {
        double m = n > 0 ? v[0] : 0;

        for (unsigned i = 1; i < n; i++)
                if (v[i] > m)
                        m = v[i];
        return m;
}

/* CPU seconds per GiB delivered. */
static double per_gib(double cpu_s, uint64_t bytes) {
        return bytes > 0 ? cpu_s / ((double) bytes / (1 << 30)) : 0;
}

typedef struct Results {
        unsigned reps;
        Throughput logs, tls, journal;  /* interleaved: Logs, raw TLS, journald; again... */
        double first_byte_s[REPS_MAX];  /* Start returned → the follower's first byte */
        double job_s[REPS_MAX];         /* the job's life, start to end, as the daemon saw it */
        double lag_s[REPS_MAX];         /* the job's end → the follower's last byte */
        double chunk_kib[REPS_MAX];     /* mean stdout chunk */
        double fan_chunk_kib;

        double fan_aggregate, fan_min, fan_median;
        CpuUse fan_cpu;
        unsigned fan_connections;

        double logs_p50, logs_p99;
        size_t logs_samples;

        double journal_p50, journal_p99;
        size_t journal_samples;
} Results;

static void bench_one_follower(Results *res, unsigned rep) {
        _cleanup_free_ char *bytes = xasprintf("%" PRIu64, arg.bytes), *line = xasprintf("%" PRIu64, arg.line_len);
        char *argv[] = { (char *) arg.writer, (char *) "bulk", bytes, line, NULL };
        _cleanup_free_ char *id = NULL;
        Follow f = {};
        CpuSnap snap;
        CpuUse cpu;
        uint64_t t;

        f.conn = bench_connect(USER);
        cpu_snap(&snap);
        id = start_job(f.conn, argv);
        t = now_nsec(CLOCK_MONOTONIC);
        f.id = id;
        follow_run(&f);
        cpu = cpu_since(&snap);
        follow_check(&f, arg.bytes);
        res->first_byte_s[rep] = (double) (f.sink.t_first - t) / 1e9;
        res->job_s[rep] = (double) (f.job_end_us - f.job_start_us) / 1e6;
        res->lag_s[rep] = ((double) f.last_real_ns / 1e3 - (double) f.job_end_us) / 1e6;
        res->chunk_kib[rep] = (double) f.sink.bytes / 1024.0 / (double) (f.chunks ?: 1);
        throughput_add(&res->logs, sink_mib_per_s(&f.sink), f.sink.bytes, cpu.daemon_s, cpu.self_s, cpu.busy_pct);
        progress("Logs, 1 follower: %" PRIu64 " bytes in %.2f s: %.2f MiB/s (Start call %.2f s, "
                 "then %.2f s to the first byte); job ran %.2f s, last byte %.2f s after its end; "
                 "%" PRIu64 " chunks of %.1f KiB on average", f.sink.bytes,
                 (double) (f.sink.t_last - f.sink.t_first) / 1e9, sink_mib_per_s(&f.sink),
                 start_call_s[n_start_calls - 1], res->first_byte_s[rep], res->job_s[rep], res->lag_s[rep], f.chunks,
                 res->chunk_kib[rep]);
        sink_done(&f.sink);
        tc_disconnect(f.conn);
}

static void bench_many_followers(Results *res) {
        _cleanup_free_ char *bytes = xasprintf("%" PRIu64, arg.fanout_bytes),
                            *line = xasprintf("%" PRIu64, arg.line_len);
        char *argv[] = { (char *) arg.writer, (char *) "bulk", bytes, line, NULL };
        _cleanup_free_ Follow *f = calloc(arg.followers, sizeof(Follow));
        _cleanup_free_ double *rates = calloc(arg.followers, sizeof(double));
        _cleanup_free_ char *id = NULL;
        uint64_t first = UINT64_MAX, last = 0, total = 0, chunks = 0, t0;
        TcConn *control;
        CpuSnap snap;

        if (!f || !rates)
                die("out of memory");

        /* Every connection is made and up before the job starts: the
         * handshakes are not what is measured. */
        t0 = now_nsec(CLOCK_MONOTONIC);
        for (unsigned i = 0; i < arg.followers; i++)
                f[i].conn = bench_connect(USER);
        control = bench_connect(USER);
        res->fan_connections = count_connections(50051);
        progress("%u connections up in %.1f s; %u TCP connections to :50051", arg.followers + 1,
                 (double) (now_nsec(CLOCK_MONOTONIC) - t0) / 1e9, res->fan_connections);

        cpu_snap(&snap);
        id = start_job(control, argv);
        for (unsigned i = 0; i < arg.followers; i++) {
                int r;

                f[i].id = id;
                r = pthread_create(&f[i].thread, NULL, follow_thread, &f[i]);
                if (r != 0)
                        die("pthread_create: %s", strerror(r));
        }
        for (unsigned i = 0; i < arg.followers; i++)
                (void) pthread_join(f[i].thread, NULL);
        res->fan_cpu = cpu_since(&snap);

        for (unsigned i = 0; i < arg.followers; i++) {
                follow_check(&f[i], arg.fanout_bytes);
                if (f[i].sink.t_first < first)
                        first = f[i].sink.t_first;
                if (f[i].sink.t_last > last)
                        last = f[i].sink.t_last;
                total += f[i].sink.bytes;
                chunks += f[i].chunks;
                rates[i] = sink_mib_per_s(&f[i].sink);
                sink_done(&f[i].sink);
                tc_disconnect(f[i].conn);
        }
        tc_disconnect(control);
        qsort(rates, arg.followers, sizeof(double), cmp_double);
        res->fan_aggregate = mib_per_s(total, last - first);
        res->fan_chunk_kib = (double) total / 1024.0 / (double) (chunks ?: 1);
        res->fan_min = rates[0];
        res->fan_median = rates[arg.followers / 2];
        progress("Logs, %u followers: %" PRIu64 " bytes in %.2f s: %.1f MiB/s; per follower min %.2f, "
                 "median %.2f, max %.2f MiB/s", arg.followers, total, (double) (last - first) / 1e9,
                 res->fan_aggregate, res->fan_min, res->fan_median, rates[arg.followers - 1]);
}

static void bench_logs_latency(Results *res) {
        _cleanup_free_ char *lines = xasprintf("%u", arg.stamps), *interval = xasprintf("%u", arg.stamp_interval_ms);
        /* The first line only after the follower is surely attached, as for
         * journald below. */
        char *argv[] = { (char *) arg.writer, (char *) "stamp", lines, interval, (char *) "2000", NULL };
        _cleanup_free_ char *id = NULL;
        Follow f = { .sink.stamps = true };

        f.conn = bench_connect(USER);
        id = start_job(f.conn, argv);
        f.id = id;
        follow_run(&f);
        follow_check(&f, 0);
        if (f.sink.n_latency != arg.stamps || f.sink.n_other_lines > 0)
                die("Logs latency: %zu stamps and %zu other lines received, %u written", f.sink.n_latency,
                    f.sink.n_other_lines, arg.stamps);
        sink_report_slow(&f.sink, "Logs latency", 100);
        res->logs_samples = f.sink.n_latency;
        res->logs_p50 = sink_percentile_ms(&f.sink, 0.50);
        res->logs_p99 = sink_percentile_ms(&f.sink, 0.99);
        progress("Logs latency: %zu lines, p50 %.2f ms, p99 %.2f ms, max %.2f ms", res->logs_samples,
                 res->logs_p50, res->logs_p99, sink_percentile_ms(&f.sink, 1.0));
        sink_done(&f.sink);
        tc_disconnect(f.conn);
}

/* journalctl -f on a unit that does not exist yet, then the job through
 * systemd-run.  Returns journalctl's pid and its stdout. */
static pid_t journal_follow(const char *unit, int *ret_fd) {
        _cleanup_free_ char *u = xasprintf("--unit=%s", unit);
        char *argv[] = { (char *) "journalctl", (char *) "-f", (char *) "-n", (char *) "all", (char *) "-o",
                         (char *) "cat", u, NULL };
        int p[2];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                die("pipe2: %m");
        pid = spawn(argv, -1, p[1], STDERR_FILENO);
        safe_close(p[1]);
        *ret_fd = p[0];
        /* journalctl must be watching before the first line: give it the time
         * to open the journal (the stamp job also waits before writing). */
        usleep(1000000);
        return pid;
}

static void journal_run(const char *unit, char **job_argv) {
        _cleanup_free_ char *u = xasprintf("--unit=%s", unit);
        char *argv[32] = { (char *) "systemd-run", (char *) "--quiet", u, (char *) "-p",
                           (char *) "StandardOutput=journal", (char *) "-p", (char *) "StandardError=journal",
                           /* journald's default of 10000 lines per 30 s would drop most of it */
                           (char *) "-p", (char *) "LogRateLimitIntervalSec=0" };
        size_t n = 9;

        for (char **a = job_argv; *a && n < ELEMENTSOF(argv) - 1; a++)
                argv[n++] = *a;
        argv[n] = NULL;
        run_checked(argv);
}

static void bench_journal(Results *res, unsigned rep) {
        _cleanup_free_ char *bytes = xasprintf("%" PRIu64, arg.journal_bytes),
                            *line = xasprintf("%" PRIu64, arg.line_len),
                            *unit = xasprintf("logs-bench-journal-%d-%u.service", (int) getpid(), rep);
        char *argv[] = { (char *) arg.writer, (char *) "bulk", bytes, line, NULL };
        _cleanup_close_ int fd = -EBADF;
        Sink s = { .x_only = true };
        double journalctl_s = 0;
        bool complete;
        CpuSnap snap;
        CpuUse cpu;
        pid_t pid;

        pid = journal_follow(unit, &fd);
        cpu_snap(&snap);
        journal_run(unit, argv);
        complete = read_into(fd, &s, arg.journal_bytes, 0, arg.journal_timeout_s);
        cpu = cpu_since(&snap);
        (void) kill(pid, SIGTERM);
        (void) reap(pid, &journalctl_s);
        if (!complete)
                res->journal.incomplete = true;
        throughput_add(&res->journal, sink_mib_per_s(&s), s.bytes, cpu.journald_s, journalctl_s, cpu.busy_pct);
        progress("journald: %" PRIu64 " of %" PRIu64 " bytes in %.2f s: %.2f MiB/s%s", s.bytes, arg.journal_bytes,
                 (double) (s.t_last - s.t_first) / 1e9, sink_mib_per_s(&s), complete ? "" : " (timed out)");
        sink_done(&s);
}

static void bench_journal_latency(Results *res) {
        _cleanup_free_ char *lines = xasprintf("%u", arg.stamps), *interval = xasprintf("%u", arg.stamp_interval_ms),
                            *unit = xasprintf("logs-bench-stamp-%d.service", (int) getpid());
        /* systemd-run and journalctl's start-up must be over before the first
         * line. */
        char *argv[] = { (char *) arg.writer, (char *) "stamp", lines, interval, (char *) "2000", NULL };
        _cleanup_close_ int fd = -EBADF;
        Sink s = { .x_only = false, .stamps = true };
        pid_t pid;
        bool complete;

        pid = journal_follow(unit, &fd);
        journal_run(unit, argv);
        complete = read_into(fd, &s, 0, arg.stamps, 120 + arg.stamps * arg.stamp_interval_ms / 1000);
        (void) kill(pid, SIGTERM);
        (void) reap(pid, NULL);
        if (!complete)
                die("journald latency: %zu of %u lines in time", s.n_latency, arg.stamps);
        sink_report_slow(&s, "journald latency", 1000);
        res->journal_samples = s.n_latency;
        res->journal_p50 = sink_percentile_ms(&s, 0.50);
        res->journal_p99 = sink_percentile_ms(&s, 0.99);
        progress("journald latency: %zu lines, p50 %.2f ms, p99 %.2f ms, max %.2f ms", s.n_latency,
                 res->journal_p50, res->journal_p99, sink_percentile_ms(&s, 1.0));
        sink_done(&s);
}

static void bench_raw_tls(Results *res) {
        _cleanup_free_ char *bytes = xasprintf("%" PRIu64, arg.bytes), *line = xasprintf("%" PRIu64, arg.line_len),
                            *port = xasprintf("%d", RAW_TLS_PORT),
                            *connect_to = xasprintf("localhost:%d", RAW_TLS_PORT);
        char *writer_argv[] = { (char *) arg.writer, (char *) "bulk", bytes, line, NULL };
        /* The daemon's own certificate and CA, mutual TLS 1.3 as with gRPC. */
        char *server_argv[] = { (char *) "openssl", (char *) "s_server", (char *) "-quiet", (char *) "-tls1_3",
                                (char *) "-accept", port, (char *) "-naccept", (char *) "1",
                                (char *) "-cert", (char *) TLS_DIR "/server.crt",
                                (char *) "-key", (char *) TLS_DIR "/server.key",
                                (char *) "-CAfile", (char *) TLS_DIR "/ca.crt", (char *) "-Verify", (char *) "1",
                                NULL };
        char *client_argv[] = { (char *) "openssl", (char *) "s_client", (char *) "-quiet", (char *) "-tls1_3",
                                (char *) "-connect", connect_to,
                                (char *) "-cert", (char *) TLS_DIR "/users/" USER "/client.crt",
                                (char *) "-key", (char *) TLS_DIR "/users/" USER "/client.key",
                                (char *) "-CAfile", (char *) TLS_DIR "/ca.crt", NULL };
        _cleanup_close_pair_ int hold[2] = { -EBADF, -EBADF }, data[2] = { -EBADF, -EBADF },
                                 out[2] = { -EBADF, -EBADF };
        pid_t writer, server, client;
        double cpu_server = 0, cpu_client = 0;
        bool complete;
        Sink s = { .x_only = true };
        CpuSnap snap;
        CpuUse cpu;

        /* writer | s_client -> s_server -> us.  Not the other way round:
         * s_server reads its stdin in the same poll as the client's hello,
         * and when both are ready it does the handshake inside the SSL_write()
         * of the data, then blocks in SSL_read() for the hello it already
         * consumed (OpenSSL 3.0 apps/s_server.c sv_body(); it hung the
         * benchmark).  s_client reads its stdin only after the handshake.
         * s_server's stdin is a pipe nobody writes to: at EOF, even
         * /dev/null's, it ends the connection. */
        if (pipe2(hold, O_CLOEXEC) < 0 || pipe2(data, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
                die("pipe2: %m");
        server = spawn(server_argv, hold[0], out[1], -1);
        hold[0] = safe_close(hold[0]);
        out[1] = safe_close(out[1]);
        for (unsigned i = 0; !port_listening(RAW_TLS_PORT); i++) {
                if (i == 300)
                        die("openssl s_server is not listening on port %d", RAW_TLS_PORT);
                usleep(100000);
        }

        cpu_snap(&snap);
        writer = spawn(writer_argv, -1, data[1], STDERR_FILENO);
        client = spawn(client_argv, data[0], -1, -1);
        data[0] = safe_close(data[0]);
        data[1] = safe_close(data[1]);
        complete = read_into(out[0], &s, arg.bytes, 0, 600);
        cpu = cpu_since(&snap);

        (void) kill(client, SIGTERM);
        (void) kill(server, SIGTERM);
        (void) reap(client, &cpu_client);
        (void) reap(server, &cpu_server);
        (void) reap(writer, NULL);
        if (!complete || s.bytes != arg.bytes)
                die("raw TLS: %" PRIu64 " bytes received, %" PRIu64 " sent%s", s.bytes, arg.bytes,
                    complete ? "" : " (timed out)");
        /* Their whole lives: start-up and handshake included. */
        throughput_add(&res->tls, sink_mib_per_s(&s), s.bytes, cpu_server, cpu_client, cpu.busy_pct);
        progress("raw TLS: %" PRIu64 " bytes in %.2f s: %.2f MiB/s", s.bytes, (double) (s.t_last - s.t_first) / 1e9,
                 sink_mib_per_s(&s));
        sink_done(&s);
}

/* ---- the table ----------------------------------------------------------- */

_printf_(3, 4) static void row(const char *what, const char *target, const char *format, ...) {
        char value[128];
        va_list ap;

        va_start(ap, format);
        vsnprintf(value, sizeof(value), format, ap);
        va_end(ap);
        printf("| %-62s | %-25s | %-44s |\n", what, value, target);
}

static void row_throughput(const char *what, const Throughput *t, unsigned reps, const char *target) {
        if (reps > 1)
                row(what, target, "%.2f MiB/s (%.2f-%.2f)", median(t->mibs, t->n), minimum(t->mibs, t->n),
                    maximum(t->mibs, t->n));
        else
                row(what, target, "%.2f MiB/s", median(t->mibs, t->n));
}

/* "a/b/c": the ratio within each repetition, which ran under the same load
 * of the host, unlike the medians. */
static void per_rep_ratios(const Throughput *num, const Throughput *den, char *buf, size_t size) {
        size_t n = 0;

        buf[0] = '\0';
        for (unsigned i = 0; i < num->n && i < den->n && n < size; i++)
                n += (size_t) snprintf(buf + n, size - n, "%s%.1f", i > 0 ? "/" : "",
                                       den->mibs[i] > 0 ? num->mibs[i] / den->mibs[i] : 0);
}

static void print_table(const Results *r) {
        double logs = median(r->logs.mibs, r->logs.n), tls = median(r->tls.mibs, r->tls.n),
               journal = median(r->journal.mibs, r->journal.n);
        double logs_vs_journal = journal > 0 ? logs / journal : 0, tls_vs_logs = logs > 0 ? tls / logs : 0;
        double later[ELEMENTSOF(start_call_s)];
        char what[128], target[128], of[32] = "", ratios[64];

        if (r->reps > 1)
                snprintf(of, sizeof(of), ", median of %u", r->reps);

        printf("\n");
        printf("| %-62s | %-25s | %-44s |\n", "measurement", "value", "target / ratio");
        printf("| %.62s | %.25s | %.44s |\n",
               "----------------------------------------------------------------------",
               "----------------------------------------------------------------------",
               "----------------------------------------------------------------------");

        snprintf(what, sizeof(what), "Logs, 1 follower, %" PRIu64 " MiB in %" PRIu64 "-byte lines%s", arg.bytes >> 20,
                 arg.line_len, of);
        per_rep_ratios(&r->logs, &r->journal, ratios, sizeof(ratios));
        snprintf(target, sizeof(target), "%.1fx journald (%s; >= 10x: %s)", logs_vs_journal, ratios,
                 logs_vs_journal >= 10 ? "met" : "NOT met");
        row_throughput(what, &r->logs, r->reps, target);

        snprintf(what, sizeof(what), "Logs, %u followers of one job, %" PRIu64 " MiB: aggregate", arg.followers,
                 arg.fanout_bytes >> 20);
        snprintf(target, sizeof(target), "%.2fx 1 follower", logs > 0 ? r->fan_aggregate / logs : 0);
        row(what, target, "%.2f MiB/s", r->fan_aggregate);
        snprintf(what, sizeof(what), "Logs, %u followers: per follower min / median", arg.followers);
        row(what, "", "%.3f / %.3f MiB/s", r->fan_min, r->fan_median);

        snprintf(what, sizeof(what), "Logs latency write -> receipt, p50 / p99 (%zu lines)", r->logs_samples);
        snprintf(target, sizeof(target), "p50 %.0fx / p99 %.1fx lower than journald",
                 r->logs_p50 > 0 ? r->journal_p50 / r->logs_p50 : 0,
                 r->logs_p99 > 0 ? r->journal_p99 / r->logs_p99 : 0);
        row(what, target, "%.1f / %.1f ms", r->logs_p50, r->logs_p99);

        snprintf(what, sizeof(what), "journald: systemd-run + journalctl -f, %" PRIu64 " MiB%s%s",
                 arg.journal_bytes >> 20, of, r->journal.incomplete ? " (TIMED OUT)" : "");
        row_throughput(what, &r->journal, r->reps, "baseline");
        snprintf(what, sizeof(what), "journald latency, p50 / p99 (%zu lines)", r->journal_samples);
        row(what, "baseline", "%.1f / %.1f ms", r->journal_p50, r->journal_p99);

        snprintf(what, sizeof(what), "raw TLS 1.3: openssl s_client -> s_server, %" PRIu64 " MiB%s",
                 arg.bytes >> 20, of);
        per_rep_ratios(&r->tls, &r->logs, ratios, sizeof(ratios));
        snprintf(target, sizeof(target), "%.2fx Logs (%s; within 2x: %s)", tls_vs_logs, ratios,
                 tls_vs_logs <= 2 ? "met" : "NOT met");
        row_throughput(what, &r->tls, r->reps, target);

        /* Where the time and the CPU went. */
        memcpy(later, start_call_s + 1, (n_start_calls - 1) * sizeof(double));
        qsort(later, n_start_calls - 1, sizeof(double), cmp_double);
        snprintf(what, sizeof(what), "Start call: first / median of the %u others", n_start_calls - 1);
        row(what, "", "%.2f / %.2f s", start_call_s[0], later[(n_start_calls - 1) / 2]);
        row("Logs: Start returned -> first byte at the follower (median)", "", "%.2f s",
            median(r->first_byte_s, r->reps));
        row("Logs 1 follower: job's life (Start to end) / end -> last byte", "", "%.2f / %.2f s",
            median(r->job_s, r->reps), median(r->lag_s, r->reps));
        row("Logs: mean chunk, 1 follower / N followers", "", "%.1f / %.1f KiB", median(r->chunk_kib, r->reps),
            r->fan_chunk_kib);
        row("CPU s/GiB, Logs 1 follower: jobrunnerd / client", "", "%.0f / %.0f",
            per_gib(r->logs.cpu_a_s, r->logs.bytes), per_gib(r->logs.cpu_b_s, r->logs.bytes));
        row("CPU s/GiB, Logs N followers: jobrunnerd / clients", "", "%.0f / %.0f",
            per_gib(r->fan_cpu.daemon_s, arg.fanout_bytes * arg.followers),
            per_gib(r->fan_cpu.self_s, arg.fanout_bytes * arg.followers));
        row("CPU s/GiB, journald path: journald / journalctl", "", "%.0f / %.0f",
            per_gib(r->journal.cpu_a_s, r->journal.bytes), per_gib(r->journal.cpu_b_s, r->journal.bytes));
        row("CPU s/GiB, raw TLS: s_server (receives) / s_client (sends)", "", "%.0f / %.0f",
            per_gib(r->tls.cpu_a_s, r->tls.bytes), per_gib(r->tls.cpu_b_s, r->tls.bytes));
        row("VM CPUs busy: Logs 1 / Logs N / journald / raw TLS", "", "%.0f / %.0f / %.0f / %.0f %%",
            median(r->logs.busy_pct, r->logs.n), r->fan_cpu.busy_pct, median(r->journal.busy_pct, r->journal.n),
            median(r->tls.busy_pct, r->tls.n));
        snprintf(what, sizeof(what), "TCP connections of the %u followers", arg.followers);
        snprintf(target, sizeof(target), "%s", r->fan_connections == arg.followers + 1 ? "one each" : "SHARED");
        row(what, target, "%u", r->fan_connections - 1);
        fflush(stdout);
}

/* ---- main ---------------------------------------------------------------- */

static int parse_size(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || end == s || s[0] == '-')
                return -EINVAL;
        if (strcmp(end, "M") == 0)
                v <<= 20;
        else if (strcmp(end, "K") == 0)
                v <<= 10;
        else if (*end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

static void help(void) {
        printf("Usage: logs-bench WRITER [OPTIONS]\n"
               "Runs as root in the test VM with jobrunnerd installed.  WRITER is logs-writer,\n"
               "at a path the jobs' dynamic users can execute.\n"
               "  --bytes N          one follower, raw TLS (default %" PRIu64 "M)\n"
               "  --fanout-bytes N   the job of the many followers (default %" PRIu64 "M)\n"
               "  --followers N      (default %u)\n"
               "  --journal-bytes N  the journald path (default %" PRIu64 "M)\n"
               "  --line-len N       bytes per line of the bulk jobs (default %" PRIu64 ")\n"
               "  --stamps N         lines of the latency jobs, one per 10 ms (default %u)\n"
               "  --reps N           repetitions of 1 follower / raw TLS / journald, interleaved\n"
               "                     (default %u, at most %u)\n"
               "Sizes take a K or M suffix.\n",
               arg.bytes >> 20, arg.fanout_bytes >> 20, arg.followers, arg.journal_bytes >> 20, arg.line_len,
               arg.stamps, arg.reps, REPS_MAX);
}

static void parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "bytes", required_argument, NULL, 'b' },
                { "fanout-bytes", required_argument, NULL, 'f' },
                { "followers", required_argument, NULL, 'n' },
                { "journal-bytes", required_argument, NULL, 'j' },
                { "line-len", required_argument, NULL, 'l' },
                { "stamps", required_argument, NULL, 's' },
                { "reps", required_argument, NULL, 'r' },
                {}
        };
        uint64_t v;
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (c == 'h') {
                        help();
                        exit(EXIT_SUCCESS);
                }
                if (c == '?' || parse_size(optarg, &v) < 0 || v == 0)
                        die("bad option or value; see --help");
                switch (c) {
                case 'b': arg.bytes = v; break;
                case 'f': arg.fanout_bytes = v; break;
                case 'n': arg.followers = v > 256 ? 256 : (unsigned) v; break;
                case 'j': arg.journal_bytes = v; break;
                case 'l': arg.line_len = v > 65536 ? 65536 : v; break;
                case 's': arg.stamps = (unsigned) v; break;
                case 'r': arg.reps = v > REPS_MAX ? REPS_MAX : (unsigned) v; break;
                default: break;
                }
        }
        if (optind != argc - 1)
                die("expected the path of logs-writer; see --help");
        arg.writer = argv[optind];
        /* Whole lines only: journald adds a newline to a last partial one. */
        arg.bytes -= arg.bytes % arg.line_len;
        arg.fanout_bytes -= arg.fanout_bytes % arg.line_len;
        arg.journal_bytes -= arg.journal_bytes % arg.line_len;
}

int main(int argc, char *argv[]) {
        Results res = {};

        bench_init("logs-bench");
        parse_argv(argc, argv);
        if (geteuid() != 0)
                die("must run as root (in the test VM: bench/logs)");
        (void) signal(SIGPIPE, SIG_IGN);
        devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull < 0)
                die("/dev/null: %m");

        /* Interleaved, so that the ratios compare runs under the same load
         * of the host. */
        res.reps = arg.reps;
        for (unsigned i = 0; i < arg.reps; i++) {
                bench_one_follower(&res, i);
                bench_raw_tls(&res);
                bench_journal(&res, i);
                progress("repetition %u: raw TLS / Logs %.2fx, Logs / journald %.2fx", i + 1,
                         res.tls.mibs[i] / res.logs.mibs[i], res.logs.mibs[i] / res.journal.mibs[i]);
        }
        bench_many_followers(&res);
        bench_logs_latency(&res);
        bench_journal_latency(&res);

        print_table(&res);
        return EXIT_SUCCESS;
}
