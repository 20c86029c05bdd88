/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The load benchmark, run as root in the test VM with jobrunnerd installed
 * (bench/load does both):
 *   1. JOBS jobs (load-job: a little output, then sleep) started through
 *      the API by CLIENTS concurrent clients, each its own user and TLS
 *      connection, --in-flight Start calls in flight each (default 1);
 *   2. List with all of them running;
 *   3. ENDED ended jobs written into the state directory (load-ended.h),
 *      then the daemon restarted: it loads them and re-attaches to the
 *      running ones;
 *   4. FOLLOWERS Logs follow=true calls spread over the jobs, each its own
 *      connection, until each has the job's whole output;
 *   5. every job stopped by its client; each follower must get the rest and
 *      the end;
 *   6. Logs of every job: exactly its output, and the end, STOPPED;
 *   7. List with the ended jobs, once the retention count limit trimmed
 *      them.
 * The daemon's RSS and open fds come from /proc/<MainPID> between the
 * phases.  Prints one table.
 *
 * Usage: load-bench JOB [OPTIONS]   (see --help) */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench-util.h"
#include "load-daemon.h"
#include "load-ended.h"
#include "load-output.h"
#include "time-util.h"

#define ADMIN "root"
#define STATE_DIR "/var/lib/jobrunner"
#define CLIENTS_MAX 64
#define IN_FLIGHT_MAX 1024
#define LIST_PAGE_MAX 1000
/* libjobrunner's default count limit of ended jobs (--max-ended-jobs). */
#define MAX_ENDED_JOBS 10000u
/* Generous: TCG is slow, and a stuck phase fails the run, not hangs it. */
#define CALL_DEADLINE_MS INT64_C(1800000)

static struct {
        const char *job_path;
        unsigned jobs;
        unsigned clients;
        unsigned in_flight;
        unsigned followers;
        unsigned lines;
        unsigned ended;
        unsigned list_reps;
} arg = {
        .jobs = 1000,
        .clients = 8,
        .in_flight = 1,
        .followers = 100,
        .lines = 8,
        .ended = 10000,
        .list_reps = 10,
};

/* ---- the jobs -------------------------------------------------------------- */

typedef struct Job {
        char id[33];
        char *out, *err;                /* what it writes */
        size_t out_len, err_len;
} Job;

static Job *jobs;

/* Job k belongs to client k % clients, user load<client + 1>. */
static const char *client_user(unsigned client) {
        static char users[CLIENTS_MAX][16];

        if (!users[client][0])
                snprintf(users[client], sizeof(users[client]), "load%u", client + 1);
        return users[client];
}

static void job_expect(Job *j, unsigned k) {
        char line[LOAD_LINE_MAX];
        size_t n = 0;

        j->out = malloc((size_t) arg.lines * LOAD_LINE_MAX + 1);
        if (!j->out)
                die("out of memory");
        for (unsigned i = 0; i < arg.lines; i++) {
                size_t l = load_stdout_line(line, k, i);

                memcpy(j->out + n, line, l);
                n += l;
        }
        j->out_len = n;
        j->err_len = load_stderr_line(line, k);
        j->err = strdup(line);
        if (!j->err)
                die("out of memory");
}

/* ---- what one Logs call received -------------------------------------------- */

typedef struct Received {
        char *out, *err;
        size_t out_len, err_len;
        unsigned gaps;
        bool got_end;
        int end_state;
        int error;                      /* the client's negative errno */
        int status;                     /* the call's gRPC status */
        char details[256];
} Received;

static void append(char **buf, size_t *len, const uint8_t *data, size_t n) {
        char *p = realloc(*buf, *len + n + 1);

        if (!p)
                die("out of memory");
        memcpy(p + *len, data, n);
        *len += n;
        p[*len] = '\0';
        *buf = p;
}

static bool received_all_output(const Received *r, const Job *j) {
        return r->out_len == j->out_len && r->err_len == j->err_len && r->gaps == 0 &&
               memcmp(r->out, j->out, j->out_len) == 0 && memcmp(r->err, j->err, j->err_len) == 0;
}

/* A Logs call that ended as the benchmark wants: OK, the whole output and
 * nothing else, and the end, STOPPED. */
static bool received_stopped_job(const Received *r, const Job *j) {
        return r->error == 0 && r->status == 0 && received_all_output(r, j) && r->got_end &&
               r->end_state == JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED;
}

static void received_done(Received *r) {
        free(r->out);
        free(r->err);
        *r = (Received) {};
}

/* Reads one Logs call to its end; on_message (may be NULL) runs after each
 * message. */
static void logs_read(TcConn *c, const char *id, bool follow, Received *r, void (*on_message)(void *userdata),
                      void *userdata) {
        Jobrunner__V1__LogsRequest req = JOBRUNNER__V1__LOGS_REQUEST__INIT;
        TcStream *s = NULL;
        const char *details = NULL;
        int k;

        *r = (Received) { .status = -1 };
        req.id = (char *) id;
        req.follow = follow;
        k = tc_logs_open(c, &req, CALL_DEADLINE_MS, &s);
        if (k < 0) {
                r->error = k;
                return;
        }
        for (;;) {
                Jobrunner__V1__LogsResponse *m;

                k = tc_stream_next(s, &m);
                if (k <= 0)
                        break;
                switch (m->event_case) {
                case JOBRUNNER__V1__LOGS_RESPONSE__EVENT_CHUNK:
                        if (m->chunk->stream == JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT)
                                append(&r->out, &r->out_len, m->chunk->data.data, m->chunk->data.len);
                        else
                                append(&r->err, &r->err_len, m->chunk->data.data, m->chunk->data.len);
                        break;
                case JOBRUNNER__V1__LOGS_RESPONSE__EVENT_GAP:
                        r->gaps++;
                        break;
                case JOBRUNNER__V1__LOGS_RESPONSE__EVENT_END:
                        r->got_end = true;
                        r->end_state = m->end->state;
                        break;
                default:
                        break;
                }
                jobrunner__v1__logs_response__free_unpacked(m, NULL);
                if (on_message)
                        on_message(userdata);
        }
        if (k < 0)
                r->error = k;
        else if (tc_stream_status(s, &r->status, &details) >= 0)
                snprintf(r->details, sizeof(r->details), "%s", details ?: "");
        tc_stream_free(s);
}

/* ---- the clients --------------------------------------------------------------- */

/* A phase's calls, one per job: unary ones in two halves, so that a
 * client can have several in flight; or one that runs to its end. */
typedef struct Op {
        TcUnary *(*begin)(TcConn *c, unsigned k);
        bool (*end)(TcUnary *u, unsigned k);
        bool (*run)(TcConn *c, unsigned k);
} Op;

typedef struct Client {
        unsigned index;
        TcConn *conn;
        pthread_t thread;
        const Op *op;
        unsigned failed;
} Client;

static Client clients[CLIENTS_MAX];
static double *call_s;                  /* per job: the last phase's call */

/* The client's jobs in order, up to in_flight calls at a time (run calls
 * one at a time), each waited for in the order they were made. */
static void *client_thread(void *userdata) {
        Client *c = userdata;
        TcUnary *pending[IN_FLIGHT_MAX];
        unsigned pending_k[IN_FLIGHT_MAX];
        uint64_t pending_t[IN_FLIGHT_MAX];
        unsigned next = c->index, head = 0, n = 0, window = c->op->run ? 1 : arg.in_flight;

        while (next < arg.jobs || n > 0) {
                unsigned k;
                bool ok;

                while (n < window && next < arg.jobs) {
                        unsigned slot = (head + n++) % IN_FLIGHT_MAX;

                        pending_k[slot] = next;
                        pending_t[slot] = now_nsec(CLOCK_MONOTONIC);
                        pending[slot] = c->op->run ? NULL : c->op->begin(c->conn, next);
                        next += arg.clients;
                }
                k = pending_k[head];
                ok = c->op->run ? c->op->run(c->conn, k) : c->op->end(pending[head], k);
                if (!ok)
                        c->failed++;
                call_s[k] = (double) (now_nsec(CLOCK_MONOTONIC) - pending_t[head]) / 1e9;
                head = (head + 1) % IN_FLIGHT_MAX;
                n--;
        }
        return NULL;
}

static void clients_disconnect(void) {
        for (unsigned i = 0; i < arg.clients; i++) {
                tc_disconnect(clients[i].conn);
                clients[i].conn = NULL;
        }
}

static void clients_connect(void) {
        clients_disconnect();
        for (unsigned i = 0; i < arg.clients; i++)
                clients[i] = (Client) { .index = i, .conn = bench_connect(client_user(i)) };
}

/* Every client does op for each of its jobs; returns the wall time and
 * the number of failed calls. */
static double clients_run(const Op *op, unsigned *ret_failed) {
        uint64_t t0 = now_nsec(CLOCK_MONOTONIC);

        *ret_failed = 0;
        for (unsigned i = 0; i < arg.clients; i++) {
                int r;

                clients[i].op = op;
                clients[i].failed = 0;
                r = pthread_create(&clients[i].thread, NULL, client_thread, &clients[i]);
                if (r != 0)
                        die("pthread_create: %s", strerror(r));
        }
        for (unsigned i = 0; i < arg.clients; i++) {
                (void) pthread_join(clients[i].thread, NULL);
                *ret_failed += clients[i].failed;
        }
        return (double) (now_nsec(CLOCK_MONOTONIC) - t0) / 1e9;
}

static TcUnary *call_begin(TcConn *c, const char *method, const ProtobufCMessage *req, unsigned k) {
        TcUnary *u;
        int r;

        r = tc_call_start(c, method, req, CALL_DEADLINE_MS, &u);
        if (r < 0)
                die("%s of job %u: %s", method, k, strerror(-r));
        return u;
}

static TcUnary *start_begin(TcConn *c, unsigned k) {
        _cleanup_free_ char *index = xasprintf("%u", k), *lines = xasprintf("%u", arg.lines);
        char *argv[] = { (char *) arg.job_path, index, lines };
        Jobrunner__V1__JobSpec spec = JOBRUNNER__V1__JOB_SPEC__INIT;
        Jobrunner__V1__StartRequest req = JOBRUNNER__V1__START_REQUEST__INIT;

        spec.n_argv = ELEMENTSOF(argv);
        spec.argv = argv;
        req.spec = &spec;
        return call_begin(c, "Start", &req.base, k);
}

static bool start_end(TcUnary *u, unsigned k) {
        Jobrunner__V1__StartResponse *resp = NULL;
        _cleanup_free_ char *details = NULL;
        int r, status = -1;

        r = tc_call_wait(u, &jobrunner__v1__start_response__descriptor, &status, &details, (ProtobufCMessage **) &resp);
        if (r < 0 || status != 0)
                die("Start of job %u: %s", k, r < 0 ? strerror(-r) : details);
        if (resp->job->state != JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING)
                die("Start of job %u: state %d: %s", k, resp->job->state, resp->job->failure_reason);
        snprintf(jobs[k].id, sizeof(jobs[k].id), "%s", resp->job->id);
        jobrunner__v1__start_response__free_unpacked(resp, NULL);
        return true;
}

static TcUnary *stop_begin(TcConn *c, unsigned k) {
        Jobrunner__V1__StopRequest req = JOBRUNNER__V1__STOP_REQUEST__INIT;

        req.id = jobs[k].id;
        return call_begin(c, "Stop", &req.base, k);
}

static bool stop_end(TcUnary *u, unsigned k) {
        Jobrunner__V1__StopResponse *resp = NULL;
        _cleanup_free_ char *details = NULL;
        bool ok;
        int r, status = -1;

        r = tc_call_wait(u, &jobrunner__v1__stop_response__descriptor, &status, &details, (ProtobufCMessage **) &resp);
        if (r < 0 || status != 0) {
                progress("Stop of job %u: %s", k, r < 0 ? strerror(-r) : details);
                return false;
        }
        ok = resp->job->state == JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED;
        if (!ok)
                progress("Stop of job %u: ended in state %d", k, resp->job->state);
        jobrunner__v1__stop_response__free_unpacked(resp, NULL);
        return ok;
}

static const Op op_start = { .begin = start_begin, .end = start_end };
static const Op op_stop = { .begin = stop_begin, .end = stop_end };

static bool check_run(TcConn *c, unsigned k) {
        Received r;
        bool ok;

        logs_read(c, jobs[k].id, false, &r, NULL, NULL);
        ok = received_stopped_job(&r, &jobs[k]);
        if (!ok)
                progress("Logs of job %u: %s %s: %zu/%zu + %zu/%zu bytes, %u gaps, end %s (state %d)", k,
                         r.error < 0 ? strerror(-r.error) : tc_status_name(r.status) ?: "?", r.details, r.out_len,
                         jobs[k].out_len, r.err_len, jobs[k].err_len, r.gaps, r.got_end ? "yes" : "no", r.end_state);
        received_done(&r);
        return ok;
}

static const Op op_check = { .run = check_run };

/* ---- the followers ---------------------------------------------------------- */

typedef struct Follower {
        unsigned k;                     /* the job */
        TcConn *conn;
        pthread_t thread;
        Received r;
        bool caught_up;
        bool done;                      /* under follow_lock */
} Follower;

static pthread_mutex_t follow_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t follow_cond = PTHREAD_COND_INITIALIZER;
static unsigned n_caught_up;

static void follower_on_message(void *userdata) {
        Follower *f = userdata;

        if (f->caught_up || !received_all_output(&f->r, &jobs[f->k]))
                return;
        pthread_mutex_lock(&follow_lock);
        f->caught_up = true;
        n_caught_up++;
        pthread_cond_signal(&follow_cond);
        pthread_mutex_unlock(&follow_lock);
}

static void *follower_thread(void *userdata) {
        Follower *f = userdata;

        logs_read(f->conn, jobs[f->k].id, true, &f->r, follower_on_message, f);
        /* One that ended before it had everything fails the wait. */
        pthread_mutex_lock(&follow_lock);
        f->done = true;
        pthread_cond_signal(&follow_cond);
        pthread_mutex_unlock(&follow_lock);
        return NULL;
}

static Follower *followers_start(double *ret_connect_s, double *ret_caught_up_s) {
        Follower *f = calloc(arg.followers, sizeof(Follower));
        uint64_t t0 = now_nsec(CLOCK_MONOTONIC), t1;

        if (!f)
                die("out of memory");
        for (unsigned i = 0; i < arg.followers; i++) {
                f[i].k = (unsigned) ((uint64_t) i * arg.jobs / arg.followers);
                f[i].conn = bench_connect(client_user(f[i].k % arg.clients));
        }
        t1 = now_nsec(CLOCK_MONOTONIC);
        *ret_connect_s = (double) (t1 - t0) / 1e9;

        for (unsigned i = 0; i < arg.followers; i++) {
                int r = pthread_create(&f[i].thread, NULL, follower_thread, &f[i]);

                if (r != 0)
                        die("pthread_create: %s", strerror(r));
        }
        pthread_mutex_lock(&follow_lock);
        while (n_caught_up < arg.followers) {
                unsigned ended = 0;

                for (unsigned i = 0; i < arg.followers; i++)
                        ended += f[i].done && !f[i].caught_up;
                if (ended > 0)
                        die("%u followers ended before they had the whole output", ended);
                pthread_cond_wait(&follow_cond, &follow_lock);
        }
        pthread_mutex_unlock(&follow_lock);
        *ret_caught_up_s = (double) (now_nsec(CLOCK_MONOTONIC) - t1) / 1e9;
        return f;
}

/* Waits for every follower; returns how many got it all and the end. */
static unsigned followers_finish(Follower *f) {
        unsigned ok = 0;

        for (unsigned i = 0; i < arg.followers; i++) {
                (void) pthread_join(f[i].thread, NULL);
                if (received_stopped_job(&f[i].r, &jobs[f[i].k]))
                        ok++;
                else
                        progress("follower of job %u: %s %s, end %s (state %d)", f[i].k,
                                 f[i].r.error < 0 ? strerror(-f[i].r.error) : tc_status_name(f[i].r.status) ?: "?",
                                 f[i].r.details, f[i].r.got_end ? "yes" : "no", f[i].r.end_state);
                received_done(&f[i].r);
                tc_disconnect(f[i].conn);
        }
        free(f);
        return ok;
}

/* ---- List ------------------------------------------------------------------ */

/* Pages through the jobs in one state (0: all) with pages of page_size;
 * returns how many there are.  Dies unless every call is OK. */
static unsigned list_count(TcConn *c, Jobrunner__V1__JobState state, unsigned page_size, bool first_page_only) {
        Jobrunner__V1__JobState states[] = { state };
        _cleanup_free_ char *token = NULL;
        unsigned n = 0;

        do {
                Jobrunner__V1__ListRequest req = JOBRUNNER__V1__LIST_REQUEST__INIT;
                Jobrunner__V1__ListResponse *resp = NULL;
                _cleanup_free_ char *details = NULL;
                int r, status = -1;

                req.page_size = page_size;
                req.page_token = token ?: (char *) "";
                if (state != 0) {
                        req.n_states = 1;
                        req.states = states;
                }
                r = tc_call(c, "List", &req.base, &jobrunner__v1__list_response__descriptor, CALL_DEADLINE_MS,
                            &status, &details, (ProtobufCMessage **) &resp);
                if (r < 0 || status != 0)
                        die("List: %s", r < 0 ? strerror(-r) : details);
                n += (unsigned) resp->n_jobs;
                free(token);
                token = resp->next_page_token[0] && !first_page_only ? strdup(resp->next_page_token) : NULL;
                jobrunner__v1__list_response__free_unpacked(resp, NULL);
        } while (token);
        return n;
}

typedef struct ListFigures {
        unsigned total;
        double first_p50, first_max;    /* the first page of the default size (100), s */
        double all_p50, all_max;        /* every job, in pages of LIST_PAGE_MAX */
} ListFigures;

static ListFigures list_measure(TcConn *c) {
        double first[64], all[64];
        unsigned reps = arg.list_reps < ELEMENTSOF(first) ? arg.list_reps : ELEMENTSOF(first);
        ListFigures f = {};

        for (unsigned i = 0; i < reps; i++) {
                uint64_t t0 = now_nsec(CLOCK_MONOTONIC), t1;

                (void) list_count(c, 0, 0, true);
                t1 = now_nsec(CLOCK_MONOTONIC);
                f.total = list_count(c, 0, LIST_PAGE_MAX, false);
                first[i] = (double) (t1 - t0) / 1e9;
                all[i] = (double) (now_nsec(CLOCK_MONOTONIC) - t1) / 1e9;
        }
        f.first_p50 = percentile(first, reps, 0.5);
        f.first_max = percentile(first, reps, 1);
        f.all_p50 = percentile(all, reps, 0.5);
        f.all_max = percentile(all, reps, 1);
        return f;
}

/* ---- the table --------------------------------------------------------------- */

_printf_(2, 3) static void row(const char *what, const char *format, ...) {
        char value[160];
        va_list ap;

        va_start(ap, format);
        vsnprintf(value, sizeof(value), format, ap);
        va_end(ap);
        printf("| %-66s | %-40s |\n", what, value);
}

static void row_daemon(const char *what, const DaemonStats *s) {
        row(what, "%.1f MiB RSS, %u fds (%u in systemd's fd store)", (double) s->rss_kib / 1024, s->fds, s->fd_store);
}

static void row_cpu(const char *phase, const CpuUse *c) {
        char w[128];

        snprintf(w, sizeof(w), "%s: CPU s of jobrunnerd / PID 1 / dbus-daemon; VM CPUs busy", phase);
        row(w, "%.1f / %.1f / %.1f s; %.0f %%", c->daemon_s, c->pid1_s, c->bus_s, c->busy_pct);
}

static void row_list(const char *what, const ListFigures *l) {
        char w[128];

        snprintf(w, sizeof(w), "List, %s: first page (100) p50 / max", what);
        row(w, "%.0f / %.0f ms", l->first_p50 * 1e3, l->first_max * 1e3);
        snprintf(w, sizeof(w), "List, %s: all %u jobs in pages of %u, p50 / max", what, l->total, LIST_PAGE_MAX);
        row(w, "%.0f / %.0f ms", l->all_p50 * 1e3, l->all_max * 1e3);
}

/* ---- main ---------------------------------------------------------------------- */

static void help(void) {
        printf("Usage: load-bench JOB [OPTIONS]\n"
               "Runs as root in the test VM with jobrunnerd installed and the users load1..loadN\n"
               "(operators) and root (admin) in " BENCH_TLS_DIR ".  JOB is load-job, at a path the\n"
               "jobs' dynamic users can execute.\n"
               "  --jobs N        running at once (default %u)\n"
               "  --clients N     concurrent clients, users load1..loadN (default %u, at most %u)\n"
               "  --in-flight N   Start and Stop calls each client has in flight (default %u,\n"
               "                  at most %u)\n"
               "  --followers N   Logs follow=true calls spread over the jobs (default %u)\n"
               "  --lines N       lines of stdout per job (default %u)\n"
               "  --ended N       ended jobs written into the state directory (default %u)\n"
               "  --list-reps N   repetitions of each List measurement (default %u)\n",
               arg.jobs, arg.clients, CLIENTS_MAX, arg.in_flight, IN_FLIGHT_MAX, arg.followers, arg.lines, arg.ended, arg.list_reps);
}

static void parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "jobs", required_argument, NULL, 'j' },
                { "clients", required_argument, NULL, 'c' },
                { "in-flight", required_argument, NULL, 'i' },
                { "followers", required_argument, NULL, 'f' },
                { "lines", required_argument, NULL, 'l' },
                { "ended", required_argument, NULL, 'e' },
                { "list-reps", required_argument, NULL, 'r' },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                char *end;
                unsigned long v;

                if (c == 'h') {
                        help();
                        exit(EXIT_SUCCESS);
                }
                if (c == '?')
                        die("bad option; see --help");
                v = strtoul(optarg, &end, 10);
                if (*end != '\0' || v > 1000000)
                        die("bad value: %s", optarg);
                switch (c) {
                case 'j': arg.jobs = (unsigned) v; break;
                case 'c': arg.clients = (unsigned) v; break;
                case 'i': arg.in_flight = (unsigned) v; break;
                case 'f': arg.followers = (unsigned) v; break;
                case 'l': arg.lines = (unsigned) v; break;
                case 'e': arg.ended = (unsigned) v; break;
                case 'r': arg.list_reps = (unsigned) v; break;
                default: break;
                }
        }
        if (optind != argc - 1)
                die("expected the path of load-job; see --help");
        arg.job_path = argv[optind];
        if (arg.clients == 0 || arg.clients > CLIENTS_MAX || arg.in_flight == 0 || arg.in_flight > IN_FLIGHT_MAX || arg.jobs < arg.clients || arg.followers > arg.jobs ||
            arg.list_reps == 0 || arg.list_reps > 64 || arg.lines == 0 || arg.lines > 40)
                die("--clients 1..%u, --in-flight 1..%u, --jobs at least --clients, --followers at most --jobs, --lines 1..40, "
                    "--list-reps 1..64", CLIENTS_MAX, IN_FLIGHT_MAX);
}

int main(int argc, char *argv[]) {
        char *owners[CLIENTS_MAX + 1] = {};
        DaemonStats idle, running, restarted, ended, last;
        ListFigures list_running, list_restarted, list_ended;
        double start_s, stop_s, check_s, restart_s, ready_s, gen_s, connect_s, caught_up_s, sweep_s;
        double start_p50, start_p99, stop_p50, stop_p99;
        CpuSnap snap;
        CpuUse start_cpu, stop_cpu;
        unsigned failed_start, failed_stop, failed_check, followed_ok, n_running, n_expected;
        struct passwd *pw;
        Follower *followers;
        TcConn *admin;
        uint64_t t0;

        bench_init("load-bench");
        parse_argv(argc, argv);
        if (geteuid() != 0)
                die("must run as root (in the test VM: bench/load)");
        (void) signal(SIGPIPE, SIG_IGN);
        pw = getpwnam("jobrunner");
        if (!pw)
                die("no user jobrunner: is the daemon installed?");

        jobs = calloc(arg.jobs, sizeof(Job));
        call_s = calloc(arg.jobs, sizeof(double));
        if (!jobs || !call_s)
                die("out of memory");
        for (unsigned k = 0; k < arg.jobs; k++)
                job_expect(&jobs[k], k);

        admin = bench_connect(ADMIN);
        clients_connect();
        daemon_stats(&idle);
        progress("daemon up: pid %d, %.1f MiB, %u fds", (int) idle.pid, (double) idle.rss_kib / 1024, idle.fds);

        /* 1. Start. */
        cpu_snap(&snap);
        start_s = clients_run(&op_start, &failed_start);
        start_cpu = cpu_since(&snap);
        start_p50 = percentile(call_s, arg.jobs, 0.5);
        start_p99 = percentile(call_s, arg.jobs, 0.99);
        daemon_stats(&running);
        progress("%u jobs started in %.1f s (%.2f/s)", arg.jobs, start_s, arg.jobs / start_s);

        /* 2. List, all running. */
        list_running = list_measure(admin);
        progress("List with %u jobs: %.0f / %.0f ms", list_running.total, list_running.first_p50 * 1e3,
                 list_running.all_p50 * 1e3);

        /* 3. Ended jobs, and a restart that loads them. */
        for (unsigned i = 0; i < arg.clients; i++)
                owners[i] = (char *) client_user(i);
        t0 = now_nsec(CLOCK_MONOTONIC);
        load_make_ended_jobs(&(LoadEndedJobs) {
                        .state_dir = STATE_DIR,
                        .job_path = arg.job_path,
                        .n = arg.ended,
                        .lines = arg.lines,
                        .first_index = arg.jobs,
                        .owners = owners,
                        /* Older than the running jobs, well within the
                         * retention period of 7 days. */
                        .start_us = now_usec(CLOCK_REALTIME) - 6 * 24 * 3600 * USEC_PER_SEC,
                        .span_us = 5 * 24 * 3600 * USEC_PER_SEC,
                        .uid = pw->pw_uid,
                        .gid = pw->pw_gid,
                });
        gen_s = (double) (now_nsec(CLOCK_MONOTONIC) - t0) / 1e9;
        progress("%u ended jobs written in %.1f s; restarting the daemon", arg.ended, gen_s);
        /* No idle connection holds the old daemon's shutdown: gRPC waits
         * for every connection to close, and an idle client notices the
         * server's GOAWAY only when its backup poller runs (5 s). */
        tc_disconnect(admin);
        clients_disconnect();
        restart_s = daemon_restart(&ready_s);
        admin = bench_connect(ADMIN);
        clients_connect();
        daemon_stats(&restarted);
        n_running = list_count(admin, JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING, LIST_PAGE_MAX, false);
        if (n_running != arg.jobs)
                die("after the restart %u jobs run, not %u", n_running, arg.jobs);
        list_restarted = list_measure(admin);
        progress("restart: %.1f s (exec to READY %.1f s); List of %u: %.0f / %.0f ms", restart_s, ready_s,
                 list_restarted.total, list_restarted.first_p50 * 1e3, list_restarted.all_p50 * 1e3);

        /* 4. Followers. */
        followers = followers_start(&connect_s, &caught_up_s);
        progress("%u followers connected in %.1f s, had the output %.1f s later", arg.followers, connect_s,
                 caught_up_s);

        /* 5. Stop. */
        cpu_snap(&snap);
        stop_s = clients_run(&op_stop, &failed_stop);
        stop_cpu = cpu_since(&snap);
        stop_p50 = percentile(call_s, arg.jobs, 0.5);
        stop_p99 = percentile(call_s, arg.jobs, 0.99);
        followed_ok = followers_finish(followers);
        daemon_stats(&ended);
        progress("%u jobs stopped in %.1f s; %u of %u followers complete", arg.jobs, stop_s, followed_ok,
                 arg.followers);

        /* 6. Every job's output, and its end. */
        check_s = clients_run(&op_check, &failed_check);
        progress("Logs of %u jobs in %.1f s, %u wrong", arg.jobs, check_s, failed_check);

        /* 7. List, all ended, once the count limit has trimmed them. */
        n_expected = arg.ended + arg.jobs > MAX_ENDED_JOBS ? MAX_ENDED_JOBS : arg.ended + arg.jobs;
        t0 = now_nsec(CLOCK_MONOTONIC);
        while (list_count(admin, 0, LIST_PAGE_MAX, false) != n_expected) {
                if (now_nsec(CLOCK_MONOTONIC) - t0 > 600 * NSEC_PER_SEC)
                        die("the ended jobs were not trimmed to %u in 10 minutes", n_expected);
                usleep(200000);
        }
        sweep_s = (double) (now_nsec(CLOCK_MONOTONIC) - t0) / 1e9;
        list_ended = list_measure(admin);
        daemon_stats(&last);

        printf("\n| %-66s | %-40s |\n", "load benchmark", "value");
        printf("| %.66s | %.40s |\n", "-----------------------------------------------------------------------",
               "-----------------------------------------------------------------------");
        row_daemon("daemon, 0 jobs", &idle);
        {
                char w[128];

                snprintf(w, sizeof(w), "Start: %u jobs by %u clients, %u call%s in flight each", arg.jobs,
                         arg.clients, arg.in_flight, arg.in_flight == 1 ? "" : "s");
                row(w, "%.1f s, %.2f jobs/s%s", start_s, arg.jobs / start_s, failed_start ? ", FAILURES" : "");
        }
        row("Start call (returns once the job runs), p50 / p99", "%.2f / %.2f s", start_p50, start_p99);
        row_cpu("Start", &start_cpu);
        row_daemon("daemon, all running", &running);
        row_list("all running", &list_running);
        row("ended jobs written into the state directory (not run)", "%u in %.1f s", arg.ended, gen_s);
        row("restart with them + all running: systemctl restart / exec to READY", "%.1f / %.1f s", restart_s,
            ready_s);
        row_daemon("daemon, after that restart", &restarted);
        row_list("ended + running", &list_restarted);
        row("followers: connected / then had every job's whole output", "%u: %.1f / %.1f s", arg.followers,
            connect_s, caught_up_s);
        row("Stop: all, by their clients: wall / per call p50 / p99", "%.1f s / %.2f / %.2f s", stop_s, stop_p50,
            stop_p99);
        row_cpu("Stop", &stop_cpu);
        row("followers with the whole output and the end (STOPPED)", "%u of %u", followed_ok, arg.followers);
        row_daemon("daemon, all ended", &ended);
        row("jobs STOPPED with exactly their output (Logs of each)", "%u of %u (Logs of all: %.1f s)",
            arg.jobs - failed_check, arg.jobs, check_s);
        row("ended jobs trimmed to the count limit (--max-ended-jobs)", "%u, %.1f s after the last stop",
            n_expected, sweep_s);
        row_list("ended", &list_ended);
        row_daemon("daemon, at the end", &last);
        row("daemon peak RSS (VmHWM)", "%.1f MiB", (double) last.hwm_kib / 1024);
        fflush(stdout);

        tc_disconnect(admin);
        clients_disconnect();
        for (unsigned k = 0; k < arg.jobs; k++) {
                free(jobs[k].out);
                free(jobs[k].err);
        }
        free(jobs);
        free(call_s);
        return failed_start || failed_stop || failed_check || followed_ok != arg.followers ? EXIT_FAILURE : EXIT_SUCCESS;
}
