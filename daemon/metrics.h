/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "call.h"
#include "daemon.h"

/* The daemon's Prometheus metrics: what the endpoint (metrics-http.h)
 * serves, gathered at each scrape from the library (jobs, and the running
 * jobs' cgroups: read now, not on a timer), from the calls the gRPC layer
 * reports as they end (metrics-rpc.h) and from /proc (metrics-process.h).
 * Lives on the sd-event thread. */

typedef struct Metrics Metrics;

/* methods: the server's method table, for the calls' labels.  d is
 * borrowed and must outlive the metrics. */
int metrics_new(const Daemon *d, const RpcMethod *methods, size_t n_methods, Metrics **ret);
Metrics *metrics_free(Metrics *m);
static inline void metrics_freep(Metrics **m) {
        metrics_free(*m);
}

/* A server_call_ended_t (grpc-server.h); userdata is the Metrics. */
void metrics_on_call_ended(const RpcMethod *method, JrCode code, uint64_t duration_usec, void *userdata);

/* A metrics_body_t (metrics-http.h); userdata is the Metrics. */
int metrics_body(void *userdata, char **ret_body, size_t *ret_len);
