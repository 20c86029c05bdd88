/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/metrics-text.c: the Prometheus text exposition format as written,
 * byte for byte, and as promtool reads it. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "metrics-check.h"
#include "metrics-text.h"

#include "leak-check.h"
TestSuite(metrics_text, .fini = abort_on_leaks);

#define L(n, v) ((MetricsLabel) { .name = (n), .value = (v) })

static MetricsText *new_writer(void) {
        MetricsText *t = NULL;

        cr_assert_eq(metrics_text_new(&t), 0);
        cr_assert_not_null(t);
        return t;
}

/* The body, checked to be a string of the length returned. */
static char *finish(MetricsText *t) {
        char *body = NULL;
        size_t len = SIZE_MAX;

        cr_assert_eq(metrics_text_finish(t, &body, &len), 0);
        cr_assert_not_null(body);
        cr_assert_eq(strlen(body), len);
        return body;
}

static size_t count(const char *s, const char *what) {
        size_t n = 0;

        for (const char *p = s; (p = strstr(p, what)); p++)
                n++;
        return n;
}

/* One gauge sample of value: what the writer makes of it. */
static char *gauge_of(double value) {
        _cleanup_(metrics_text_freep) MetricsText *t = new_writer();

        metrics_text_family(t, "v", METRICS_GAUGE, "v");
        metrics_text_sample(t, "", NULL, 0, value);
        return finish(t);
}

static void expect_double(double value, const char *text) {
        _cleanup_free_ char *body = gauge_of(value);
        _cleanup_free_ char *line = NULL;

        cr_assert_geq(asprintf(&line, "v %s", text), 0);
        metrics_expect_line(body, line);
}

Test(metrics_text, label_values_are_escaped) {
        _cleanup_(metrics_text_freep) MetricsText *t = new_writer();
        _cleanup_free_ char *body = NULL;

        metrics_text_family(t, "escapes", METRICS_GAUGE, "Label values.");
        metrics_text_sample_u64(t, "", (MetricsLabel[]) { L("v", "back\\slash") }, 1, 1);
        metrics_text_sample_u64(t, "", (MetricsLabel[]) { L("v", "say \"hi\"") }, 1, 2);
        metrics_text_sample_u64(t, "", (MetricsLabel[]) { L("v", "two\nlines\n") }, 1, 3);
        metrics_text_sample_u64(t, "", (MetricsLabel[]) { L("v", "\\\"\n\\n") }, 1, 4);
        metrics_text_sample_u64(t, "", (MetricsLabel[]) { L("v", "héllo wörld ✓ 😀\t{},=") }, 1, 5);
        metrics_text_sample_u64(t, "", (MetricsLabel[]) { L("v", "") }, 1, 6);
        body = finish(t);

        metrics_expect_line(body, "escapes{v=\"back\\\\slash\"} 1");
        metrics_expect_line(body, "escapes{v=\"say \\\"hi\\\"\"} 2");
        metrics_expect_line(body, "escapes{v=\"two\\nlines\\n\"} 3");
        metrics_expect_line(body, "escapes{v=\"\\\\\\\"\\n\\\\n\"} 4");
        metrics_expect_line(body, "escapes{v=\"héllo wörld ✓ 😀\t{},=\"} 5");
        metrics_expect_line(body, "escapes{v=\"\"} 6");
        /* Header, HELP, TYPE and six samples: no line feed got through. */
        cr_expect_eq(count(body, "\n"), 8);
        metrics_promtool_check(body, strlen(body));
}

Test(metrics_text, help_is_escaped) {
        _cleanup_(metrics_text_freep) MetricsText *t = new_writer();
        _cleanup_free_ char *body = NULL;

        metrics_text_family(t, "help_total", METRICS_COUNTER, "A \"quoted\" path C:\\jobs\nand a second line ✓.");
        metrics_text_sample_u64(t, "", NULL, 0, 0);
        body = finish(t);

        /* The double quote stays as it is in HELP: only label values
         * escape it. */
        metrics_expect_line(body, "# HELP help_total A \"quoted\" path C:\\\\jobs\\nand a second line ✓.");
        cr_expect_eq(count(body, "\n"), 3);
        metrics_promtool_check(body, strlen(body));
}

Test(metrics_text, one_help_and_type_per_family) {
        _cleanup_(metrics_text_freep) MetricsText *t = new_writer();
        _cleanup_free_ char *body = NULL;

        metrics_text_family(t, "jobs_started_total", METRICS_COUNTER, "Jobs started.");
        metrics_text_sample_u64(t, "", (MetricsLabel[]) { L("user", "alice") }, 1, 3);
        metrics_text_sample_u64(t, "", (MetricsLabel[]) { L("user", "bob") }, 1, 5);
        metrics_text_sample_u64(t, "", (MetricsLabel[]) { L("user", "carol") }, 1, 0);
        metrics_text_family(t, "jobs_running", METRICS_GAUGE, "Jobs running now.");
        metrics_text_sample_u64(t, "", NULL, 0, 2);
        body = finish(t);

        cr_expect_str_eq(body,
                         "# HELP jobs_started_total Jobs started.\n"
                         "# TYPE jobs_started_total counter\n"
                         "jobs_started_total{user=\"alice\"} 3\n"
                         "jobs_started_total{user=\"bob\"} 5\n"
                         "jobs_started_total{user=\"carol\"} 0\n"
                         "# HELP jobs_running Jobs running now.\n"
                         "# TYPE jobs_running gauge\n"
                         "jobs_running 2\n");
        metrics_promtool_check(body, strlen(body));
}

Test(metrics_text, type_words) {
        _cleanup_(metrics_text_freep) MetricsText *t = new_writer();
        _cleanup_free_ char *body = NULL;

        metrics_text_family(t, "c_total", METRICS_COUNTER, "c");
        metrics_text_family(t, "g", METRICS_GAUGE, "g");
        metrics_text_family(t, "h", METRICS_HISTOGRAM, "h");
        body = finish(t);

        metrics_expect_line(body, "# TYPE c_total counter");
        metrics_expect_line(body, "# TYPE g gauge");
        metrics_expect_line(body, "# TYPE h histogram");
}

Test(metrics_text, histogram_buckets_are_cumulative) {
        _cleanup_(metrics_text_freep) MetricsText *t = new_writer();
        _cleanup_free_ char *body = NULL;
        const double bounds[] = { 0.005, 0.1, 1, 10 };
        const uint64_t counts[] = { 1, 2, 0, 3, 4 };            /* the last above 10 */

        metrics_text_family(t, "job_duration_seconds", METRICS_HISTOGRAM, "How long jobs ran.");
        metrics_text_histogram(t, (MetricsLabel[]) { L("result", "ok") }, 1, bounds, counts, ELEMENTSOF(bounds), 123.25);
        body = finish(t);

        cr_expect_str_eq(body,
                         "# HELP job_duration_seconds How long jobs ran.\n"
                         "# TYPE job_duration_seconds histogram\n"
                         "job_duration_seconds_bucket{result=\"ok\",le=\"0.005\"} 1\n"
                         "job_duration_seconds_bucket{result=\"ok\",le=\"0.1\"} 3\n"
                         "job_duration_seconds_bucket{result=\"ok\",le=\"1\"} 3\n"
                         "job_duration_seconds_bucket{result=\"ok\",le=\"10\"} 6\n"
                         "job_duration_seconds_bucket{result=\"ok\",le=\"+Inf\"} 10\n"
                         "job_duration_seconds_sum{result=\"ok\"} 123.25\n"
                         "job_duration_seconds_count{result=\"ok\"} 10\n");
        metrics_promtool_check(body, strlen(body));
}

Test(metrics_text, histogram_edges) {
        _cleanup_(metrics_text_freep) MetricsText *t = new_writer();
        _cleanup_free_ char *body = NULL;
        const double bounds[] = { 1e-06, 0.25, 1e+20 };
        const uint64_t above[] = { 7 }, none[] = { 0, 0, 0, 0 };

        metrics_text_family(t, "h", METRICS_HISTOGRAM, "h");
        /* No bounds: only the +Inf bucket, which holds everything. */
        metrics_text_histogram(t, NULL, 0, NULL, above, 0, 7.5);
        /* Nothing observed; the bounds written as values are. */
        metrics_text_histogram(t, (MetricsLabel[]) { L("a", "1"), L("b", "2") }, 2, bounds, none, 3, 0);
        body = finish(t);

        cr_expect_str_eq(body,
                         "# HELP h h\n"
                         "# TYPE h histogram\n"
                         "h_bucket{le=\"+Inf\"} 7\n"
                         "h_sum 7.5\n"
                         "h_count 7\n"
                         "h_bucket{a=\"1\",b=\"2\",le=\"1e-06\"} 0\n"
                         "h_bucket{a=\"1\",b=\"2\",le=\"0.25\"} 0\n"
                         "h_bucket{a=\"1\",b=\"2\",le=\"1e+20\"} 0\n"
                         "h_bucket{a=\"1\",b=\"2\",le=\"+Inf\"} 0\n"
                         "h_sum{a=\"1\",b=\"2\"} 0\n"
                         "h_count{a=\"1\",b=\"2\"} 0\n");
        metrics_promtool_check(body, strlen(body));
}

Test(metrics_text, histogram_large_counts) {
        _cleanup_(metrics_text_freep) MetricsText *t = new_writer();
        _cleanup_free_ char *body = NULL;
        const double bounds[] = { 1 };
        /* More than a double holds exactly: summed as integers. */
        const uint64_t counts[] = { (UINT64_C(1) << 53) + 1, 2 };

        metrics_text_family(t, "h", METRICS_HISTOGRAM, "h");
        metrics_text_histogram(t, NULL, 0, bounds, counts, 1, 1e16);
        body = finish(t);

        metrics_expect_line(body, "h_bucket{le=\"1\"} 9007199254740993");
        metrics_expect_line(body, "h_bucket{le=\"+Inf\"} 9007199254740995");
        metrics_expect_line(body, "h_count 9007199254740995");
        metrics_expect_line(body, "h_sum 1e+16");
}

Test(metrics_text, doubles) {
        expect_double(0, "0");
        expect_double(1, "1");
        expect_double(-1.5, "-1.5");
        expect_double(0.1, "0.1");
        expect_double(0.1 + 0.2, "0.30000000000000004");      /* 17 digits */
        expect_double(0.1 + 0.7, "0.7999999999999999");       /* 16 digits */
        expect_double(1e-06, "1e-06");
        expect_double(123456.789, "123456.789");
        expect_double(1700000000.5, "1700000000.5");
        /* Integers as doubles: exact as far as a double holds them. */
        expect_double(1e15 - 1, "999999999999999");
        expect_double(9007199254740992.0, "9007199254740992");
        expect_double(1e20, "1e+20");
        expect_double(18446744073709551615.0, "1.8446744073709552e+19");
        expect_double(1.7976931348623157e308, "1.7976931348623157e+308");
        expect_double(INFINITY, "+Inf");
        expect_double(-INFINITY, "-Inf");
        expect_double(NAN, "NaN");
}

/* Whatever the double, what is written reads back as that very double. */
Test(metrics_text, doubles_read_back_exactly) {
        uint64_t x = UINT64_C(0x9E3779B97F4A7C15);

        for (unsigned i = 0; i < 20000; i++) {
                _cleanup_free_ char *body = NULL;
                const char *v;
                double d;

                /* xorshift64: bit patterns all over the range, subnormals
                 * included. */
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                memcpy(&d, &x, sizeof d);
                if (!isfinite(d))
                        continue;

                body = gauge_of(d);
                v = strstr(body, "\nv ");
                cr_assert_not_null(v);
                cr_assert(strtod(v + 3, NULL) == d, "%a written as %s", d, v + 3);
                cr_assert_leq(strcspn(v + 3, "\n"), strlen("-1.2345678901234567e-308"), "%s", v + 3);
        }
}

Test(metrics_text, u64_exact) {
        _cleanup_(metrics_text_freep) MetricsText *t = new_writer();
        _cleanup_free_ char *body = NULL;

        metrics_text_family(t, "bytes_total", METRICS_COUNTER, "Bytes.");
        metrics_text_sample_u64(t, "", (MetricsLabel[]) { L("k", "max") }, 1, UINT64_MAX);
        metrics_text_sample_u64(t, "", (MetricsLabel[]) { L("k", "2^53+1") }, 1, (UINT64_C(1) << 53) + 1);
        metrics_text_sample_u64(t, "", (MetricsLabel[]) { L("k", "zero") }, 1, 0);
        body = finish(t);

        metrics_expect_line(body, "bytes_total{k=\"max\"} 18446744073709551615");
        metrics_expect_line(body, "bytes_total{k=\"2^53+1\"} 9007199254740993");
        metrics_expect_line(body, "bytes_total{k=\"zero\"} 0");
        metrics_expect_no(body, "e+");
}

Test(metrics_text, labels_keep_their_order) {
        _cleanup_(metrics_text_freep) MetricsText *t = new_writer();
        _cleanup_free_ char *body = NULL;
        const MetricsLabel labels[] = { L("zeta", "1"), L("alpha", "2"), L("mu", "3") };
        const double bounds[] = { 1 };
        const uint64_t counts[] = { 1, 1 };

        metrics_text_family(t, "g", METRICS_GAUGE, "g");
        metrics_text_sample(t, "", labels, ELEMENTSOF(labels), 0.5);
        metrics_text_family(t, "h", METRICS_HISTOGRAM, "h");
        metrics_text_histogram(t, labels, ELEMENTSOF(labels), bounds, counts, 1, 3);
        body = finish(t);

        metrics_expect_line(body, "g{zeta=\"1\",alpha=\"2\",mu=\"3\"} 0.5");
        metrics_expect_line(body, "h_bucket{zeta=\"1\",alpha=\"2\",mu=\"3\",le=\"1\"} 1");
        metrics_expect_line(body, "h_sum{zeta=\"1\",alpha=\"2\",mu=\"3\"} 3");
}

Test(metrics_text, no_families) {
        _cleanup_(metrics_text_freep) MetricsText *t = new_writer();
        _cleanup_free_ char *body = finish(t);

        cr_expect_str_eq(body, "");
        metrics_promtool_check(body, 0);
}

static void write_one_body(MetricsText *t, uint64_t n) {
        metrics_text_family(t, "scrapes_total", METRICS_COUNTER, "Scrapes.");
        metrics_text_sample_u64(t, "", NULL, 0, n);
}

Test(metrics_text, reuse_after_finish) {
        _cleanup_(metrics_text_freep) MetricsText *t = new_writer();
        _cleanup_free_ char *first = NULL, *second = NULL, *empty = NULL;

        write_one_body(t, 1);
        first = finish(t);
        /* Empty again: the same family is declared anew, and nothing of
         * the first body is left in the second. */
        write_one_body(t, 2);
        second = finish(t);
        empty = finish(t);

        cr_expect_str_eq(first, "# HELP scrapes_total Scrapes.\n# TYPE scrapes_total counter\nscrapes_total 1\n");
        cr_expect_str_eq(second, "# HELP scrapes_total Scrapes.\n# TYPE scrapes_total counter\nscrapes_total 2\n");
        cr_expect_str_eq(empty, "");
}

Test(metrics_text, large_body) {
        _cleanup_(metrics_text_freep) MetricsText *t = new_writer();
        _cleanup_free_ char *body = NULL;
        char user[32];

        /* Far past the first allocation: the buffer grows and keeps all. */
        metrics_text_family(t, "jobs_started_total", METRICS_COUNTER, "Jobs started.");
        for (unsigned i = 0; i < 10000; i++) {
                snprintf(user, sizeof user, "user%u", i);
                metrics_text_sample_u64(t, "", (MetricsLabel[]) { L("user", user) }, 1, i);
        }
        body = finish(t);

        cr_expect_eq(count(body, "\n"), 10002);
        metrics_expect_line(body, "jobs_started_total{user=\"user0\"} 0");
        metrics_expect_line(body, "jobs_started_total{user=\"user9999\"} 9999");
}

#ifndef NDEBUG
/* A second declaration in one body is the caller's bug. */
Test(metrics_text, second_declaration_aborts, .signal = SIGABRT) {
        _cleanup_(metrics_text_freep) MetricsText *t = new_writer();

        write_one_body(t, 1);
        metrics_text_family(t, "other", METRICS_GAUGE, "Other.");
        write_one_body(t, 1);
}
#endif

/* What the daemon will serve, near enough: promtool parses it and its lint
 * finds nothing. */
Test(metrics_text, realistic_body_is_clean) {
        _cleanup_(metrics_text_freep) MetricsText *t = new_writer();
        _cleanup_free_ char *body = NULL;
        const double bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
        const uint64_t ok[] = { 10, 20, 30, 5, 1, 0, 0, 2, 0, 0, 1, 3 };
        const uint64_t failed[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

        metrics_text_family(t, "jobrunner_build_info", METRICS_GAUGE, "The daemon's version, as a label.");
        metrics_text_sample(t, "", (MetricsLabel[]) { L("version", "0.1.0") }, 1, 1);

        metrics_text_family(t, "jobrunner_jobs_started_total", METRICS_COUNTER,
                            "Jobs started, by the certificate's common name.");
        metrics_text_sample_u64(t, "", (MetricsLabel[]) { L("user", "alice") }, 1, 42);
        metrics_text_sample_u64(t, "", (MetricsLabel[]) { L("user", "bob \"the builder\"") }, 1, 7);
        metrics_text_sample_u64(t, "", (MetricsLabel[]) { L("user", "C:\\jobs\\ünïcode ✓") }, 1, 1);
        metrics_text_sample_u64(t, "", (MetricsLabel[]) { L("user", "two\nlines") }, 1, UINT64_MAX);

        metrics_text_family(t, "jobrunner_jobs_running", METRICS_GAUGE, "Jobs running now.");
        metrics_text_sample_u64(t, "", NULL, 0, 3);

        metrics_text_family(t, "jobrunner_rpc_duration_seconds", METRICS_HISTOGRAM,
                            "How long rpc calls took,\nby method and code (see \\docs).");
        metrics_text_histogram(t, (MetricsLabel[]) { L("method", "Start"), L("code", "OK") }, 2,
                               bounds, ok, ELEMENTSOF(bounds), 31.4159);
        metrics_text_histogram(t, (MetricsLabel[]) { L("method", "Start"), L("code", "PERMISSION_DENIED") }, 2,
                               bounds, failed, ELEMENTSOF(bounds), 12.5);

        metrics_text_family(t, "jobrunner_output_bytes_total", METRICS_COUNTER, "Output captured.");
        metrics_text_sample_u64(t, "", (MetricsLabel[]) { L("stream", "stdout") }, 1, UINT64_C(123456789012345));
        metrics_text_sample_u64(t, "", (MetricsLabel[]) { L("stream", "stderr") }, 1, 0);

        metrics_text_family(t, "jobrunner_start_time_seconds", METRICS_GAUGE, "When the daemon started.");
        metrics_text_sample(t, "", NULL, 0, 1764877617.123456);

        metrics_text_family(t, "jobrunner_load_ratio", METRICS_GAUGE, "Not yet known, or unbounded.");
        metrics_text_sample(t, "", (MetricsLabel[]) { L("kind", "unknown") }, 1, NAN);
        metrics_text_sample(t, "", (MetricsLabel[]) { L("kind", "unbounded") }, 1, INFINITY);
        metrics_text_sample(t, "", (MetricsLabel[]) { L("kind", "low") }, 1, -INFINITY);
        body = finish(t);

        metrics_expect_line(body, "jobrunner_rpc_duration_seconds_bucket{method=\"Start\",code=\"OK\",le=\"+Inf\"} 72");
        metrics_expect_line(body, "jobrunner_rpc_duration_seconds_count{method=\"Start\",code=\"OK\"} 72");
        metrics_expect_line(body, "jobrunner_start_time_seconds 1764877617.123456");
        metrics_expect_no(body, "\n\n");
        metrics_promtool_check(body, strlen(body));
}
