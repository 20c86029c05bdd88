/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's life cycle under jobrunner.socket: the first connection
 * starts it; SIGTERM answers every open call with UNAVAILABLE before a clean
 * exit and leaves the jobs running for the next daemon to re-attach; and a
 * restart loses no output of a job that writes throughout (the pipes wait in
 * systemd's file descriptor store, daemon/fd-store.h).
 *
 * This binary stops and starts the daemon: meson runs it alone
 * (is_parallel: false), and its tests take a lock so that Criterion's
 * workers run them one at a time.
 *
 * The test client is synchronous, so the calls that must be open while the
 * daemon goes away run in children forked before this process touches gRPC
 * (gRPC does not survive a fork); each reports its outcome through a pipe. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon-harness.h"
#include "macro.h"
#include "status.h"
#include "time-util.h"

#define streq(a, b) (strcmp((a), (b)) == 0)

#define SERVICE "jobrunner.service"
#define LOCK_PATH "/run/jobrunner-test-restart.lock"
#define STREAM_DEADLINE_MS INT64_C(180000)
/* How long the parent waits for a child's next report: a call that the
 * daemon does not answer must fail the test, not hang it. */
#define CHILD_REPORT_TIMEOUT_MS 60000
#define SHUTDOWN_MESSAGE_PART "shutting down"

#define STATE(x) JOBRUNNER__V1__JOB_STATE__JOB_STATE_##x
#define STDOUT_STREAM JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT
#define STDERR_STREAM JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR

static int lock_fd = -EBADF;
static pid_t children[4];
static size_t n_children;
static char work_dir[64];

static void setup(void) {
        dh_install();

        lock_fd = open(LOCK_PATH, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        cr_assert_geq(lock_fd, 0, "open %s: %m", LOCK_PATH);
        cr_assert_eq(flock(lock_fd, LOCK_EX), 0, "flock: %m");

        strcpy(work_dir, "/run/jobrunner-test-restart.XXXXXX");
        cr_assert_not_null(mkdtemp(work_dir), "mkdtemp: %m");
        /* The jobs (dynamic users) look for their trigger files here. */
        cr_assert_eq(chmod(work_dir, 0755), 0, "chmod: %m");
}

static void teardown(void) {
        char command[128];

        /* Children of a failed test: their calls would end by their
         * deadlines anyway. */
        for (size_t i = 0; i < n_children; i++)
                if (children[i] > 0) {
                        (void) kill(children[i], SIGKILL);
                        (void) waitpid(children[i], NULL, 0);
                }
        snprintf(command, sizeof(command), "rm -rf '%s'", work_dir);
        discard_result(system(command));
        lock_fd = safe_close(lock_fd);
}

TestSuite(daemon_restart, .init = setup, .fini = teardown, .timeout = 600);

/* ---- the VM ---------------------------------------------------------------- */

/* "systemctl is-active": active, inactive, activating, failed... */
static char *unit_activity(const char *unit) {
        char command[256];
        int status;

        snprintf(command, sizeof(command), "systemctl is-active '%s'", unit);
        return dh_shell_line(command, &status);
}

static char *unit_property(const char *unit, const char *property) {
        char command[256];

        snprintf(command, sizeof(command), "systemctl show -p '%s' --value '%s'", property, unit);
        return dh_shell_line(command, NULL);
}

static void assert_unit_property(const char *unit, const char *property, const char *expected) {
        _cleanup_free_ char *v = unit_property(unit, property);

        cr_assert_str_eq(v, expected, "%s: %s=%s, expected %s", unit, property, v, expected);
}

static void assert_unit_activity(const char *unit, const char *expected) {
        _cleanup_free_ char *a = unit_activity(unit);

        cr_assert_str_eq(a, expected, "%s is %s, expected %s", unit, a, expected);
}

/* Polls until the unit is in one of the final states "inactive" or
 * "failed", and returns that. */
static char *wait_unit_down(const char *unit) {
        for (unsigned i = 0; i < 300; i++) {
                char *a = unit_activity(unit);

                if (streq(a, "inactive") || streq(a, "failed"))
                        return a;
                free(a);
                usleep(100 * 1000);
        }
        cr_assert_fail("%s did not stop within 30 s", unit);
        return NULL;
}

static void job_unit(const char *id, char ret[static 64]) {
        snprintf(ret, 64, "jobrunner-%s.service", id);
}

/* ---- calls -------------------------------------------------------------------- */

static void *mfree(void *p) {
        free(p);
        return NULL;
}

static const char *code_name(int code) {
        return tc_status_name(code) ?: "?";
}

/* GetStatus or Wait: the status code, and the job if OK. */
static int status_call(TcConn *c, const char *method, const char *id, int64_t deadline_ms, char **ret_details,
                       Jobrunner__V1__JobStatus **ret_job) {
        Jobrunner__V1__GetStatusRequest req = JOBRUNNER__V1__GET_STATUS_REQUEST__INIT;
        ProtobufCMessage *resp = NULL;
        int status = -1, r;

        /* WaitRequest and GetStatusRequest are both { string id = 1; }, and
         * so are their responses { JobStatus job = 1; }. */
        req.id = (char *) id;
        r = tc_call(c, method, &req.base, &jobrunner__v1__get_status_response__descriptor, deadline_ms, &status,
                    ret_details, &resp);
        cr_assert(r >= 0, "%s %s: the test client failed: %s", method, id, strerror(-r));
        *ret_job = NULL;
        if (resp) {
                *ret_job = TAKE_PTR(((Jobrunner__V1__GetStatusResponse *) resp)->job);
                protobuf_c_message_free_unpacked(resp, NULL);
        }
        return status;
}

static Jobrunner__V1__JobStatus *get_status_ok(TcConn *c, const char *id) {
        _cleanup_free_ char *details = NULL;
        Jobrunner__V1__JobStatus *j = NULL;
        int status = status_call(c, "GetStatus", id, 0, &details, &j);

        cr_assert_eq(status, JR_CODE_OK, "GetStatus %s: %s: %s", id, code_name(status), details);
        return j;
}

/* A Logs call read to its end.  The offsets of every chunk and gap are
 * checked against where the previous one of its stream ended; stdout's data
 * is kept. */
typedef struct LogsRead {
        int code;
        char *details;
        char *out;                      /* stdout data, NUL-terminated */
        size_t out_len;
        uint64_t next[3];               /* per stream: the offset after the last chunk or gap */
        unsigned n_gaps, n_daemon_down_gaps;
        Jobrunner__V1__JobStatus *end;
        char problem[256];              /* an offset that did not follow on, else "" */
} LogsRead;

static void logs_read_done(LogsRead *l) {
        free(l->details);
        free(l->out);
        dh_job_status_freep(&l->end);
        *l = (LogsRead) {};
}

/* Processes one message; returns the number of newlines in stdout data. */
static unsigned logs_take(LogsRead *l, Jobrunner__V1__LogsResponse *m, int out_fd) {
        unsigned lines = 0;

        if (l->end && !l->problem[0])
                snprintf(l->problem, sizeof(l->problem), "a message after the end message");

        switch (m->event_case) {
        case JOBRUNNER__V1__LOGS_RESPONSE__EVENT_CHUNK: {
                const Jobrunner__V1__LogChunk *k = m->chunk;

                if (k->stream != STDOUT_STREAM && k->stream != STDERR_STREAM) {
                        snprintf(l->problem, sizeof(l->problem), "a chunk of stream %d", k->stream);
                        break;
                }
                if (k->offset != l->next[k->stream] && !l->problem[0])
                        snprintf(l->problem, sizeof(l->problem), "stream %d: a chunk at %llu after %llu", k->stream,
                                 (unsigned long long) k->offset, (unsigned long long) l->next[k->stream]);
                l->next[k->stream] = k->offset + k->data.len;
                if (k->stream != STDOUT_STREAM)
                        break;
                l->out = realloc(l->out, l->out_len + k->data.len + 1);
                if (!l->out)
                        abort();
                memcpy(l->out + l->out_len, k->data.data, k->data.len);
                l->out_len += k->data.len;
                l->out[l->out_len] = 0;
                if (out_fd >= 0 && write(out_fd, k->data.data, k->data.len) != (ssize_t) k->data.len)
                        snprintf(l->problem, sizeof(l->problem), "cannot save the output: %m");
                for (size_t i = 0; i < k->data.len; i++)
                        lines += k->data.data[i] == '\n';
                break;
        }
        case JOBRUNNER__V1__LOGS_RESPONSE__EVENT_GAP: {
                const Jobrunner__V1__LogGap *g = m->gap;

                if (g->stream != STDOUT_STREAM && g->stream != STDERR_STREAM) {
                        snprintf(l->problem, sizeof(l->problem), "a gap of stream %d", g->stream);
                        break;
                }
                if (g->offset != l->next[g->stream] && !l->problem[0])
                        snprintf(l->problem, sizeof(l->problem), "stream %d: a gap at %llu after %llu", g->stream,
                                 (unsigned long long) g->offset, (unsigned long long) l->next[g->stream]);
                l->next[g->stream] = g->offset + g->length;
                l->n_gaps++;
                if (g->reason == JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_DAEMON_DOWN)
                        l->n_daemon_down_gaps++;
                break;
        }
        case JOBRUNNER__V1__LOGS_RESPONSE__EVENT_END:
                dh_job_status_freep(&l->end);
                /* Taken out of the message, which is freed without it. */
                l->end = TAKE_PTR(m->end);
                m->event_case = JOBRUNNER__V1__LOGS_RESPONSE__EVENT__NOT_SET;
                break;
        default:
                snprintf(l->problem, sizeof(l->problem), "a message without an event");
        }
        return lines;
}

/* Reads the whole call (in the test process: failures are assertions). */
static void logs_read(TcConn *c, const char *id, uint64_t stdout_offset, uint64_t stderr_offset, bool follow,
                      LogsRead *ret) {
        Jobrunner__V1__LogsRequest req = JOBRUNNER__V1__LOGS_REQUEST__INIT;
        _cleanup_(tc_stream_freep) TcStream *s = NULL;
        Jobrunner__V1__LogsResponse *m = NULL;
        const char *details = NULL;
        int r;

        *ret = (LogsRead) { .next = { 0, stdout_offset, stderr_offset } };
        req.id = (char *) id;
        req.stdout_offset = stdout_offset;
        req.stderr_offset = stderr_offset;
        req.follow = follow;
        cr_assert_eq(tc_logs_open(c, &req, STREAM_DEADLINE_MS, &s), 0);
        while ((r = tc_stream_next(s, &m)) == 1) {
                (void) logs_take(ret, m, -EBADF);
                jobrunner__v1__logs_response__free_unpacked(m, NULL);
        }
        cr_assert_eq(r, 0, "Logs %s: the test client failed: %s", id, strerror(-r));
        cr_assert_eq(tc_stream_status(s, &ret->code, &details), 0);
        ret->details = strdup(details ?: "");
        if (!ret->out)
                ret->out = strdup("");
        cr_assert(ret->details && ret->out);
        cr_assert_str_eq(ret->problem, "", "Logs %s: %s", id, ret->problem);
}

static char *start_job(TcConn *c, const char *script) {
        const char *const argv[] = { "/bin/sh", "-c", script, NULL };
        _cleanup_job_ Jobrunner__V1__JobStatus *j = dh_start(c, argv);
        char *id;

        cr_assert_eq(j->state, STATE(RUNNING), "state %d (%s)", j->state, j->failure_reason);
        id = strdup(j->id);
        cr_assert_not_null(id);
        return id;
}

/* ---- children holding calls open ------------------------------------------------ */

typedef enum ChildKind {
        CHILD_FOLLOW,   /* Logs follow = true */
        CHILD_WAIT,     /* Wait */
} ChildKind;

typedef struct ChildOrder {
        char id[33];
        uint64_t stdout_offset, stderr_offset;
        unsigned ready_after_lines;     /* FOLLOW: say ready once this many lines arrived */
} ChildOrder;

typedef struct ChildReport {
        int client_error;               /* the test client's own failure (negative errno), else 0 */
        int code;
        char details[256];
        uint64_t next[3];               /* FOLLOW: per stream, where what arrived ends */
        uint64_t out_bytes;
        unsigned lines, n_gaps, n_daemon_down_gaps;
        bool got_end;
        char problem[256];
} ChildReport;

typedef struct Child {
        pid_t pid;
        ChildKind kind;
        int order_fd, report_fd;
        char out_path[128];             /* FOLLOW: the stdout data that arrived */
} Child;

#define READY 'R'
#define NOT_READY 'X'   /* the report follows at once */

static void child_report(int fd, char marker, const ChildReport *report) {
        if (marker)
                discard_result(write(fd, &marker, 1));
        discard_result(write(fd, report, sizeof(*report)));
}

static void child_follow(TcConn *c, const ChildOrder *o, const char *out_path, int fd) {
        Jobrunner__V1__LogsRequest req = JOBRUNNER__V1__LOGS_REQUEST__INIT;
        Jobrunner__V1__LogsResponse *m = NULL;
        LogsRead l = { .next = { 0, o->stdout_offset, o->stderr_offset } };
        ChildReport report = {};
        TcStream *s = NULL;
        const char *details = NULL;
        bool ready = false;
        int out_fd, r;

        out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        req.id = (char *) o->id;
        req.stdout_offset = o->stdout_offset;
        req.stderr_offset = o->stderr_offset;
        req.follow = true;
        r = out_fd < 0 ? -errno : tc_logs_open(c, &req, STREAM_DEADLINE_MS, &s);
        if (r < 0) {
                report.client_error = r;
                child_report(fd, NOT_READY, &report);
                return;
        }
        while ((r = tc_stream_next(s, &m)) == 1) {
                report.lines += logs_take(&l, m, out_fd);
                jobrunner__v1__logs_response__free_unpacked(m, NULL);
                if (!ready && report.lines >= o->ready_after_lines) {
                        char marker = READY;

                        discard_result(write(fd, &marker, 1));
                        ready = true;
                }
        }
        report.client_error = r < 0 ? r : 0;
        if (r == 0)
                (void) tc_stream_status(s, &report.code, &details);
        snprintf(report.details, sizeof(report.details), "%s", details ?: "");
        tc_stream_free(s);
        memcpy(report.next, l.next, sizeof(report.next));
        report.out_bytes = l.out_len;
        report.n_gaps = l.n_gaps;
        report.n_daemon_down_gaps = l.n_daemon_down_gaps;
        report.got_end = l.end;
        snprintf(report.problem, sizeof(report.problem), "%s", l.problem);
        child_report(fd, ready ? 0 : NOT_READY, &report);
        safe_close(out_fd);
        free(l.out);
        dh_job_status_freep(&l.end);
}

static void child_wait(TcConn *c, const ChildOrder *o, int fd) {
        Jobrunner__V1__GetStatusRequest req = JOBRUNNER__V1__GET_STATUS_REQUEST__INIT;
        ChildReport report = {};
        _cleanup_free_ char *details = NULL;
        char marker = READY;
        int r;

        /* A GetStatus first: the connection is up, and the job there. */
        req.id = (char *) o->id;
        r = tc_call(c, "GetStatus", &req.base, &jobrunner__v1__get_status_response__descriptor, 0, &report.code,
                    &details, NULL);
        if (r < 0 || report.code != JR_CODE_OK) {
                report.client_error = r;
                snprintf(report.problem, sizeof(report.problem), "GetStatus before Wait: %s: %s",
                         code_name(report.code), details ?: strerror(-r));
                child_report(fd, NOT_READY, &report);
                return;
        }
        free(details);
        details = NULL;
        discard_result(write(fd, &marker, 1));

        r = tc_call(c, "Wait", &req.base, &jobrunner__v1__wait_response__descriptor, STREAM_DEADLINE_MS,
                    &report.code, &details, NULL);
        report.client_error = r < 0 ? r : 0;
        snprintf(report.details, sizeof(report.details), "%s", details ?: "");
        child_report(fd, 0, &report);
}

_noreturn_ static void child_main(Child *ch) {
        char cert[256], key[256], ca[256];
        ChildOrder o;
        TcConn *c = NULL;
        int r;

        lock_fd = safe_close(lock_fd);
        if (read(ch->order_fd, &o, sizeof(o)) != (ssize_t) sizeof(o))
                _exit(EXIT_FAILURE);     /* the test gave up before ordering */

        snprintf(cert, sizeof(cert), "%s/users/alice/client.crt", DH_TLS_DIR);
        snprintf(key, sizeof(key), "%s/users/alice/client.key", DH_TLS_DIR);
        snprintf(ca, sizeof(ca), "%s/ca.crt", DH_TLS_DIR);
        r = tc_connect(DH_TARGET, cert, key, ca, &c);
        if (r < 0) {
                ChildReport report = { .client_error = r };

                child_report(ch->report_fd, NOT_READY, &report);
                _exit(EXIT_FAILURE);
        }
        if (ch->kind == CHILD_FOLLOW)
                child_follow(c, &o, ch->out_path, ch->report_fd);
        else
                child_wait(c, &o, ch->report_fd);
        tc_disconnect(c);
        _exit(EXIT_SUCCESS);
}

/* Before anything of gRPC exists in this process. */
static void child_spawn(Child *ch, ChildKind kind) {
        int order[2], report[2];

        cr_assert_lt(n_children, ELEMENTSOF(children));
        cr_assert_eq(pipe2(order, O_CLOEXEC), 0);
        cr_assert_eq(pipe2(report, O_CLOEXEC), 0);
        *ch = (Child) { .kind = kind };
        snprintf(ch->out_path, sizeof(ch->out_path), "%s/follower-%zu.out", work_dir, n_children);

        ch->pid = fork();
        cr_assert_geq(ch->pid, 0, "fork: %m");
        if (ch->pid == 0) {
                close(order[1]);
                close(report[0]);
                ch->order_fd = order[0];
                ch->report_fd = report[1];
                child_main(ch);
        }
        children[n_children++] = ch->pid;
        close(order[0]);
        close(report[1]);
        ch->order_fd = order[1];
        ch->report_fd = report[0];
}

static void child_order(Child *ch, const char *id, uint64_t stdout_offset, uint64_t stderr_offset,
                        unsigned ready_after_lines) {
        ChildOrder o = {
                .stdout_offset = stdout_offset,
                .stderr_offset = stderr_offset,
                .ready_after_lines = ready_after_lines,
        };

        snprintf(o.id, sizeof(o.id), "%s", id);
        cr_assert_eq(write(ch->order_fd, &o, sizeof(o)), (ssize_t) sizeof(o));
        ch->order_fd = safe_close(ch->order_fd);
}

static void read_full(Child *ch, void *buf, size_t size, const char *what) {
        size_t done = 0;

        while (done < size) {
                struct pollfd p = { .fd = ch->report_fd, .events = POLLIN };
                ssize_t n;
                int r = poll(&p, 1, CHILD_REPORT_TIMEOUT_MS);

                cr_assert_geq(r, 0, "poll: %m");
                cr_assert_gt(r, 0, "child %d (%s) did not report %s within %d s: a call hangs", (int) ch->pid,
                             ch->kind == CHILD_FOLLOW ? "Logs" : "Wait", what, CHILD_REPORT_TIMEOUT_MS / 1000);
                n = read(ch->report_fd, (char *) buf + done, size - done);
                cr_assert_gt(n, 0, "child %d (%s) died before reporting %s", (int) ch->pid,
                             ch->kind == CHILD_FOLLOW ? "Logs" : "Wait", what);
                done += (size_t) n;
        }
}

static void child_wait_ready(Child *ch) {
        char marker = 0;

        read_full(ch, &marker, 1, "being ready");
        if (marker != READY) {
                ChildReport report;

                read_full(ch, &report, sizeof(report), "its outcome");
                cr_assert_fail("child %d (%s) failed before its call was open: client error %s, %s: %s %s",
                               (int) ch->pid, ch->kind == CHILD_FOLLOW ? "Logs" : "Wait",
                               strerror(-report.client_error), code_name(report.code), report.details,
                               report.problem);
        }
}

static void child_collect(Child *ch, ChildReport *ret) {
        int status;

        read_full(ch, ret, sizeof(*ret), "its outcome");
        cr_assert_eq(waitpid(ch->pid, &status, 0), ch->pid);
        for (size_t i = 0; i < n_children; i++)
                if (children[i] == ch->pid)
                        children[i] = 0;
        ch->report_fd = safe_close(ch->report_fd);
        cr_assert_eq(ret->client_error, 0, "child %d: the test client failed: %s", (int) ch->pid,
                     strerror(-ret->client_error));
}

static char *read_file(const char *path) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *s = NULL;
        size_t len = 0, n;
        char buf[4096];

        cr_assert_not_null(f, "%s: %m", path);
        s = strdup("");
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
                s = realloc(s, len + n + 1);
                cr_assert_not_null(s);
                memcpy(s + len, buf, n);
                len += n;
                s[len] = 0;
        }
        return TAKE_PTR(s);
}

/* ---- numbered output ------------------------------------------------------------- */

/* Exit status of a job whose last write failed (EPIPE: nobody reads its
 * pipe any more).  systemd's IgnoreSIGPIPE=yes, the default, spares jobs
 * the SIGPIPE. */
#define WRITE_FAILED 7
#define NUMBERED_MAX 1000u

/* A job that writes "line 1", "line 2"... one every 0.2 s, until it has
 * written `after` lines since the trigger file appeared; then "done". */
static char *numbered_lines_script(const char *trigger, unsigned after) {
        char *s;

        cr_assert_geq(asprintf(&s,
                               "i=1; n=0; "
                               "while [ $n -lt %u ] && [ $i -le %u ]; do "
                               "echo \"line $i\"; i=$((i + 1)); [ -e '%s' ] && n=$((n + 1)); sleep 0.2; "
                               "done; "
                               "echo done || exit %d",
                               after, NUMBERED_MAX, trigger, WRITE_FAILED), 0);
        return s;
}

typedef struct Numbered {
        unsigned numbers[NUMBERED_MAX + 1];
        size_t n;
        bool done;              /* the final "done" line came */
        char error[128];        /* something else came, else "" */
} Numbered;

static void parse_numbered(const char *text, Numbered *ret) {
        *ret = (Numbered) {};
        for (const char *p = text; *p;) {
                unsigned v;
                int used = 0;

                if (ret->done) {
                        snprintf(ret->error, sizeof(ret->error), "output after \"done\": \"%.40s\"", p);
                        return;
                }
                if (strncmp(p, "done\n", 5) == 0) {
                        ret->done = true;
                        p += 5;
                        continue;
                }
                if (sscanf(p, "line %u%n", &v, &used) != 1 || p[used] != '\n' || ret->n >= NUMBERED_MAX) {
                        snprintf(ret->error, sizeof(ret->error), "not a numbered line at byte %zu: \"%.40s\"",
                                 (size_t) (p - text), p);
                        return;
                }
                ret->numbers[ret->n++] = v;
                p += used + 1;
        }
}

/* Every line that came is the next one: none twice, none skipped. */
static void assert_consecutive(const Numbered *p) {
        cr_assert_str_eq(p->error, "", "%s", p->error);
        for (size_t i = 0; i < p->n; i++)
                cr_assert_eq(p->numbers[i], i + 1, "line %zu is number %u", i + 1, p->numbers[i]);
}

/* ---- 1. socket activation ------------------------------------------------------- */

Test(daemon_restart, the_first_connection_starts_the_daemon) {
        _cleanup_(tc_disconnectp) TcConn *c = NULL;
        _cleanup_free_ char *details = NULL;
        Jobrunner__V1__JobStatus *j = NULL;
        Jobrunner__V1__ListRequest list = JOBRUNNER__V1__LIST_REQUEST__INIT;
        char unknown[33];
        int status;

        dh_shell("systemctl stop " SERVICE);
        assert_unit_activity(SERVICE, "inactive");
        /* systemd keeps listening for it. */
        assert_unit_activity("jobrunner.socket", "active");

        c = dh_connect("victor");
        dh_random_id(unknown);
        status = status_call(c, "GetStatus", unknown, 0, &details, &j);
        cr_assert_eq(status, JR_CODE_NOT_FOUND, "GetStatus of an unknown id through the socket: %s: %s",
                     code_name(status), details);
        cr_assert_null(j);
        assert_unit_activity(SERVICE, "active");

        list.page_size = 1;
        cr_assert_eq(tc_call(c, "List", &list.base, &jobrunner__v1__list_response__descriptor, 0, &status, NULL, NULL),
                     0);
        cr_assert_eq(status, JR_CODE_OK, "List: %s", code_name(status));
}

/* ---- 2. SIGTERM with calls open ---------------------------------------------------- */

/* The job for "the jobs keep running": its output is all written before the
 * daemon goes away, it writes nothing while no daemon runs (systemd 252
 * drops the file descriptor store when the service stops for good, see
 * daemon/fd-store.h, so what a job writes then is lost), and it writes again
 * only once the test created its trigger file, after the next daemon
 * re-attached. */
#define QUIET_BEFORE "before 1\nbefore 2\nbefore 3\nbefore 4\nbefore 5\n"
#define QUIET_AFTER "after 1\nafter 2\nafter 3\n"

static char *quiet_job_script(const char *trigger) {
        char *s;

        cr_assert_geq(asprintf(&s,
                               "printf 'before %%s\\n' 1 2 3 4 5; "
                               "n=0; while [ ! -e '%s' ] && [ $n -lt 900 ]; do sleep 0.2; n=$((n + 1)); done; "
                               "printf 'after %%s\\n' 1 2 3 || exit %d",
                               trigger, WRITE_FAILED), 0);
        return s;
}

static void wait_stdout_bytes(TcConn *c, const char *id, uint64_t bytes) {
        for (unsigned i = 0; i < 300; i++) {
                _cleanup_job_ Jobrunner__V1__JobStatus *j = get_status_ok(c, id);

                if (j->stdout_bytes >= bytes)
                        return;
                usleep(100 * 1000);
        }
        cr_assert_fail("job %s did not write %llu bytes within 30 s", id, (unsigned long long) bytes);
}

Test(daemon_restart, sigterm_answers_open_calls_and_leaves_jobs_running) {
        Child follower[2], waiter;
        ChildReport report;
        _cleanup_(tc_disconnectp) TcConn *alice = NULL;
        _cleanup_free_ char *writer = NULL, *quiet = NULL, *writer_script = NULL, *quiet_script = NULL,
                            *activity = NULL, *writer_activity = NULL, *trigger = NULL;
        _cleanup_job_ Jobrunner__V1__JobStatus *j = NULL;
        _cleanup_(logs_read_done) LogsRead l = {};
        _cleanup_free_ char *details = NULL;
        char unit[64], command[256];
        double t_kill, t;
        int status;

        for (size_t i = 0; i < ELEMENTSOF(follower); i++)
                child_spawn(&follower[i], CHILD_FOLLOW);
        child_spawn(&waiter, CHILD_WAIT);

        cr_assert_geq(asprintf(&trigger, "%s/daemon-is-back", work_dir), 0);
        alice = dh_connect("alice");
        writer_script = numbered_lines_script(trigger, 5);
        writer = start_job(alice, writer_script);
        quiet_script = quiet_job_script(trigger);
        quiet = start_job(alice, quiet_script);
        cr_log_info("writer %s, quiet job %s", writer, quiet);

        for (size_t i = 0; i < ELEMENTSOF(follower); i++)
                child_order(&follower[i], writer, 0, 0, 3);
        child_order(&waiter, writer, 0, 0, 0);
        for (size_t i = 0; i < ELEMENTSOF(follower); i++)
                child_wait_ready(&follower[i]);
        child_wait_ready(&waiter);
        wait_stdout_bytes(alice, quiet, strlen(QUIET_BEFORE));
        /* The Wait request follows the child's GetStatus at once; give it
         * time to reach the daemon, and the followers more output. */
        usleep(1500 * 1000);

        /* Nothing of ours may connect and re-activate the daemon early. */
        tc_disconnect(TAKE_PTR(alice));

        t_kill = ((double) now_usec(CLOCK_MONOTONIC) / USEC_PER_SEC);
        dh_shell("systemctl kill --signal=SIGTERM " SERVICE);

        /* Every open call is answered by the daemon itself: UNAVAILABLE
         * with its message.  A connection that merely broke would be
         * UNAVAILABLE too, but with gRPC's own message ("Socket closed",
         * "Connection reset by peer"...), and a hang is a timeout here. */
        for (size_t i = 0; i < ELEMENTSOF(follower); i++) {
                child_collect(&follower[i], &report);
                cr_log_info("follower %zu: %s \"%s\" after %u lines (%llu bytes), %u gaps, %.1f s after SIGTERM", i,
                            code_name(report.code), report.details, report.lines,
                            (unsigned long long) report.out_bytes, report.n_gaps, ((double) now_usec(CLOCK_MONOTONIC) / USEC_PER_SEC) - t_kill);
                cr_assert_eq(report.code, JR_CODE_UNAVAILABLE, "follower %zu: %s: %s", i, code_name(report.code),
                             report.details);
                cr_assert(strstr(report.details, SHUTDOWN_MESSAGE_PART), "follower %zu: \"%s\" is not the daemon's",
                          i, report.details);
                cr_assert_str_eq(report.problem, "", "follower %zu: %s", i, report.problem);
                cr_assert_not(report.got_end);
                cr_assert_geq(report.lines, 3);
                cr_assert_eq(report.n_gaps, 0);
        }
        child_collect(&waiter, &report);
        cr_log_info("waiter: %s \"%s\"", code_name(report.code), report.details);
        cr_assert_eq(report.code, JR_CODE_UNAVAILABLE, "Wait: %s: %s", code_name(report.code), report.details);
        cr_assert(strstr(report.details, SHUTDOWN_MESSAGE_PART), "Wait: \"%s\" is not the daemon's", report.details);

        /* A clean exit, and nothing re-activated the daemon meanwhile. */
        activity = wait_unit_down(SERVICE);
        cr_assert_str_eq(activity, "inactive", "after SIGTERM the daemon is %s", activity);
        /* ExecMainCode 1 is CLD_EXITED: an exit, not a signal. */
        assert_unit_property(SERVICE, "ExecMainCode", "1");
        assert_unit_property(SERVICE, "ExecMainStatus", "0");
        assert_unit_property(SERVICE, "Result", "success");
        cr_log_info("the daemon was down %.1f s after SIGTERM", ((double) now_usec(CLOCK_MONOTONIC) / USEC_PER_SEC) - t_kill);

        /* The jobs are no part of the daemon: the quiet one runs on. */
        job_unit(quiet, unit);
        assert_unit_activity(unit, "active");
        job_unit(writer, unit);
        writer_activity = unit_activity(unit);
        cr_log_info("writer's unit right after the daemon's exit: %s", writer_activity);

        /* The next connection starts a new daemon, which re-attached. */
        t = ((double) now_usec(CLOCK_MONOTONIC) / USEC_PER_SEC);
        alice = dh_connect("alice");
        j = get_status_ok(alice, quiet);
        cr_log_info("re-activated in %.1f s", ((double) now_usec(CLOCK_MONOTONIC) / USEC_PER_SEC) - t);
        assert_unit_activity(SERVICE, "active");
        cr_assert_eq(j->state, STATE(RUNNING), "the quiet job after the restart: state %d", j->state);
        dh_job_status_freep(&j);
        j = get_status_ok(alice, writer);
        cr_log_info("writer after re-activation: state %d, %llu stdout bytes", j->state,
                    (unsigned long long) j->stdout_bytes);
        cr_assert(j->state == STATE(RUNNING) || j->end_time_us != 0, "writer: state %d", j->state);
        dh_job_status_freep(&j);

        /* The quiet job's output so far: all of it, stored. */
        logs_read(alice, quiet, 0, 0, false, &l);
        cr_assert_eq(l.code, JR_CODE_OK, "Logs: %s: %s", code_name(l.code), l.details);
        cr_assert_str_eq(l.out, QUIET_BEFORE);
        cr_assert_null(l.end);
        logs_read_done(&l);

        /* It writes again, after the re-attach, and ends; Wait sees that. */
        snprintf(command, sizeof(command), "touch '%s'", trigger);
        dh_shell(command);
        status = status_call(alice, "Wait", quiet, 120000, &details, &j);
        cr_assert_eq(status, JR_CODE_OK, "Wait: %s: %s", code_name(status), details);
        cr_log_info("quiet job: state %d, exit %d, signal %d (%s)", j->state, j->exit_code, j->signal,
                    j->signal_name);
        /* Whatever became of its later output, the daemon's stop must not
         * have ended the job: KILLED by SIGPIPE (13) would mean it did. */
        cr_assert_eq(j->state, STATE(EXITED), "the quiet job ended with state %d, exit %d, signal %d (%s)",
                     j->state, j->exit_code, j->signal, j->signal_name);

        logs_read(alice, quiet, 0, 0, true, &l);
        cr_assert_eq(l.code, JR_CODE_OK, "Logs: %s: %s", code_name(l.code), l.details);
        cr_assert_not_null(l.end);
        cr_log_info("quiet job's output after the restart: %u gaps (%u DAEMON_DOWN): \"%s\"", l.n_gaps,
                    l.n_daemon_down_gaps, l.out);
        /* What it wrote after the re-attach went either to the new daemon,
         * or, with the pipes gone with the old one (systemd 252 empties the
         * file descriptor store when the service stops for good), nowhere:
         * its write failed with EPIPE, and a DAEMON_DOWN gap says so. */
        if (l.n_daemon_down_gaps == 0) {
                cr_assert_str_eq(l.out, QUIET_BEFORE QUIET_AFTER);
                cr_assert_eq(j->exit_code, 0);
        } else {
                cr_assert_str_eq(l.out, QUIET_BEFORE);
                cr_assert_eq(j->exit_code, WRITE_FAILED, "exit %d: did its late write not fail?",
                             j->exit_code);
        }
        cr_assert_eq(l.n_gaps, l.n_daemon_down_gaps);
        dh_job_status_freep(&j);
        logs_read_done(&l);

        /* The writer, which wrote while no daemon ran and after: what
         * becomes of it is asserted as observed with systemd 252 (see
         * above), where the old daemon's pipes are gone for good.  Its
         * unit was still active right after the daemon's exit: its writes
         * fail with EPIPE instead of killing it. */
        {
                _cleanup_free_ Numbered *p = malloc(sizeof(Numbered));

                cr_assert_not_null(p);
                cr_assert_str_eq(writer_activity, "active", "the writer's unit after the daemon's exit: %s",
                                 writer_activity);
                details = mfree(details);
                status = status_call(alice, "Wait", writer, 120000, &details, &j);
                cr_assert_eq(status, JR_CODE_OK, "Wait: %s: %s", code_name(status), details);
                cr_log_info("writer: state %d, exit %d, signal %d (%s)", j->state, j->exit_code, j->signal,
                            j->signal_name);
                cr_assert_eq(j->state, STATE(EXITED), "the writer ended with state %d, exit %d, signal %d (%s)",
                             j->state, j->exit_code, j->signal, j->signal_name);

                logs_read(alice, writer, 0, 0, true, &l);
                cr_assert_eq(l.code, JR_CODE_OK, "Logs: %s: %s", code_name(l.code), l.details);
                cr_assert_not_null(l.end);

                /* What the followers had received is stored, at the same
                 * offsets. */
                for (size_t i = 0; i < ELEMENTSOF(follower); i++) {
                        _cleanup_free_ char *got = read_file(follower[i].out_path);

                        cr_assert_leq(strlen(got), l.out_len);
                        cr_assert(strncmp(l.out, got, strlen(got)) == 0,
                                  "follower %zu received what is not stored", i);
                }

                /* The lines stored are 1..k in order, each once; what is
                 * missing is behind a DAEMON_DOWN gap, never a duplicate or
                 * a skip without one. */
                parse_numbered(l.out, p);
                cr_log_info("writer's output: %zu lines%s, %u gaps (%u DAEMON_DOWN)", p->n,
                            p->done ? " and done" : "", l.n_gaps, l.n_daemon_down_gaps);
                assert_consecutive(p);
                cr_assert_eq(l.n_gaps, l.n_daemon_down_gaps);
                if (l.n_daemon_down_gaps == 0) {
                        cr_assert(p->done);
                        cr_assert_eq(j->exit_code, 0);
                } else {
                        cr_assert_not(p->done);
                        cr_assert_eq(j->exit_code, WRITE_FAILED, "exit %d: did its last write not fail?",
                                     j->exit_code);
                }
        }
}

/* ---- 3. restart while a job writes ------------------------------------------------ */

/* The kept pipes come back at fd 3 and up, passed by systemd after it
 * applied the unit's LimitNOFILE=: every fd the store may hold, and the
 * sockets, must fit under it, or systemd cannot start the daemon at all
 * ("Failed to shift fd and set FD_CLOEXEC").  The default soft limit of
 * 1024 did that from 510 running jobs on. */
Test(daemon_restart, a_full_fd_store_fits_under_the_daemons_fd_limit) {
        _cleanup_free_ char *store = unit_property(SERVICE, "FileDescriptorStoreMax"),
                            *limit = unit_property(SERVICE, "LimitNOFILESoft");

        cr_assert_gt(strtoull(limit, NULL, 10), strtoull(store, NULL, 10) + 64,
                     "LimitNOFILESoft=%s, FileDescriptorStoreMax=%s", limit, store);
}

Test(daemon_restart, restart_loses_no_output) {
        Child follower;
        ChildReport report;
        _cleanup_(tc_disconnectp) TcConn *alice = NULL;
        _cleanup_free_ char *trigger = NULL, *script = NULL, *id = NULL, *first = NULL, *all = NULL;
        _cleanup_free_ Numbered *p = malloc(sizeof(Numbered));
        _cleanup_(logs_read_done) LogsRead l = {};
        char command[256];
        double t;

        cr_assert_not_null(p);
        child_spawn(&follower, CHILD_FOLLOW);
        cr_assert_geq(asprintf(&trigger, "%s/restarted", work_dir), 0);
        /* Writes before, during and 10 lines after the restart. */
        script = numbered_lines_script(trigger, 10);
        alice = dh_connect("alice");
        id = start_job(alice, script);
        child_order(&follower, id, 0, 0, 3);
        child_wait_ready(&follower);
        /* Ours would only be re-connected. */
        tc_disconnect(TAKE_PTR(alice));

        t = ((double) now_usec(CLOCK_MONOTONIC) / USEC_PER_SEC);
        dh_shell("systemctl restart " SERVICE);
        cr_log_info("systemctl restart took %.1f s", ((double) now_usec(CLOCK_MONOTONIC) / USEC_PER_SEC) - t);
        assert_unit_activity(SERVICE, "active");
        snprintf(command, sizeof(command), "touch '%s'", trigger);
        dh_shell(command);

        child_collect(&follower, &report);
        cr_log_info("first follower: %s \"%s\" after %u lines (%llu bytes, next offsets %llu/%llu), %u gaps",
                    code_name(report.code), report.details, report.lines, (unsigned long long) report.out_bytes,
                    (unsigned long long) report.next[STDOUT_STREAM], (unsigned long long) report.next[STDERR_STREAM],
                    report.n_gaps);
        cr_assert_eq(report.code, JR_CODE_UNAVAILABLE, "follower: %s: %s", code_name(report.code), report.details);
        cr_assert(strstr(report.details, SHUTDOWN_MESSAGE_PART), "follower: \"%s\" is not the daemon's",
                  report.details);
        cr_assert_str_eq(report.problem, "", "follower: %s", report.problem);
        cr_assert_not(report.got_end);
        cr_assert_eq(report.n_gaps, 0);

        /* A new follower resumes where the first one stopped. */
        alice = dh_connect("alice");
        logs_read(alice, id, report.next[STDOUT_STREAM], report.next[STDERR_STREAM], true, &l);
        cr_assert_eq(l.code, JR_CODE_OK, "Logs after the restart: %s: %s", code_name(l.code), l.details);
        cr_assert_not_null(l.end, "the resumed Logs ended without its end message");

        first = read_file(follower.out_path);
        cr_assert_eq(strlen(first), report.out_bytes);
        cr_assert_geq(asprintf(&all, "%s%s", first, l.out), 0);
        parse_numbered(all, p);
        cr_log_info("across the restart: %zu lines%s, %u gaps (%u DAEMON_DOWN); job state %d, exit %d, "
                    "signal %d (%s)", p->n, p->done ? " and done" : "", l.n_gaps, l.n_daemon_down_gaps,
                    l.end->state, l.end->exit_code, l.end->signal, l.end->signal_name);

        /* THE FEATURE: the jobs' output pipes wait in systemd's file
         * descriptor store while the daemon restarts (daemon/fd-store.h), so
         * nothing a job writes meanwhile is lost: no gap at all, every line
         * exactly once and in order up to "done", and the job ends
         * normally.  Without the store the new daemon has no pipe to read:
         * a DAEMON_DOWN gap, the later lines are gone and the job's last
         * write fails. */
        cr_assert_eq(l.n_daemon_down_gaps, 0, "a DAEMON_DOWN gap across systemctl restart: output was lost");
        cr_assert_eq(l.n_gaps, 0);
        assert_consecutive(p);
        cr_assert(p->done, "the job's output after line %zu is missing", p->n);
        cr_assert_eq(l.end->state, STATE(EXITED), "state %d, exit %d, signal %d (%s)", l.end->state,
                     l.end->exit_code, l.end->signal, l.end->signal_name);
        cr_assert_eq(l.end->exit_code, 0);
}
