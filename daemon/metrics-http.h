/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>


/* The metrics endpoint: plain HTTP/1.1 on one listening socket, served by
 * libmicrohttpd without a thread of its own, driven by the daemon's sd-event
 * loop (MHD's epoll descriptor and its timeout) at a lower priority than the
 * API, so that scrapes never delay gRPC work.
 *
 *   GET or HEAD /metrics   200, Content-Type "text/plain; version=0.0.4;
 *                          charset=utf-8", the body the scrape callback
 *                          answers; 400 if the request has a body
 *   GET or HEAD /          200, a short text pointing at /metrics
 *   any other path         404
 *   any other method       405 with "Allow: GET, HEAD"
 *   the scrape fails       500
 *
 * Connections are kept alive between requests.  A request with a body is
 * answered without reading it, and its connection is closed after the
 * answer.
 *
 * Bounded: at most METRICS_HTTP_MAX_CONNECTIONS connections at once (more
 * are closed at accept), and a connection idle for the timeout is closed. */

#define METRICS_HTTP_MAX_CONNECTIONS 16u
#define METRICS_HTTP_TIMEOUT_SEC_DEFAULT 10u

typedef struct MetricsHttp MetricsHttp;

/* One scrape waiting for its body. */
typedef struct MetricsHttpRequest MetricsHttpRequest;

/* A scrape begins (GET or HEAD /metrics: a HEAD's body is made too, for its
 * Content-Length), on the event loop's thread.  Answer it with
 * metrics_http_answer(), at once or on a later turn of the loop: the
 * connection waits meanwhile (suspended, not polled), so that a collector
 * can spread its work over several turns and the API's events run in
 * between.  Every request is answered exactly once, unless cancel() came
 * first. */
typedef void (*metrics_scrape_t)(void *userdata, MetricsHttpRequest *req);
/* The endpoint is being freed with req unanswered: forget it, never answer
 * it. */
typedef void (*metrics_cancel_t)(void *userdata, MetricsHttpRequest *req);

typedef struct MetricsHttpConfig {
        int listen_fd;                  /* a listening SOCK_STREAM socket; taken, even on failure */
        unsigned timeout_sec;           /* idle connections; 0 = METRICS_HTTP_TIMEOUT_SEC_DEFAULT */
        int64_t priority;               /* of its event sources; e.g. SD_EVENT_PRIORITY_IDLE */
        metrics_scrape_t scrape;
        metrics_cancel_t cancel;                /* may be NULL if scrape() always answers at once */
        void *userdata;
} MetricsHttpConfig;

int metrics_http_new(sd_event *event, const MetricsHttpConfig *config, MetricsHttp **ret);
/* Stops serving; open connections are closed, the listening socket too: by
 * close() alone, as systemd may hold it too (a shutdown() would end its
 * listening as well). */
MetricsHttp *metrics_http_free(MetricsHttp *h);
static inline void metrics_http_freep(MetricsHttp **p) {
        metrics_http_free(*p);
}

/* The scrape's answer: error 0 and body (malloc()ed, taken, even on
 * failure; len bytes), or a negative errno (body NULL): 500, logged at
 * warning once per cause in a row. */
void metrics_http_answer(MetricsHttpRequest *req, int error, char *body, size_t len);

/* For --metrics-listen when systemd passes no socket: a listening TCP socket
 * (SOCK_CLOEXEC, SO_REUSEADDR) bound to "HOST:PORT" (IPv4), "[IPV6]:PORT"
 * ("[IPV6%SCOPE]:PORT" too) or ":PORT" (every address, IPv4 and IPv6 on one
 * socket; IPv4 alone on a kernel without IPv6), numeric addresses only.
 * Port 0 lets the kernel pick one (getsockname() tells which).  Returns the
 * fd or a negative errno: -EINVAL for a malformed address, -ENODEV for a
 * scope naming no interface, else socket(), bind() or listen()'s. */
int metrics_http_listen(const char *address);
