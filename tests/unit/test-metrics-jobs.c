/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The jobs' and the process' metrics (daemon/metrics-jobs.c,
 * metrics-process.c): every state and result written, per-job series for
 * the running jobs given, and promtool clean on a scrape with 50 of them. */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics-check.h"
#include "metrics-jobs.h"
#include "metrics-process.h"

static char *finish(MetricsText *t) {
        char *body = NULL;
        size_t len;

        cr_assert_eq(metrics_text_finish(t, &body, &len), 0);
        cr_assert_eq(strlen(body), len);
        metrics_promtool_check(body, len);
        return body;
}

static char *jobs_body(const jr_manager_stats *stats, const jr_status *running, size_t n) {
        MetricsText *t = NULL;
        char *body;

        cr_assert_eq(metrics_text_new(&t), 0);
        metrics_write_jobs(t, stats, 1024, running, n);
        body = finish(t);
        metrics_text_free(t);
        return body;
}

Test(metrics_jobs, totals_name_every_state_and_result) {
        jr_manager_stats stats = {
                .jobs_started = 12,
                .jobs_ended = { [JR_END_EXITED_ZERO] = 5, [JR_END_EXITED_NONZERO] = 2, [JR_END_OOM_KILLED] = 1 },
                .jobs_by_state = { [JR_STATE_RUNNING] = 3, [JR_STATE_OOM_KILLED] = 1 },
                .followers = 4,
                .output_stored_bytes = 1ull << 40,
                .output_dropped_cap_bytes = 77,
        };
        char *body = jobs_body(&stats, NULL, 0);

        metrics_expect_line(body, "# TYPE jobrunner_jobs gauge");
        metrics_expect_line(body, "jobrunner_jobs{state=\"running\"} 3");
        metrics_expect_line(body, "jobrunner_jobs{state=\"starting\"} 0");
        metrics_expect_line(body, "jobrunner_jobs{state=\"oom-killed\"} 1");
        metrics_expect_line(body, "jobrunner_jobs{state=\"failed-to-start\"} 0");
        metrics_expect_line(body, "# TYPE jobrunner_jobs_started_total counter");
        metrics_expect_line(body, "jobrunner_jobs_started_total 12");
        metrics_expect_line(body, "jobrunner_jobs_ended_total{result=\"exited-zero\"} 5");
        metrics_expect_line(body, "jobrunner_jobs_ended_total{result=\"exited-nonzero\"} 2");
        metrics_expect_line(body, "jobrunner_jobs_ended_total{result=\"oom-killed\"} 1");
        metrics_expect_line(body, "jobrunner_jobs_ended_total{result=\"killed\"} 0");
        metrics_expect_line(body, "jobrunner_jobs_ended_total{result=\"stopped\"} 0");
        metrics_expect_line(body, "jobrunner_jobs_ended_total{result=\"failed-to-start\"} 0");
        metrics_expect_line(body, "jobrunner_active_jobs_limit 1024");
        metrics_expect_line(body, "jobrunner_output_stored_bytes_total 1099511627776");
        metrics_expect_line(body, "jobrunner_output_dropped_bytes_total{reason=\"cap\"} 77");
        metrics_expect_line(body, "jobrunner_output_dropped_bytes_total{reason=\"io_error\"} 0");
        metrics_expect_line(body, "jobrunner_logs_calls 4");
        /* No running job given: the families are declared, with no series. */
        metrics_expect_line(body, "# TYPE jobrunner_job_memory_bytes gauge");
        metrics_expect_no(body, "job_id=");
        free(body);
}

Test(metrics_jobs, fifty_running_jobs_one_series_each) {
        jr_manager_stats stats = { .jobs_started = 50, .jobs_by_state = { [JR_STATE_RUNNING] = 50 } };
        jr_status running[50] = {};
        char line[256], *body;

        for (unsigned i = 0; i < 50; i++) {
                snprintf(running[i].id, sizeof(running[i].id), "%032x", i + 1);
                running[i].owner = i % 2 ? "alice" : "bob \"the builder\"\\ops";
                running[i].state = JR_STATE_RUNNING;
                running[i].usage = (jr_usage) {
                        .cpu_usage_ns = 1500000000ull * (i + 1),
                        .memory_current = 4096ull * (i + 1),
                        .memory_peak = i == 7 ? 0 : 8192ull * (i + 1),      /* 0: unknown */
                        .io_read_bytes = i,
                        .io_write_bytes = 2ull * i,
                        .tasks_current = 1 + i % 3,
                };
        }
        body = jobs_body(&stats, running, 50);

        metrics_expect_line(body, "jobrunner_job_cpu_seconds_total{job_id=\"00000000000000000000000000000001\","
                                  "owner=\"bob \\\"the builder\\\"\\\\ops\"} 1.5");
        metrics_expect_line(body, "jobrunner_job_cpu_seconds_total{job_id=\"00000000000000000000000000000002\","
                                  "owner=\"alice\"} 3");
        metrics_expect_line(body, "jobrunner_job_memory_bytes{job_id=\"00000000000000000000000000000032\","
                                  "owner=\"alice\"} 204800");
        metrics_expect_line(body, "jobrunner_job_io_write_bytes_total{job_id=\"00000000000000000000000000000032\","
                                  "owner=\"alice\"} 98");
        metrics_expect_line(body, "jobrunner_job_tasks{job_id=\"00000000000000000000000000000003\","
                                  "owner=\"bob \\\"the builder\\\"\\\\ops\"} 3");
        /* An unknown peak is left out, not written as 0. */
        metrics_expect_no(body, "jobrunner_job_memory_peak_bytes{job_id=\"00000000000000000000000000000008\"");
        metrics_expect_line(body, "jobrunner_job_memory_peak_bytes{job_id=\"00000000000000000000000000000009\","
                                  "owner=\"bob \\\"the builder\\\"\\\\ops\"} 73728");
        for (unsigned i = 0; i < 50; i++) {
                snprintf(line, sizeof(line), "jobrunner_job_io_read_bytes_total{job_id=\"%032x\",", i + 1);
                cr_assert(strstr(body, line), "no series for running job %u", i + 1);
        }
        free(body);
}

Test(metrics_process, the_process_figures_of_this_process) {
        MetricsText *t = NULL;
        char *body, *p;

        cr_assert_eq(metrics_text_new(&t), 0);
        metrics_write_process(t);
        body = finish(t);
        metrics_text_free(t);

        metrics_expect_line(body, "# TYPE process_cpu_seconds_total counter");
        metrics_expect_line(body, "# TYPE process_resident_memory_bytes gauge");
        metrics_expect_line(body, "# TYPE process_start_time_seconds gauge");
        metrics_expect_line(body, "# TYPE process_open_fds gauge");
        metrics_expect_line(body, "# TYPE process_max_fds gauge");
        p = strstr(body, "\nprocess_resident_memory_bytes ");
        cr_assert(p && strtod(p + strlen("\nprocess_resident_memory_bytes "), NULL) > 1024 * 1024);
        p = strstr(body, "\nprocess_open_fds ");
        cr_assert(p && strtod(p + strlen("\nprocess_open_fds "), NULL) >= 3);
        /* Started after 2020 and not in the future. */
        p = strstr(body, "\nprocess_start_time_seconds ");
        cr_assert(p && strtod(p + strlen("\nprocess_start_time_seconds "), NULL) > 1577836800.0);
        cr_assert(strtod(p + strlen("\nprocess_start_time_seconds "), NULL) < (double) time(NULL) + 5);
        free(body);
}
