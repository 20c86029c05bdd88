/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The metrics endpoint on a real sd-event loop, in a thread of its own, and
 * HTTP/1.1 written by hand over plain sockets from the test's thread.
 *
 * Nothing here asserts that something is fast: every wait of the client is
 * bounded by WAIT_MSEC only so that a hang fails instead of blocking. */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "leak-check.h"
#include "log.h"
#include "macro.h"
#include "metrics-http.h"
#include "net-check.h"
#include "time-util.h"

#define streq(a, b) (strcmp((a), (b)) == 0)

#define WAIT_MSEC (60 * 1000)

static const char METRICS[] =
        "# HELP jobrunner_jobs Jobs known to the daemon.\n"
        "# TYPE jobrunner_jobs gauge\n"
        "jobrunner_jobs{state=\"running\"} 3\n";

/* ---- the server: the endpoint on an sd-event loop in its own thread ------ */

typedef struct Server {
        bool running;
        pthread_t thread;
        int listen_fd;          /* taken by metrics_http_new() */
        uint16_t port;
        unsigned timeout_sec;
        int stop_fd;            /* an eventfd: the loop exits when it is written */
        sem_t started;
        int new_result;

        /* What the body callback makes, on the loop's thread. */
        char *body;
        size_t body_len;
        atomic_int fail;        /* 0, or the callback's error */
        atomic_uint n_bodies;

        /* How scrapes are answered: at once, on a later turn of the loop,
         * or never (left waiting for metrics_http_free()). */
        enum { ANSWER_AT_ONCE, ANSWER_LATER, ANSWER_NEVER, ANSWER_EMPTY } _Atomic answer;
        MetricsHttpRequest *later[32];  /* the loop's thread only */
        size_t n_later;
        sd_event_source *later_source;
        atomic_uint n_waiting;          /* scrapes that were not answered at once */
        atomic_uint n_cancelled;
} Server;

static Server server;

static int make_body(Server *s, char **ret_body, size_t *ret_len) {
        int fail = atomic_load(&s->fail);
        char *b;

        atomic_fetch_add(&s->n_bodies, 1);
        if (fail < 0)
                return fail;

        b = malloc(s->body_len + 1);
        if (!b)
                return -ENOMEM;
        memcpy(b, s->body, s->body_len);
        *ret_body = b;
        *ret_len = s->body_len;
        return 0;
}

static void answer(Server *s, MetricsHttpRequest *req) {
        char *body = NULL;
        size_t len = 0;
        int r = make_body(s, &body, &len);

        metrics_http_answer(req, r, body, len);
}

/* Answers the scrapes that wait, on a later turn of the loop. */
static int on_later(sd_event_source *source, void *userdata) {
        Server *s = userdata;

        (void) source;
        while (s->n_later > 0)
                answer(s, s->later[--s->n_later]);
        return 0;
}

static void on_scrape(void *userdata, MetricsHttpRequest *req) {
        Server *s = userdata;

        if (atomic_load(&s->answer) == ANSWER_AT_ONCE) {
                answer(s, req);
                return;
        }
        if (atomic_load(&s->answer) == ANSWER_EMPTY) {
                metrics_http_answer(req, 0, NULL, 0);
                return;
        }
        /* Later, or never (the test frees the endpoint meanwhile). */
        if (s->n_later < ELEMENTSOF(s->later))
                s->later[s->n_later++] = req;
        atomic_fetch_add(&s->n_waiting, 1);
        if (atomic_load(&s->answer) == ANSWER_LATER)
                (void) sd_event_source_set_enabled(s->later_source, SD_EVENT_ONESHOT);
}

static void on_cancel(void *userdata, MetricsHttpRequest *req) {
        Server *s = userdata;

        for (size_t i = 0; i < s->n_later; i++)
                if (s->later[i] == req) {
                        s->later[i] = s->later[--s->n_later];
                        atomic_fetch_add(&s->n_cancelled, 1);
                        return;
                }
}

static int on_stop(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        (void) fd;
        (void) revents;
        (void) userdata;
        return sd_event_exit(sd_event_source_get_event(source), 0);
}

/* No assertions on this thread: Criterion's belong to the test's. */
static void *server_main(void *p) {
        Server *s = p;
        sd_event *event = NULL;
        MetricsHttp *h = NULL;
        int r;

        r = sd_event_new(&event);
        if (r >= 0)
                r = metrics_http_new(event, &(MetricsHttpConfig) {
                                .listen_fd = s->listen_fd,
                                .timeout_sec = s->timeout_sec,
                                .priority = SD_EVENT_PRIORITY_IDLE,
                                .scrape = on_scrape,
                                .cancel = on_cancel,
                                .userdata = s,
                        }, &h);
        if (r >= 0)
                r = sd_event_add_io(event, NULL, s->stop_fd, EPOLLIN, on_stop, NULL);
        if (r >= 0)
                r = sd_event_add_defer(event, &s->later_source, on_later, s);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->later_source, SD_EVENT_OFF);
        s->new_result = r;
        (void) sem_post(&s->started);

        if (r >= 0)
                (void) sd_event_loop(event);

        /* With whatever connections and scrapes the test left open. */
        metrics_http_free(h);
        sd_event_source_disable_unref(s->later_source);
        sd_event_unref(event);
        return NULL;
}

/* body: copied, as the callback's answer for the whole test. */
static void server_start_with(const void *body, size_t len, unsigned timeout_sec) {
        struct sockaddr_in sa;
        socklen_t salen = sizeof(sa);

        server.body = malloc(len + 1);
        cr_assert_not_null(server.body);
        memcpy(server.body, body, len);
        server.body_len = len;
        server.timeout_sec = timeout_sec;

        server.listen_fd = metrics_http_listen("127.0.0.1:0");
        cr_assert_geq(server.listen_fd, 0, "metrics_http_listen: %s", strerror(-server.listen_fd));
        cr_assert_eq(getsockname(server.listen_fd, (struct sockaddr *) &sa, &salen), 0);
        server.port = ntohs(sa.sin_port);
        cr_assert_neq(server.port, 0);

        server.stop_fd = eventfd(0, EFD_CLOEXEC);
        cr_assert_geq(server.stop_fd, 0);
        cr_assert_eq(sem_init(&server.started, 0, 0), 0);
        cr_assert_eq(pthread_create(&server.thread, NULL, server_main, &server), 0);
        server.running = true;
        cr_assert_eq(sem_wait(&server.started), 0);
        cr_assert_eq(server.new_result, 0, "metrics_http_new: %s", strerror(-server.new_result));
}

static void server_start(unsigned timeout_sec) {
        server_start_with(METRICS, strlen(METRICS), timeout_sec);
}

static void server_stop(void) {
        uint64_t one = 1;

        if (!server.running)
                return;
        server.running = false;
        cr_assert_eq(write(server.stop_fd, &one, sizeof(one)), (ssize_t) sizeof(one));
        cr_assert_eq(pthread_join(server.thread, NULL), 0);
        server.stop_fd = safe_close(server.stop_fd);
        (void) sem_destroy(&server.started);
}

static void setup(void) {
        server = (Server) { .listen_fd = -EBADF, .stop_fd = -EBADF };
}

static void teardown(void) {
        server_stop();
        free(server.body);
        server.body = NULL;
        abort_on_leaks();
}

TestSuite(metrics_http, .init = setup, .fini = teardown, .timeout = 240);

/* ---- the client: raw HTTP/1.1 ----------------------------------------------- */

typedef struct Conn {
        int fd;
        char *buf;              /* read, not yet taken by an answer */
        size_t len, size;
} Conn;

typedef struct Response {
        int status;
        char *headers;          /* the status line and headers, each ending in "\r\n" */
        size_t content_length;
        char *body;             /* NUL-terminated too */
        size_t body_len;
} Response;

static void response_done(Response *r) {
        free(r->headers);
        free(r->body);
        *r = (Response) {};
}

static void conn_open(Conn *c) {
        *c = (Conn) { .fd = net_check_connect(server.port) };
        cr_assert_geq(c->fd, 0, "connect: %s", strerror(-c->fd));
}

static void conn_close(Conn *c) {
        c->fd = safe_close(c->fd);
        free(c->buf);
        *c = (Conn) { .fd = -EBADF };
}

/* MSG_NOSIGNAL: the server may have closed the connection already. */
static int conn_send(Conn *c, const char *s) {
        size_t n = strlen(s);

        while (n > 0) {
                ssize_t k = send(c->fd, s, n, MSG_NOSIGNAL);

                if (k < 0)
                        return -errno;
                s += k;
                n -= (size_t) k;
        }
        return 0;
}

static void conn_request(Conn *c, const char *s) {
        int r = conn_send(c, s);

        cr_assert_eq(r, 0, "send: %s", strerror(-r));
}

/* Reads what comes: 1 with more data, 0 at the end, or -ECONNRESET. */
static int conn_fill(Conn *c) {
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        ssize_t n;

        if (c->size - c->len < 64 * 1024) {
                c->size = c->size * 2 + 128 * 1024;
                c->buf = realloc(c->buf, c->size);
                cr_assert_not_null(c->buf);
        }
        cr_assert_eq(poll(&p, 1, WAIT_MSEC), 1, "nothing from the server within %d ms", WAIT_MSEC);
        n = recv(c->fd, c->buf + c->len, c->size - c->len - 1, 0);
        if (n < 0) {
                cr_assert_eq(errno, ECONNRESET, "recv: %m");
                return -errno;
        }
        c->len += (size_t) n;
        c->buf[c->len] = '\0';
        return n > 0;
}

/* The value of a header of r, or NULL; in a static buffer. */
static const char *header(const Response *r, const char *name) {
        static char value[256];
        const char *p = r->headers;
        size_t n = strlen(name);

        while ((p = strstr(p, "\r\n"))) {
                const char *end;

                p += 2;
                if (strncasecmp(p, name, n) != 0 || p[n] != ':')
                        continue;
                p += n + 1;
                p += strspn(p, " ");
                end = strstr(p, "\r\n");
                cr_assert_lt((size_t) (end - p), sizeof(value));
                memcpy(value, p, (size_t) (end - p));
                value[end - p] = '\0';
                return value;
        }
        return NULL;
}

/* The next answer on c; head: one to a HEAD request, without a body. */
static void read_response(Conn *c, bool head, Response *ret) {
        const char *end, *length;
        size_t header_len, body_len;

        *ret = (Response) {};
        while (!(end = memmem(c->buf ?: "", c->len, "\r\n\r\n", 4)))
                cr_assert_eq(conn_fill(c), 1, "the connection ended before an answer (%zu bytes: %.*s)",
                             c->len, (int) c->len, c->buf ?: "");
        header_len = (size_t) (end + 4 - c->buf);
        ret->headers = strndup(c->buf, header_len);
        cr_assert_not_null(ret->headers);
        cr_assert_eq(sscanf(ret->headers, "HTTP/1.1 %d ", &ret->status), 1, "not an answer: %s", ret->headers);

        length = header(ret, "Content-Length");
        cr_assert_not_null(length, "no Content-Length: %s", ret->headers);
        ret->content_length = strtoull(length, NULL, 10);

        body_len = head ? 0 : ret->content_length;
        while (c->len < header_len + body_len)
                cr_assert_eq(conn_fill(c), 1, "the connection ended within an answer's body");
        ret->body = malloc(body_len + 1);
        cr_assert_not_null(ret->body);
        memcpy(ret->body, c->buf + header_len, body_len);
        ret->body[body_len] = '\0';
        ret->body_len = body_len;

        c->len -= header_len + body_len;
        memmove(c->buf, c->buf + header_len + body_len, c->len);
}

static void get(Conn *c, const char *method, const char *path, Response *ret) {
        char request[256];

        snprintf(request, sizeof(request), "%s %s HTTP/1.1\r\nHost: localhost\r\n\r\n", method, path);
        conn_request(c, request);
        read_response(c, streq(method, "HEAD"), ret);
}

/* The server ends the connection (FIN or RST) and sends nothing more;
 * any_data: whatever was on the way before may come first. */
static void expect_end(Conn *c, bool any_data) {
        int r;

        if (any_data)
                c->len = 0;
        while ((r = conn_fill(c)) > 0) {
                cr_assert(any_data, "unexpected data before the end: %.*s", (int) c->len, c->buf);
                c->len = 0;
        }
        cr_assert_eq(c->len, 0, "unexpected data before the end: %.*s", (int) c->len, c->buf);
}

static void assert_metrics(const Response *r) {
        cr_assert_eq(r->status, 200, "%s", r->headers);
        cr_assert_str_eq(header(r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
        cr_assert_eq(r->content_length, strlen(METRICS));
        cr_assert_str_eq(r->body, METRICS);
}

/* ---- answers ---------------------------------------------------------------- */

/* The scrape answered on a later turn of the loop, as the daemon's
 * collector does: several connections wait at once, then each gets its
 * body, and their connections live on. */
Test(metrics_http, answered_later_to_several_waiting) {
        Conn c[3];
        Response r;

        atomic_store(&server.answer, ANSWER_LATER);
        server_start(0);
        for (size_t i = 0; i < ELEMENTSOF(c); i++) {
                c[i] = (Conn) { .fd = -EBADF };
                conn_open(&c[i]);
                conn_request(&c[i], "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
        }
        for (size_t i = 0; i < ELEMENTSOF(c); i++) {
                read_response(&c[i], false, &r);
                assert_metrics(&r);
                response_done(&r);
        }
        /* Kept alive: a HEAD on each, answered later too. */
        for (size_t i = 0; i < ELEMENTSOF(c); i++) {
                get(&c[i], "HEAD", "/metrics", &r);
                cr_assert_eq(r.status, 200);
                cr_assert_eq(r.content_length, strlen(METRICS));
                response_done(&r);
                conn_close(&c[i]);
        }
        cr_assert_eq(atomic_load(&server.n_waiting), 6);
        cr_assert_eq(atomic_load(&server.n_cancelled), 0);
}

/* An empty body without a buffer is an empty answer. */
Test(metrics_http, empty_answer) {
        _cleanup_(conn_close) Conn c = { .fd = -EBADF };
        Response r;

        atomic_store(&server.answer, ANSWER_EMPTY);
        server_start(0);
        conn_open(&c);
        get(&c, "GET", "/metrics", &r);
        cr_assert_eq(r.status, 200, "%s", r.headers);
        cr_assert_eq(r.content_length, 0);
        response_done(&r);
}

/* Freed while scrapes wait: their maker is told to forget them, nothing
 * leaks (the suite's leak check), and the clients see the end. */
Test(metrics_http, freed_with_scrapes_waiting) {
        Conn c[2];

        atomic_store(&server.answer, ANSWER_NEVER);
        server_start(0);
        for (size_t i = 0; i < ELEMENTSOF(c); i++) {
                c[i] = (Conn) { .fd = -EBADF };
                conn_open(&c[i]);
                conn_request(&c[i], "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
        }
        while (atomic_load(&server.n_waiting) < ELEMENTSOF(c))
                usleep(10 * 1000);
        server_stop();
        cr_assert_eq(atomic_load(&server.n_cancelled), ELEMENTSOF(c));
        for (size_t i = 0; i < ELEMENTSOF(c); i++) {
                expect_end(&c[i], true);
                conn_close(&c[i]);
        }
}


Test(metrics_http, get_metrics) {
        _cleanup_(conn_close) Conn c = { .fd = -EBADF };
        Response r;

        server_start(0);
        conn_open(&c);
        get(&c, "GET", "/metrics", &r);
        assert_metrics(&r);
        response_done(&r);
        cr_assert_eq(atomic_load(&server.n_bodies), 1);
}

Test(metrics_http, head_metrics_has_no_body) {
        _cleanup_(conn_close) Conn c = { .fd = -EBADF };
        Response r;

        server_start(0);
        conn_open(&c);
        get(&c, "HEAD", "/metrics", &r);
        cr_assert_eq(r.status, 200);
        cr_assert_str_eq(header(&r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
        cr_assert_eq(r.content_length, strlen(METRICS));
        response_done(&r);

        /* Had a body come, the next answer would start with it. */
        get(&c, "GET", "/", &r);
        cr_assert_eq(r.status, 200, "%s", r.headers);
        response_done(&r);
        cr_assert_eq(atomic_load(&server.n_bodies), 1);
}

Test(metrics_http, root_points_at_metrics) {
        _cleanup_(conn_close) Conn c = { .fd = -EBADF };
        Response r;

        server_start(0);
        conn_open(&c);
        get(&c, "GET", "/", &r);
        cr_assert_eq(r.status, 200);
        cr_assert_str_eq(header(&r, "Content-Type"), "text/plain; charset=utf-8");
        cr_assert_not_null(strstr(r.body, "/metrics"), "%s", r.body);
        response_done(&r);

        get(&c, "HEAD", "/", &r);
        cr_assert_eq(r.status, 200);
        response_done(&r);
        cr_assert_eq(atomic_load(&server.n_bodies), 0);
}

Test(metrics_http, unknown_path) {
        static const char *const paths[] = { "/nope", "/metrics/", "/metricsx", "/metrics/x", "//metrics" };
        _cleanup_(conn_close) Conn c = { .fd = -EBADF };
        Response r;

        server_start(0);
        conn_open(&c);
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                get(&c, "GET", paths[i], &r);
                cr_assert_eq(r.status, 404, "%s: %s", paths[i], r.headers);
                response_done(&r);
        }
        /* Whatever the method. */
        get(&c, "DELETE", "/nope", &r);
        cr_assert_eq(r.status, 404);
        response_done(&r);
        cr_assert_eq(atomic_load(&server.n_bodies), 0);
}

Test(metrics_http, query_is_ignored) {
        _cleanup_(conn_close) Conn c = { .fd = -EBADF };
        Response r;

        server_start(0);
        conn_open(&c);
        get(&c, "GET", "/metrics?name[]=jobrunner_jobs", &r);
        assert_metrics(&r);
        response_done(&r);
}

Test(metrics_http, other_methods) {
        static const char *const requests[] = {
                "POST /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n",
                "PUT / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n",
                "DELETE /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n",
                "OPTIONS /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n",
        };
        _cleanup_(conn_close) Conn c = { .fd = -EBADF };
        Response r;

        server_start(0);
        conn_open(&c);
        for (size_t i = 0; i < ELEMENTSOF(requests); i++) {
                conn_request(&c, requests[i]);
                read_response(&c, false, &r);
                cr_assert_eq(r.status, 405, "%s", r.headers);
                cr_assert_str_eq(header(&r, "Allow"), "GET, HEAD");
                response_done(&r);
        }
        cr_assert_eq(atomic_load(&server.n_bodies), 0);
}

/* A body is never read: the answer comes at once and the connection ends,
 * so what the body holds is never taken for a request. */
static void assert_body_refused(const char *request, int status) {
        _cleanup_(conn_close) Conn c = { .fd = -EBADF };
        Response r;

        conn_open(&c);
        conn_request(&c, request);
        read_response(&c, false, &r);
        cr_assert_eq(r.status, status, "%s", r.headers);
        response_done(&r);
        expect_end(&c, false);
}

Test(metrics_http, request_bodies_are_refused) {
        static const char inner[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
        char request[256];

        server_start(0);

        snprintf(request, sizeof(request),
                 "POST /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: %zu\r\n\r\n%s",
                 strlen(inner), inner);
        assert_body_refused(request, 405);

        snprintf(request, sizeof(request),
                 "GET /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: %zu\r\n\r\n%s",
                 strlen(inner), inner);
        assert_body_refused(request, 400);

        snprintf(request, sizeof(request),
                 "POST /metrics HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "%zx\r\n%s\r\n0\r\n\r\n", strlen(inner), inner);
        assert_body_refused(request, 405);

        /* Announced, never sent: answered all the same. */
        assert_body_refused("POST /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n", 405);
        assert_body_refused("POST /nope HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n", 404);
}

Test(metrics_http, callback_fails) {
        _cleanup_(conn_close) Conn c = { .fd = -EBADF };
        _cleanup_free_ char *log = NULL;
        size_t log_size = 0;
        FILE *f;
        Response r;

        f = open_memstream(&log, &log_size);
        cr_assert_not_null(f);
        log_set_target(f);
        log_set_prefix_priority(1);

        atomic_store(&server.fail, -EIO);
        server_start(0);
        conn_open(&c);

        for (int i = 0; i < 3; i++) {
                get(&c, "GET", "/metrics", &r);
                cr_assert_eq(r.status, 500, "%s", r.headers);
                response_done(&r);
        }
        get(&c, "HEAD", "/metrics", &r);
        cr_assert_eq(r.status, 500);
        response_done(&r);

        /* Served again once it works, and a new failure is told again. */
        atomic_store(&server.fail, 0);
        get(&c, "GET", "/metrics", &r);
        assert_metrics(&r);
        response_done(&r);
        atomic_store(&server.fail, -ENOMEM);
        get(&c, "GET", "/metrics", &r);
        cr_assert_eq(r.status, 500);
        response_done(&r);

        get(&c, "GET", "/", &r);
        cr_assert_eq(r.status, 200);
        response_done(&r);
        cr_assert_eq(atomic_load(&server.n_bodies), 6);

        server_stop();
        log_set_target(NULL);
        log_set_prefix_priority(0);
        cr_assert_eq(fclose(f), 0);

        /* One warning for the four failures in a row, one for the next. */
        cr_assert_str_eq(log,
                         "<4>metrics endpoint: cannot make the metrics, answering 500: Input/output error\n"
                         "<4>metrics endpoint: cannot make the metrics, answering 500: Cannot allocate memory\n");
}

Test(metrics_http, keep_alive) {
        static const struct {
                const char *method, *path;
                int status;
        } requests[] = {
                { "GET", "/metrics", 200 },
                { "HEAD", "/metrics", 200 },
                { "GET", "/", 200 },
                { "GET", "/nope", 404 },
                { "POST", "/metrics", 405 },
                { "GET", "/metrics", 200 },
        };
        _cleanup_(conn_close) Conn c = { .fd = -EBADF };
        Response r;

        server_start(0);
        conn_open(&c);
        for (size_t i = 0; i < ELEMENTSOF(requests); i++) {
                get(&c, requests[i].method, requests[i].path, &r);
                cr_assert_eq(r.status, requests[i].status, "%s %s: %s",
                             requests[i].method, requests[i].path, r.headers);
                cr_assert_null(header(&r, "Connection"), "%s", r.headers);
                response_done(&r);
        }

        /* Pipelined: three requests in one write, three answers in order. */
        conn_request(&c,
                     "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"
                     "GET /nope HTTP/1.1\r\nHost: localhost\r\n\r\n"
                     "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
        read_response(&c, false, &r);
        assert_metrics(&r);
        response_done(&r);
        read_response(&c, false, &r);
        cr_assert_eq(r.status, 404);
        response_done(&r);
        read_response(&c, false, &r);
        assert_metrics(&r);
        response_done(&r);

        cr_assert_eq(atomic_load(&server.n_bodies), 5);

        /* "Connection: close" is honoured. */
        conn_request(&c, "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        read_response(&c, false, &r);
        assert_metrics(&r);
        response_done(&r);
        expect_end(&c, false);
}

Test(metrics_http, large_body) {
        const size_t size = 4 * 1024 * 1024;
        _cleanup_(conn_close) Conn c = { .fd = -EBADF };
        _cleanup_free_ char *body = malloc(size);
        Response r;

        cr_assert_not_null(body);
        for (size_t i = 0; i < size; i++)
                body[i] = (char) (i * 7 + (i >> 11));
        server_start_with(body, size, 0);

        conn_open(&c);
        for (int i = 0; i < 2; i++) {
                get(&c, "GET", "/metrics", &r);
                cr_assert_eq(r.status, 200);
                cr_assert_eq(r.content_length, size);
                cr_assert_eq(r.body_len, size);
                cr_assert(memcmp(r.body, body, size) == 0, "the body differs");
                response_done(&r);
        }
        get(&c, "HEAD", "/metrics", &r);
        cr_assert_eq(r.content_length, size);
        response_done(&r);
}

/* ---- bounds ------------------------------------------------------------------ */

Test(metrics_http, connection_limit) {
        Conn c[METRICS_HTTP_MAX_CONNECTIONS] = {}, extra = { .fd = -EBADF };
        Response r;

        /* Long enough for none of them to idle out whatever the load. */
        server_start(600);

        /* All open at once, each served: keep-alive keeps them open. */
        for (size_t i = 0; i < ELEMENTSOF(c); i++) {
                conn_open(&c[i]);
                get(&c[i], "GET", "/metrics", &r);
                assert_metrics(&r);
                response_done(&r);
        }

        /* One more: the kernel completes the handshake, the endpoint closes
         * it unanswered.  Its request may meet a closed connection. */
        conn_open(&extra);
        (void) conn_send(&extra, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
        expect_end(&extra, false);
        conn_close(&extra);

        /* Those open still are served. */
        for (size_t i = 0; i < ELEMENTSOF(c); i++) {
                get(&c[i], "GET", "/", &r);
                cr_assert_eq(r.status, 200);
                response_done(&r);
        }

        /* One closed makes room, once the endpoint has seen it go: until
         * then a new one may still be closed, and is tried again. */
        conn_close(&c[0]);
        for (unsigned attempt = 0;; attempt++) {
                cr_assert_lt(attempt, WAIT_MSEC / 10, "no room made by a closed connection");
                conn_open(&extra);
                if (conn_send(&extra, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n") == 0 &&
                    conn_fill(&extra) > 0) {
                        read_response(&extra, false, &r);
                        assert_metrics(&r);
                        response_done(&r);
                        break;
                }
                conn_close(&extra);
                (void) poll(NULL, 0, 10);
        }

        conn_close(&extra);
        for (size_t i = 1; i < ELEMENTSOF(c); i++)
                conn_close(&c[i]);
}

Test(metrics_http, idle_connections_are_closed) {
        _cleanup_(conn_close) Conn idle = { .fd = -EBADF }, used = { .fd = -EBADF }, partial = { .fd = -EBADF };
        uint64_t start;
        Response r;

        server_start(1);
        start = now_usec(CLOCK_MONOTONIC);

        conn_open(&idle);
        /* Served, then idle.  Should the test stall for the whole second
         * between connecting and asking, the connection is closed first:
         * another one then. */
        for (unsigned attempt = 0;; attempt++) {
                cr_assert_lt(attempt, 100, "every connection was closed before its answer");
                conn_open(&used);
                if (conn_send(&used, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n") == 0 &&
                    conn_fill(&used) > 0)
                        break;
                conn_close(&used);
        }
        read_response(&used, false, &r);
        assert_metrics(&r);
        response_done(&r);
        conn_open(&partial);
        conn_request(&partial, "GET /metrics HTTP/1.1\r\nHost: local");

        expect_end(&idle, false);
        expect_end(&used, false);
        expect_end(&partial, false);

        /* Not before the timeout: it counts from the last activity, which
         * was after start.  (Only a lower bound: load makes it longer.) */
        cr_assert_geq(now_usec(CLOCK_MONOTONIC) - start, 900 * USEC_PER_MSEC);
}

Test(metrics_http, free_with_connections_open) {
        const size_t size = 16 * 1024 * 1024;
        _cleanup_free_ char *body = calloc(1, size);
        Conn idle, partial, kept, busy;
        unsigned n_fds;
        int listen_fd, fd;
        Response r;

        cr_assert_not_null(body);
        n_fds = net_check_count_fds();
        server_start_with(body, size, 600);
        listen_fd = server.listen_fd;

        conn_open(&idle);
        conn_open(&partial);
        conn_request(&partial, "GET /metrics HTTP/1.1\r\nHost: local");
        conn_open(&kept);
        get(&kept, "GET", "/", &r);
        cr_assert_eq(r.status, 200);
        response_done(&r);
        /* A large answer on its way: its first bytes came, the rest waits
         * for the client to read. */
        conn_open(&busy);
        conn_request(&busy, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
        cr_assert_eq(conn_fill(&busy), 1);

        server_stop();

        expect_end(&idle, false);
        expect_end(&partial, false);
        expect_end(&kept, false);
        expect_end(&busy, true);

        /* The listening socket is closed: nothing accepts on its port. */
        fd = net_check_connect(server.port);
        cr_assert_eq(fd, -ECONNREFUSED, "connect: %s", fd < 0 ? strerror(-fd) : "connected");
        cr_assert_eq(fcntl(listen_fd, F_GETFD), -1);
        cr_assert_eq(errno, EBADF);

        conn_close(&idle);
        conn_close(&partial);
        conn_close(&kept);
        conn_close(&busy);
        /* MHD's epoll descriptor and every connection's are gone too. */
        cr_assert_eq(net_check_count_fds(), n_fds);
}
