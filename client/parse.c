/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "jobrunner.pb-c.h"
#include "parse.h"
#include "parse-number.h"
#include "time-util.h"

int parse_memory(const char *s, uint64_t *ret, CliError *e) {
        uint64_t v;
        int r;

        if (s && strcmp(s, "infinity") == 0) {
                *ret = 0;
                return 0;
        }
        r = parse_scaled(s, 1024, &v);
        if (r == -ERANGE)
                return cli_error(e, CLI_EXIT_USAGE, r, "invalid memory size '%s': too large", s);
        if (r < 0)
                return cli_error(e, CLI_EXIT_USAGE, r,
                                 "invalid memory size '%s': expected a number with an optional K, M, G or T suffix "
                                 "(base 1024), or 'infinity'", s);
        if (v < MEMORY_MIN)
                return cli_error(e, CLI_EXIT_USAGE, -ERANGE,
                                 "invalid memory size '%s': at least 1M is needed for anything to run", s);
        *ret = v;
        return 0;
}

int parse_rate(const char *s, uint64_t *ret, CliError *e) {
        uint64_t v;
        int r;

        r = parse_scaled(s, 1000, &v);
        if (r == -ERANGE)
                return cli_error(e, CLI_EXIT_USAGE, r, "invalid bandwidth '%s': too large", s);
        if (r < 0)
                return cli_error(e, CLI_EXIT_USAGE, r,
                                 "invalid bandwidth '%s': expected bytes per second, a number with an optional "
                                 "K, M, G or T suffix (base 1000)", s);
        if (v == 0)
                return cli_error(e, CLI_EXIT_USAGE, -ERANGE, "invalid bandwidth '%s': must be positive", s);
        *ret = v;
        return 0;
}

int parse_cpu_quota(const char *s, uint32_t *ret, CliError *e) {
        const char *p = s;
        uint64_t v;
        int r;

        r = s && ascii_isdigit(s[0]) ? read_decimal(&p, &v) : -EINVAL;
        if (r == -ERANGE || (r >= 0 && strcmp(p, "%") == 0 && v > CPU_QUOTA_PERCENT_MAX))
                return cli_error(e, CLI_EXIT_USAGE, -ERANGE,
                                 "invalid CPU quota '%s': at most %u%% (%u CPUs)", s,
                                 CPU_QUOTA_PERCENT_MAX, CPU_QUOTA_PERCENT_MAX / 100);
        if (r < 0 || strcmp(p, "%") != 0)
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                 "invalid CPU quota '%s': expected a percentage of one CPU, such as 50%% "
                                 "or 200%% (two CPUs)", s ?: "");
        if (v == 0)
                return cli_error(e, CLI_EXIT_USAGE, -ERANGE, "invalid CPU quota '%s': at least 1%%", s);
        *ret = (uint32_t) v;
        return 0;
}

int parse_weight(const char *what, const char *s, uint32_t *ret, CliError *e) {
        uint64_t v;
        int r;

        r = parse_uint64_range(s, WEIGHT_MIN, WEIGHT_MAX, &v);
        if (r == -ERANGE)
                return cli_error(e, CLI_EXIT_USAGE, r, "invalid %s '%s': must be between %u and %u (default 100)",
                                 what, s, WEIGHT_MIN, WEIGHT_MAX);
        if (r < 0)
                return cli_error(e, CLI_EXIT_USAGE, r, "invalid %s '%s': expected a number from %u to %u",
                                 what, s ?: "", WEIGHT_MIN, WEIGHT_MAX);
        *ret = (uint32_t) v;
        return 0;
}

int parse_tasks(const char *s, uint64_t *ret, CliError *e) {
        uint64_t v;
        int r;

        if (s && strcmp(s, "infinity") == 0) {
                *ret = TASKS_INFINITY;
                return 0;
        }
        r = parse_uint64_range(s, 1, TASKS_MAX, &v);
        if (r == -ERANGE)
                return cli_error(e, CLI_EXIT_USAGE, r, "invalid tasks limit '%s': must be between 1 and %u",
                                 s, TASKS_MAX);
        if (r < 0)
                return cli_error(e, CLI_EXIT_USAGE, r,
                                 "invalid tasks limit '%s': expected a number of processes and threads, "
                                 "or 'infinity'", s ?: "");
        *ret = v;
        return 0;
}

int parse_uint64(const char *what, const char *s, uint64_t *ret, CliError *e) {
        int r = parse_uint64_range(s, 0, UINT64_MAX, ret);

        if (r == -ERANGE)
                return cli_error(e, CLI_EXIT_USAGE, r, "invalid %s '%s': too large", what, s);
        if (r < 0)
                return cli_error(e, CLI_EXIT_USAGE, r, "invalid %s '%s': expected a non-negative integer",
                                 what, s ?: "");
        return 0;
}

int parse_duration(const char *what, const char *s, uint64_t *ret_usec, CliError *e) {
        int r = parse_timespan(s, ret_usec);

        if (r == -ERANGE)
                return cli_error(e, CLI_EXIT_USAGE, r, "invalid %s '%s': too large", what, s);
        if (r < 0)
                return cli_error(e, CLI_EXIT_USAGE, r,
                                 "invalid %s '%s': expected a time span such as 10s, 500ms, 2min or 1h 30min "
                                 "(a plain number is seconds)", what, s ?: "");
        return 0;
}

/* parse_duration() of at least 1ms and at most max_usec (spelled max_text
 * in the message). */
static int parse_duration_between(const char *what, const char *s, uint64_t max_usec, const char *max_text,
                                  uint64_t *ret_usec, CliError *e) {
        uint64_t usec = 0;
        int r;

        r = parse_duration(what, s, &usec, e);
        if (r < 0)
                return r;
        if (usec < USEC_PER_MSEC || usec > max_usec)
                return cli_error(e, CLI_EXIT_USAGE, -ERANGE, "invalid %s '%s': must be between 1ms and %s", what,
                                 s, max_text);
        *ret_usec = usec;
        return 0;
}

int parse_grace(const char *s, uint32_t *ret_ms, CliError *e) {
        uint64_t usec = 0;
        int r;

        r = parse_duration_between("grace period", s, GRACE_MAX_MS * USEC_PER_MSEC, "5min", &usec, e);
        if (r < 0)
                return r;
        *ret_ms = (uint32_t) (usec / USEC_PER_MSEC);
        return 0;
}

int parse_timeout(const char *s, uint64_t *ret_usec, CliError *e) {
        /* gRPC counts in signed nanoseconds; a year is plenty. */
        return parse_duration_between("timeout", s, 366 * 86400 * USEC_PER_SEC, "a year", ret_usec, e);
}

int parse_io_limit(const char *option, const char *s, const char **ret_device, size_t *ret_device_len,
                   uint64_t *ret_rate, CliError *e) {
        const char *eq = s ? strrchr(s, '=') : NULL;
        uint64_t rate;
        int r;

        if (!eq || eq == s)
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                 "invalid %s '%s': expected DEVICE=BYTES_PER_SECOND, e.g. /dev/vda=10M",
                                 option, s ?: "");
        if (s[0] != '/')
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                 "invalid %s '%s': the device must be an absolute path, e.g. /dev/vda",
                                 option, s);
        r = parse_rate(eq + 1, &rate, e);
        if (r < 0)
                return r;
        *ret_device = s;
        *ret_device_len = (size_t) (eq - s);
        *ret_rate = rate;
        return 0;
}

int parse_env(const char *s, CliError *e) {
        const char *eq = s ? strchr(s, '=') : NULL;

        if (!eq)
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                 "invalid environment entry '%s': expected KEY=VALUE", s ?: "");
        if (eq == s)
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                 "invalid environment entry '%s': the name before '=' is empty", s);
        return 0;
}

int parse_network(const char *s, int *ret, CliError *e) {
        if (s && strcmp(s, "none") == 0)
                *ret = JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_NONE;
        else if (s && strcmp(s, "host") == 0)
                *ret = JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_HOST;
        else
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                 "invalid network mode '%s': expected 'none' (loopback only, the default) "
                                 "or 'host'", s ?: "");
        return 0;
}

static const struct {
        const char *name;
        int state;
} state_names[] = {
        { "starting",        JOBRUNNER__V1__JOB_STATE__JOB_STATE_STARTING },
        { "running",         JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING },
        { "exited",          JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED },
        { "killed",          JOBRUNNER__V1__JOB_STATE__JOB_STATE_KILLED },
        { "oom-killed",      JOBRUNNER__V1__JOB_STATE__JOB_STATE_OOM_KILLED },
        { "stopped",         JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED },
        { "failed-to-start", JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START },
};

int parse_job_state(const char *s, int *ret, CliError *e) {
        char buf[64];
        const char *name;
        size_t n;

        n = s ? strlen(s) : 0;
        if (n == 0 || n >= sizeof(buf))
                goto invalid;
        for (size_t i = 0; i <= n; i++)
                buf[i] = s[i] == '_' ? '-' : (char) tolower((unsigned char) s[i]);
        name = buf;
        if (strncmp(name, "job-state-", 10) == 0)
                name += 10;
        if (strcmp(name, "failed") == 0)
                name = "failed-to-start";

        for (size_t i = 0; i < ELEMENTSOF(state_names); i++)
                if (strcmp(state_names[i].name, name) == 0) {
                        *ret = state_names[i].state;
                        return 0;
                }
invalid:
        return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                         "invalid job state '%s': expected starting, running, exited, killed, oom-killed, "
                         "stopped or failed-to-start", s ?: "");
}

int parse_job_id(const char *s, char ret[static JOB_ID_LEN + 1], bool *ret_whole, CliError *e) {
        size_t n = s ? strlen(s) : 0;

        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char) s[i]))
                        return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                         "invalid job id '%s': expected %d hexadecimal characters, or a unique "
                                         "prefix of at least %d", s, JOB_ID_LEN, JOB_ID_PREFIX_MIN);
        if (n < JOB_ID_PREFIX_MIN)
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                 "job id '%s' is too short: give at least %d of its %d hexadecimal characters",
                                 s ?: "", JOB_ID_PREFIX_MIN, JOB_ID_LEN);
        if (n > JOB_ID_LEN)
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                 "invalid job id '%s': longer than %d characters", s, JOB_ID_LEN);
        for (size_t i = 0; i <= n; i++)
                ret[i] = (char) tolower((unsigned char) s[i]);
        *ret_whole = n == JOB_ID_LEN;
        return 0;
}

/* The first executable name in $PATH, for the hint only. */
static char *find_in_path(const char *name) {
        const char *path = getenv("PATH");

        for (const char *p = path; p && *p;) {
                size_t n = strcspn(p, ":");
                char *candidate;

                if (n > 0 && p[0] == '/' && asprintf(&candidate, "%.*s/%s", (int) n, p, name) >= 0) {
                        if (access(candidate, X_OK) == 0)
                                return candidate;
                        free(candidate);
                }
                p += n;
                if (*p == ':')
                        p++;
        }
        return NULL;
}

int check_argv0(const char *argv0, CliError *e) {
        _cleanup_free_ char *local = NULL;

        if (!argv0 || argv0[0] == '\0')
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL, "the program to run is an empty string");
        if (argv0[0] == '/')
                return 0;
        if (strchr(argv0, '/'))
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                 "'%s' is a relative path: the server does not know your working directory; "
                                 "give the program's absolute path on the server (and --cwd DIR for the "
                                 "job's working directory)", argv0);

        local = find_in_path(argv0);
        if (local)
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                 "'%s' is not an absolute path: the server runs the program directly, without "
                                 "a shell or a PATH search; give its full path on the server, e.g. %s (where "
                                 "it is on this machine)", argv0, local);
        return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                         "'%s' is not an absolute path: the server runs the program directly, without a shell "
                         "or a PATH search; give its full path on the server, e.g. /usr/bin/%s", argv0, argv0);
}

int check_working_directory(const char *s, CliError *e) {
        if (!s || s[0] != '/')
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                 "invalid working directory '%s': must be an absolute path on the server",
                                 s ?: "");
        return 0;
}
