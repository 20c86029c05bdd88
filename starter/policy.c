/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The administrator's policy file of jobrunner-starter (see policy.h). */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "parse-number.h"
#include "policy.h"
#include "strv.h"

typedef enum PolicyKey {
        KEY_RUN_AS_USERS,
        KEY_MAX_MEMORY,
        KEY_MAX_TASKS,
        KEY_MAX_CPU_QUOTA,
        KEY_ALLOW_HOST_NETWORK,
        KEY_ALLOW_NO_PID_NAMESPACE,
        KEY_ALLOW_NO_PRIVATE_MOUNTS,
        KEY_ALLOW_NO_PRIVATE_TMP,
        _KEY_MAX,
} PolicyKey;

static const char *const key_names[_KEY_MAX] = {
        [KEY_RUN_AS_USERS] = "RunAsUsers",
        [KEY_MAX_MEMORY] = "MaxMemory",
        [KEY_MAX_TASKS] = "MaxTasks",
        [KEY_MAX_CPU_QUOTA] = "MaxCPUQuota",
        [KEY_ALLOW_HOST_NETWORK] = "AllowHostNetwork",
        [KEY_ALLOW_NO_PID_NAMESPACE] = "AllowNoPIDNamespace",
        [KEY_ALLOW_NO_PRIVATE_MOUNTS] = "AllowNoPrivateMounts",
        [KEY_ALLOW_NO_PRIVATE_TMP] = "AllowNoPrivateTmp",
};

/* Of the file's path, messages show this much, so that what went wrong
 * still fits in a jr_error. */
#define PATH_SHOWN_MAX 200
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define PATH_FMT "%." STRINGIFY(PATH_SHOWN_MAX) "s"

#define KEY_LIST "RunAsUsers, MaxMemory, MaxTasks, MaxCPUQuota, AllowHostNetwork, AllowNoPIDNamespace, " \
        "AllowNoPrivateMounts, AllowNoPrivateTmp"

void starter_policy_done(StarterPolicy *p) {
        if (!p)
                return;
        free(p->path);
        strv_free(p->run_as_users);
        *p = (StarterPolicy) {};
}

static int policy_init(StarterPolicy *p, const char *path, jr_error *e) {
        *p = (StarterPolicy) {
                .path = strdup(path),
                .max_memory = STARTER_NO_CAP,
                .max_tasks = STARTER_NO_CAP,
                .max_cpu_quota_percent = STARTER_NO_CAP,
                .allow_host_network = true,
                .allow_no_pid_namespace = true,
                .allow_no_private_mounts = true,
                .allow_no_private_tmp = true,
        };
        return p->path ? 0 : jr_error_set(e, -ENOMEM, "out of memory");
}

static bool strv_contains(char *const *l, const char *s) {
        for (; l && *l; l++)
                if (strcmp(*l, s) == 0)
                        return true;
        return false;
}

bool starter_policy_allows_user(const StarterPolicy *p, const char *user) {
        return user && strv_contains(p->run_as_users, user);
}

/* As jr_spec_validate() takes user names, so that every name listed can be
 * asked for. */
static bool user_name_valid(const char *s) {
        size_t n = strlen(s);

        return n > 0 && n <= 31 && strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_", s[0]) &&
                strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static int parse_users(char *v, StarterPolicy *p, const char *where, jr_error *e) {
        _cleanup_(strv_freep) char **l = NULL;
        size_t n = 0;
        char *save = NULL;

        for (char *w = strtok_r(v, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                char *c;

                if (!user_name_valid(w))
                        return jr_error_set(e, -EBADMSG,
                                            "%s: RunAsUsers=: \"%s\" is not a user name "
                                            "([a-zA-Z_][a-zA-Z0-9_-]*, at most 31 characters)", where, w);
                if (strv_contains(l, w))
                        continue;
                c = strdup(w);
                if (!c || strv_push_n(&l, &n, c) < 0)
                        return jr_error_set(e, -ENOMEM, "out of memory");
        }
        strv_free(p->run_as_users);
        p->run_as_users = TAKE_PTR(l);
        return 0;
}

static int parse_cap(PolicyKey k, const char *v, uint64_t *ret, const char *where, jr_error *e) {
        const char *name = key_names[k];
        uint64_t x;
        int r;

        if (strcmp(v, "infinity") == 0) {
                *ret = STARTER_NO_CAP;
                return 0;
        }

        switch (k) {
        case KEY_MAX_MEMORY:
                r = parse_scaled(v, 1024, &x);
                if (r == -ERANGE)
                        return jr_error_set(e, -EBADMSG, "%s: %s=%s: too large", where, name, v);
                if (r < 0)
                        return jr_error_set(e, -EBADMSG, "%s: %s=%s: not a size (bytes, or a number with K, M, G "
                                            "or T) or infinity", where, name, v);
                /* A cap below what any job may ask for would refuse every
                 * job with a limit: surely not what was meant. */
                if (x < JR_MEMORY_MIN)
                        return jr_error_set(e, -EBADMSG, "%s: %s=%s: below 1M, the least memory_max a job may set",
                                            where, name, v);
                break;

        case KEY_MAX_TASKS:
                r = parse_uint64_range(v, 1, JR_TASKS_MAX_MAX, &x);
                if (r == -ERANGE)
                        return jr_error_set(e, -EBADMSG, "%s: %s=%s: must be 1..%u or infinity", where, name, v,
                                            JR_TASKS_MAX_MAX);
                if (r < 0)
                        return jr_error_set(e, -EBADMSG, "%s: %s=%s: not a number or infinity", where, name, v);
                break;

        case KEY_MAX_CPU_QUOTA: {
                /* With its "%", as systemd's CPUQuota= takes it: a bare 4
                 * could as well mean 4 CPUs. */
                size_t n = strlen(v);
                _cleanup_free_ char *digits = NULL;

                if (n < 2 || v[n - 1] != '%')
                        return jr_error_set(e, -EBADMSG, "%s: %s=%s: not a percentage (e.g. 400%%) or infinity",
                                            where, name, v);
                digits = strndup(v, n - 1);
                if (!digits)
                        return jr_error_set(e, -ENOMEM, "out of memory");
                r = parse_uint64_range(digits, 1, JR_CPU_QUOTA_PERCENT_MAX, &x);
                if (r == -ERANGE)
                        return jr_error_set(e, -EBADMSG, "%s: %s=%s: must be 1%%..%u%% or infinity", where, name, v,
                                            JR_CPU_QUOTA_PERCENT_MAX);
                if (r < 0)
                        return jr_error_set(e, -EBADMSG, "%s: %s=%s: not a percentage (e.g. 400%%) or infinity",
                                            where, name, v);
                break;
        }

        default:
                return jr_error_set(e, -EINVAL, "%s: %s= is not a cap", where, name);
        }
        *ret = x;
        return 0;
}

static int parse_yes_no(PolicyKey k, const char *v, bool *ret, const char *where, jr_error *e) {
        /* Only the two words: this file decides what jobs may do. */
        if (strcmp(v, "yes") == 0)
                *ret = true;
        else if (strcmp(v, "no") == 0)
                *ret = false;
        else
                return jr_error_set(e, -EBADMSG, "%s: %s=%s: must be yes or no", where, key_names[k], v);
        return 0;
}

static char *strip(char *s) {
        char *end;

        s += strspn(s, " \t");
        end = s + strlen(s);
        while (end > s && strchr(" \t\r\n", end[-1]))
                *--end = '\0';
        return s;
}

static int parse_line(StarterPolicy *p, unsigned seen[_KEY_MAX], char *line, const char *path, unsigned n,
                      jr_error *e) {
        char where[PATH_SHOWN_MAX + 16], *l = strip(line), *eq, *key, *value;
        PolicyKey k;

        snprintf(where, sizeof where, "%." STRINGIFY(PATH_SHOWN_MAX) "s:%u", path, n);

        if (*l == '\0' || *l == '#')
                return 0;
        eq = strchr(l, '=');
        if (!eq)
                return jr_error_set(e, -EBADMSG, "%s: not of the form Key=Value", where);
        *eq = '\0';
        key = strip(l);
        value = strip(eq + 1);
        if (*key == '\0')
                return jr_error_set(e, -EBADMSG, "%s: no key before \"=\"", where);

        for (k = 0; k < _KEY_MAX; k++)
                if (strcmp(key, key_names[k]) == 0)
                        break;
        if (k == _KEY_MAX)
                return jr_error_set(e, -EBADMSG, "%s: unknown key \"%s\" (known: " KEY_LIST ")", where, key);
        if (seen[k] > 0)
                return jr_error_set(e, -EBADMSG, "%s: %s= is set a second time (first on line %u)", where,
                                    key_names[k], seen[k]);
        seen[k] = n;
        if (*value == '\0' && k != KEY_RUN_AS_USERS)
                return jr_error_set(e, -EBADMSG, "%s: %s= has no value", where, key_names[k]);

        switch (k) {
        case KEY_RUN_AS_USERS:
                return parse_users(value, p, where, e);
        case KEY_MAX_MEMORY:
                return parse_cap(k, value, &p->max_memory, where, e);
        case KEY_MAX_TASKS:
                return parse_cap(k, value, &p->max_tasks, where, e);
        case KEY_MAX_CPU_QUOTA:
                return parse_cap(k, value, &p->max_cpu_quota_percent, where, e);
        case KEY_ALLOW_HOST_NETWORK:
                return parse_yes_no(k, value, &p->allow_host_network, where, e);
        case KEY_ALLOW_NO_PID_NAMESPACE:
                return parse_yes_no(k, value, &p->allow_no_pid_namespace, where, e);
        case KEY_ALLOW_NO_PRIVATE_MOUNTS:
                return parse_yes_no(k, value, &p->allow_no_private_mounts, where, e);
        case KEY_ALLOW_NO_PRIVATE_TMP:
                return parse_yes_no(k, value, &p->allow_no_private_tmp, where, e);
        default:
                return jr_error_set(e, -EINVAL, "%s: key %d has no parser", where, (int) k);
        }
}

int starter_policy_parse(FILE *f, const char *path, StarterPolicy *ret, jr_error *e) {
        _cleanup_(starter_policy_done) StarterPolicy p = {};
        _cleanup_free_ char *line = NULL;
        unsigned seen[_KEY_MAX] = {}, n = 0;
        size_t size = 0;
        ssize_t len;
        int r;

        r = policy_init(&p, path, e);
        if (r < 0)
                return r;

        for (;;) {
                /* getline() leaves errno alone at the end of the file. */
                errno = 0;
                len = getline(&line, &size, f);
                if (len < 0)
                        break;
                n++;
                if ((size_t) len != strlen(line))
                        return jr_error_set(e, -EBADMSG, PATH_FMT ":%u: contains a NUL byte", path, n);
                r = parse_line(&p, seen, line, path, n, e);
                if (r < 0)
                        return r;
        }
        if (ferror(f) || errno != 0) {
                r = errno > 0 ? -errno : -EIO;
                return jr_error_set(e, r, PATH_FMT ": cannot read: %s", path, strerror(-r));
        }

        *ret = p;
        p = (StarterPolicy) {};
        return 0;
}

int starter_policy_load(const char *path, StarterPolicy *ret, jr_error *e) {
        _cleanup_(starter_policy_done) StarterPolicy p = {};
        _cleanup_fclose_ FILE *f = NULL;
        int r;

        path = path ?: STARTER_POLICY_PATH_DEFAULT;
        f = fopen(path, "re");
        if (f)
                return starter_policy_parse(f, path, ret, e);
        if (errno != ENOENT) {
                r = -errno;
                return jr_error_set(e, r, PATH_FMT ": cannot open: %s", path, strerror(-r));
        }

        /* No file, nothing beyond the defaults: a host without one works
         * as before. */
        r = policy_init(&p, path, e);
        if (r < 0)
                return r;
        *ret = p;
        p = (StarterPolicy) {};
        return 0;
}

/* ---- checking a spec ---------------------------------------------------- */

const char *starter_format_size(uint64_t bytes, char buf[static STARTER_SIZE_STRING_MAX]) {
        static const char suffixes[] = "KMGT";
        unsigned i = 0;

        while (bytes != 0 && i < strlen(suffixes) && bytes % 1024 == 0) {
                bytes /= 1024;
                i++;
        }
        if (i == 0)
                snprintf(buf, STARTER_SIZE_STRING_MAX, "%" PRIu64, bytes);
        else
                snprintf(buf, STARTER_SIZE_STRING_MAX, "%" PRIu64 "%c", bytes, suffixes[i - 1]);
        return buf;
}

int starter_policy_check_spec(const StarterPolicy *p, const jr_spec *spec, jr_error *e) {
        char want[STARTER_SIZE_STRING_MAX], cap[STARTER_SIZE_STRING_MAX];

        /* 0 and JR_UNLIMITED are no limit at all, which no cap allows. */
        if (p->max_memory != STARTER_NO_CAP) {
                starter_format_size(p->max_memory, cap);
                if (spec->memory_max == 0 || spec->memory_max == JR_UNLIMITED)
                        return jr_error_set(e, -EPERM, "memory_max: no limit is above the administrator's "
                                            "MaxMemory=%s in " PATH_FMT ": ask for %s or less", cap, p->path, cap);
                if (spec->memory_max > p->max_memory)
                        return jr_error_set(e, -EPERM, "memory_max %s is above the administrator's MaxMemory=%s "
                                            "in " PATH_FMT, starter_format_size(spec->memory_max, want), cap, p->path);
        }
        /* systemd's default tasks limit is the host's, whatever it is: not
         * the administrator's cap for jobs. */
        if (p->max_tasks != STARTER_NO_CAP) {
                if (spec->tasks_max == 0 || spec->tasks_max == JR_UNLIMITED)
                        return jr_error_set(e, -EPERM, "tasks_max: %s is above the administrator's MaxTasks=%" PRIu64
                                            " in " PATH_FMT ": ask for %" PRIu64 " or less",
                                            spec->tasks_max == 0 ? "systemd's default" : "no limit",
                                            p->max_tasks, p->path, p->max_tasks);
                if (spec->tasks_max > p->max_tasks)
                        return jr_error_set(e, -EPERM, "tasks_max %" PRIu64 " is above the administrator's MaxTasks=%"
                                            PRIu64 " in " PATH_FMT, spec->tasks_max, p->max_tasks, p->path);
        }
        if (p->max_cpu_quota_percent != STARTER_NO_CAP) {
                if (spec->cpu_quota_percent == 0)
                        return jr_error_set(e, -EPERM, "cpu_quota_percent: no quota is above the administrator's "
                                            "MaxCPUQuota=%" PRIu64 "%% in " PATH_FMT ": ask for %" PRIu64 "%% or less",
                                            p->max_cpu_quota_percent, p->path, p->max_cpu_quota_percent);
                if (spec->cpu_quota_percent > p->max_cpu_quota_percent)
                        return jr_error_set(e, -EPERM, "cpu_quota_percent %" PRIu32 "%% is above the administrator's "
                                            "MaxCPUQuota=%" PRIu64 "%% in " PATH_FMT,
                                            spec->cpu_quota_percent, p->max_cpu_quota_percent, p->path);
        }

        if (spec->network == JR_NETWORK_HOST && !p->allow_host_network)
                return jr_error_set(e, -EPERM, "network host: not allowed by the administrator (AllowHostNetwork=no "
                                    "in " PATH_FMT ")", p->path);
        if (spec->pid_namespace == JR_TOGGLE_OFF && !p->allow_no_pid_namespace)
                return jr_error_set(e, -EPERM, "pid_namespace off: not allowed by the administrator "
                                    "(AllowNoPIDNamespace=no in " PATH_FMT ")", p->path);
        if (spec->private_mounts == JR_TOGGLE_OFF && !p->allow_no_private_mounts)
                return jr_error_set(e, -EPERM, "private_mounts off: not allowed by the administrator "
                                    "(AllowNoPrivateMounts=no in " PATH_FMT ")", p->path);
        if (spec->private_tmp == JR_TOGGLE_OFF && !p->allow_no_private_tmp)
                return jr_error_set(e, -EPERM, "private_tmp off: not allowed by the administrator "
                                    "(AllowNoPrivateTmp=no in " PATH_FMT ")", p->path);
        return 0;
}
