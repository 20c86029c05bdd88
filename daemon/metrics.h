/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "call.h"
#include "daemon.h"
#include "metrics-http.h"

/* The daemon's Prometheus metrics: what the endpoint (metrics-http.h)
 * serves, gathered at each scrape from the library (jobs, and the running
 * jobs' cgroups: read then, one job per turn of the loop, not on a timer), from the calls the gRPC layer
 * reports as they end (metrics-rpc.h) and from /proc (metrics-process.h).
 * Lives on the sd-event thread. */

typedef struct Metrics Metrics;

/* methods: the server's method table, for the calls' labels.  d is
 * borrowed and must outlive the metrics.  A scrape's work runs on event,
 * at priority (the endpoint's). */
int metrics_new(const Daemon *d, sd_event *event, int64_t priority, const RpcMethod *methods, size_t n_methods,
                Metrics **ret);
Metrics *metrics_free(Metrics *m);
static inline void metrics_freep(Metrics **m) {
        metrics_free(*m);
}

/* A server_call_ended_t (grpc-server.h); userdata is the Metrics. */
void metrics_on_call_ended(const RpcMethod *method, JrCode code, uint64_t duration_usec, void *userdata);

/* The endpoint's metrics_scrape_t and metrics_cancel_t (metrics-http.h);
 * userdata is the Metrics.  Scrapes that arrive while one is collected
 * share its answer. */
void metrics_scrape(void *userdata, MetricsHttpRequest *req);
void metrics_cancel(void *userdata, MetricsHttpRequest *req);
