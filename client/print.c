/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "print.h"

#define LABEL_WIDTH 13

static void label(FILE *f, const char *name) {
        fprintf(f, "%s:%*s", name, (int) (LABEL_WIDTH - strlen(name) - 1), "");
}

/* The limits that are set, as the options of start spell them:
 * "cpu 50%, memory 256M, ...".  "" if none. */
static int format_limits(const Jobrunner__V1__Limits *l, char **ret) {
        char *buf = NULL, x[FORMAT_EXACT_MAX];
        size_t size = 0;
        const char *sep = "";
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        if (l && l->cpu_quota_percent) {
                fprintf(f, "%scpu %" PRIu32 "%%", sep, l->cpu_quota_percent);
                sep = ", ";
        }
        if (l && l->cpu_weight) {
                fprintf(f, "%scpu-weight %" PRIu32, sep, l->cpu_weight);
                sep = ", ";
        }
        if (l && l->memory_max_bytes) {
                if (l->memory_max_bytes == UINT64_MAX)
                        fprintf(f, "%smemory infinity", sep);
                else
                        fprintf(f, "%smemory %s", sep, format_exact(l->memory_max_bytes, 1024, x));
                sep = ", ";
        }
        if (l && l->io_weight) {
                fprintf(f, "%sio-weight %" PRIu32, sep, l->io_weight);
                sep = ", ";
        }
        for (size_t i = 0; l && i < l->n_io_device_limits; i++) {
                const Jobrunner__V1__IoDeviceLimit *d = l->io_device_limits[i];
                _cleanup_free_ char *dev = format_escaped(d->device);

                if (!dev) {
                        fclose(f);
                        free(buf);
                        return -ENOMEM;
                }
                if (d->read_bytes_per_second) {
                        fprintf(f, "%sio-read-bps %s=%s", sep, dev, format_exact(d->read_bytes_per_second, 1000, x));
                        sep = ", ";
                }
                if (d->write_bytes_per_second) {
                        fprintf(f, "%sio-write-bps %s=%s", sep, dev,
                                format_exact(d->write_bytes_per_second, 1000, x));
                        sep = ", ";
                }
        }
        if (l && l->tasks_max) {
                if (l->tasks_max == UINT64_MAX)
                        fprintf(f, "%stasks infinity", sep);
                else
                        fprintf(f, "%stasks %" PRIu64, sep, l->tasks_max);
        }
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

/* Unset toggles print as the default they select: everything is isolated
 * unless asked otherwise. */
static const char *toggle_text(int t) {
        return t == JOBRUNNER__V1__TOGGLE__TOGGLE_OFF ? "no" : "yes";
}

static const char *network_text(int n) {
        return n == JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_HOST ? "host" : "none";
}

int print_job_status(FILE *f, const JobStatus *j, int64_t now_usec) {
        const Jobrunner__V1__JobSpec *spec = j->spec;
        const Jobrunner__V1__ResourceUsage *u = j->usage;
        _cleanup_free_ char *id = format_escaped(j->id), *owner = format_escaped(j->owner),
                            *unit = format_escaped(j->unit_name), *result = format_job_result(j),
                            *command = NULL, *limits = NULL;
        char a[FORMAT_TIMESTAMP_MAX], b[FORMAT_TIMESPAN_MAX], c[FORMAT_BYTES_MAX], d[FORMAT_BYTES_MAX];
        bool ended = j->end_time_us > 0;

        if (!id || !owner || !unit || !result)
                return -ENOMEM;

        label(f, "Id");
        fprintf(f, "%s\n", id);
        label(f, "Unit");
        fprintf(f, "%s\n", unit);
        label(f, "Owner");
        fprintf(f, "%s\n", owner);

        if (spec) {
                _cleanup_free_ char *user = NULL, *cwd = NULL;

                command = format_argv(spec->argv, spec->n_argv);
                user = format_escaped(spec->user);
                cwd = format_escaped(spec->working_directory);
                if (!command || !user || !cwd || format_limits(spec->limits, &limits) < 0)
                        return -ENOMEM;

                label(f, "Command");
                fprintf(f, "%s\n", command);
                label(f, "User");
                fprintf(f, "%s\n", user[0] ? user : "(a dynamic user)");
                label(f, "Directory");
                fprintf(f, "%s\n", cwd[0] ? cwd : "/");
                if (spec->n_env > 0) {
                        _cleanup_free_ char *env = format_argv(spec->env, spec->n_env);

                        if (!env)
                                return -ENOMEM;
                        label(f, "Environment");
                        fprintf(f, "%s\n", env);
                }
                label(f, "Limits");
                fprintf(f, "%s\n", limits[0] ? limits : "none");
                label(f, "Isolation");
                fprintf(f, "network %s, pid-namespace %s, private-mounts %s, private-tmp %s\n",
                        network_text(spec->isolation ? (int) spec->isolation->network : 0),
                        toggle_text(spec->isolation ? (int) spec->isolation->pid_namespace : 0),
                        toggle_text(spec->isolation ? (int) spec->isolation->private_mounts : 0),
                        toggle_text(spec->isolation ? (int) spec->isolation->private_tmp : 0));
        }

        label(f, "State");
        fprintf(f, "%s\n", result);
        label(f, "OOM killed");
        fprintf(f, "%s\n", j->oom_killed ? "yes" : "no");

        label(f, "Started");
        if (j->start_time_us > 0 && now_usec >= j->start_time_us)
                fprintf(f, "%s (%s ago)\n", format_timestamp(j->start_time_us, true, a),
                        format_timespan((uint64_t) (now_usec - j->start_time_us), b));
        else
                fprintf(f, "%s\n", format_timestamp(j->start_time_us, true, a));
        label(f, "Ended");
        if (ended && j->start_time_us > 0 && j->end_time_us >= j->start_time_us)
                fprintf(f, "%s (after %s)\n", format_timestamp(j->end_time_us, true, a),
                        format_timespan((uint64_t) (j->end_time_us - j->start_time_us), b));
        else if (ended)
                fprintf(f, "%s\n", format_timestamp(j->end_time_us, true, a));
        else if (j->start_time_us > 0 && now_usec >= j->start_time_us)
                fprintf(f, "- (running for %s)\n", format_timespan((uint64_t) (now_usec - j->start_time_us), b));
        else
                fprintf(f, "-\n");

        label(f, "CPU time");
        fprintf(f, "%s\n", format_timespan(u ? u->cpu_usage_ns / 1000 : 0, b));
        label(f, "Memory");
        if (ended)
                fprintf(f, "%s peak\n", format_bytes(u ? u->memory_peak_bytes : 0, c));
        else
                fprintf(f, "%s (peak %s)\n", format_bytes(u ? u->memory_current_bytes : 0, c),
                        format_bytes(u ? u->memory_peak_bytes : 0, d));
        label(f, "IO");
        fprintf(f, "%s read, %s written\n", format_bytes(u ? u->io_read_bytes : 0, c),
                format_bytes(u ? u->io_write_bytes : 0, d));
        if (!ended) {
                label(f, "Tasks");
                fprintf(f, "%" PRIu64 "\n", u ? u->tasks_current : 0);
        }
        label(f, "Output");
        fprintf(f, "stdout %s, stderr %s%s\n", format_bytes(j->stdout_bytes, c), format_bytes(j->stderr_bytes, d),
                j->output_truncated ? " (truncated: the output cap was reached)" : "");
        label(f, "Followers");
        fprintf(f, "%" PRIu32 "\n", j->followers);
        return 0;
}

enum { COL_HOST, COL_ID, COL_OWNER, COL_STATE, COL_EXIT, COL_STARTED, COL_COMMAND, _COL_MAX };

static const char *const column_names[_COL_MAX] = {
        "HOST", "ID", "OWNER", "STATE", "EXIT", "STARTED", "COMMAND",
};

/* From column first on: HOST only for a fan-out. */
static void print_row(FILE *f, size_t first, char *const *cells, const size_t *widths) {
        for (size_t c = first; c < _COL_MAX; c++) {
                fputs(cells[c], f);
                if (c + 1 < _COL_MAX)
                        fprintf(f, "%*s", (int) (widths[c] - utf8_width(cells[c]) + 2), "");
        }
        fputc('\n', f);
}

int print_job_table(FILE *f, JobStatus *const *jobs, size_t n) {
        return print_job_table_hosts(f, jobs, NULL, n);
}

int print_job_table_hosts(FILE *f, JobStatus *const *jobs, const char *const *hosts, size_t n) {
        _cleanup_free_ char **cells = NULL;
        size_t widths[_COL_MAX], first = hosts ? COL_HOST : COL_ID;
        int r = 0;

        if (n == 0) {
                fputs("No jobs.\n", f);
                return 0;
        }

        cells = calloc(n * _COL_MAX, sizeof(char *));
        if (!cells)
                return -ENOMEM;
        for (size_t c = 0; c < _COL_MAX; c++)
                widths[c] = strlen(column_names[c]);

        for (size_t i = 0; i < n; i++) {
                const JobStatus *j = jobs[i];
                char **row = cells + i * _COL_MAX, buf[FORMAT_TIMESTAMP_MAX];

                row[COL_HOST] = strdup(hosts ? hosts[i] : "");
                row[COL_ID] = format_escaped(j->id);
                row[COL_OWNER] = format_escaped(j->owner);
                row[COL_STATE] = strdup(job_display_state(j));
                row[COL_EXIT] = strdup(format_exit_column(j, buf, sizeof(buf)));
                row[COL_STARTED] = strdup(format_timestamp(j->start_time_us, false, buf));
                row[COL_COMMAND] = j->spec ? format_argv(j->spec->argv, j->spec->n_argv) : strdup("");
                for (size_t c = 0; c < _COL_MAX; c++) {
                        if (!row[c]) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        if (utf8_width(row[c]) > widths[c])
                                widths[c] = utf8_width(row[c]);
                }
        }

        print_row(f, first, (char **) column_names, widths);
        for (size_t i = 0; i < n; i++)
                print_row(f, first, cells + i * _COL_MAX, widths);

finish:
        for (size_t i = 0; i < n * _COL_MAX; i++)
                free(cells[i]);
        return r;
}

static void json_strv(JsonWriter *w, const char *key, char *const *l, size_t n) {
        json_key(w, key);
        json_begin_array(w);
        for (size_t i = 0; i < n; i++)
                json_string(w, l[i]);
        json_end_array(w);
}

static void json_spec(JsonWriter *w, const Jobrunner__V1__JobSpec *s) {
        const Jobrunner__V1__Limits *l = s->limits;
        const Jobrunner__V1__Isolation *iso = s->isolation;

        json_begin_object(w);
        json_strv(w, "argv", s->argv, s->n_argv);
        json_strv(w, "env", s->env, s->n_env);
        json_kv_string(w, "working_directory", s->working_directory);
        json_kv_string(w, "user", s->user);

        json_key(w, "limits");
        json_begin_object(w);
        json_kv_uint(w, "cpu_quota_percent", l ? l->cpu_quota_percent : 0);
        json_kv_uint(w, "cpu_weight", l ? l->cpu_weight : 0);
        json_kv_uint(w, "memory_max_bytes", l ? l->memory_max_bytes : 0);
        json_kv_uint(w, "io_weight", l ? l->io_weight : 0);
        json_key(w, "io_device_limits");
        json_begin_array(w);
        for (size_t i = 0; l && i < l->n_io_device_limits; i++) {
                json_begin_object(w);
                json_kv_string(w, "device", l->io_device_limits[i]->device);
                json_kv_uint(w, "read_bytes_per_second", l->io_device_limits[i]->read_bytes_per_second);
                json_kv_uint(w, "write_bytes_per_second", l->io_device_limits[i]->write_bytes_per_second);
                json_end_object(w);
        }
        json_end_array(w);
        json_kv_uint(w, "tasks_max", l ? l->tasks_max : 0);
        json_end_object(w);

        json_key(w, "isolation");
        json_begin_object(w);
        json_kv_string(w, "network", network_name(iso ? (int) iso->network : 0));
        json_kv_string(w, "pid_namespace", toggle_name(iso ? (int) iso->pid_namespace : 0));
        json_kv_string(w, "private_mounts", toggle_name(iso ? (int) iso->private_mounts : 0));
        json_kv_string(w, "private_tmp", toggle_name(iso ? (int) iso->private_tmp : 0));
        json_end_object(w);

        json_end_object(w);
}

void json_job_status(JsonWriter *w, const JobStatus *j) {
        json_job_status_on(w, j, NULL);
}

void json_job_status_on(JsonWriter *w, const JobStatus *j, const char *host) {
        const Jobrunner__V1__ResourceUsage *u = j->usage;

        json_begin_object(w);
        if (host)
                json_kv_string(w, "host", host);
        json_kv_string(w, "id", j->id);
        json_kv_string(w, "owner", j->owner);
        json_kv_string(w, "unit_name", j->unit_name);
        json_kv_string(w, "state", job_state_name(j->state));
        json_kv_int(w, "exit_code", j->exit_code);
        json_kv_int(w, "signal", j->signal);
        json_kv_string(w, "signal_name", j->signal_name);
        json_kv_bool(w, "oom_killed", j->oom_killed);
        json_kv_string(w, "stopped_by", j->stopped_by);
        json_kv_bool(w, "killed_after_grace", j->killed_after_grace);
        json_kv_string(w, "failure_reason", j->failure_reason);
        json_kv_int(w, "start_time_us", j->start_time_us);
        json_kv_int(w, "end_time_us", j->end_time_us);

        json_key(w, "usage");
        json_begin_object(w);
        json_kv_uint(w, "cpu_usage_ns", u ? u->cpu_usage_ns : 0);
        json_kv_uint(w, "memory_current_bytes", u ? u->memory_current_bytes : 0);
        json_kv_uint(w, "memory_peak_bytes", u ? u->memory_peak_bytes : 0);
        json_kv_uint(w, "io_read_bytes", u ? u->io_read_bytes : 0);
        json_kv_uint(w, "io_write_bytes", u ? u->io_write_bytes : 0);
        json_kv_uint(w, "tasks_current", u ? u->tasks_current : 0);
        json_end_object(w);

        json_kv_uint(w, "stdout_bytes", j->stdout_bytes);
        json_kv_uint(w, "stderr_bytes", j->stderr_bytes);
        json_kv_bool(w, "output_truncated", j->output_truncated);
        json_kv_uint(w, "followers", j->followers);

        json_key(w, "spec");
        if (j->spec)
                json_spec(w, j->spec);
        else
                json_null(w);
        json_end_object(w);
}
