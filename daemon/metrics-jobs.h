/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "jobrunner.h"
#include "metrics-text.h"

/* The jobs' metrics, from what the library reports; pure, so that tests
 * write them from figures of their own.
 *
 *   jobrunner_jobs{state}                        gauge, every state
 *   jobrunner_jobs_started_total                 counter
 *   jobrunner_jobs_ended_total{result}           counter, every result
 *   jobrunner_active_jobs_limit                  gauge
 *   jobrunner_output_stored_bytes_total          counter
 *   jobrunner_output_dropped_bytes_total{reason} counter: cap, io_error
 *   jobrunner_logs_calls                         gauge: open Logs calls
 *
 * and per running job, labelled job_id and owner (job_id, not job: that
 * label is Prometheus' own), from its cgroup as the caller read it:
 *
 *   jobrunner_job_cpu_seconds_total       counter
 *   jobrunner_job_memory_bytes            gauge
 *   jobrunner_job_memory_peak_bytes       gauge (when known)
 *   jobrunner_job_io_read_bytes_total     counter
 *   jobrunner_job_io_write_bytes_total    counter
 *   jobrunner_job_tasks                   gauge
 *
 * Only running jobs have series of their own, so their number is bounded
 * by the daemon's limit on active jobs; ended jobs are in the totals. */
void metrics_write_jobs(MetricsText *t, const jr_manager_stats *stats, unsigned active_limit,
                        const jr_status *running, size_t n_running);
