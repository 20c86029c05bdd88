/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "call.h"
#include "metrics-text.h"

/* The API's calls, counted as go-grpc-prometheus names them, so that the
 * dashboards and alerts written for it work on jobrunnerd too:
 *
 *   grpc_server_handled_total{grpc_service, grpc_method, grpc_code}
 *   grpc_server_handling_seconds{grpc_service, grpc_method}   (histogram)
 *
 * Methods are those of the daemon's table; a call of any other method counts
 * as grpc_service="unknown", grpc_method="unknown", never by the path the
 * client sent, which would let clients make series without bound.  Open-
 * ended methods (RpcMethod.open_ended: Wait, Logs) are counted but have no
 * histogram: their length is the client's. */

typedef struct RpcMetrics RpcMetrics;

int rpc_metrics_new(const RpcMethod *methods, size_t n_methods, RpcMetrics **ret);
RpcMetrics *rpc_metrics_free(RpcMetrics *m);
static inline void rpc_metrics_freep(RpcMetrics **m) {
        rpc_metrics_free(*m);
}

/* One call's end; method NULL or not in the table: unknown. */
void rpc_metrics_record(RpcMetrics *m, const RpcMethod *method, JrCode code, uint64_t duration_usec);

/* Both families.  Every method's OK count is written, even at 0, so that
 * rate() sees a series from the daemon's start; other codes once seen. */
void rpc_metrics_write(const RpcMetrics *m, MetricsText *t);
