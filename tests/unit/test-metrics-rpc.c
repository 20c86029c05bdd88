/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The API's call metrics (daemon/metrics-rpc.c): counts by method and code,
 * unknown methods under one label, the latency histogram's buckets, and the
 * open-ended methods left out of it. */

#include <criterion/criterion.h>
#include <stdlib.h>

#include "metrics-check.h"
#include "metrics-rpc.h"

static const ProtobufCServiceDescriptor api = { .name = "jobrunner.v1.JobRunner" };

static const RpcMethod methods[] = {
        { .service = &api, .name = "Start" },
        { .service = &api, .name = "Wait", .open_ended = true },
        { .service = &api, .name = "List" },
};

static char *write_body(const RpcMetrics *m) {
        MetricsText *t = NULL;
        char *body = NULL;
        size_t len;

        cr_assert_eq(metrics_text_new(&t), 0);
        rpc_metrics_write(m, t);
        cr_assert_eq(metrics_text_finish(t, &body, &len), 0);
        metrics_text_free(t);
        metrics_promtool_check(body, len);
        return body;
}

Test(rpc_metrics, every_method_has_an_ok_series_from_the_start) {
        RpcMetrics *m = NULL;
        char *body;

        cr_assert_eq(rpc_metrics_new(methods, 3, &m), 0);
        body = write_body(m);
        metrics_expect_line(body, "grpc_server_handled_total{grpc_service=\"jobrunner.v1.JobRunner\","
                                  "grpc_method=\"Start\",grpc_code=\"OK\"} 0");
        metrics_expect_line(body, "grpc_server_handled_total{grpc_service=\"jobrunner.v1.JobRunner\","
                                  "grpc_method=\"Wait\",grpc_code=\"OK\"} 0");
        metrics_expect_no(body, "unknown");
        metrics_expect_no(body, "NOT_FOUND");
        free(body);
        rpc_metrics_free(m);
}

Test(rpc_metrics, calls_counted_by_method_and_code) {
        RpcMetrics *m = NULL;
        RpcMethod stranger = { .service = &api, .name = "Delete" };
        char *body;

        cr_assert_eq(rpc_metrics_new(methods, 3, &m), 0);
        rpc_metrics_record(m, &methods[0], JR_CODE_OK, 1000);
        rpc_metrics_record(m, &methods[0], JR_CODE_OK, 2000);
        rpc_metrics_record(m, &methods[0], JR_CODE_PERMISSION_DENIED, 300);
        rpc_metrics_record(m, &methods[2], JR_CODE_INVALID_ARGUMENT, 10);
        rpc_metrics_record(m, NULL, JR_CODE_UNIMPLEMENTED, 10);
        /* Not in the table: unknown too, never by its own name. */
        rpc_metrics_record(m, &stranger, JR_CODE_UNIMPLEMENTED, 10);
        body = write_body(m);

        metrics_expect_line(body, "grpc_server_handled_total{grpc_service=\"jobrunner.v1.JobRunner\","
                                  "grpc_method=\"Start\",grpc_code=\"OK\"} 2");
        metrics_expect_line(body, "grpc_server_handled_total{grpc_service=\"jobrunner.v1.JobRunner\","
                                  "grpc_method=\"Start\",grpc_code=\"PERMISSION_DENIED\"} 1");
        metrics_expect_line(body, "grpc_server_handled_total{grpc_service=\"jobrunner.v1.JobRunner\","
                                  "grpc_method=\"List\",grpc_code=\"INVALID_ARGUMENT\"} 1");
        metrics_expect_line(body, "grpc_server_handled_total{grpc_service=\"unknown\","
                                  "grpc_method=\"unknown\",grpc_code=\"UNIMPLEMENTED\"} 2");
        metrics_expect_no(body, "Delete");
        metrics_expect_no(body, "grpc_method=\"unknown\",grpc_code=\"OK\"");
        free(body);
        rpc_metrics_free(m);
}

Test(rpc_metrics, latency_histogram_cumulative_without_open_ended_methods) {
        RpcMetrics *m = NULL;
        char *body;

        cr_assert_eq(rpc_metrics_new(methods, 3, &m), 0);
        /* Sums of binary fractions, so that the sum is exact. */
        rpc_metrics_record(m, &methods[0], JR_CODE_OK, 250000);       /* exactly on a bound */
        rpc_metrics_record(m, &methods[0], JR_CODE_OK, 500000);
        rpc_metrics_record(m, &methods[0], JR_CODE_DEADLINE_EXCEEDED, 2000000);
        rpc_metrics_record(m, &methods[0], JR_CODE_OK, 64000000);     /* above every bound */
        rpc_metrics_record(m, &methods[2], JR_CODE_OK, 400);
        rpc_metrics_record(m, &methods[1], JR_CODE_OK, 30000000);
        body = write_body(m);

#define BUCKET(method, le) "grpc_server_handling_seconds_bucket{grpc_service=\"jobrunner.v1.JobRunner\"," \
                           "grpc_method=\"" method "\",le=\"" le "\"}"
        metrics_expect_line(body, BUCKET("Start", "0.0005") " 0");
        metrics_expect_line(body, BUCKET("Start", "0.1") " 0");
        metrics_expect_line(body, BUCKET("Start", "0.25") " 1");
        metrics_expect_line(body, BUCKET("Start", "0.5") " 2");
        metrics_expect_line(body, BUCKET("Start", "1") " 2");
        metrics_expect_line(body, BUCKET("Start", "2.5") " 3");
        metrics_expect_line(body, BUCKET("Start", "10") " 3");
        metrics_expect_line(body, BUCKET("Start", "+Inf") " 4");
        metrics_expect_line(body, "grpc_server_handling_seconds_count{grpc_service=\"jobrunner.v1.JobRunner\","
                                  "grpc_method=\"Start\"} 4");
        metrics_expect_line(body, "grpc_server_handling_seconds_sum{grpc_service=\"jobrunner.v1.JobRunner\","
                                  "grpc_method=\"Start\"} 66.75");
        metrics_expect_line(body, BUCKET("List", "0.0005") " 1");
        metrics_expect_line(body, BUCKET("List", "+Inf") " 1");
        /* Wait, open-ended, has none. */
        metrics_expect_no(body, "grpc_server_handling_seconds_count{grpc_service=\"jobrunner.v1.JobRunner\","
                                "grpc_method=\"Wait\"}");
        free(body);
        rpc_metrics_free(m);
}
