/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Job specs: errors, deep copy, and validation before anything is created.
 *
 * Strings are UTF-8 as proto3 and D-Bus want them, strictly as sd-bus
 * checks its "s" (no noncharacters, see utf8_next()): the paths and the user
 * name travel to systemd as such, and the job's argv and environment go over
 * the API as strings.  Those two reach the job through jobrunner-init's
 * standard input and its execve(), so what execve() takes bounds them (see
 * JR_EXEC_BYTES_MAX), and they may hold any other character.  env names
 * follow systemd's env_name_is_valid(), duplicate env keys are refused like
 * strv_env_is_valid() does, and user names follow valid_user_group_name() in
 * its strict form.  Paths (argv[0], working_directory, IO devices) must not
 * hold control characters: systemd writes WorkingDirectory= unescaped into
 * the unit file. */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "env-keys.h"
#include "exec-limits.h"
#include "jobrunner.h"
#include "macro.h"
#include "strv.h"

/* The CLI checks with the same numbers. */
_Static_assert(JR_STRING_MAX == EXEC_STRING_MAX && JR_EXEC_POINTER_SIZE == EXEC_POINTER_SIZE &&
               JR_EXEC_BYTES_MAX == EXEC_BYTES_MAX, "common/exec-limits.h differs from jobrunner.h");

/* ---- errors ------------------------------------------------------------ */

/* Length of the longest prefix of s[0..len) that does not end inside a
 * multi-byte UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len) {
        size_t i = len;

        while (i > 0 && ((unsigned char) s[i - 1] & 0xC0) == 0x80)
                i--;
        if (i > 0 && (unsigned char) s[i - 1] >= 0xC0) {
                unsigned char c = (unsigned char) s[i - 1];
                size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
                if (len - (i - 1) < need)
                        return i - 1;
        }
        return len;
}

int jr_error_set(jr_error *e, int error, const char *format, ...) {
        va_list ap;

        if (error > 0)
                error = -error;
        if (!e)
                return error;

        e->error = error;
        va_start(ap, format);
        int n = vsnprintf(e->message, sizeof e->message, format, ap);
        va_end(ap);
        if (n < 0)
                e->message[0] = 0;
        else if ((size_t) n >= sizeof e->message) /* truncated: never end mid-character */
                e->message[utf8_cut(e->message, sizeof e->message - 1)] = 0;
        return error;
}

/* ---- strings ----------------------------------------------------------- */

/* Decodes one UTF-8 character at s[0..len) as sd-bus does (systemd's
 * utf8_encoded_valid_unichar() and unichar_is_valid()): no overlong forms,
 * no surrogates, nothing above U+10FFFF, no U+FDD0..U+FDEF, no U+xFFFE/xFFFF.
 * Returns its length, or 0 if it is not valid. */
static size_t utf8_next(const unsigned char *s, size_t len) {
        static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
        size_t n = s[0] < 0x80 ? 1 : s[0] < 0xC0 ? 0 : s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : s[0] < 0xF8 ? 4 : 0;
        uint32_t c;

        if (n <= 1 || n > len)
                return n > len ? 0 : n;
        c = s[0] & (0x7F >> n);
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
                c = (c << 6) | (s[i] & 0x3F);
        }
        if (c < min[n] || c >= 0x110000 || (c & 0xFFFFF800) == 0xD800 ||
            (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE)
                return 0;
        return n;
}

/* Offset of the first invalid UTF-8 byte, or len. */
static size_t utf8_invalid_at(const char *s, size_t len) {
        for (size_t i = 0; i < len;) {
                size_t n = utf8_next((const unsigned char *) s + i, len - i);
                if (n == 0)
                        return i;
                i += n;
        }
        return len;
}

#define QUOTE_MAX 96

/* Writes s into buf as a short, quoted, printable, valid UTF-8 rendering for
 * messages: control characters and invalid bytes escaped, long values cut. */
static const char *quote(const char *s, char buf[static QUOTE_MAX]) {
        size_t len = strlen(s), o = 0;

        buf[o++] = '"';
        for (size_t i = 0; i < len;) {
                unsigned char c = (unsigned char) s[i];
                size_t n = utf8_next((const unsigned char *) s + i, len - i);

                if (o + 16 > QUOTE_MAX) {
                        memcpy(buf + o, "\"…", strlen("\"…") + 1);
                        return buf;
                }
                if (n == 1 && (c < 0x20 || c == 0x7F || c == '"' || c == '\\')) {
                        const char *esc = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '"' ? "\\\"" : c == '\\' ? "\\\\" : NULL;
                        o += esc ? (size_t) sprintf(buf + o, "%s", esc) : (size_t) sprintf(buf + o, "\\x%02x", c);
                } else if (n == 0) {
                        o += (size_t) sprintf(buf + o, "\\x%02x", c);
                        n = 1;
                } else {
                        memcpy(buf + o, s + i, n);
                        o += n;
                }
                i += n;
        }
        buf[o++] = '"';
        buf[o] = 0;
        return buf;
}

static bool has_control(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7F)
                        return true;
        return false;
}

int jr_check_string(const char *data, size_t len, const char *what, jr_error *e) {
        const char *nul;
        size_t bad;

        if (len > JR_STRING_MAX)
                return jr_error_set(e, -E2BIG, "%s: longer than %u bytes (the kernel's MAX_ARG_STRLEN, with the NUL)",
                                    what, JR_STRING_MAX);
        if (len > 0 && (nul = memchr(data, 0, len)))
                return jr_error_set(e, -EINVAL, "%s: contains a NUL byte at offset %zu", what, (size_t) (nul - data));
        if (len > 0 && (bad = utf8_invalid_at(data, len)) < len)
                return jr_error_set(e, -EINVAL, "%s: not valid UTF-8 at byte %zu", what, bad);
        return 0;
}

/* Checks one C string of a spec; returns its length. */
static ssize_t check_cstring(const char *s, const char *what, jr_error *e) {
        size_t len = strnlen(s, JR_STRING_MAX + 1);
        int r = jr_check_string(s, len, what, e);

        return r < 0 ? r : (ssize_t) len;
}

static int check_path(const char *s, const char *what, bool normalized, jr_error *e) {
        char q[QUOTE_MAX];

        if (s[0] != '/')
                return jr_error_set(e, -EINVAL, "%s %s: must be an absolute path", what, quote(s, q));
        if (strlen(s) >= PATH_MAX)
                return jr_error_set(e, -EINVAL, "%s: longer than %d bytes (PATH_MAX)", what, PATH_MAX - 1);
        if (has_control(s))
                return jr_error_set(e, -EINVAL, "%s %s: contains control characters", what, quote(s, q));
        for (const char *p = s; normalized && *p;) {
                size_t n = strcspn(p, "/");
                if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return jr_error_set(e, -EINVAL, "%s %s: must not contain \".\" or \"..\" components", what, quote(s, q));
                if (n > NAME_MAX)
                        return jr_error_set(e, -EINVAL, "%s %s: has a component longer than %d bytes", what, quote(s, q), NAME_MAX);
                p += n + (p[n] == '/');
        }
        return 0;
}

/* ---- validation --------------------------------------------------------- */

/* Checks the strings of argv or env and adds what execve() makes of them to
 * *exec: each string's bytes, its NUL and the pointer to it. */
static int check_exec_strings(char *const *l, const char *name, size_t *exec, jr_error *e) {
        char what[32];

        for (size_t i = 0; l && l[i]; i++) {
                ssize_t len;

                snprintf(what, sizeof what, "%s[%zu]", name, i);
                len = check_cstring(l[i], what, e);
                if (len < 0)
                        return (int) len;
                *exec += (size_t) len + 1 + JR_EXEC_POINTER_SIZE;
        }
        return 0;
}

static int validate_exec_size(const jr_spec *spec, jr_error *e) {
        size_t exec = 0;
        int r;

        if (!spec->argv || !spec->argv[0])
                return jr_error_set(e, -EINVAL, "argv: must contain at least one entry");
        r = check_exec_strings(spec->argv, "argv", &exec, e);
        if (r >= 0)
                r = check_exec_strings(spec->env, "env", &exec, e);
        if (r < 0)
                return r;
        if (exec > JR_EXEC_BYTES_MAX)
                return jr_error_set(e, -E2BIG,
                                    "argv and env: %zu bytes as execve() counts them (each string, its NUL and "
                                    "an %u-byte pointer), more than %u",
                                    exec, JR_EXEC_POINTER_SIZE, JR_EXEC_BYTES_MAX);
        return 0;
}

static int validate_argv0(const char *argv0, jr_error *e) {
        char q[QUOTE_MAX];

        if (argv0[0] != '/')
                return jr_error_set(e, -EINVAL, "argv[0] %s: must be an absolute path; jobrunner does not search PATH",
                                    quote(argv0, q));
        return check_path(argv0, "argv[0]", false, e);
}

static bool env_name_valid(const char *s, size_t n) {
        if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_", s[i]))
                        return false;
        return true;
}

/* The strings are checked already (validate_exec_size()). */
static int validate_env(char *const *env, jr_error *e) {
        char q[QUOTE_MAX], q2[QUOTE_MAX];
        size_t n = 0, dup, first;
        int r;

        for (; env && env[n]; n++) {
                const char *eq = strchr(env[n], '=');
                if (!eq || eq == env[n])
                        return jr_error_set(e, -EINVAL, "env[%zu] %s: not of the form KEY=VALUE", n, quote(env[n], q));
                if (!env_name_valid(env[n], (size_t) (eq - env[n]))) {
                        _cleanup_free_ char *key = strndup(env[n], (size_t) (eq - env[n]));
                        return jr_error_set(e, -EINVAL,
                                            "env[%zu] %s: the name %s is not valid (letters, digits and '_', not starting with a digit)",
                                            n, quote(env[n], q), key ? quote(key, q2) : "");
                }
        }

        r = env_find_duplicate(env, n, &dup, &first);
        if (r < 0)
                return jr_error_set(e, r, "out of memory");
        if (r > 0) {
                _cleanup_free_ char *key = strndup(env[dup], strcspn(env[dup], "="));
                return jr_error_set(e, -EINVAL, "env[%zu]: duplicate key %s, already set by env[%zu]",
                                    dup, key ? quote(key, q) : "", first);
        }
        return 0;
}

static int validate_user(const char *user, const jr_validate_options *options, jr_error *e) {
        char q[QUOTE_MAX];
        ssize_t r;
        size_t n;

        if (!user)
                return 0;
        if (!options->allow_named_user)
                return jr_error_set(e, -EPERM, "user %s: a named user may only be requested by an admin", quote(user, q));
        r = check_cstring(user, "user", e);
        if (r < 0)
                return (int) r;
        if (user[0] == 0)
                return jr_error_set(e, -EINVAL, "user: must not be empty (no user selects a dynamic user)");
        if (strspn(user, "0123456789") == strlen(user))
                return jr_error_set(e, -EINVAL, "user %s: numeric user IDs are not accepted, give a user name", quote(user, q));
        n = strlen(user);
        if (n > 31 || !strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_", user[0]) ||
            strspn(user, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != n)
                return jr_error_set(e, -EINVAL,
                                    "user %s: not a valid user name ([a-zA-Z_][a-zA-Z0-9_-]*, at most 31 characters)", quote(user, q));
        return 0;
}

typedef struct LimitRule {
        const char *name;
        size_t offset, size;            /* of a uint32_t or uint64_t in jr_spec */
        uint64_t min, max;              /* allowed range besides 0 (and JR_UNLIMITED) */
        bool unlimited_ok;              /* JR_UNLIMITED allowed */
        const char *zero_means;
} LimitRule;

#define LIMIT(field, ...) { #field, offsetof(jr_spec, field), sizeof(((jr_spec *) NULL)->field), __VA_ARGS__ }
static const LimitRule limit_rules[] = {
        LIMIT(cpu_quota_percent, 1, JR_CPU_QUOTA_PERCENT_MAX, false, "no quota"),
        LIMIT(cpu_weight, JR_WEIGHT_MIN, JR_WEIGHT_MAX, false, "the default weight, 100"),
        LIMIT(memory_max, JR_MEMORY_MIN, JR_UNLIMITED - 1, true, "no limit"),
        LIMIT(io_weight, JR_WEIGHT_MIN, JR_WEIGHT_MAX, false, "the default weight, 100"),
        LIMIT(tasks_max, 1, JR_TASKS_MAX_MAX, true, "systemd's default"),
};

static int validate_limits(const jr_spec *spec, jr_error *e) {
        for (size_t i = 0; i < ELEMENTSOF(limit_rules); i++) {
                const LimitRule *l = &limit_rules[i];
                const char *p = (const char *) spec + l->offset;
                uint64_t v;

                if (l->size == sizeof(uint32_t)) {
                        uint32_t v32;
                        memcpy(&v32, p, sizeof v32);
                        v = v32;
                } else
                        memcpy(&v, p, sizeof v);

                if (v == 0 || (v >= l->min && v <= l->max) || (l->unlimited_ok && v == JR_UNLIMITED))
                        continue;
                return jr_error_set(e, -EINVAL, "%s %" PRIu64 ": must be %s %" PRIu64 " (0 = %s)",
                                    l->name, v, v < l->min ? "at least" : "at most", v < l->min ? l->min : l->max,
                                    l->zero_means);
        }
        return 0;
}

/* The whole disk a block device belongs to: systemd applies IO limits of a
 * partition to its disk (lookup_block_device()), so two partitions of one
 * disk are the same device for us. */
static dev_t whole_disk(dev_t d) {
        char p[96];
        unsigned ma, mi;

        snprintf(p, sizeof p, "/sys/dev/block/%u:%u/partition", major(d), minor(d));
        if (access(p, F_OK) < 0)
                return d;
        snprintf(p, sizeof p, "/sys/dev/block/%u:%u/../dev", major(d), minor(d));
        _cleanup_fclose_ FILE *f = fopen(p, "re");
        if (!f || fscanf(f, "%u:%u", &ma, &mi) != 2)
                return d;
        return makedev(ma, mi);
}

static int validate_io_limits(const jr_spec *spec, jr_error *e) {
        dev_t disks[JR_IO_DEVICES_MAX];
        char what[32], q[QUOTE_MAX], q2[QUOTE_MAX];
        ssize_t r;

        if (spec->n_io_limits > JR_IO_DEVICES_MAX)
                return jr_error_set(e, -E2BIG, "io_limits: %zu entries, at most %d devices", spec->n_io_limits, JR_IO_DEVICES_MAX);
        if (spec->n_io_limits > 0 && !spec->io_limits)
                return jr_error_set(e, -EINVAL, "io_limits: %zu entries but no array", spec->n_io_limits);

        for (size_t i = 0; i < spec->n_io_limits; i++) {
                const jr_io_limit *l = &spec->io_limits[i];
                struct stat st;

                snprintf(what, sizeof what, "io_limits[%zu]", i);
                if (!l->device)
                        return jr_error_set(e, -EINVAL, "%s: no device", what);
                r = check_cstring(l->device, what, e);
                if (r >= 0)
                        r = check_path(l->device, what, true, e);
                if (r < 0)
                        return (int) r;
                if (l->read_bps == 0 && l->write_bps == 0)
                        return jr_error_set(e, -EINVAL, "%s %s: sets neither read_bps nor write_bps", what, quote(l->device, q));
                if (stat(l->device, &st) < 0)
                        return jr_error_set(e, -ENODEV, "%s %s: not a block device (%s)", what, quote(l->device, q), strerror(errno));
                if (!S_ISBLK(st.st_mode))
                        return jr_error_set(e, -ENODEV, "%s %s: not a block device", what, quote(l->device, q));
                disks[i] = whole_disk(st.st_rdev);
                for (size_t j = 0; j < i; j++)
                        if (disks[j] == disks[i])
                                return jr_error_set(e, -EINVAL, "%s %s: the same disk as io_limits[%zu] %s; give one entry per disk",
                                                    what, quote(l->device, q), j, quote(spec->io_limits[j].device, q2));
        }
        return 0;
}

static int validate_isolation(const jr_spec *spec, jr_error *e) {
        static const struct {
                const char *name;
                size_t offset;
        } toggles[] = {
                { "pid_namespace", offsetof(jr_spec, pid_namespace) },
                { "private_mounts", offsetof(jr_spec, private_mounts) },
                { "private_tmp", offsetof(jr_spec, private_tmp) },
        };

        if ((unsigned) spec->network > JR_NETWORK_HOST)
                return jr_error_set(e, -EINVAL, "network %u: not a valid network mode", (unsigned) spec->network);
        for (size_t i = 0; i < ELEMENTSOF(toggles); i++) {
                jr_toggle t;
                memcpy(&t, (const char *) spec + toggles[i].offset, sizeof t);
                if ((unsigned) t > JR_TOGGLE_OFF)
                        return jr_error_set(e, -EINVAL, "%s %u: not a valid toggle", toggles[i].name, (unsigned) t);
        }
        if ((unsigned) spec->stdin_mode > JR_STDIN_PIPE)
                return jr_error_set(e, -EINVAL, "stdin %u: not a valid stdin mode", (unsigned) spec->stdin_mode);
        if (spec->terminal && spec->stdin_mode != JR_STDIN_DEFAULT)
                return jr_error_set(e, -EINVAL, "stdin with terminal: a terminal job's input is its terminal; "
                                    "leave stdin unset");
        if (!spec->user && spec->private_tmp == JR_TOGGLE_OFF)
                return jr_error_set(e, -EINVAL, "private_tmp off: not possible with a dynamic user, "
                                    "systemd's DynamicUser=yes always gives the job a private /tmp and /var/tmp");
        if (!spec->user && spec->private_mounts == JR_TOGGLE_OFF)
                return jr_error_set(e, -EINVAL, "private_mounts off: not possible with a dynamic user, "
                                    "systemd's DynamicUser=yes always gives the job a private mount namespace");
        return 0;
}

int jr_spec_validate(const jr_spec *spec, const jr_validate_options *options, jr_error *e) {
        static const jr_validate_options none = {};
        ssize_t r;

        if (!spec)
                return jr_error_set(e, -EINVAL, "no spec");
        if (!options)
                options = &none;

        r = validate_exec_size(spec, e);
        if (r >= 0)
                r = validate_argv0(spec->argv[0], e);
        if (r >= 0)
                r = validate_env(spec->env, e);
        if (r < 0)
                return (int) r;
        if (spec->working_directory) {
                if (spec->working_directory[0] == 0)
                        return jr_error_set(e, -EINVAL, "working_directory: must not be empty (none means \"/\")");
                r = check_cstring(spec->working_directory, "working_directory", e);
                if (r >= 0)
                        r = check_path(spec->working_directory, "working_directory", true, e);
                if (r < 0)
                        return (int) r;
        }
        r = validate_user(spec->user, options, e);
        if (r >= 0)
                r = validate_io_limits(spec, e);
        if (r >= 0)
                r = validate_limits(spec, e);
        if (r < 0)
                return (int) r;
        return validate_isolation(spec, e);
}

/* ---- copy and free ------------------------------------------------------ */

static int strv_copy_to(char *const *from, char ***to) {
        *to = NULL;
        if (!from)
                return 0;
        *to = strv_copy(from);
        return *to ? 0 : -ENOMEM;
}

static int strdup_or_null(const char *from, char **to) {
        *to = from ? strdup(from) : NULL;
        return from && !*to ? -ENOMEM : 0;
}

void jr_spec_done(jr_spec *spec) {
        if (!spec)
                return;
        strv_free(spec->argv);
        strv_free(spec->env);
        free(spec->working_directory);
        free(spec->user);
        for (size_t i = 0; spec->io_limits && i < spec->n_io_limits; i++)
                free(spec->io_limits[i].device);
        free(spec->io_limits);
        *spec = (jr_spec) {};
}

int jr_spec_copy(const jr_spec *from, jr_spec *to) {
        jr_spec c = *from;

        c.argv = c.env = NULL;
        c.working_directory = c.user = NULL;
        c.io_limits = NULL;
        c.n_io_limits = 0;

        if (strv_copy_to(from->argv, &c.argv) < 0 || strv_copy_to(from->env, &c.env) < 0 ||
            strdup_or_null(from->working_directory, &c.working_directory) < 0 ||
            strdup_or_null(from->user, &c.user) < 0)
                goto fail;
        if (from->n_io_limits > 0 && from->io_limits) {
                c.io_limits = calloc(from->n_io_limits, sizeof *c.io_limits);
                if (!c.io_limits)
                        goto fail;
                for (; c.n_io_limits < from->n_io_limits; c.n_io_limits++) {
                        const jr_io_limit *l = &from->io_limits[c.n_io_limits];
                        c.io_limits[c.n_io_limits] = *l;
                        if (strdup_or_null(l->device, &c.io_limits[c.n_io_limits].device) < 0)
                                goto fail;
                }
        }
        *to = c;
        return 0;

fail:
        jr_spec_done(&c);
        return -ENOMEM;
}

/* ---- job state ---------------------------------------------------------- */

static const char *const state_names[] = {
        [JR_STATE_STARTING] = "starting",
        [JR_STATE_RUNNING] = "running",
        [JR_STATE_EXITED] = "exited",
        [JR_STATE_KILLED] = "killed",
        [JR_STATE_OOM_KILLED] = "oom-killed",
        [JR_STATE_STOPPED] = "stopped",
        [JR_STATE_FAILED_TO_START] = "failed-to-start",
};

const char *jr_state_to_string(jr_state s) {
        return (unsigned) s < ELEMENTSOF(state_names) ? state_names[s] : NULL;
}

static const char *const end_result_names[_JR_END_RESULT_MAX] = {
        [JR_END_EXITED_ZERO] = "exited-zero",
        [JR_END_EXITED_NONZERO] = "exited-nonzero",
        [JR_END_KILLED] = "killed",
        [JR_END_OOM_KILLED] = "oom-killed",
        [JR_END_STOPPED] = "stopped",
        [JR_END_FAILED_TO_START] = "failed-to-start",
};

const char *jr_end_result_to_string(jr_end_result r) {
        return (unsigned) r < ELEMENTSOF(end_result_names) ? end_result_names[r] : NULL;
}

bool jr_state_is_final(jr_state s) {
        return s >= JR_STATE_EXITED && s <= JR_STATE_FAILED_TO_START;
}
