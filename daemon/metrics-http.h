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
 *                          charset=utf-8", the body the callback makes
 *   GET or HEAD /          200, a short text pointing at /metrics
 *   any other path         404
 *   any other method       405 with "Allow: GET, HEAD"
 *   the callback fails     500
 *
 * Bounded: at most METRICS_HTTP_MAX_CONNECTIONS connections at once (more
 * are closed at accept), and a connection idle for the timeout is closed. */

#define METRICS_HTTP_MAX_CONNECTIONS 16u
#define METRICS_HTTP_TIMEOUT_SEC_DEFAULT 10u

typedef struct MetricsHttp MetricsHttp;

/* Makes the body of one scrape, on the event loop's thread: *ret_body is
 * malloc()ed and taken by the caller, *ret_len its length.  Negative errno
 * on failure. */
typedef int (*metrics_body_t)(void *userdata, char **ret_body, size_t *ret_len);

typedef struct MetricsHttpConfig {
        int listen_fd;                  /* a listening SOCK_STREAM socket; taken, even on failure */
        unsigned timeout_sec;           /* idle connections; 0 = METRICS_HTTP_TIMEOUT_SEC_DEFAULT */
        int64_t priority;               /* of its event sources; e.g. SD_EVENT_PRIORITY_IDLE */
        metrics_body_t body;
        void *userdata;
} MetricsHttpConfig;

int metrics_http_new(sd_event *event, const MetricsHttpConfig *config, MetricsHttp **ret);
/* Stops serving; open connections are closed, the listening socket too. */
MetricsHttp *metrics_http_free(MetricsHttp *h);
static inline void metrics_http_freep(MetricsHttp **p) {
        metrics_http_free(*p);
}

/* For --metrics-listen when systemd passes no socket: a listening TCP socket
 * (SOCK_CLOEXEC, SO_REUSEADDR) bound to "HOST:PORT", "[IPV6]:PORT" or ":PORT"
 * (every address, IPv4 and IPv6), numeric addresses only.  Returns the fd or
 * a negative errno (-EINVAL for a malformed address). */
int metrics_http_listen(const char *address);
