/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "macro.h"
#include "strv.h"

/* ---- requests: proto -> jr_spec ----------------------------------------- */


/* protobuf-c hands us C strings: whatever followed an embedded NUL on the
 * wire is already gone, so what we can still check starts at strlen(). */
static int check_string(const char *s, const char *what, jr_error *e) {
        return jr_check_string(s, strlen(s), what, e);
}

/* A checked copy of a repeated string field as a NULL-terminated array.
 * The count is checked first so that a huge request costs us nothing. */
static int strv_from_proto(char *const *in, size_t n, const char *name, char ***ret, jr_error *e) {
        _cleanup_(strv_freep) char **l = NULL;
        char what[32];
        int r;

        if (n > 0 && !in)
                return jr_error_set(e, -EINVAL, "%s: %zu entries but no array", name, n);

        l = calloc(n + 1, sizeof *l);
        if (!l)
                return jr_error_set(e, -ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                snprintf(what, sizeof what, "%s[%zu]", name, i);
                if (!in[i])
                        return jr_error_set(e, -EINVAL, "%s: missing", what);
                r = check_string(in[i], what, e);
                if (r < 0)
                        return r;
                l[i] = strdup(in[i]);
                if (!l[i])
                        return jr_error_set(e, -ENOMEM, "out of memory");
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* An unset proto3 string is "": for the optional strings of a spec that
 * means NULL, the documented default. */
static int string_or_null_from_proto(const char *in, const char *what, char **ret, jr_error *e) {
        int r;

        if (!in || !in[0]) {
                *ret = NULL;
                return 0;
        }
        r = check_string(in, what, e);
        if (r < 0)
                return r;
        *ret = strdup(in);
        return *ret ? 0 : jr_error_set(e, -ENOMEM, "out of memory");
}

static int limits_from_proto(const Jobrunner__V1__Limits *in, jr_spec *spec, jr_error *e) {
        char what[64];
        int r;

        spec->cpu_quota_percent = in->cpu_quota_percent;
        spec->cpu_weight = in->cpu_weight;
        spec->memory_max = in->memory_max_bytes;
        spec->io_weight = in->io_weight;
        spec->tasks_max = in->tasks_max;

        if (in->n_io_device_limits == 0)
                return 0;
        if (in->n_io_device_limits > JR_IO_DEVICES_MAX)
                return jr_error_set(e, -E2BIG, "limits.io_device_limits: %zu entries, at most %d devices",
                                    in->n_io_device_limits, JR_IO_DEVICES_MAX);
        if (!in->io_device_limits)
                return jr_error_set(e, -EINVAL, "limits.io_device_limits: %zu entries but no array",
                                    in->n_io_device_limits);

        spec->io_limits = calloc(in->n_io_device_limits, sizeof *spec->io_limits);
        if (!spec->io_limits)
                return jr_error_set(e, -ENOMEM, "out of memory");
        for (size_t i = 0; i < in->n_io_device_limits; i++) {
                const Jobrunner__V1__IoDeviceLimit *l = in->io_device_limits[i];
                jr_io_limit *out = &spec->io_limits[i];

                if (!l)
                        return jr_error_set(e, -EINVAL, "limits.io_device_limits[%zu]: missing", i);
                snprintf(what, sizeof what, "limits.io_device_limits[%zu].device", i);
                /* An empty device stays "" rather than NULL, so that
                 * jr_spec_validate() reports it as a path that is not
                 * absolute, which is what the caller did wrong. */
                r = check_string(l->device ?: "", what, e);
                if (r < 0)
                        return r;
                out->device = strdup(l->device ?: "");
                if (!out->device)
                        return jr_error_set(e, -ENOMEM, "out of memory");
                out->read_bps = l->read_bytes_per_second;
                out->write_bps = l->write_bytes_per_second;
                spec->n_io_limits = i + 1;
        }
        return 0;
}

/* Proto3 enums are open: an unpacked message may hold any number, and one we
 * do not know must not silently become the default. */
static int toggle_from_proto(int v, const char *what, jr_toggle *ret, jr_error *e) {
        switch (v) {
        case JOBRUNNER__V1__TOGGLE__TOGGLE_UNSPECIFIED:
                *ret = JR_TOGGLE_DEFAULT;
                return 0;
        case JOBRUNNER__V1__TOGGLE__TOGGLE_ON:
                *ret = JR_TOGGLE_ON;
                return 0;
        case JOBRUNNER__V1__TOGGLE__TOGGLE_OFF:
                *ret = JR_TOGGLE_OFF;
                return 0;
        default:
                return jr_error_set(e, -EINVAL, "%s: unknown Toggle value %d", what, v);
        }
}

static int isolation_from_proto(const Jobrunner__V1__Isolation *in, jr_spec *spec, jr_error *e) {
        int r;

        switch ((int) in->network) {
        case JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_UNSPECIFIED:
                spec->network = JR_NETWORK_DEFAULT;
                break;
        case JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_NONE:
                spec->network = JR_NETWORK_NONE;
                break;
        case JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_HOST:
                spec->network = JR_NETWORK_HOST;
                break;
        default:
                return jr_error_set(e, -EINVAL, "isolation.network: unknown NetworkMode value %d", (int) in->network);
        }

        r = toggle_from_proto(in->pid_namespace, "isolation.pid_namespace", &spec->pid_namespace, e);
        if (r < 0)
                return r;
        r = toggle_from_proto(in->private_mounts, "isolation.private_mounts", &spec->private_mounts, e);
        if (r < 0)
                return r;
        return toggle_from_proto(in->private_tmp, "isolation.private_tmp", &spec->private_tmp, e);
}

static int stdin_from_proto(int v, jr_stdin *ret, jr_error *e) {
        switch (v) {
        case JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_UNSPECIFIED:
                *ret = JR_STDIN_DEFAULT;
                return 0;
        case JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_NULL:
                *ret = JR_STDIN_NULL;
                return 0;
        case JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_PIPE:
                *ret = JR_STDIN_PIPE;
                return 0;
        default:
                return jr_error_set(e, -EINVAL, "stdin: unknown StdinMode value %d", v);
        }
}

int convert_spec_from_proto(const Jobrunner__V1__JobSpec *in, jr_spec *ret, jr_error *e) {
        _cleanup_(jr_spec_done) jr_spec spec = {};
        int r;

        if (!in)
                return jr_error_set(e, -EINVAL, "spec: missing");

        /* argv is always an array, possibly empty, so that
         * jr_spec_validate() names the actual problem: no entries. */
        /* Before anything is copied: the request may hold many more
         * strings than a job can take. */
        if (in->n_argv > JR_EXEC_ENTRIES_MAX || in->n_env > JR_EXEC_ENTRIES_MAX - in->n_argv)
                return jr_error_set(e, -E2BIG,
                                    "argv and env: %zu entries, more than execve() can take (%u: each string "
                                    "costs at least its NUL and an %u-byte pointer of the %u bytes it takes)",
                                    in->n_argv + in->n_env, JR_EXEC_ENTRIES_MAX, JR_EXEC_POINTER_SIZE,
                                    JR_EXEC_BYTES_MAX);
        r = strv_from_proto(in->argv, in->n_argv, "argv", &spec.argv, e);
        if (r < 0)
                return r;
        if (in->n_env > 0) {
                r = strv_from_proto(in->env, in->n_env, "env", &spec.env, e);
                if (r < 0)
                        return r;
        }
        r = string_or_null_from_proto(in->working_directory, "working_directory", &spec.working_directory, e);
        if (r < 0)
                return r;
        r = string_or_null_from_proto(in->user, "user", &spec.user, e);
        if (r < 0)
                return r;

        if (in->limits) {
                r = limits_from_proto(in->limits, &spec, e);
                if (r < 0)
                        return r;
        }
        if (in->isolation) {
                r = isolation_from_proto(in->isolation, &spec, e);
                if (r < 0)
                        return r;
        }
        r = stdin_from_proto(in->stdin, &spec.stdin_mode, e);
        if (r < 0)
                return r;
        /* The API's rule, checked here to name the fields as the API spells
         * them; jr_spec_validate() checks the same of the spec. */
        if (in->terminal && spec.stdin_mode != JR_STDIN_DEFAULT)
                return jr_error_set(e, -EINVAL, "stdin with terminal: a terminal job's input is its terminal; "
                                    "leave stdin unset");
        spec.terminal = in->terminal;

        *ret = spec;
        spec = (jr_spec) {};
        return 0;
}

/* ---- responses: jr_status -> proto -------------------------------------- */

/* The status tree is built so that protobuf_c_message_free_unpacked() can
 * free it, exactly like a tree protobuf-c unpacked itself: every message,
 * every repeated array and every string is its own malloc() block, hung
 * into its parent as soon as it exists.  A half-built tree is therefore
 * always freeable.  Empty strings are malloc()ed too: free_unpacked() skips
 * a singular string only if it is the field's default (protobuf-c's shared
 * empty string), but frees every element of a repeated one
 * unconditionally, and one rule for all strings is harder to get wrong. */

static int set_string(char **field, const char *s) {
        char *c = strdup(s ?: "");

        if (!c)
                return -ENOMEM;
        *field = c;
        return 0;
}

static int set_strv(char ***field, size_t *n_field, char *const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        if (n == 0)
                return 0;

        *field = calloc(n, sizeof **field);
        if (!*field)
                return -ENOMEM;
        /* Count each entry as it is set: free_unpacked() frees n entries. */
        for (size_t i = 0; i < n; i++) {
                int r = set_string(&(*field)[i], l[i]);
                if (r < 0)
                        return r;
                *n_field = i + 1;
        }
        return 0;
}

/* Allocates an initialized message of the given type into *field. */
#define NEW_MESSAGE(field, init_func)                                   \
        ({                                                              \
                __typeof__(*(field)) _m_ = malloc(sizeof *_m_);         \
                if (_m_)                                                \
                        init_func(_m_);                                 \
                *(field) = _m_;                                         \
                _m_ ? 0 : -ENOMEM;                                      \
        })

static int toggle_to_proto(jr_toggle t) {
        switch (t) {
        case JR_TOGGLE_DEFAULT:
                return JOBRUNNER__V1__TOGGLE__TOGGLE_UNSPECIFIED;
        case JR_TOGGLE_ON:
                return JOBRUNNER__V1__TOGGLE__TOGGLE_ON;
        case JR_TOGGLE_OFF:
                return JOBRUNNER__V1__TOGGLE__TOGGLE_OFF;
        }
        return -EINVAL;
}

static int network_to_proto(jr_network n) {
        switch (n) {
        case JR_NETWORK_DEFAULT:
                return JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_UNSPECIFIED;
        case JR_NETWORK_NONE:
                return JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_NONE;
        case JR_NETWORK_HOST:
                return JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_HOST;
        }
        return -EINVAL;
}

static int stdin_to_proto(jr_stdin s) {
        switch (s) {
        case JR_STDIN_DEFAULT:
                return JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_UNSPECIFIED;
        case JR_STDIN_NULL:
                return JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_NULL;
        case JR_STDIN_PIPE:
                return JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_PIPE;
        }
        return -EINVAL;
}

static int limits_to_proto(const jr_spec *spec, Jobrunner__V1__JobSpec *out) {
        Jobrunner__V1__Limits *l;
        int r;

        /* A spec without limits was sent without a Limits message (or with
         * an empty one, which means the same): echo it unset. */
        if (spec->cpu_quota_percent == 0 && spec->cpu_weight == 0 && spec->memory_max == 0 &&
            spec->io_weight == 0 && spec->n_io_limits == 0 && spec->tasks_max == 0)
                return 0;

        r = NEW_MESSAGE(&out->limits, jobrunner__v1__limits__init);
        if (r < 0)
                return r;
        l = out->limits;
        l->cpu_quota_percent = spec->cpu_quota_percent;
        l->cpu_weight = spec->cpu_weight;
        l->memory_max_bytes = spec->memory_max;
        l->io_weight = spec->io_weight;
        l->tasks_max = spec->tasks_max;

        if (spec->n_io_limits == 0 || !spec->io_limits)
                return 0;
        l->io_device_limits = calloc(spec->n_io_limits, sizeof *l->io_device_limits);
        if (!l->io_device_limits)
                return -ENOMEM;
        for (size_t i = 0; i < spec->n_io_limits; i++) {
                Jobrunner__V1__IoDeviceLimit *d;

                r = NEW_MESSAGE(&l->io_device_limits[i], jobrunner__v1__io_device_limit__init);
                if (r < 0)
                        return r;
                l->n_io_device_limits = i + 1;
                d = l->io_device_limits[i];
                r = set_string(&d->device, spec->io_limits[i].device);
                if (r < 0)
                        return r;
                d->read_bytes_per_second = spec->io_limits[i].read_bps;
                d->write_bytes_per_second = spec->io_limits[i].write_bps;
        }
        return 0;
}

static int isolation_to_proto(const jr_spec *spec, Jobrunner__V1__JobSpec *out) {
        int network = network_to_proto(spec->network), pid = toggle_to_proto(spec->pid_namespace),
            mounts = toggle_to_proto(spec->private_mounts), tmp = toggle_to_proto(spec->private_tmp);
        int r;

        if (network < 0 || pid < 0 || mounts < 0 || tmp < 0)
                return -EINVAL;
        if (network == 0 && pid == 0 && mounts == 0 && tmp == 0)
                return 0;

        r = NEW_MESSAGE(&out->isolation, jobrunner__v1__isolation__init);
        if (r < 0)
                return r;
        out->isolation->network = network;
        out->isolation->pid_namespace = pid;
        out->isolation->private_mounts = mounts;
        out->isolation->private_tmp = tmp;
        return 0;
}

static int spec_to_proto(const jr_spec *spec, Jobrunner__V1__JobSpec *out) {
        int r;

        r = set_strv(&out->argv, &out->n_argv, spec->argv);
        if (r < 0)
                return r;
        r = set_strv(&out->env, &out->n_env, spec->env);
        if (r < 0)
                return r;
        r = set_string(&out->working_directory, spec->working_directory);
        if (r < 0)
                return r;
        r = set_string(&out->user, spec->user);
        if (r < 0)
                return r;
        r = limits_to_proto(spec, out);
        if (r < 0)
                return r;
        r = stdin_to_proto(spec->stdin_mode);
        if (r < 0)
                return r;
        out->stdin = r;
        out->terminal = spec->terminal;
        return isolation_to_proto(spec, out);
}

int convert_spec_to_proto(const jr_spec *spec, Jobrunner__V1__JobSpec **ret) {
        Jobrunner__V1__JobSpec *out;
        int r;

        r = NEW_MESSAGE(&out, jobrunner__v1__job_spec__init);
        if (r < 0)
                return r;
        r = spec_to_proto(spec, out);
        if (r < 0) {
                convert_spec_proto_free(out);
                return r;
        }
        *ret = out;
        return 0;
}

void convert_spec_proto_free(Jobrunner__V1__JobSpec *s) {
        if (s)
                protobuf_c_message_free_unpacked(&s->base, NULL);
}

/* The wire type is int64; nothing real is past year 292277. */
static int64_t usec_to_proto(uint64_t u) {
        return u > INT64_MAX ? INT64_MAX : (int64_t) u;
}

static int status_fill(const jr_status *st, Jobrunner__V1__JobStatus *s) {
        char buf[CONVERT_SIGNAL_NAME_MAX];
        int r, state;

        state = convert_state_to_proto(st->state);
        if (state < 0)
                return state;
        s->state = state;

        if ((r = set_string(&s->id, st->id)) < 0 ||
            (r = set_string(&s->owner, st->owner)) < 0 ||
            (r = set_string(&s->unit_name, st->unit)) < 0 ||
            (r = set_string(&s->signal_name, convert_signal_name(st->signal, buf))) < 0 ||
            (r = set_string(&s->stopped_by, st->stopped_by)) < 0 ||
            (r = set_string(&s->failure_reason, st->failure_reason)) < 0)
                return r;

        if (st->spec) {
                r = NEW_MESSAGE(&s->spec, jobrunner__v1__job_spec__init);
                if (r < 0)
                        return r;
                r = spec_to_proto(st->spec, s->spec);
                if (r < 0)
                        return r;
        }

        s->exit_code = st->exit_code;
        s->signal = st->signal;
        s->oom_killed = st->oom_killed;
        s->killed_after_grace = st->killed_after_grace;
        s->start_time_us = usec_to_proto(st->start_time_us);
        s->end_time_us = usec_to_proto(st->end_time_us);

        r = NEW_MESSAGE(&s->usage, jobrunner__v1__resource_usage__init);
        if (r < 0)
                return r;
        s->usage->cpu_usage_ns = st->usage.cpu_usage_ns;
        s->usage->memory_current_bytes = st->usage.memory_current;
        s->usage->memory_peak_bytes = st->usage.memory_peak;
        s->usage->io_read_bytes = st->usage.io_read_bytes;
        s->usage->io_write_bytes = st->usage.io_write_bytes;
        s->usage->tasks_current = st->usage.tasks_current;

        s->stdout_bytes = st->stdout_bytes;
        s->stderr_bytes = st->stderr_bytes;
        s->output_truncated = st->output_truncated;
        s->followers = st->followers > UINT32_MAX ? UINT32_MAX : (uint32_t) st->followers;
        return 0;
}

int convert_status_to_proto(const jr_status *st, Jobrunner__V1__JobStatus **ret) {
        Jobrunner__V1__JobStatus *s;
        int r;

        r = NEW_MESSAGE(&s, jobrunner__v1__job_status__init);
        if (r < 0)
                return r;
        r = status_fill(st, s);
        if (r < 0) {
                convert_status_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

void convert_status_free(Jobrunner__V1__JobStatus *s) {
        /* NULL allocator: protobuf-c's default, plain malloc()/free(). */
        if (s)
                protobuf_c_message_free_unpacked(&s->base, NULL);
}

/* ---- enums --------------------------------------------------------------- */

static const struct {
        jr_state jr;
        Jobrunner__V1__JobState proto;
} state_table[] = {
        { JR_STATE_STARTING,        JOBRUNNER__V1__JOB_STATE__JOB_STATE_STARTING },
        { JR_STATE_RUNNING,         JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING },
        { JR_STATE_EXITED,          JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED },
        { JR_STATE_KILLED,          JOBRUNNER__V1__JOB_STATE__JOB_STATE_KILLED },
        { JR_STATE_OOM_KILLED,      JOBRUNNER__V1__JOB_STATE__JOB_STATE_OOM_KILLED },
        { JR_STATE_STOPPED,         JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED },
        { JR_STATE_FAILED_TO_START, JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START },
};

int convert_state_to_proto(jr_state s) {
        for (size_t i = 0; i < ELEMENTSOF(state_table); i++)
                if (state_table[i].jr == s)
                        return state_table[i].proto;
        return -EINVAL;
}

int convert_state_from_proto(int v, jr_state *ret) {
        for (size_t i = 0; i < ELEMENTSOF(state_table); i++)
                if ((int) state_table[i].proto == v) {
                        *ret = state_table[i].jr;
                        return 0;
                }
        return -EINVAL;
}

const char *convert_signal_name(int sig, char buf[static CONVERT_SIGNAL_NAME_MAX]) {
        const char *abbrev;

        if (sig <= 0)
                return "";
        abbrev = sigabbrev_np(sig);
        if (abbrev) {
                snprintf(buf, CONVERT_SIGNAL_NAME_MAX, "SIG%s", abbrev);
                return buf;
        }
        /* sigabbrev_np() knows no real-time signals; name them as
         * systemd's signal_to_string() does. */
        if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
                snprintf(buf, CONVERT_SIGNAL_NAME_MAX, "SIGRTMIN+%d", sig - SIGRTMIN);
                return buf;
        }
        return "";
}

bool convert_job_id_is_valid(const char *id) {
        if (!id)
                return false;
        for (size_t i = 0; i < JR_ID_STRING_MAX - 1; i++)
                if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
                        return false;   /* also stops at a NUL: never reads past a short id */
        return id[JR_ID_STRING_MAX - 1] == 0;
}

int convert_gap_reason_to_proto(jr_gap_reason r) {
        switch (r) {
        case JR_GAP_TRUNCATED:
                return JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_OUTPUT_TRUNCATED;
        case JR_GAP_DAEMON_DOWN:
                return JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_DAEMON_DOWN;
        case JR_GAP_IO_ERROR:
                return JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_IO_ERROR;
        }
        return -EINVAL;
}

int convert_stream_to_proto(jr_stream s) {
        switch (s) {
        case JR_STREAM_STDOUT:
                return JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT;
        case JR_STREAM_STDERR:
                return JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR;
        case JR_STREAM_STDIN:
                break;          /* no output stream */
        }
        return -EINVAL;
}
