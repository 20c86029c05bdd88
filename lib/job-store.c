/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job-store.h"
#include "macro.h"
#include "strv.h"

int job_store_write_value(FILE *f, const char *key, const char *value) {
        fprintf(f, "%s=", key);
        for (const unsigned char *p = (const unsigned char *) value; *p; p++) {
                if (*p == '\\')
                        fputs("\\\\", f);
                else if (*p == '\n')
                        fputs("\\n", f);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(f, "\\x%02x", *p);
                else
                        fputc(*p, f);
        }
        fputc('\n', f);
        return ferror(f) ? -EIO : 0;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

int job_store_unescape(const char *in, char **ret) {
        char *out = malloc(strlen(in) + 1), *o = out;

        if (!out)
                return -ENOMEM;
        for (const char *p = in; *p; p++) {
                if (*p != '\\') {
                        *o++ = *p;
                        continue;
                }
                p++;
                if (*p == '\\')
                        *o++ = '\\';
                else if (*p == 'n')
                        *o++ = '\n';
                else if (*p == 'x' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0 && (p[1] != '0' || p[2] != '0')) {
                        *o++ = (char) (hexval(p[1]) << 4 | hexval(p[2]));
                        p += 2;
                } else {
                        free(out);
                        return -EBADMSG;
                }
        }
        *o = '\0';
        *ret = out;
        return 0;
}

static void write_u64(FILE *f, const char *key, uint64_t v) {
        fprintf(f, "%s=%" PRIu64 "\n", key, v);
}

static int write_spec(FILE *f, const jr_spec *s) {
        for (char **a = s->argv; a && *a; a++)
                job_store_write_value(f, "argv", *a);
        for (char **e = s->env; e && *e; e++)
                job_store_write_value(f, "env", *e);
        if (s->working_directory)
                job_store_write_value(f, "working_directory", s->working_directory);
        if (s->user)
                job_store_write_value(f, "user", s->user);
        write_u64(f, "cpu_quota_percent", s->cpu_quota_percent);
        write_u64(f, "cpu_weight", s->cpu_weight);
        write_u64(f, "memory_max", s->memory_max);
        write_u64(f, "io_weight", s->io_weight);
        for (size_t i = 0; i < s->n_io_limits; i++) {
                _cleanup_free_ char *io = NULL;

                /* Escaped like every value: a device path may hold a
                 * backslash (udev's "by-label/My\x20Disk"). */
                if (asprintf(&io, "%" PRIu64 " %" PRIu64 " %s", s->io_limits[i].read_bps,
                             s->io_limits[i].write_bps, s->io_limits[i].device) < 0)
                        return -ENOMEM;
                job_store_write_value(f, "io", io);
        }
        write_u64(f, "tasks_max", s->tasks_max);
        write_u64(f, "network", s->network);
        write_u64(f, "pid_namespace", s->pid_namespace);
        write_u64(f, "private_mounts", s->private_mounts);
        write_u64(f, "private_tmp", s->private_tmp);
        write_u64(f, "stdin", s->stdin_mode);
        write_u64(f, "terminal", s->terminal);
        return 0;
}

int job_store_write(const jr_job *j, FILE *f) {
        int r;

        job_store_write_value(f, "id", j->id);
        job_store_write_value(f, "owner", j->owner);
        r = write_spec(f, &j->spec);
        if (r < 0)
                return r;
        write_u64(f, "state", j->state);
        write_u64(f, "start_queued", j->start_queued);
        write_u64(f, "start_job_done", j->start_job_done);
        job_store_write_value(f, "start_job_result", j->start_job_result);
        write_u64(f, "stop_requested", j->stop_requested);
        write_u64(f, "stop_signalled", j->stop_signalled);
        write_u64(f, "kill_at_us", j->kill_at_us);
        if (j->stopped_by)
                job_store_write_value(f, "stopped_by", j->stopped_by);
        if (j->failure_reason)
                job_store_write_value(f, "failure_reason", j->failure_reason);
        fprintf(f, "exit_code=%d\nsignal=%d\n", j->exit_code, j->signal);
        write_u64(f, "oom_killed", j->oom_killed);
        write_u64(f, "killed_after_grace", j->killed_after_grace);
        write_u64(f, "start_time_us", j->start_time_us);
        write_u64(f, "end_time_us", j->end_time_us);
        write_u64(f, "cpu_usage_ns", j->usage.cpu_usage_ns);
        write_u64(f, "memory_peak", j->usage.memory_peak);
        write_u64(f, "io_read_bytes", j->usage.io_read_bytes);
        write_u64(f, "io_write_bytes", j->usage.io_write_bytes);
        /* For status without reopening a finished job's output. */
        write_u64(f, "stdout_bytes", j->store ? output_store_get_end(j->store, OUTPUT_STREAM_STDOUT) : j->stdout_bytes);
        write_u64(f, "stderr_bytes", j->store ? output_store_get_end(j->store, OUTPUT_STREAM_STDERR) : j->stderr_bytes);
        write_u64(f, "output_truncated", j->store ? output_store_get_truncated(j->store) : j->output_truncated);
        write_u64(f, "output_eof", j->output_eof);
        return ferror(f) ? -EIO : 0;
}

int job_store_save(jr_job *j) {
        _cleanup_free_ char *path = NULL, *tmp = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        /* To the disk once systemd has queued the job's start, and once the
         * job has ended: what must survive a crash of the host is that the
         * job existed and how it ended.  Not the first save, made before
         * systemd hears of the unit: the page cache keeps it for a daemon
         * that dies meanwhile, and a host that crashes takes the unit with
         * it; its fsync would delay every start, while the one after
         * systemd's reply runs as systemd starts the unit, before the
         * client hears of the job.  The states in between matter only
         * while the host runs (its crash ends the job anyway); an fsync
         * costs milliseconds on the event loop, and a job changes state
         * some eight times. */
        bool sync = (!j->durable && j->start_queued) || jr_state_is_final(j->state);
        int fd, r;

        if (asprintf(&path, "%s/" JOB_STORE_FILE, j->dir) < 0 ||
            asprintf(&tmp, "%s/." JOB_STORE_FILE ".tmp", j->dir) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                close(fd);
                return r;
        }

        r = job_store_write(j, f);
        errno = 0;
        if (r < 0 || fflush(f) != 0 || ferror(f) || (sync && fsync(fileno(f)) < 0)) {
                r = r < 0 ? r : errno > 0 ? -errno : -EIO;
                (void) unlink(tmp);
                return r;
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                (void) unlink(tmp);
                return r;
        }
        j->durable |= sync;
        return 0;
}

static int parse_io(jr_spec *s, const char *value) {
        jr_io_limit *grown, *l;
        int n = 0;

        grown = realloc(s->io_limits, (s->n_io_limits + 1) * sizeof(jr_io_limit));
        if (!grown)
                return -ENOMEM;
        s->io_limits = grown;
        l = &s->io_limits[s->n_io_limits];
        if (sscanf(value, "%" SCNu64 " %" SCNu64 " %n", &l->read_bps, &l->write_bps, &n) != 2 || n == 0)
                return -EBADMSG;
        l->device = strdup(value + n);
        if (!l->device)
                return -ENOMEM;
        s->n_io_limits++;
        return 0;
}

/* The lengths of the lists a job file fills line by line. */
typedef struct LoadCounts {
        size_t argv, env;
} LoadCounts;

/* One "key=value" line into the job, which takes *value over where it
 * keeps it.  Unknown keys are ignored: a newer version may have written
 * them. */
static int apply_line(jr_job *j, LoadCounts *counts, const char *key, char **value) {
        jr_spec *s = &j->spec;
        uint64_t u = strtoull(*value, NULL, 10);

#define U(name, field) if (strcmp(key, name) == 0) { field = (__typeof__(field)) u; return 0; }
#define STR(name, field) if (strcmp(key, name) == 0) { free(field); field = TAKE_PTR(*value); return 0; }
        U("cpu_quota_percent", s->cpu_quota_percent);
        U("cpu_weight", s->cpu_weight);
        U("memory_max", s->memory_max);
        U("io_weight", s->io_weight);
        U("tasks_max", s->tasks_max);
        U("network", s->network);
        U("pid_namespace", s->pid_namespace);
        U("private_mounts", s->private_mounts);
        U("private_tmp", s->private_tmp);
        U("stdin", s->stdin_mode);
        U("terminal", s->terminal);
        U("state", j->state);
        U("start_queued", j->start_queued);
        U("start_job_done", j->start_job_done);
        U("stop_requested", j->stop_requested);
        U("stop_signalled", j->stop_signalled);
        U("kill_at_us", j->kill_at_us);
        U("oom_killed", j->oom_killed);
        U("killed_after_grace", j->killed_after_grace);
        U("start_time_us", j->start_time_us);
        U("end_time_us", j->end_time_us);
        U("cpu_usage_ns", j->usage.cpu_usage_ns);
        U("memory_peak", j->usage.memory_peak);
        U("io_read_bytes", j->usage.io_read_bytes);
        U("io_write_bytes", j->usage.io_write_bytes);
        U("stdout_bytes", j->stdout_bytes);
        U("stderr_bytes", j->stderr_bytes);
        U("output_truncated", j->output_truncated);
        U("output_eof", j->output_eof);
        STR("working_directory", s->working_directory);
        STR("user", s->user);
        STR("stopped_by", j->stopped_by);
        STR("failure_reason", j->failure_reason);
#undef U
#undef STR
        if (strcmp(key, "exit_code") == 0)
                j->exit_code = (int) strtol(*value, NULL, 10);
        else if (strcmp(key, "signal") == 0)
                j->signal = (int) strtol(*value, NULL, 10);
        else if (strcmp(key, "start_job_result") == 0)
                snprintf(j->start_job_result, sizeof(j->start_job_result), "%s", *value);
        else if (strcmp(key, "owner") == 0) {
                free(j->owner);
                j->owner = TAKE_PTR(*value);
        } else if (strcmp(key, "argv") == 0)
                return strv_push_n(&s->argv, &counts->argv, TAKE_PTR(*value));
        else if (strcmp(key, "env") == 0)
                return strv_push_n(&s->env, &counts->env, TAKE_PTR(*value));
        else if (strcmp(key, "io") == 0)
                return parse_io(s, *value);
        return 0;
}

/* What the rest of the library and the daemon take for granted of a job:
 * a job that breaks it would fail every status and every List that shows
 * it, so a damaged file that does is refused instead. */
static bool job_is_sound(const jr_job *j) {
        const jr_spec *s = &j->spec;

        return s->argv && s->argv[0] && jr_state_to_string(j->state) &&
               (unsigned) s->network <= JR_NETWORK_HOST && (unsigned) s->pid_namespace <= JR_TOGGLE_OFF &&
               (unsigned) s->private_mounts <= JR_TOGGLE_OFF && (unsigned) s->private_tmp <= JR_TOGGLE_OFF &&
               (unsigned) s->stdin_mode <= JR_STDIN_PIPE && !(s->terminal && s->stdin_mode != JR_STDIN_DEFAULT);
}

int job_store_read(jr_job *j, FILE *f) {
        _cleanup_free_ char *line = NULL;
        LoadCounts counts = {};
        size_t size = 0;
        int r = 0;

        j->output_eof = UINT_MAX;       /* not in the file: see below */
        while (getline(&line, &size, f) > 0) {
                char *eq = strchr(line, '='), *value;

                line[strcspn(line, "\n")] = '\0';
                if (!eq)
                        continue;
                *eq = '\0';
                r = job_store_unescape(eq + 1, &value);
                if (r < 0)
                        break;
                r = apply_line(j, &counts, line, &value);
                free(value);            /* unless taken over */
                if (r < 0)
                        break;
        }
        if (r >= 0 && !job_is_sound(j))
                r = -EBADMSG;
        if (r < 0)
                return r;
        if (j->output_eof == UINT_MAX)
                /* Written before the key existed: a finished job's output
                 * counts as complete, as it did then. */
                j->output_eof = jr_state_is_final(j->state) ? OUTPUT_STREAMS_ALL : 0;
        j->output_eof &= OUTPUT_STREAMS_ALL;
        return 0;
}

int job_store_load(jr_manager *m, const char *id, jr_job **ret) {
        _cleanup_free_ char *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        jr_job *j;
        int r;

        r = job_new(m, id, NULL, NULL, &j);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/" JOB_STORE_FILE, j->dir) < 0) {
                job_free(j);
                return -ENOMEM;
        }
        f = fopen(path, "re");
        r = f ? job_store_read(j, f) : -errno;
        if (r < 0) {
                job_free(j);
                return r;
        }
        j->durable = true;
        *ret = j;
        return 0;
}
