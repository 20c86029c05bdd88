/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* jobrunner run over several contexts (client/fanout*.c) end to end,
 * through the real CLI ($JOBRUNNER_CLI): three contexts web-1..web-3 on
 * three ports of the fake server, each with a certificate of its own (the
 * server tells the hosts apart by the CN), a context whose port nobody
 * listens on, one that trusts another CA than the server's, and one whose
 * server never answers the TLS handshake.  Checked byte for byte: the
 * prefixed output, stderr kept apart, partial lines, JSON, the summary,
 * each branch of the exit status rule, the selection of contexts, and
 * Ctrl-C on every host. */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli-runner.h"
#include "fake-server.h"
#include "jobrunner.pb-c.h"
#include "macro.h"

extern char **environ;

#define streq(a, b) (strcmp((a), (b)) == 0)

#define N_HOSTS 3
static const char *const hosts[N_HOSTS] = { "web-1", "web-2", "web-3" };

static char keys_dir[PATH_MAX];

static const FakeKeysStep key_steps[] = {
        { NULL,    { "init" } },
        { NULL,    { "server", "127.0.0.1", "localhost" } },
        { NULL,    { "user", "web-1", "operator" } },
        { NULL,    { "user", "web-2", "operator" } },
        { NULL,    { "user", "web-3", "operator" } },
        { "other", { "init" } },
};

ReportHook(PRE_ALL)(struct criterion_test_set *set) {
        (void) set;
        (void) fake_keys_make(keys_dir, sizeof(keys_dir), "/tmp/jr-test-cli-fanout.XXXXXX", key_steps,
                              ELEMENTSOF(key_steps));
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats) {
        (void) stats;
        fake_keys_remove(keys_dir);
}

/* ---- the fake server ----------------------------------------------------------------
 *
 * The job's argv[1 + i] says what happens on host i (web-1 is 0): an exit
 * code ("0", "3"...), "kill" (SIGKILL), "fts" (fails to start), "perm"
 * (Start refused), "run" (runs until stopped).  Host i's job id starts
 * with 'a' + i. */

enum { M_START, M_STOP, M_LOGS, M_LIST, M_GET_STATUS, _M_MAX };

static const char *const method_paths[_M_MAX] = {
        [M_START] = "/jobrunner.v1.JobRunner/Start",
        [M_STOP]  = "/jobrunner.v1.JobRunner/Stop",
        [M_LOGS]  = "/jobrunner.v1.JobRunner/Logs",
        [M_LIST]  = "/jobrunner.v1.JobRunner/List",
        [M_GET_STATUS] = "/jobrunner.v1.JobRunner/GetStatus",
};

static struct {
        pthread_mutex_t lock;
        char mode[N_HOSTS][16];
        atomic_int starts[N_HOSTS];
        atomic_int working[N_HOSTS];            /* a "run" job's first line is out */
        atomic_int stops[N_HOSTS];
        char list_owner[N_HOSTS][16];           /* of the last List */
} srv;

static const char job_ids[N_HOSTS][33] = {
        "a0000000000000000000000000000001",
        "b0000000000000000000000000000002",
        "c0000000000000000000000000000003",
};

static int host_of_call(grpc_call *call) {
        _cleanup_free_ char *cn = fake_peer_cn(call);

        for (int i = 0; i < N_HOSTS; i++)
                if (streq(cn, hosts[i]))
                        return i;
        SRV_CHECK(false);
        return -1;
}

/* Besides its own job, each host has one that all others have too, but
 * for the last digit: "eeeeeeee...0" + i. */
#define SHARED_PREFIX "eeeeeeee"

static const char shared_ids[N_HOSTS][33] = {
        SHARED_PREFIX "000000000000000000000001",
        SHARED_PREFIX "000000000000000000000002",
        SHARED_PREFIX "000000000000000000000003",
};

static int host_of_id(const char *id) {
        SRV_CHECK(id);
        if (strncmp(id, SHARED_PREFIX, strlen(SHARED_PREFIX)) == 0)
                return id[31] - '1';
        SRV_CHECK(id[0] >= 'a' && id[0] < 'a' + N_HOSTS);
        return id[0] - 'a';
}

/* Whether host i has the job id. */
static bool host_has(int i, const char *id) {
        return strlen(id) == 32 && (streq(id, job_ids[i]) || streq(id, shared_ids[i]));
}

static void job_status(int i, Jobrunner__V1__JobStatus *s) {
        *s = (Jobrunner__V1__JobStatus) JOBRUNNER__V1__JOB_STATUS__INIT;
        s->id = (char *) job_ids[i];
        s->owner = (char *) hosts[i];
        s->state = JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING;
        s->start_time_us = 1700000000000000;
}

static void serve_start(FakeRequest *r) {
        Jobrunner__V1__StartResponse resp = JOBRUNNER__V1__START_RESPONSE__INIT;
        Jobrunner__V1__StartRequest *req;
        Jobrunner__V1__JobStatus s;
        int i = host_of_call(r->call);
        const char *mode;

        req = (Jobrunner__V1__StartRequest *) fake_request_unpack(r, &jobrunner__v1__start_request__descriptor);
        SRV_CHECK(req && req->spec);
        mode = req->spec->n_argv > (size_t) (1 + i) ? req->spec->argv[1 + i] : "0";
        pthread_mutex_lock(&srv.lock);
        snprintf(srv.mode[i], sizeof(srv.mode[i]), "%s", mode);
        pthread_mutex_unlock(&srv.lock);
        atomic_fetch_add(&srv.starts[i], 1);

        if (streq(mode, "perm"))
                fake_finish_call(r->call, true, NULL, GRPC_STATUS_PERMISSION_DENIED,
                                 "permission denied: your role may not do this", true);
        else {
                job_status(i, &s);
                s.spec = req->spec;
                if (streq(mode, "fts")) {
                        s.state = JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START;
                        s.failure_reason = (char *) "cannot execute /job: No such file or directory";
                }
                resp.job = &s;
                fake_finish_call(r->call, true, fake_pack_message(&resp.base), GRPC_STATUS_OK, NULL, true);
        }
        jobrunner__v1__start_request__free_unpacked(req, NULL);
}

static void serve_stop(FakeRequest *r) {
        Jobrunner__V1__StopResponse resp = JOBRUNNER__V1__STOP_RESPONSE__INIT;
        Jobrunner__V1__StopRequest *req;
        Jobrunner__V1__JobStatus s;
        int i;

        req = (Jobrunner__V1__StopRequest *) fake_request_unpack(r, &jobrunner__v1__stop_request__descriptor);
        SRV_CHECK(req);
        i = host_of_id(req->id);
        SRV_CHECK(i == host_of_call(r->call));
        job_status(i, &s);
        s.state = JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED;
        s.signal = 15;
        s.signal_name = (char *) "SIGTERM";
        resp.job = &s;
        atomic_fetch_add(&srv.stops[i], 1);
        fake_finish_call(r->call, true, fake_pack_message(&resp.base), GRPC_STATUS_OK, NULL, true);
        jobrunner__v1__stop_request__free_unpacked(req, NULL);
}

static bool send_chunk(grpc_call *call, int stream, uint64_t offset, const char *text, bool *first) {
        bool ok = fake_send_chunk(call, stream, offset, text, strlen(text), *first);

        *first = false;
        return ok;
}

static bool send_end(grpc_call *call, const Jobrunner__V1__JobStatus *s, bool *first) {
        Jobrunner__V1__LogsResponse m = JOBRUNNER__V1__LOGS_RESPONSE__INIT;
        bool ok;

        m.event_case = JOBRUNNER__V1__LOGS_RESPONSE__EVENT_END;
        m.end = (Jobrunner__V1__JobStatus *) s;
        ok = fake_send_logs_message(call, &m, *first);
        *first = false;
        return ok;
}

#define OUT JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT
#define ERR JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR

/* stdout "line 1 of web-N\nsplit " "line\nno newline", stderr "warning
 * from web-N\n" in between: a line split over two chunks, and one that
 * never ends. */
static void serve_logs(FakeRequest *r) {
        grpc_op close_op = { .op = GRPC_OP_RECV_CLOSE_ON_SERVER };
        Jobrunner__V1__LogsRequest *req;
        Jobrunner__V1__JobStatus end;
        char mode[16], text[64];
        bool first = true, ok;
        int i, cancelled = 0, close_tag;

        req = (Jobrunner__V1__LogsRequest *) fake_request_unpack(r, &jobrunner__v1__logs_request__descriptor);
        SRV_CHECK(req);
        i = host_of_id(req->id);
        SRV_CHECK(i == host_of_call(r->call));
        pthread_mutex_lock(&srv.lock);
        snprintf(mode, sizeof(mode), "%s", srv.mode[i]);
        pthread_mutex_unlock(&srv.lock);

        close_op.data.recv_close_on_server.cancelled = &cancelled;
        SRV_CHECK(grpc_call_start_batch(r->call, &close_op, 1, &close_tag, NULL) == GRPC_CALL_OK);
        job_status(i, &end);

        if (streq(mode, "run")) {
                ok = send_chunk(r->call, OUT, 0, "working\n", &first);
                atomic_store(&srv.working[i], 1);
                /* Until stopped, or the client goes away (at most 20 s). */
                if (ok && fake_server_wait_flag(&close_tag, &srv.stops[i])) {
                        jobrunner__v1__logs_request__free_unpacked(req, NULL);
                        return;
                }
                ok = ok && send_chunk(r->call, ERR, 0, "terminated\n", &first);
                end.state = JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED;
                end.signal = 15;
                end.signal_name = (char *) "SIGTERM";
        } else {
                snprintf(text, sizeof(text), "line 1 of %s\nsplit ", hosts[i]);
                ok = send_chunk(r->call, OUT, 0, text, &first);
                if (ok) {
                        uint64_t next = strlen(text);

                        snprintf(text, sizeof(text), "warning from %s\n", hosts[i]);
                        ok = send_chunk(r->call, ERR, 0, text, &first) &&
                             send_chunk(r->call, OUT, next, "line\nno newline", &first);
                }
                if (streq(mode, "kill")) {
                        end.state = JOBRUNNER__V1__JOB_STATE__JOB_STATE_KILLED;
                        end.signal = 9;
                        end.signal_name = (char *) "SIGKILL";
                } else {
                        end.state = JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED;
                        end.exit_code = atoi(mode);
                }
        }
        if (ok)
                (void) send_end(r->call, &end, &first);
        fake_finish_call(r->call, first, NULL, GRPC_STATUS_OK, NULL, false);
        (void) fake_server_pluck(&close_tag);
        jobrunner__v1__logs_request__free_unpacked(req, NULL);
}

/* Each host has its one job, running. */
static void serve_list(FakeRequest *r) {
        Jobrunner__V1__ListResponse resp = JOBRUNNER__V1__LIST_RESPONSE__INIT;
        Jobrunner__V1__JobSpec spec = JOBRUNNER__V1__JOB_SPEC__INIT;
        static char *argv[] = { (char *) "/job", (char *) "run" };
        Jobrunner__V1__JobStatus s, shared, *jobs[2] = { &s, &shared };
        Jobrunner__V1__ListRequest *req;
        int i = host_of_call(r->call);

        req = (Jobrunner__V1__ListRequest *) fake_request_unpack(r, &jobrunner__v1__list_request__descriptor);
        SRV_CHECK(req);
        pthread_mutex_lock(&srv.lock);
        snprintf(srv.list_owner[i], sizeof(srv.list_owner[i]), "%s", req->owner ?: "");
        pthread_mutex_unlock(&srv.lock);
        job_status(i, &s);
        spec.argv = argv;
        spec.n_argv = ELEMENTSOF(argv);
        s.spec = &spec;
        shared = s;
        shared.id = (char *) shared_ids[i];
        resp.jobs = jobs;
        /* The shared one is someone else's. */
        resp.n_jobs = req->owner && req->owner[0] ? 1 : 2;
        fake_finish_call(r->call, true, fake_pack_message(&resp.base), GRPC_STATUS_OK, NULL, true);
        jobrunner__v1__list_request__free_unpacked(req, NULL);
}

static void serve_get_status(FakeRequest *r) {
        Jobrunner__V1__GetStatusResponse resp = JOBRUNNER__V1__GET_STATUS_RESPONSE__INIT;
        Jobrunner__V1__GetStatusRequest *req;
        Jobrunner__V1__JobStatus s;
        int i = host_of_call(r->call);

        req = (Jobrunner__V1__GetStatusRequest *) fake_request_unpack(r,
                                                                      &jobrunner__v1__get_status_request__descriptor);
        SRV_CHECK(req);
        if (!host_has(i, req->id))
                fake_finish_call(r->call, true, NULL, GRPC_STATUS_NOT_FOUND, "no such job", true);
        else {
                job_status(i, &s);
                s.id = req->id;
                resp.job = &s;
                fake_finish_call(r->call, true, fake_pack_message(&resp.base), GRPC_STATUS_OK, NULL, true);
        }
        jobrunner__v1__get_status_request__free_unpacked(req, NULL);
}

static void serve(FakeRequest *r) {
        switch (r->method) {
        case M_START:
                serve_start(r);
                break;
        case M_STOP:
                serve_stop(r);
                break;
        case M_LOGS:
                serve_logs(r);
                break;
        case M_LIST:
                serve_list(r);
                break;
        case M_GET_STATUS:
                serve_get_status(r);
                break;
        default:
                SRV_CHECK(false);
        }
}

/* ---- the contexts -------------------------------------------------------------------- */

static char tmp[PATH_MAX], xdg_env[PATH_MAX + 32];
static const char *env[2];
/* --timeout where "silent" takes part: what it costs each such test, and
 * what the other hosts have for connecting, the TLS handshake and the first
 * call, on a loaded machine and under the sanitizers (1 s was too short). */
#define SILENT_TIMEOUT "5s"

static int silent_fd = -1;              /* listens, never accepts: no TLS handshake ever */
static int dead_port, silent_port;

/* A port nobody listens on: bound, then closed. */
static int free_port(void) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        cr_assert_geq(fd, 0);
        cr_assert_eq(bind(fd, (struct sockaddr *) &a, sizeof(a)), 0);
        cr_assert_eq(getsockname(fd, (struct sockaddr *) &a, &len), 0);
        close(fd);
        return ntohs(a.sin_port);
}

static int silent_listener(int *ret_port) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        cr_assert_geq(fd, 0);
        cr_assert_eq(bind(fd, (struct sockaddr *) &a, sizeof(a)), 0);
        cr_assert_eq(listen(fd, 16), 0);
        cr_assert_eq(getsockname(fd, (struct sockaddr *) &a, &len), 0);
        *ret_port = ntohs(a.sin_port);
        return fd;
}

static void context(FILE *f, const char *name, int port, const char *user, const char *ca) {
        fprintf(f, "[context %s]\nserver = 127.0.0.1:%d\ncert = %s/users/%s/client.crt\n"
                   "key = %s/users/%s/client.key\nca = %s/%s\n",
                name, port, keys_dir, user, keys_dir, user, keys_dir, ca);
}

static void setup(void) {
        char dir[PATH_MAX + 32], config[PATH_MAX + 64];
        FILE *f;

        pthread_mutex_init(&srv.lock, NULL);
        fake_server_start(&(const FakeServerOptions) {
                .method_paths = method_paths,
                .n_methods = _M_MAX,
                .thread_per_call = true,
                .tls13_only = true,
                .extra_ports = N_HOSTS - 1,
                .serve = serve,
        });
        snprintf(keys_dir, sizeof(keys_dir), "%s", fake_keys_dir());

        snprintf(tmp, sizeof(tmp), "/tmp/jr-test-cli-fanout-home.XXXXXX");
        cr_assert_not_null(mkdtemp(tmp));
        snprintf(dir, sizeof(dir), "%s/jobrunner", tmp);
        cr_assert_eq(mkdir(dir, 0700), 0);
        snprintf(config, sizeof(config), "%s/config", dir);
        f = fopen(config, "we");
        cr_assert_not_null(f);
        dead_port = free_port();
        silent_fd = silent_listener(&silent_port);
        /* Out of order on purpose: the hosts come sorted by name. */
        context(f, "web-2", fake_server.extra_ports[0], "web-2", "ca.crt");
        context(f, "web-1", fake_server.port, "web-1", "ca.crt");
        context(f, "web-3", fake_server.extra_ports[1], "web-3", "ca.crt");
        context(f, "db-1", dead_port, "web-1", "ca.crt");
        context(f, "alien", fake_server.port, "web-1", "other/ca.crt");
        context(f, "silent", silent_port, "web-1", "ca.crt");
        cr_assert_eq(fclose(f), 0);

        snprintf(xdg_env, sizeof(xdg_env), "XDG_CONFIG_HOME=%s", tmp);
        env[0] = xdg_env;
        env[1] = NULL;
        cli_extra_env = env;
}

static void teardown(void) {
        char *argv[] = { (char *) "/bin/rm", (char *) "-rf", tmp, NULL };
        pid_t pid;

        fake_server_stop();
        if (silent_fd >= 0)
                close(silent_fd);
        if (tmp[0] && posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) == 0)
                (void) waitpid(pid, NULL, 0);
}

TestSuite(fanout, .init = setup, .fini = teardown, .timeout = 60);

/* The CLI with the contexts only. */
#define jr(...) cli_as(AS_NOBODY, __VA_ARGS__, NULL)

/* The lines of text that start with prefix, in their order: one host's
 * share of output that hosts wrote side by side. */
static const char *lines_of(const char *text, const char *prefix) {
        static char buf[4][8192];
        static unsigned k;
        char *b = buf[k++ % ELEMENTSOF(buf)];
        size_t n = 0;

        b[0] = '\0';
        for (const char *p = text; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t) (nl + 1 - p) : strlen(p);

                if (strncmp(p, prefix, strlen(prefix)) == 0) {
                        cr_assert_lt(n + len, sizeof(buf[0]));
                        memcpy(b + n, p, len);
                        n += len;
                        b[n] = '\0';
                }
                p += len;
        }
        return b;
}

static void expect_status(const CliRun *t, int status) {
        cr_assert_eq(t->exit_status, status, "exit status %d, expected %d; stderr: %s", t->exit_status, status,
                     t->err);
}

/* What host web-N writes for a job that ends, with the name padded to
 * width. */
static const char *host_stdout(const char *name, int width) {
        return fmt("%1$-*2$s | line 1 of %1$s\n%1$-*2$s | split line\n%1$-*2$s | no newline\n", name, width);
}

static const char *host_stderr(const char *name, int width) {
        return fmt("%1$-*2$s | warning from %1$s\n", name, width);
}

/* ---- run: output and summary ---------------------------------------------------------- */

Test(fanout, one_host_after_the_other_byte_for_byte) {
        _cleanup_(cli_run_done) CliRun t = jr("-c", "web-*", "--parallel", "1", "run", "--", "/job", "0", "3", "0");

        expect_status(&t, 3);
        cr_assert_str_eq(t.out, fmt("%s%s%s", host_stdout("web-1", 5), host_stdout("web-2", 5),
                                    host_stdout("web-3", 5)));
        cr_assert_str_eq(t.err, fmt("%s%s%s"
                                    "web-1: exited with code 0\n"
                                    "web-2: exited with code 3\n"
                                    "web-3: exited with code 0\n"
                                    "jobrunner: 3 hosts: 2 succeeded, 1 failed\n",
                                    host_stderr("web-1", 5), host_stderr("web-2", 5), host_stderr("web-3", 5)));
        for (int i = 0; i < N_HOSTS; i++)
                cr_assert_eq(atomic_load(&srv.starts[i]), 1);
}

Test(fanout, hosts_side_by_side_keep_their_lines_whole) {
        _cleanup_(cli_run_done) CliRun t = jr("-c", "web-1", "-c", "web-3", "-c", "web-2", "run", "/job");

        expect_status(&t, 0);
        for (int i = 0; i < N_HOSTS; i++) {
                const char *prefix = fmt("%s | ", hosts[i]);

                cr_assert_str_eq(lines_of(t.out, prefix), host_stdout(hosts[i], 5));
                cr_assert_str_eq(lines_of(t.err, prefix), host_stderr(hosts[i], 5));
        }
        cr_assert_eq(strlen(t.out), 3 * strlen(host_stdout("web-1", 5)));
        cr_assert(strstr(t.err, "web-1: exited with code 0\nweb-2: exited with code 0\nweb-3: exited with code 0\n"
                                "jobrunner: 3 hosts: 3 succeeded\n"), "%s", t.err);
}

Test(fanout, names_are_padded_to_the_longest) {
        _cleanup_(cli_run_done) CliRun t = jr("-c", "web-1", "-c", "silent", "--parallel", "1",
                                              "--timeout", SILENT_TIMEOUT, "run", "/job");

        expect_status(&t, 69);
        /* "silent" sorts before "web-1". */
        cr_assert_str_eq(t.out, host_stdout("web-1", 6));
        cr_assert(strncmp(t.err, fmt("%s", host_stderr("web-1", 6)), strlen(host_stderr("web-1", 6))) == 0, "%s",
                  t.err);
}

Test(fanout, json_lines_name_their_host) {
        _cleanup_(cli_run_done) CliRun t = jr("-c", "web-2", "-c", "db-1", "--parallel", "1", "--json", "run",
                                              "/job", "0", "0");
        const char *start = "{\"host\":\"web-2\",\"type\":\"start\",\"job\":{\"id\":\""
                            "b0000000000000000000000000000002\"";

        expect_status(&t, 69);
        /* db-1 first: its error, then web-2's events. */
        cr_assert(strncmp(t.out, "{\"host\":\"db-1\",\"type\":\"error\",\"message\":\"", 41) == 0, "%s", t.out);
        cr_assert_not_null(strstr(t.out, start), "%s", t.out);
        cr_assert_not_null(strstr(t.out, "{\"host\":\"web-2\",\"type\":\"chunk\",\"stream\":\"stdout\",\"offset\":0,"
                                         "\"data\":\"bGluZSAxIG9mIHdlYi0yCnNwbGl0IA==\"}\n"), "%s", t.out);
        cr_assert_not_null(strstr(t.out, "{\"host\":\"web-2\",\"type\":\"chunk\",\"stream\":\"stderr\""), "%s",
                           t.out);
        cr_assert_not_null(strstr(t.out, "{\"host\":\"web-2\",\"type\":\"end\",\"job\":{"), "%s", t.out);
        /* Every line an object with its host. */
        for (const char *p = t.out; *p; p = strchr(p, '\n') + 1)
                cr_assert(strncmp(p, "{\"host\":\"", 9) == 0, "%s", p);
        cr_assert_not_null(strstr(t.err, "web-2: exited with code 0\njobrunner: 2 hosts: 1 succeeded, 1 in error\n"),
                           "%s", t.err);
}

Test(fanout, merge_sends_stderr_to_stdout) {
        _cleanup_(cli_run_done) CliRun t = jr("-c", "web-1", "-c", "web-2", "--parallel", "1", "run", "--merge",
                                              "/job");

        /* The bytes in the order the server captured them: the warning
         * came amid a line. */
        expect_status(&t, 0);
        cr_assert_str_eq(t.out, "web-1 | line 1 of web-1\nweb-1 | split warning from web-1\nweb-1 | line\n"
                                "web-1 | no newline\n"
                                "web-2 | line 1 of web-2\nweb-2 | split warning from web-2\nweb-2 | line\n"
                                "web-2 | no newline\n");
        cr_assert_str_eq(t.err, "web-1: exited with code 0\nweb-2: exited with code 0\n"
                                "jobrunner: 2 hosts: 2 succeeded\n");
}

/* ---- run: unreachable hosts, and the exit status --------------------------------------- */

Test(fanout, a_dead_host_is_reported_and_blocks_nobody) {
        _cleanup_(cli_run_done) CliRun t = jr("-c", "web-*", "-c", "db-1", "run", "/job");
        const char *summary;

        expect_status(&t, 69);
        for (int i = 0; i < N_HOSTS; i++)
                cr_assert_str_eq(lines_of(t.out, fmt("%s | ", hosts[i])), host_stdout(hosts[i], 5));
        summary = strstr(t.err, "db-1: ");
        cr_assert_not_null(summary, "%s", t.err);
        cr_assert_not_null(strstr(summary, fmt("127.0.0.1:%d", dead_port)), "%s", summary);
        cr_assert_not_null(strstr(summary, "onnection refused"), "%s", summary);
        cr_assert_not_null(strstr(summary, "\nweb-1: exited with code 0\nweb-2: exited with code 0\n"
                                           "web-3: exited with code 0\njobrunner: 4 hosts: 3 succeeded, 1 in error\n"),
                           "%s", summary);
}

Test(fanout, a_host_that_never_answers_fails_within_the_timeout) {
        _cleanup_(cli_run_done) CliRun t = jr("-c", "web-1", "-c", "silent", "--timeout", SILENT_TIMEOUT,
                                              "run", "/job");

        expect_status(&t, 69);
        cr_assert_str_eq(t.out, host_stdout("web-1", 6));
        cr_assert_not_null(strstr(t.err, "silent: "), "%s", t.err);
        cr_assert_not_null(strstr(t.err, "\nweb-1: exited with code 0\njobrunner: 2 hosts: 1 succeeded, 1 in error\n"),
                           "%s", t.err);
}

Test(fanout, a_server_of_another_ca_is_refused) {
        _cleanup_(cli_run_done) CliRun t = jr("-c", "alien", "-c", "web-1", "run", "/job");

        expect_status(&t, 69);
        cr_assert_str_eq(t.out, host_stdout("web-1", 5));
        cr_assert(strncmp(strstr(t.err, "alien: ") ?: "", "alien: ", 7) == 0, "%s", t.err);
        cr_assert_not_null(strstr(t.err, "TLS"), "%s", t.err);
        cr_assert_eq(atomic_load(&srv.starts[0]), 1);
}

Test(fanout, exit_status_the_highest_job_status) {
        CliRun t = jr("-c", "web-*", "run", "/job", "1", "7", "3");

        expect_status(&t, 7);
        cr_assert_not_null(strstr(t.err, "jobrunner: 3 hosts: 3 failed\n"), "%s", t.err);
        cli_run_done(&t);

        t = jr("-c", "web-*", "run", "/job", "0", "kill", "3");
        expect_status(&t, 137);
        cr_assert_not_null(strstr(t.err, "web-2: killed by SIGKILL"), "%s", t.err);
        cli_run_done(&t);

        t = jr("-c", "web-*", "run", "/job", "0", "fts", "3");
        expect_status(&t, 127);
        cr_assert_not_null(strstr(t.err, "web-2: failed to start: cannot execute /job"), "%s", t.err);
        /* No output was asked for on a job that never ran. */
        cr_assert_str_eq(lines_of(t.out, "web-2 | "), "");
        cli_run_done(&t);
}

Test(fanout, exit_status_a_host_in_error_counts_69) {
        /* Below 69: 69. */
        CliRun t = jr("-c", "web-*", "run", "/job", "0", "perm", "1");

        expect_status(&t, 69);
        cr_assert_not_null(strstr(t.err, "web-2: permission denied"), "%s", t.err);
        cr_assert_not_null(strstr(t.err, "jobrunner: 3 hosts: 1 succeeded, 1 failed, 1 in error\n"), "%s", t.err);
        cli_run_done(&t);

        /* A job's status above 69 wins. */
        t = jr("-c", "web-1", "-c", "db-1", "run", "/job", "70");
        expect_status(&t, 70);
        cli_run_done(&t);
}

/* ---- selecting the contexts ------------------------------------------------------------- */

Test(fanout, all_contexts_and_patterns) {
        CliRun t = jr("--all-contexts", "--timeout", SILENT_TIMEOUT, "run", "/job");

        expect_status(&t, 69);
        /* Sorted by name. */
        cr_assert_not_null(strstr(t.err, "\nweb-1: exited with code 0\nweb-2: exited with code 0\n"
                                         "web-3: exited with code 0\njobrunner: 6 hosts: 3 succeeded, 3 in error\n"),
                           "%s", t.err);
        cr_assert(strncmp(t.err + strlen(t.err) - strlen("jobrunner: 6 hosts: 3 succeeded, 3 in error\n") -
                          strlen("web-1: exited with code 0\nweb-2: exited with code 0\nweb-3: exited with code 0\n"),
                          "web-1:", 6) == 0);
        cr_assert(strstr(t.err, "alien: ") < strstr(t.err, "db-1: "));
        cr_assert(strstr(t.err, "db-1: ") < strstr(t.err, "silent: "));
        cli_run_done(&t);

        /* A pattern that matches nothing, a name that does not exist. */
        t = jr("-c", "web-*", "-c", "mail-?", "run", "/job");
        expect_status(&t, 2);
        cr_assert_str_eq(t.out, "");
        cr_assert_str_eq(t.err, fmt("jobrunner: no context in %s/jobrunner/config matches 'mail-?'; see 'jobrunner run "
                                    "--help'\n", tmp));
        cli_run_done(&t);
        t = jr("-c", "web-[12]", "-c", "mail", "run", "/job");
        expect_status(&t, 78);
        cr_assert_str_eq(t.err, fmt("jobrunner: no context 'mail' in %s/jobrunner/config (selected by --context)\n",
                                    tmp));
        cli_run_done(&t);

        /* One pattern is a fan-out even when it matches one context. */
        t = jr("-c", "web-[3]", "run", "/job");
        expect_status(&t, 0);
        cr_assert_str_eq(t.out, host_stdout("web-3", 5));
        cli_run_done(&t);
        for (int i = 0; i < N_HOSTS; i++)
                cr_assert_eq(atomic_load(&srv.starts[i]), i == 2 ? 2 : 1);
}

Test(fanout, one_context_is_no_fan_out) {
        _cleanup_(cli_run_done) CliRun t = jr("-c", "web-2", "run", "/job");

        /* Unprefixed, no summary: exactly as before fan-out. */
        expect_status(&t, 0);
        cr_assert_str_eq(t.out, "line 1 of web-2\nsplit line\nno newline");
        cr_assert_str_eq(t.err, "warning from web-2\n");
}

Test(fanout, parallel_takes_a_number) {
        _cleanup_(cli_run_done) CliRun t = jr("-c", "web-*", "--parallel", "0", "run", "/job");

        expect_status(&t, 2);
        cr_assert_str_eq(t.err, "jobrunner: invalid --parallel '0': expected a number from 1 to 1024; see "
                                "'jobrunner --help'\n");
}

/* ---- start and list ------------------------------------------------------------------ */

Test(fanout, start_prints_context_and_id) {
        CliRun t = jr("-c", "web-*", "-c", "db-1", "start", "/job", "0", "fts", "perm");

        expect_status(&t, 127);
        cr_assert_str_eq(t.out, "web-1 a0000000000000000000000000000001\nweb-2 b0000000000000000000000000000002\n");
        cr_assert(strncmp(t.err, "jobrunner: web-2: job b0000000000000000000000000000002 failed to start: cannot "
                                 "execute /job: No such file or directory\njobrunner: db-1: ", 120) == 0, "%s", t.err);
        cr_assert_not_null(strstr(t.err, "\njobrunner: web-3: permission denied"), "%s", t.err);
        cli_run_done(&t);

        t = jr("-c", "web-[12]", "--json", "start", "/job");
        expect_status(&t, 0);
        cr_assert(strncmp(t.out, "{\"host\":\"web-1\",\"id\":\"a0000000000000000000000000000001\",", 53) == 0,
                  "%s", t.out);
        cr_assert_not_null(strstr(t.out, "}\n{\"host\":\"web-2\",\"id\":\"b0000000000000000000000000000002\","),
                           "%s", t.out);
        cr_assert_str_eq(t.err, "");
        cli_run_done(&t);
}

Test(fanout, list_adds_a_host_column) {
        CliRun t = jr("-c", "web-*", "list");

        expect_status(&t, 0);
        cr_assert_str_eq(t.out,
                         "HOST   ID                                OWNER  STATE    EXIT  STARTED              "
                         "COMMAND\n"
                         "web-1  a0000000000000000000000000000001  web-1  running  -     2023-11-14 22:13:20  "
                         "/job run\n"
                         "web-2  b0000000000000000000000000000002  web-2  running  -     2023-11-14 22:13:20  "
                         "/job run\n"
                         "web-3  c0000000000000000000000000000003  web-3  running  -     2023-11-14 22:13:20  "
                         "/job run\n");
        cr_assert_str_eq(t.err, "");
        /* Each host is asked for the jobs of the user it knows us as. */
        for (int i = 0; i < N_HOSTS; i++)
                cr_assert_str_eq(srv.list_owner[i], hosts[i]);
        cli_run_done(&t);

        t = jr("-c", "web-2", "-c", "db-1", "list", "-q", "--all");
        expect_status(&t, 69);
        cr_assert_str_eq(t.out, "web-2/b0000000000000000000000000000002\nweb-2/" SHARED_PREFIX
                                "000000000000000000000002\n");
        cr_assert(strncmp(t.err, "jobrunner: db-1: ", 17) == 0, "%s", t.err);
        cli_run_done(&t);

        t = jr("-c", "web-1", "-c", "web-3", "list", "--json");
        expect_status(&t, 0);
        cr_assert(strncmp(t.out, "[{\"host\":\"web-1\",\"id\":\"a0000000000000000000000000000001\",", 54) == 0,
                  "%s", t.out);
        cr_assert_not_null(strstr(t.out, "},{\"host\":\"web-3\",\"id\":\"c0000000000000000000000000000003\","),
                           "%s", t.out);
        cli_run_done(&t);
}

/* ---- the commands on one job ------------------------------------------------------------ */

/* status --json of the job, as web-N's. */
static void expect_found(CliRun *t, const char *id, const char *owner) {
        expect_status(t, 0);
        cr_assert(strncmp(t->out, fmt("{\"id\":\"%s\",\"owner\":\"%s\",", id, owner), 50) == 0, "%s", t->out);
        cr_assert_str_eq(t->err, "");
        cli_run_done(t);
}

Test(fanout, context_slash_id_names_the_host) {
        CliRun t = jr("status", "--json", "web-2/b0000000000000000000000000000002");

        expect_found(&t, job_ids[1], "web-2");
        /* Over -c, and with a prefix. */
        t = jr("-c", "web-1", "status", "--json", "web-3/c0000000");
        expect_found(&t, job_ids[2], "web-3");
        t = jr("-c", "web-*", "status", "--json", "web-3/" SHARED_PREFIX);
        expect_found(&t, shared_ids[2], "web-3");
        t = jr("-c", "web-*", "stop", "web-1/a0000000000000000000000000000001");
        expect_status(&t, 0);
        cr_assert_eq(atomic_load(&srv.stops[0]), 1);
        cli_run_done(&t);

        t = jr("status", "nope/b0000000000000000000000000000002");
        expect_status(&t, 78);
        cr_assert_str_eq(t.err, fmt("jobrunner: no context 'nope' in %s/jobrunner/config (selected by the job "
                                    "argument)\n", tmp));
        cli_run_done(&t);
        t = jr("status", ".x/b0000000000000000000000000000002");
        expect_status(&t, 2);
        cr_assert(strncmp(t.err, "jobrunner: invalid context in the job argument '.x/b000", 55) == 0, "%s", t.err);
        cli_run_done(&t);
}

Test(fanout, a_job_is_looked_up_on_every_context) {
        CliRun t = jr("-c", "web-*", "status", "--json", "b0000000");

        expect_found(&t, job_ids[1], "web-2");
        t = jr("-c", "web-*", "status", "--json", "c0000000000000000000000000000003");
        expect_found(&t, job_ids[2], "web-3");
        t = jr("--all-contexts", "--timeout", SILENT_TIMEOUT, "stop", "c0000000000000000000000000000003");
        /* Not while some contexts could not be asked. */
        expect_status(&t, 69);
        {
                const char *expected = "jobrunner: job 'c0000000000000000000000000000003' is found as "
                                       "web-3/c0000000000000000000000000000003, but alien could not be asked (";

                cr_assert(strncmp(t.err, expected, strlen(expected)) == 0, "%s", t.err);
        }
        cr_assert_eq(atomic_load(&srv.stops[2]), 0);
        cli_run_done(&t);
        t = jr("-c", "web-*", "stop", "c0000000000000000000000000000003");
        expect_status(&t, 0);
        cr_assert_eq(atomic_load(&srv.stops[2]), 1);
        cli_run_done(&t);

        t = jr("-c", "web-*", "status", SHARED_PREFIX);
        expect_status(&t, 2);
        cr_assert_str_eq(t.err, fmt("jobrunner: job '%s' is found on several contexts: web-1/%s, web-2/%s, web-3/%s; "
                                    "give CONTEXT/ID; see 'jobrunner status --help'\n", SHARED_PREFIX,
                                    shared_ids[0], shared_ids[1], shared_ids[2]));
        cli_run_done(&t);

        t = jr("-c", "web-*", "wait", "ffffffff");
        expect_status(&t, 3);
        cr_assert_str_eq(t.err, "jobrunner: job 'ffffffff' is on none of the 3 contexts\n");
        cli_run_done(&t);

        t = jr("-c", "web-1", "-c", "db-1", "logs", "ffffffff");
        expect_status(&t, 69);
        cr_assert(strncmp(t.err, "jobrunner: job 'ffffffff' is on no context that answered; db-1: ", 64) == 0, "%s",
                  t.err);
        cli_run_done(&t);
}

/* ---- Ctrl-C ------------------------------------------------------------------------------ */

static void wait_until_working(const CliRun *t) {
        for (int i = 0; i < N_HOSTS; i++) {
                wait_for(&srv.working[i]);
                wait_for_output(t, fmt("%s | working\n", hosts[i]));
        }
}

Test(fanout, ctrl_c_detaches_from_every_host) {
        CliRun t = cli_spawn(AS_NOBODY, "-c", "web-*", "run", "/job", "run", "run", "run", NULL);

        wait_until_working(&t);
        cr_assert_eq(kill(t.pid, SIGINT), 0);
        cli_finish(&t);
        expect_status(&t, 130);
        for (int i = 0; i < N_HOSTS; i++) {
                const char *p = fmt("%s | ", hosts[i]);

                cr_assert_str_eq(lines_of(t.err, p),
                                 fmt("%1$sjobrunner: detached from job %2$s, which keeps running.\n"
                                     "%1$sjobrunner: follow it again: jobrunner -c %3$s logs -f --stdout-offset 8 "
                                     "--stderr-offset 0 %2$s\n"
                                     "%1$sjobrunner: stop it:         jobrunner -c %3$s stop %2$s\n",
                                     p, job_ids[i], hosts[i]));
                cr_assert_eq(atomic_load(&srv.stops[i]), 0);
        }
        cr_assert_not_null(strstr(t.err, fmt("web-1: detached from job %s\nweb-2: detached from job %s\n"
                                             "web-3: detached from job %s\njobrunner: 3 hosts: 3 interrupted\n",
                                             job_ids[0], job_ids[1], job_ids[2])), "%s", t.err);
        cli_run_done(&t);
}

Test(fanout, ctrl_c_stops_on_every_host) {
        CliRun t = cli_spawn(AS_NOBODY, "-c", "web-*", "run", "--stop-on-interrupt", "/job", "run", "run", "run",
                             NULL);

        wait_until_working(&t);
        cr_assert_eq(kill(t.pid, SIGINT), 0);
        cli_finish(&t);
        /* Stopped by SIGTERM: 128 + 15. */
        expect_status(&t, 143);
        for (int i = 0; i < N_HOSTS; i++) {
                const char *p = fmt("%s | ", hosts[i]);

                cr_assert_str_eq(lines_of(t.err, p),
                                 fmt("%1$sjobrunner: stopping job %2$s (Ctrl-C again to leave without waiting)\n"
                                     "%1$sterminated\n", p, job_ids[i]));
                cr_assert_eq(atomic_load(&srv.stops[i]), 1);
        }
        cr_assert_not_null(strstr(t.err, "jobrunner: 3 hosts: 3 failed\n"), "%s", t.err);
        cli_run_done(&t);
}

Test(fanout, ctrl_c_starts_no_more_hosts) {
        CliRun t = cli_spawn(AS_NOBODY, "-c", "web-*", "--parallel", "1", "run", "/job", "run", "run", "run", NULL);

        /* One host at a time: web-1's job runs, the others wait their
         * turn on the same thread. */
        wait_for(&srv.working[0]);
        wait_for_output(&t, "web-1 | working\n");
        cr_assert_eq(kill(t.pid, SIGINT), 0);
        cli_finish(&t);
        expect_status(&t, 130);
        cr_assert_eq(atomic_load(&srv.starts[0]), 1);
        cr_assert_eq(atomic_load(&srv.starts[1]), 0);
        cr_assert_eq(atomic_load(&srv.starts[2]), 0);
        cr_assert_not_null(strstr(t.err, fmt("\nweb-1: detached from job %s\nweb-2: not started (interrupted)\n"
                                             "web-3: not started (interrupted)\njobrunner: 3 hosts: 3 interrupted\n",
                                             job_ids[0])), "%s", t.err);
        cli_run_done(&t);
}
