/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The metrics endpoint (metrics-http.h): libmicrohttpd in its "external
 * polling" mode.  MHD owns no thread; its epoll descriptor tells the sd-event
 * loop when there is work, and MHD_get_timeout() when MHD_run() must come
 * again without any (idle connections to close, data already read). */

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "log.h"
#include "macro.h"
#include "metrics-http.h"
#include "parse-number.h"
#include "time-util.h"

#define streq(a, b) (strcmp((a), (b)) == 0)

#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CONTENT_TYPE_TEXT "text/plain; charset=utf-8"

/* A cap on the timer, far from any overflow in microseconds: calling
 * MHD_run() earlier than MHD asks is always allowed. */
#define RUN_AT_LEAST_EVERY_USEC (3600 * USEC_PER_SEC)

/* A scrape's state, MHD's request context from the call that suspended
 * the connection until the request completes: only then may it go, since
 * MHD calls on_request() again with it once resumed. */
struct MetricsHttpRequest {
        MetricsHttp *h;
        struct MHD_Connection *connection;
        MetricsHttpRequest *prev, *next;        /* h->waiting, until answered */
        bool in_scrape;                         /* inside h->scrape(): not suspended yet */
        bool answered;
        int error;
        char *body;                             /* until handed to MHD */
        size_t len;
};

struct MetricsHttp {
        struct MHD_Daemon *mhd;
        sd_event_source *io;            /* MHD's epoll descriptor */
        sd_event_source *timer;         /* MHD_get_timeout() */

        metrics_scrape_t scrape;
        metrics_cancel_t cancel;
        void *userdata;
        int last_body_error;            /* logged already; 0 after a success */
        MetricsHttpRequest *waiting;    /* scrapes not answered yet */

        unsigned n_connections;

        /* The fixed answers, made once and queued as often as needed (MHD
         * counts their references). */
        struct MHD_Response *root;
        struct MHD_Response *not_found;
        struct MHD_Response *not_allowed;
        struct MHD_Response *bad_request;
        struct MHD_Response *failed;
};

/* MHD's messages are about single connections (a client that went away, one
 * over the limit) or say why MHD_start_daemon() failed: debugging material,
 * and the failure itself is logged by our caller. */
_printf_(2, 0)
static void on_mhd_log(void *userdata, const char *format, va_list ap) {
        char buf[256];
        size_t n;

        (void) userdata;

        if (log_get_max_level() < LOG_DEBUG)
                return;

        (void) vsnprintf(buf, sizeof(buf), format, ap);
        n = strlen(buf);
        while (n > 0 && buf[n - 1] == '\n')
                buf[--n] = '\0';
        log_debug("metrics endpoint: libmicrohttpd: %s", buf);
}

/* MHD stops accepting at its own connection limit, leaving the next clients
 * waiting in the listen queue for as long as the open connections last.
 * Counting here, and closing the ones over the limit at accept, tells a
 * scraper at once. */
static enum MHD_Result on_accept(void *userdata, const struct sockaddr *addr, socklen_t len) {
        MetricsHttp *h = userdata;

        (void) addr;
        (void) len;

        if (h->n_connections >= METRICS_HTTP_MAX_CONNECTIONS) {
                log_debug("metrics endpoint: %u connections open already, closing a new one", h->n_connections);
                return MHD_NO;
        }
        return MHD_YES;
}

static void on_connection(void *userdata, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
        MetricsHttp *h = userdata;

        (void) connection;
        (void) socket_context;

        if (code == MHD_CONNECTION_NOTIFY_STARTED)
                h->n_connections++;
        else if (code == MHD_CONNECTION_NOTIFY_CLOSED && h->n_connections > 0)
                h->n_connections--;
}

static void request_unlink(MetricsHttpRequest *req) {
        MetricsHttp *h = req->h;

        if (req->prev)
                req->prev->next = req->next;
        else if (h->waiting == req)
                h->waiting = req->next;
        if (req->next)
                req->next->prev = req->prev;
        req->prev = req->next = NULL;
}

static MetricsHttpRequest *request_free(MetricsHttpRequest *req) {
        if (!req)
                return NULL;
        if (!req->answered) {
                /* Not expected (a suspended connection does not end), but
                 * whoever makes its body must not answer it after this. */
                request_unlink(req);
                if (req->h->cancel)
                        req->h->cancel(req->h->userdata, req);
        }
        free(req->body);
        free(req);
        return NULL;
}

static void run_soon(MetricsHttp *h) {
        int r;

        if (!h->timer)
                return;         /* being freed */
        r = sd_event_source_set_time_relative(h->timer, 0);
        if (r >= 0)
                r = sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "metrics endpoint: cannot arm its timer");
}

void metrics_http_answer(MetricsHttpRequest *req, int error, char *body, size_t len) {
        assert(req && !req->answered);

        request_unlink(req);
        req->answered = true;
        req->error = error < 0 ? error : 0;
        req->body = error < 0 ? (free(body), NULL) : body;
        req->len = len;
        if (req->in_scrape)
                return;         /* answered at once: begin_scrape() queues it */
        /* MHD calls on_request() again from its next run.  The resumption
         * signals MHD's inter-thread channel, in the epoll set we watch,
         * but MHD 0.9.75 may take the signal in a run that does not yet
         * process the resumed connection, and no timeout brings it back
         * before the idle one: so the next turn of the loop runs MHD
         * anyway. */
        MHD_resume_connection(req->connection);
        run_soon(req->h);
}

/* The answer, once the scrape gave it. */
static enum MHD_Result queue_answer(MetricsHttp *h, MetricsHttpRequest *req) {
        struct MHD_Response *response;
        enum MHD_Result ret;

        if (req->error < 0) {
                /* Once per cause: a scraper retries every few seconds, and a
                 * collector that keeps failing would fill the journal. */
                if (req->error != h->last_body_error)
                        log_warning_errno(req->error, "metrics endpoint: cannot make the metrics, answering 500");
                else
                        log_debug_errno(req->error, "metrics endpoint: cannot make the metrics, answering 500");
                h->last_body_error = req->error;
                return MHD_queue_response(req->connection, MHD_HTTP_INTERNAL_SERVER_ERROR, h->failed);
        }
        h->last_body_error = 0;

        /* MHD frees the body after the last byte is sent, or when the
         * connection ends first; not when it fails to make the response. */
        if (req->body)
                response = MHD_create_response_from_buffer(req->len, req->body, MHD_RESPMEM_MUST_FREE);
        else    /* an empty answer, which MHD must not free */
                response = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
        if (!response)
                return MHD_NO;          /* MHD closes the connection */
        TAKE_PTR(req->body);

        if (MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE_METRICS) == MHD_YES)
                ret = MHD_queue_response(req->connection, MHD_HTTP_OK, response);
        else
                ret = MHD_NO;
        MHD_destroy_response(response);
        return ret;
}

/* Asks for a body: answered at once, it is queued now; else the connection
 * is suspended until the answer resumes it.  (Suspending first and
 * resuming from within the handler would leave MHD 0.9.75 waiting.) */
static enum MHD_Result begin_scrape(MetricsHttp *h, struct MHD_Connection *connection, void **request_context) {
        MetricsHttpRequest *req;

        req = calloc(1, sizeof(MetricsHttpRequest));
        if (!req)
                return MHD_NO;
        *req = (MetricsHttpRequest) { .h = h, .connection = connection, .next = h->waiting, .in_scrape = true };
        if (h->waiting)
                h->waiting->prev = req;
        h->waiting = req;
        *request_context = req;

        h->scrape(h->userdata, req);
        req->in_scrape = false;
        if (req->answered)
                return queue_answer(h, req);
        MHD_suspend_connection(connection);
        return MHD_YES;
}

/* 404 for an unknown path whatever the method, 405 for a known one with a
 * method it does not take: 405 says that the resource exists. */
static enum MHD_Result answer(MetricsHttp *h, struct MHD_Connection *connection, const char *url,
                              const char *method, void **request_context, bool with_body) {
        bool metrics = streq(url, "/metrics"), root = streq(url, "/");

        if (!metrics && !root)
                return MHD_queue_response(connection, MHD_HTTP_NOT_FOUND, h->not_found);
        if (!streq(method, MHD_HTTP_METHOD_GET) && !streq(method, MHD_HTTP_METHOD_HEAD))
                return MHD_queue_response(connection, MHD_HTTP_METHOD_NOT_ALLOWED, h->not_allowed);
        if (root)
                return MHD_queue_response(connection, MHD_HTTP_OK, h->root);
        /* A scrape waits for its body with the connection suspended, and
         * MHD would go on to read a request body meanwhile: refused. */
        if (with_body)
                return MHD_queue_response(connection, MHD_HTTP_BAD_REQUEST, h->bad_request);
        /* HEAD too: its Content-Length is the body's.  MHD sends no body. */
        return begin_scrape(h, connection, request_context);
}

/* The request context of a request that is no scrape (yet): its headers
 * were seen. */
static int seen;

static bool has_body(struct MHD_Connection *connection) {
        const char *length;

        if (MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
                return true;
        length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        return length && length[strspn(length, "0")] != '\0';
}

static enum MHD_Result on_request(void *userdata, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **request_context) {
        MetricsHttp *h = userdata;

        (void) version;
        (void) upload_data;

        /* The first call comes with the headers.  MHD closes the connection
         * after an answer queued this early, so a request without a body is
         * answered at the second call, and keep-alive connections live on.
         * A request with a body is answered at once: nothing here takes one,
         * and MHD then never reads it. */
        if (!*request_context) {
                *request_context = &seen;
                if (has_body(connection))
                        return answer(h, connection, url, method, request_context, true);
                return MHD_YES;
        }

        /* Resumed: the scrape has its answer. */
        if (*request_context != &seen)
                return queue_answer(h, *request_context);

        /* Not reached since bodies are answered above; dropped if it were. */
        if (*upload_data_size > 0) {
                *upload_data_size = 0;
                return MHD_YES;
        }

        return answer(h, connection, url, method, request_context, false);
}

static void on_completed(void *userdata, struct MHD_Connection *connection, void **request_context,
                         enum MHD_RequestTerminationCode code) {
        (void) userdata;
        (void) connection;
        (void) code;

        if (*request_context && *request_context != &seen)
                request_free(*request_context);
        *request_context = NULL;
}

static void process(MetricsHttp *h) {
        MHD_UNSIGNED_LONG_LONG ms;
        uint64_t usec;
        int r;

        if (MHD_run(h->mhd) == MHD_NO)
                log_debug("metrics endpoint: libmicrohttpd could not process its connections");

        /* No timeout: no connection, and nothing already read waits. */
        if (MHD_get_timeout(h->mhd, &ms) == MHD_NO) {
                r = sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
                if (r < 0)
                        log_warning_errno(r, "metrics endpoint: cannot disarm its timer");
                return;
        }

        usec = ms < RUN_AT_LEAST_EVERY_USEC / USEC_PER_MSEC ? ms * USEC_PER_MSEC : RUN_AT_LEAST_EVERY_USEC;
        r = sd_event_source_set_time_relative(h->timer, usec);
        if (r >= 0)
                r = sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
        if (r < 0)
                /* Idle connections then wait for the next event to be
                 * closed; the limit still bounds them. */
                log_warning_errno(r, "metrics endpoint: cannot arm its timer");
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        (void) s;
        (void) fd;
        (void) revents;

        process(userdata);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) s;
        (void) usec;

        process(userdata);
        return 0;
}

static struct MHD_Response *fixed_response(const char *text, const char *allow) {
        struct MHD_Response *response;

        response = MHD_create_response_from_buffer(strlen(text), (void *) text, MHD_RESPMEM_PERSISTENT);
        if (!response)
                return NULL;
        if (MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE_TEXT) == MHD_NO ||
            (allow && MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allow) == MHD_NO)) {
                MHD_destroy_response(response);
                return NULL;
        }
        return response;
}

/* Takes fd, even on failure. */
static int start_daemon(MetricsHttp *h, int fd, unsigned timeout_sec) {
        _cleanup_close_ int ours = fd;
        /* Suspension needs MHD's inter-thread channel, an eventfd in the
         * epoll set we watch: resuming from our own event sources wakes
         * MHD up through it. */
        unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
        struct stat a, b;
        int mhd_fd, domain;
        socklen_t len = sizeof(domain);

        /* MHD expects the flag with an IPv6 socket (asserted in its debug
         * builds). */
        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
                return -errno;
        if (domain == AF_INET6)
                flags |= MHD_USE_IPv6;

        /* MHD closes the socket it is given on some of its failure paths and
         * not on others: it gets a duplicate, so that whether to close ours
         * is never in doubt. */
        mhd_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (mhd_fd < 0)
                return -errno;

        errno = 0;
        h->mhd = MHD_start_daemon(
                        flags, 0,
                        on_accept, h,
                        on_request, h,
                        MHD_OPTION_LISTEN_SOCKET, (MHD_socket) mhd_fd,
                        /* One over ours, which on_accept() enforces: MHD's
                         * own would stop accepting instead of closing. */
                        MHD_OPTION_CONNECTION_LIMIT, (unsigned) METRICS_HTTP_MAX_CONNECTIONS + 1,
                        MHD_OPTION_CONNECTION_TIMEOUT, timeout_sec,
                        MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
                        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                        MHD_OPTION_END);
        if (!h->mhd) {
                int r = errno > 0 ? -errno : -EIO;

                /* Still open and still the same socket as ours: MHD left it.
                 * Nothing else can have been given that descriptor number
                 * for this socket. */
                if (fstat(ours, &a) >= 0 && fstat(mhd_fd, &b) >= 0 &&
                    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
                        safe_close(mhd_fd);
                return r;
        }

        return 0;
}

int metrics_http_new(sd_event *event, const MetricsHttpConfig *config, MetricsHttp **ret) {
        _cleanup_close_ int fd = config ? config->listen_fd : -EBADF;
        _cleanup_(metrics_http_freep) MetricsHttp *h = NULL;
        const union MHD_DaemonInfo *info;
        int r;

        if (!event || !config || !config->scrape || !ret)
                return -EINVAL;
        if (fd < 0)
                return -EBADF;

        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->scrape = config->scrape;
        h->cancel = config->cancel;
        h->userdata = config->userdata;

        h->root = fixed_response("The metrics are at /metrics.\n", NULL);
        h->not_found = fixed_response("Not found; the metrics are at /metrics.\n", NULL);
        h->not_allowed = fixed_response("Method not allowed: GET or HEAD only.\n", "GET, HEAD");
        h->bad_request = fixed_response("A request for the metrics takes no body.\n", NULL);
        h->failed = fixed_response("The metrics could not be made.\n", NULL);
        if (!h->root || !h->not_found || !h->not_allowed || !h->bad_request || !h->failed)
                return -ENOMEM;

        r = start_daemon(h, TAKE_FD(fd), config->timeout_sec ?: METRICS_HTTP_TIMEOUT_SEC_DEFAULT);
        if (r < 0)
                return r;

        info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
        if (!info || info->epoll_fd < 0)
                return -EIO;

        r = sd_event_add_io(event, &h->io, info->epoll_fd, EPOLLIN, on_io, h);
        if (r < 0)
                return r;
        r = sd_event_source_set_priority(h->io, config->priority);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(h->io, "metrics-http-io");

        /* Armed by process(), in MHD's milliseconds: sd-event's default
         * accuracy of 250 ms would hold back data MHD has read already. */
        r = sd_event_add_time(event, &h->timer, CLOCK_MONOTONIC, 0, USEC_PER_MSEC, on_timer, h);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
        if (r < 0)
                return r;
        r = sd_event_source_set_priority(h->timer, config->priority);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(h->timer, "metrics-http-timer");

        *ret = TAKE_PTR(h);
        return 0;
}

MetricsHttp *metrics_http_free(MetricsHttp *h) {
        if (!h)
                return NULL;

        h->io = sd_event_source_disable_unref(h->io);
        h->timer = sd_event_source_disable_unref(h->timer);

        /* Scrapes still waiting: their collector lets go of them, and MHD
         * gets them back to close them (each answered 500, should MHD
         * still run them). */
        while (h->waiting) {
                MetricsHttpRequest *req = h->waiting;

                if (h->cancel)
                        h->cancel(h->userdata, req);
                metrics_http_answer(req, -ECANCELED, NULL, 0);
        }

        if (h->mhd) {
                /* The listening socket is taken back first and closed here:
                 * it may be systemd's as well, and a shutdown() of it, which
                 * MHD_stop_daemon() does in some modes, would end systemd's
                 * listening too.  A plain close() leaves systemd's copy. */
                int fd = MHD_quiesce_daemon(h->mhd);

                /* Closes the connections; their bodies are freed. */
                MHD_stop_daemon(h->mhd);
                safe_close(fd);
        }

        if (h->root)
                MHD_destroy_response(h->root);
        if (h->not_found)
                MHD_destroy_response(h->not_found);
        if (h->not_allowed)
                MHD_destroy_response(h->not_allowed);
        if (h->bad_request)
                MHD_destroy_response(h->bad_request);
        if (h->failed)
                MHD_destroy_response(h->failed);
        free(h);
        return NULL;
}

/* ---- metrics_http_listen() ------------------------------------------------ */

typedef union SocketAddress {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
} SocketAddress;

/* Port 0 is taken: the kernel picks one, which tests read back with
 * getsockname(). */
static int parse_port(const char *s, uint16_t *ret) {
        uint64_t v;

        if (parse_uint64_range(s, 0, UINT16_MAX, &v) < 0)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

/* "ADDRESS" or "ADDRESS%SCOPE", SCOPE an interface's index or name, as in
 * a link-local "[fe80::1%eth0]".  -ENODEV for an interface that is not
 * there. */
static int parse_ipv6(const char *s, size_t n, struct sockaddr_in6 *ret) {
        char host[INET6_ADDRSTRLEN + 1 + IF_NAMESIZE];
        const char *percent;
        uint64_t index;

        if (n == 0 || n >= sizeof(host))
                return -EINVAL;
        memcpy(host, s, n);
        host[n] = '\0';

        percent = strchr(host, '%');
        if (percent) {
                host[percent - host] = '\0';
                percent++;
                if (*percent == '\0')
                        return -EINVAL;
                if (parse_uint64_range(percent, 1, UINT32_MAX, &index) < 0) {
                        index = if_nametoindex(percent);
                        if (index == 0)
                                return -ENODEV;
                }
                ret->sin6_scope_id = (uint32_t) index;
        }

        return inet_pton(AF_INET6, host, &ret->sin6_addr) == 1 ? 0 : -EINVAL;
}

/* *ret_any for ":PORT", which listen_any() binds. */
static int parse_address(const char *address, SocketAddress *ret, socklen_t *ret_len, bool *ret_any) {
        const char *colon;
        char host[INET_ADDRSTRLEN];
        uint16_t port;
        int r;

        if (!address)
                return -EINVAL;

        *ret = (SocketAddress) {};
        *ret_any = false;

        if (address[0] == '[') {
                const char *end = strchr(address, ']');

                if (!end || end[1] != ':' || parse_port(end + 2, &port) < 0)
                        return -EINVAL;
                r = parse_ipv6(address + 1, (size_t) (end - address - 1), &ret->in6);
                if (r < 0)
                        return r;
                ret->in6.sin6_family = AF_INET6;
                ret->in6.sin6_port = htons(port);
                *ret_len = sizeof(ret->in6);
                return 0;
        }

        /* An IPv6 address has colons of its own: it needs its brackets. */
        colon = strchr(address, ':');
        if (!colon || strchr(colon + 1, ':') || parse_port(colon + 1, &port) < 0)
                return -EINVAL;

        if (colon == address) {
                *ret_any = true;
                ret->in6.sin6_family = AF_INET6;
                ret->in6.sin6_addr = in6addr_any;
                ret->in6.sin6_port = htons(port);
                *ret_len = sizeof(ret->in6);
                return 0;
        }

        /* inet_pton(), not getaddrinfo(): four decimal parts only, not
         * inet_aton()'s "127.1" or "0x7f.0.0.1". */
        if ((size_t) (colon - address) >= sizeof(host))
                return -EINVAL;
        memcpy(host, address, (size_t) (colon - address));
        host[colon - address] = '\0';
        if (inet_pton(AF_INET, host, &ret->in.sin_addr) != 1)
                return -EINVAL;
        ret->in.sin_family = AF_INET;
        ret->in.sin_port = htons(port);
        *ret_len = sizeof(ret->in);
        return 0;
}

static int listen_on(const SocketAddress *a, socklen_t len, bool dual_stack) {
        _cleanup_close_ int fd = -EBADF;
        static const int one = 1, zero = 0;

        fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
        if (fd < 0)
                return -errno;

        /* A restarted daemon binds again while the previous one's
         * connections linger in TIME_WAIT. */
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                return -errno;
        /* Explicit: the default is net.ipv6.bindv6only's. */
        if (dual_stack && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0)
                return -errno;

        if (bind(fd, &a->sa, len) < 0)
                return -errno;
        if (listen(fd, SOMAXCONN) < 0)
                return -errno;

        return TAKE_FD(fd);
}

int metrics_http_listen(const char *address) {
        SocketAddress a;
        socklen_t len;
        bool any;
        int fd;

        fd = parse_address(address, &a, &len, &any);
        if (fd < 0)
                return fd;
        if (!any)
                return listen_on(&a, len, false);

        /* Every address: one dual-stack socket, or IPv4 alone on a kernel
         * without IPv6 (ipv6.disable=1). */
        fd = listen_on(&a, len, true);
        if (fd != -EAFNOSUPPORT)
                return fd;

        a = (SocketAddress) {
                .in = {
                        .sin_family = AF_INET,
                        .sin_addr.s_addr = htonl(INADDR_ANY),
                        .sin_port = a.in6.sin6_port,
                },
        };
        return listen_on(&a, sizeof(a.in), false);
}
