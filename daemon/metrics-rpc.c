/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "macro.h"
#include "metrics-rpc.h"

/* Seconds.  From a cached status (well under a millisecond on a host) to a
 * Start that waits on a busy PID 1; go-grpc-prometheus' defaults would put
 * every call of ours in their first two buckets. */
static const double latency_bounds[] = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};
#define N_BOUNDS ELEMENTSOF(latency_bounds)

typedef struct MethodMetrics {
        uint64_t handled[_JR_CODE_MAX];
        uint64_t buckets[N_BOUNDS + 1];         /* per bucket; the last above every bound */
        double seconds;
} MethodMetrics;

struct RpcMetrics {
        const RpcMethod *methods;
        size_t n_methods;
        MethodMetrics per_method[];             /* n_methods, then the unknown methods' */
};

int rpc_metrics_new(const RpcMethod *methods, size_t n_methods, RpcMetrics **ret) {
        RpcMetrics *m;

        m = calloc(1, sizeof(RpcMetrics) + (n_methods + 1) * sizeof(MethodMetrics));
        if (!m)
                return -ENOMEM;
        m->methods = methods;
        m->n_methods = n_methods;
        *ret = m;
        return 0;
}

RpcMetrics *rpc_metrics_free(RpcMetrics *m) {
        free(m);
        return NULL;
}

static size_t method_index(const RpcMetrics *m, const RpcMethod *method) {
        if (method && method >= m->methods && method < m->methods + m->n_methods)
                return (size_t) (method - m->methods);
        return m->n_methods;
}

void rpc_metrics_record(RpcMetrics *m, const RpcMethod *method, JrCode code, uint64_t duration_usec) {
        MethodMetrics *mm = &m->per_method[method_index(m, method)];
        double seconds = (double) duration_usec / 1e6;
        size_t b = 0;

        if ((unsigned) code >= _JR_CODE_MAX)
                code = JR_CODE_UNKNOWN;
        mm->handled[code]++;

        while (b < N_BOUNDS && seconds > latency_bounds[b])
                b++;
        mm->buckets[b]++;
        mm->seconds += seconds;
}

static void method_labels(const RpcMetrics *m, size_t i, MetricsLabel labels[2]) {
        labels[0] = (MetricsLabel) { "grpc_service", i < m->n_methods ? m->methods[i].service->name : "unknown" };
        labels[1] = (MetricsLabel) { "grpc_method", i < m->n_methods ? m->methods[i].name : "unknown" };
}

static uint64_t method_calls(const MethodMetrics *mm) {
        uint64_t n = 0;

        for (size_t c = 0; c < _JR_CODE_MAX; c++)
                n += mm->handled[c];
        return n;
}

void rpc_metrics_write(const RpcMetrics *m, MetricsText *t) {
        metrics_text_family(t, "grpc_server_handled_total", METRICS_COUNTER,
                            "Calls answered (or given up) by the server, by method and status code.");
        for (size_t i = 0; i <= m->n_methods; i++) {
                const MethodMetrics *mm = &m->per_method[i];
                MetricsLabel labels[3];

                method_labels(m, i, labels);
                for (JrCode c = 0; c < _JR_CODE_MAX; c++) {
                        /* Every served method's OK from the start; the rest once seen. */
                        if (mm->handled[c] == 0 && (c != JR_CODE_OK || i == m->n_methods))
                                continue;
                        labels[2] = (MetricsLabel) { "grpc_code", jr_code_to_string(c) };
                        metrics_text_sample_u64(t, "", labels, 3, mm->handled[c]);
                }
        }

        metrics_text_family(t, "grpc_server_handling_seconds", METRICS_HISTOGRAM,
                            "Time from the server taking a call to answering it, for methods whose length "
                            "is not the client's choice.");
        for (size_t i = 0; i <= m->n_methods; i++) {
                const MethodMetrics *mm = &m->per_method[i];
                MetricsLabel labels[2];

                if (i < m->n_methods ? m->methods[i].open_ended : method_calls(mm) == 0)
                        continue;
                method_labels(m, i, labels);
                metrics_text_histogram(t, labels, 2, latency_bounds, mm->buckets, N_BOUNDS, mm->seconds);
        }
}
