/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "macro.h"
#include "metrics-jobs.h"

static void write_totals(MetricsText *t, const jr_manager_stats *stats, unsigned active_limit) {
        MetricsLabel label;

        metrics_text_family(t, "jobrunner_jobs", METRICS_GAUGE,
                            "Jobs the daemon knows, by state (ended jobs until retention removes them).");
        for (jr_state s = JR_STATE_STARTING; s <= JR_STATE_FAILED_TO_START; s++) {
                label = (MetricsLabel) { "state", jr_state_to_string(s) };
                metrics_text_sample_u64(t, "", &label, 1, stats->jobs_by_state[s]);
        }

        metrics_text_family(t, "jobrunner_jobs_started_total", METRICS_COUNTER,
                            "Jobs accepted by Start since the daemon started.");
        metrics_text_sample_u64(t, "", NULL, 0, stats->jobs_started);

        metrics_text_family(t, "jobrunner_jobs_ended_total", METRICS_COUNTER,
                            "Jobs that ended since the daemon started, by how they ended.");
        for (jr_end_result r = 0; r < _JR_END_RESULT_MAX; r++) {
                label = (MetricsLabel) { "result", jr_end_result_to_string(r) };
                metrics_text_sample_u64(t, "", &label, 1, stats->jobs_ended[r]);
        }

        metrics_text_family(t, "jobrunner_active_jobs_limit", METRICS_GAUGE,
                            "Jobs that may be starting or running at once; Start refuses more.");
        metrics_text_sample_u64(t, "", NULL, 0, active_limit);

        metrics_text_family(t, "jobrunner_output_stored_bytes_total", METRICS_COUNTER,
                            "Bytes of job output read and stored since the daemon started.");
        metrics_text_sample_u64(t, "", NULL, 0, stats->output_stored_bytes);

        metrics_text_family(t, "jobrunner_output_dropped_bytes_total", METRICS_COUNTER,
                            "Bytes of job output read but not stored: past a job's output cap, or not "
                            "written for an I/O error.");
        label = (MetricsLabel) { "reason", "cap" };
        metrics_text_sample_u64(t, "", &label, 1, stats->output_dropped_cap_bytes);
        label = (MetricsLabel) { "reason", "io_error" };
        metrics_text_sample_u64(t, "", &label, 1, stats->output_dropped_io_bytes);

        metrics_text_family(t, "jobrunner_logs_calls", METRICS_GAUGE, "Open Logs and Attach calls.");
        metrics_text_sample_u64(t, "", NULL, 0, stats->followers);
}

/* One family over every running job. */
typedef struct JobFamily {
        const char *name;
        MetricsType type;
        const char *help;
        uint64_t (*value)(const jr_usage *u);
        double scale;                           /* 0: the value as it is */
} JobFamily;

static uint64_t usage_cpu(const jr_usage *u) { return u->cpu_usage_ns; }
static uint64_t usage_memory(const jr_usage *u) { return u->memory_current; }
static uint64_t usage_memory_peak(const jr_usage *u) { return u->memory_peak; }
static uint64_t usage_io_read(const jr_usage *u) { return u->io_read_bytes; }
static uint64_t usage_io_write(const jr_usage *u) { return u->io_write_bytes; }
static uint64_t usage_tasks(const jr_usage *u) { return u->tasks_current; }

static const JobFamily job_families[] = {
        { .name = "jobrunner_job_cpu_seconds_total", .type = METRICS_COUNTER,
          .help = "CPU time used by a running job's processes.", .value = usage_cpu, .scale = 1e-9 },
        { .name = "jobrunner_job_memory_bytes", .type = METRICS_GAUGE,
          .help = "Memory a running job's cgroup uses now.", .value = usage_memory },
        { .name = "jobrunner_job_memory_peak_bytes", .type = METRICS_GAUGE,
          .help = "Most memory a running job's cgroup used, where the kernel or the daemon's samples tell.",
          .value = usage_memory_peak },
        { .name = "jobrunner_job_io_read_bytes_total", .type = METRICS_COUNTER,
          .help = "Bytes a running job read from block devices.", .value = usage_io_read },
        { .name = "jobrunner_job_io_write_bytes_total", .type = METRICS_COUNTER,
          .help = "Bytes a running job wrote to block devices.", .value = usage_io_write },
        { .name = "jobrunner_job_tasks", .type = METRICS_GAUGE,
          .help = "Processes and threads in a running job's cgroup.", .value = usage_tasks },
};

void metrics_write_jobs(MetricsText *t, const jr_manager_stats *stats, unsigned active_limit,
                        const jr_status *running, size_t n_running) {
        write_totals(t, stats, active_limit);

        for (size_t f = 0; f < ELEMENTSOF(job_families); f++) {
                const JobFamily *jf = &job_families[f];

                metrics_text_family(t, jf->name, jf->type, jf->help);
                for (size_t i = 0; i < n_running; i++) {
                        MetricsLabel labels[] = {
                                { "job_id", running[i].id },
                                { "owner", running[i].owner ?: "" },
                        };
                        uint64_t v = jf->value(&running[i].usage);

                        if (jf->value == usage_memory_peak && v == 0)
                                continue;       /* unknown */
                        if (jf->scale > 0)
                                metrics_text_sample(t, "", labels, ELEMENTSOF(labels), (double) v * jf->scale);
                        else
                                metrics_text_sample_u64(t, "", labels, ELEMENTSOF(labels), v);
                }
        }
}
