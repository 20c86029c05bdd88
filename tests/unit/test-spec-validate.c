/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "jobrunner.h"
#include "macro.h"

/* A spec written as constants; "@BLK" and "@BLK2" in io devices stand for
 * two nodes of one block device, created (or found) at run time. */
typedef struct Case {
        const char *what;
        const char *argv[6];
        const char *env[6];
        const char *wd, *user;
        uint32_t cpu_quota_percent, cpu_weight, io_weight;
        uint64_t memory_max, tasks_max;
        struct { const char *device; uint64_t read_bps, write_bps; } io[3];
        size_t n_io;
        int network, pid_namespace, private_mounts, private_tmp;
        bool admin;
        void (*fixup)(jr_spec *s);      /* for what constants cannot say */
        int error;
        const char *message;
} Case;

#define LS "/bin/ls"
#define BIG (JR_STRING_MAX + 1)

static char blk[256], blk2[256], tmpdir[] = "/tmp/test-spec-XXXXXX";
static bool have_blk, blk_pair;
static char big[BIG + 1];
/* Enough for the most entries argv and env may have. */
static char *many[JR_EXEC_ENTRIES_MAX + 2];

static void setup_block_devices(void) {
        /* Preferably our own nodes (as root): two names for one device. */
        if (mkdtemp(tmpdir)) {
                snprintf(blk, sizeof blk, "%s/blk", tmpdir);
                snprintf(blk2, sizeof blk2, "%s/blk2", tmpdir);
                if (mknod(blk, S_IFBLK | 0600, makedev(7, 0)) == 0 && mknod(blk2, S_IFBLK | 0600, makedev(7, 0)) == 0) {
                        have_blk = blk_pair = true;
                        return;
                }
                (void) unlink(blk);
                (void) rmdir(tmpdir);
        }
        static const char *const candidates[] = { "/dev/loop0", "/dev/vda", "/dev/sda", "/dev/nvme0n1", "/dev/xvda" };
        for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
                struct stat st;
                if (stat(candidates[i], &st) == 0 && S_ISBLK(st.st_mode)) {
                        snprintf(blk, sizeof blk, "%s", candidates[i]);
                        have_blk = true;
                        return;
                }
        }
}

static void cleanup_block_devices(void) {
        if (!blk_pair)  /* blk may name a real device node then: leave it alone */
                return;
        (void) unlink(blk);
        (void) unlink(blk2);
        (void) rmdir(tmpdir);
}

static void fill_big(void) {
        memset(big, 'a', BIG);
        big[BIG] = 0;
}

static void fix_long_arg(jr_spec *s) { fill_big(); s->argv[1] = big; }
static void fix_long_env(jr_spec *s) { fill_big(); memcpy(big, "K=", 2); s->env[0] = big; }
static void fix_long_wd(jr_spec *s) { fill_big(); big[0] = '/'; s->working_directory = big; }
static void fix_path_max(jr_spec *s) { fill_big(); big[0] = '/'; big[PATH_MAX] = 0; s->argv[0] = big; }
/* argv of exactly JR_EXEC_BYTES_MAX bytes as execve() counts them (each
 * string, its NUL and an 8-byte pointer), plus `over`: strings of the
 * longest length allowed, then one of the rest. */
static void fill_exec(jr_spec *s, size_t over) {
        static char last[BIG + 1];
        size_t cost = strlen(LS) + 1 + JR_EXEC_POINTER_SIZE, n = 0;

        fill_big();
        big[JR_STRING_MAX] = 0;
        many[n++] = (char *) LS;
        while (JR_EXEC_BYTES_MAX - cost > JR_STRING_MAX + 1 + JR_EXEC_POINTER_SIZE) {
                many[n++] = big;
                cost += JR_STRING_MAX + 1 + JR_EXEC_POINTER_SIZE;
        }
        memset(last, 'z', JR_EXEC_BYTES_MAX - cost - 1 - JR_EXEC_POINTER_SIZE + over);
        last[JR_EXEC_BYTES_MAX - cost - 1 - JR_EXEC_POINTER_SIZE + over] = 0;
        many[n++] = last;
        many[n] = NULL;
        s->argv = many;
}
static void fix_exec_max(jr_spec *s) { fill_exec(s, 0); }
static void fix_exec_over(jr_spec *s) { fill_exec(s, 1); }
/* As many entries as the bytes allow, empty strings but for argv[0], and
 * `more`. */
static void fill_entries(jr_spec *s, size_t more) {
        size_t n = (JR_EXEC_BYTES_MAX - (strlen(LS) + 1 + JR_EXEC_POINTER_SIZE)) / (1 + JR_EXEC_POINTER_SIZE) + more;

        many[0] = (char *) LS;
        for (size_t i = 1; i <= n; i++)
                many[i] = (char *) "";
        many[n + 1] = NULL;
        s->argv = many;
}
static void fix_most_entries(jr_spec *s) { fill_entries(s, 0); }
static void fix_too_many_entries(jr_spec *s) { fill_entries(s, 1); }
static void fix_longest_arg(jr_spec *s) { fill_big(); big[JR_STRING_MAX] = 0; s->argv[1] = big; }
static void fix_no_argv(jr_spec *s) { s->argv = NULL; }
static void fix_io_no_array(jr_spec *s) { s->n_io_limits = 2; }
static void fix_io_too_many(jr_spec *s) { s->n_io_limits = JR_IO_DEVICES_MAX + 1; }
static void fix_user_empty(jr_spec *s) { s->user = (char *) ""; }

static const Case bad[] = {
        /* argv */
        { "argv NULL", .fixup = fix_no_argv, .error = -EINVAL, .message = "argv: must contain at least one entry" },
        { "argv empty", .argv = { NULL }, .error = -EINVAL, .message = "argv: must contain at least one entry" },
        { "argv[0] relative", { "ls", "-l" }, .error = -EINVAL,
          .message = "argv[0] \"ls\": must be an absolute path; jobrunner does not search PATH" },
        { "argv[0] empty", { "" }, .error = -EINVAL, .message = "argv[0] \"\": must be an absolute path" },
        { "argv[0] control", { "/bin/l\ns" }, .error = -EINVAL, .message = "argv[0] \"/bin/l\\ns\": contains control characters" },
        { "argv[0] over PATH_MAX", { LS }, .fixup = fix_path_max, .error = -EINVAL, .message = "argv[0]: longer than 4095 bytes (PATH_MAX)" },
        { "argv entry too long", { LS, "x" }, .fixup = fix_long_arg, .error = -E2BIG,
          .message = "argv[1]: longer than 131071 bytes (the kernel's MAX_ARG_STRLEN, with the NUL)" },
        { "argv too many entries", .fixup = fix_too_many_entries, .error = -E2BIG,
          .message = "argv and env: 2080771 bytes as execve() counts them (each string, its NUL and an 8-byte "
                     "pointer), more than 2080768" },
        { "argv invalid UTF-8", { LS, "ok", "b\xffz" }, .error = -EINVAL, .message = "argv[2]: not valid UTF-8 at byte 1" },
        { "argv overlong UTF-8", { LS, "\xc0\xaf" }, .error = -EINVAL, .message = "argv[1]: not valid UTF-8 at byte 0" },
        { "argv surrogate", { LS, "a\xed\xa0\x80" }, .error = -EINVAL, .message = "argv[1]: not valid UTF-8 at byte 1" },
        { "argv noncharacter", { LS, "\xef\xbf\xbe" }, .error = -EINVAL, .message = "argv[1]: not valid UTF-8 at byte 0" },
        { "argv truncated UTF-8", { LS, "\xe2\x82" }, .error = -EINVAL, .message = "argv[1]: not valid UTF-8 at byte 0" },
        { "argv too large", .fixup = fix_exec_over, .error = -E2BIG,
          .message = "argv and env: 2080769 bytes as execve() counts them" },
        /* All the bytes in argv, and env's count too. */
        { "argv and env too large", { LS }, { "A=1" }, .fixup = fix_exec_max, .error = -E2BIG,
          .message = "argv and env: 2080780 bytes as execve() counts them" },
        /* env */
        { "env without =", { LS }, { "FOO" }, .error = -EINVAL, .message = "env[0] \"FOO\": not of the form KEY=VALUE" },
        { "env empty key", { LS }, { "A=1", "=x" }, .error = -EINVAL, .message = "env[1] \"=x\": not of the form KEY=VALUE" },
        { "env key digit", { LS }, { "1X=y" }, .error = -EINVAL, .message = "env[0] \"1X=y\": the name \"1X\" is not valid" },
        { "env key dash", { LS }, { "MY-VAR=y" }, .error = -EINVAL, .message = "the name \"MY-VAR\" is not valid" },
        { "env duplicate", { LS }, { "A=1", "B=2", "A=3" }, .error = -EINVAL, .message = "env[2]: duplicate key \"A\", already set by env[0]" },
        { "env duplicate empty value", { LS }, { "AB=", "A=1", "AB=x" }, .error = -EINVAL, .message = "env[2]: duplicate key \"AB\", already set by env[0]" },
        { "env too long", { LS }, { "X" }, .fixup = fix_long_env, .error = -E2BIG, .message = "env[0]: longer than 131071 bytes" },
        { "env invalid UTF-8", { LS }, { "A=\xff" }, .error = -EINVAL, .message = "env[0]: not valid UTF-8 at byte 2" },
        /* working_directory */
        { "wd empty", { LS }, .wd = "", .error = -EINVAL, .message = "working_directory: must not be empty" },
        { "wd relative", { LS }, .wd = "tmp", .error = -EINVAL, .message = "working_directory \"tmp\": must be an absolute path" },
        { "wd dotdot", { LS }, .wd = "/a/../b", .error = -EINVAL, .message = "must not contain \".\" or \"..\" components" },
        { "wd dot", { LS }, .wd = "/a/.", .error = -EINVAL, .message = "must not contain \".\" or \"..\" components" },
        { "wd control", { LS }, .wd = "/tmp/\x01", .error = -EINVAL, .message = "working_directory \"/tmp/\\x01\": contains control characters" },
        { "wd too long", { LS }, .fixup = fix_long_wd, .error = -E2BIG, .message = "working_directory: longer than 131071 bytes" },
        /* user */
        { "user not admin", { LS }, .user = "bob", .error = -EPERM,
          .message = "user \"bob\": a named user may only be requested by an admin" },
        { "user empty", { LS }, .fixup = fix_user_empty, .admin = true, .error = -EINVAL, .message = "user: must not be empty" },
        { "user numeric", { LS }, .user = "1000", .admin = true, .error = -EINVAL, .message = "user \"1000\": numeric user IDs are not accepted" },
        { "user bad char", { LS }, .user = "a b", .admin = true, .error = -EINVAL, .message = "user \"a b\": not a valid user name" },
        { "user leading dash", { LS }, .user = "-x", .admin = true, .error = -EINVAL, .message = "not a valid user name" },
        { "user too long", { LS }, .user = "abcdefghijabcdefghijabcdefghijab", .admin = true, .error = -EINVAL, .message = "at most 31 characters" },
        /* limits */
        { "cpu quota", { LS }, .cpu_quota_percent = JR_CPU_QUOTA_PERCENT_MAX + 1, .error = -EINVAL,
          .message = "cpu_quota_percent 100001: must be at most 100000 (0 = no quota)" },
        { "cpu weight", { LS }, .cpu_weight = 10001, .error = -EINVAL, .message = "cpu_weight 10001: must be at most 10000" },
        { "io weight", { LS }, .io_weight = 20000, .error = -EINVAL, .message = "io_weight 20000: must be at most 10000" },
        { "memory small", { LS }, .memory_max = 1000, .error = -EINVAL,
          .message = "memory_max 1000: must be at least 1048576 (0 = no limit)" },
        { "tasks", { LS }, .tasks_max = JR_TASKS_MAX_MAX + 1, .error = -EINVAL, .message = "tasks_max 4194305: must be at most 4194304" },
        /* io_limits */
        { "io not block", { LS }, .io = { { "/dev/null", 1, 0 } }, .n_io = 1, .error = -ENODEV,
          .message = "io_limits[0] \"/dev/null\": not a block device" },
        { "io missing", { LS }, .io = { { "/dev/nope", 1, 0 } }, .n_io = 1, .error = -ENODEV,
          .message = "io_limits[0] \"/dev/nope\": not a block device (No such file or directory)" },
        { "io relative", { LS }, .io = { { "sda", 1, 0 } }, .n_io = 1, .error = -EINVAL, .message = "io_limits[0] \"sda\": must be an absolute path" },
        { "io no rate", { LS }, .io = { { "@BLK", 0, 0 } }, .n_io = 1, .error = -EINVAL, .message = "sets neither read_bps nor write_bps" },
        { "io no device", { LS }, .io = { { NULL, 1, 1 } }, .n_io = 1, .error = -EINVAL, .message = "io_limits[0]: no device" },
        { "io duplicate", { LS }, .io = { { "@BLK", 1, 0 }, { "@BLK", 0, 1 } }, .n_io = 2, .error = -EINVAL,
          .message = "the same disk as io_limits[0]" },
        { "io same dev_t", { LS }, .io = { { "@BLK", 1, 0 }, { "@BLK2", 0, 1 } }, .n_io = 2, .error = -EINVAL,
          .message = "the same disk as io_limits[0]" },
        { "io no array", { LS }, .fixup = fix_io_no_array, .error = -EINVAL, .message = "io_limits: 2 entries but no array" },
        { "io too many", { LS }, .fixup = fix_io_too_many, .error = -E2BIG, .message = "at most 64 devices" },
        /* isolation */
        { "network enum", { LS }, .network = 3, .error = -EINVAL, .message = "network 3: not a valid network mode" },
        { "toggle enum", { LS }, .pid_namespace = 7, .error = -EINVAL, .message = "pid_namespace 7: not a valid toggle" },
        { "private tmp off dynamic", { LS }, .private_tmp = JR_TOGGLE_OFF, .error = -EINVAL,
          .message = "private_tmp off: not possible with a dynamic user, systemd's DynamicUser=yes always gives the job a private /tmp" },
        { "private mounts off dynamic", { LS }, .private_mounts = JR_TOGGLE_OFF, .error = -EINVAL,
          .message = "DynamicUser=yes always gives the job a private mount namespace" },
};

static const Case good[] = {
        { "minimal", .argv = { LS } },
        { "everything", { LS, "-l", "$HOME", "line\nbreak\x01", "ünïcödé 😀" }, { "A=1", "B=", "AB=2", "C=x=y\nz\t" },
          .wd = "/tmp//x/", .user = "nobody", .admin = true, .cpu_quota_percent = 150, .cpu_weight = 10000,
          .io_weight = 1, .memory_max = JR_MEMORY_MIN, .tasks_max = JR_TASKS_MAX_MAX,
          .io = { { "@BLK", 1000, 0 } }, .n_io = 1, .network = JR_NETWORK_HOST, .pid_namespace = JR_TOGGLE_OFF,
          .private_mounts = JR_TOGGLE_OFF, .private_tmp = JR_TOGGLE_OFF },
        { "unlimited", { LS }, .memory_max = JR_UNLIMITED, .tasks_max = JR_UNLIMITED, .cpu_quota_percent = JR_CPU_QUOTA_PERCENT_MAX },
        { "root with toggles on", { LS }, .user = "root", .admin = true, .private_tmp = JR_TOGGLE_ON, .private_mounts = JR_TOGGLE_ON },
        { "user with dash", { LS }, .user = "_svc-01", .admin = true },
        { "wd root", { LS }, .wd = "/" },
        { "argv[0] may have dots", .argv = { "/usr/bin/../bin/ls" } },
        { "env empty list", .argv = { LS }, .env = { NULL } },
        { "argv entry of MAX_ARG_STRLEN", { LS, "x" }, .fixup = fix_longest_arg },
        { "argv of all execve() takes", .fixup = fix_exec_max },
        { "as many entries as execve() takes", .fixup = fix_most_entries },
};

/* Builds the spec in *s from c (borrowing its strings). */
static void build(const Case *c, jr_spec *s, char **argv, char **env, jr_io_limit *io) {
        for (size_t i = 0; i < ELEMENTSOF(c->argv); i++)
                argv[i] = (char *) c->argv[i];
        for (size_t i = 0; i < ELEMENTSOF(c->env); i++)
                env[i] = (char *) c->env[i];
        for (size_t i = 0; i < c->n_io; i++) {
                const char *d = c->io[i].device;
                io[i] = (jr_io_limit) { .device = (char *) (d && strcmp(d, "@BLK") == 0 ? blk : d && strcmp(d, "@BLK2") == 0 ? blk2 : d),
                                        .read_bps = c->io[i].read_bps, .write_bps = c->io[i].write_bps };
        }
        *s = (jr_spec) {
                .argv = argv, .env = c->env[0] ? env : NULL,
                .working_directory = (char *) c->wd, .user = (char *) c->user,
                .cpu_quota_percent = c->cpu_quota_percent, .cpu_weight = c->cpu_weight, .io_weight = c->io_weight,
                .memory_max = c->memory_max, .tasks_max = c->tasks_max,
                .io_limits = c->n_io ? io : NULL, .n_io_limits = c->n_io,
                .network = c->network, .pid_namespace = c->pid_namespace,
                .private_mounts = c->private_mounts, .private_tmp = c->private_tmp,
        };
        if (c->fixup)
                c->fixup(s);
}

static bool needs_blk(const Case *c) {
        for (size_t i = 0; i < c->n_io; i++)
                if (c->io[i].device && c->io[i].device[0] == '@' &&
                    (!have_blk || (strcmp(c->io[i].device, "@BLK2") == 0 && !blk_pair)))
                        return true;
        return false;
}

TestSuite(spec, .init = setup_block_devices, .fini = cleanup_block_devices);

Test(spec, bad_specs_are_rejected_with_errno_and_message) {
        cr_assert_geq(ELEMENTSOF(bad), 30);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *argv[7] = {}, *env[7] = {};
                jr_io_limit io[3];
                jr_spec s;
                jr_error e = {};

                if (needs_blk(&bad[i])) {
                        cr_log_warn("%s: skipped, no block device node available", bad[i].what);
                        continue;
                }
                build(&bad[i], &s, argv, env, io);
                int r = jr_spec_validate(&s, &(jr_validate_options) { .allow_named_user = bad[i].admin }, &e);
                cr_log_info("%s: %d %s", bad[i].what, r, e.message);
                cr_expect_eq(r, bad[i].error, "%s: returned %d (%s), expected %d", bad[i].what, r, e.message, bad[i].error);
                cr_expect_eq(e.error, r, "%s: e.error %d", bad[i].what, e.error);
                cr_expect(strstr(e.message, bad[i].message), "%s: message \"%s\" lacks \"%s\"", bad[i].what, e.message, bad[i].message);
        }
}

Test(spec, good_specs_pass) {
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                char *argv[7] = {}, *env[7] = {};
                jr_io_limit io[3];
                jr_spec s;
                jr_error e = {};

                if (needs_blk(&good[i])) {
                        cr_log_warn("%s: skipped, no block device node available", good[i].what);
                        continue;
                }
                build(&good[i], &s, argv, env, io);
                int r = jr_spec_validate(&s, &(jr_validate_options) { .allow_named_user = good[i].admin }, &e);
                cr_expect_eq(r, 0, "%s: %d %s", good[i].what, r, e.message);
        }
}

Test(spec, null_options_mean_no_named_user) {
        char *argv[] = { (char *) LS, NULL };
        jr_spec s = { .argv = argv, .user = (char *) "root" };
        jr_error e = {};

        cr_expect_eq(jr_spec_validate(&s, NULL, &e), -EPERM);
        s.user = NULL;
        cr_expect_eq(jr_spec_validate(&s, NULL, NULL), 0);
}

Test(spec, check_string) {
        jr_error e = {};

        cr_expect_eq(jr_check_string(NULL, 0, "x", &e), 0);
        cr_expect_eq(jr_check_string("abc", 3, "x", &e), 0);
        cr_expect_eq(jr_check_string("a\nb\x7f\t", 5, "x", &e), 0, "control characters are not refused here");
        cr_expect_eq(jr_check_string("\xf0\x9f\x98\x80\xf4\x8f\xbf\xbd", 8, "x", &e), 0, "4-byte forms up to U+10FFFD");
        cr_expect_eq(jr_check_string("ab\0c", 4, "argv[3]", &e), -EINVAL);
        cr_expect_str_eq(e.message, "argv[3]: contains a NUL byte at offset 2");
        cr_expect_eq(jr_check_string("ab\xc3", 3, "env[1]", &e), -EINVAL);
        cr_expect_str_eq(e.message, "env[1]: not valid UTF-8 at byte 2");
        cr_expect_eq(jr_check_string("\xf4\x90\x80\x80", 4, "x", &e), -EINVAL, "above U+10FFFF");
        cr_expect_eq(jr_check_string("\xe0\x80\xaf", 3, "x", &e), -EINVAL, "overlong 3-byte");
        cr_expect_eq(jr_check_string("\xef\xb7\x90", 3, "x", &e), -EINVAL, "U+FDD0");
        cr_expect_eq(jr_check_string("\xf8\x88\x80\x80\x80", 5, "x", &e), -EINVAL, "5-byte form");
        cr_expect_eq(jr_check_string("\x80", 1, "x", &e), -EINVAL, "lone continuation byte");

        char *b = malloc(JR_STRING_MAX + 1);
        cr_assert_not_null(b);
        memset(b, 'a', JR_STRING_MAX + 1);
        cr_expect_eq(jr_check_string(b, JR_STRING_MAX, "x", &e), 0);
        cr_expect_eq(jr_check_string(b, JR_STRING_MAX + 1, "working_directory", &e), -E2BIG);
        cr_expect_str_eq(e.message, "working_directory: longer than 131071 bytes (the kernel's MAX_ARG_STRLEN, with the NUL)");
        free(b);
}

Test(spec, error_set_truncates_on_a_character_boundary) {
        jr_error e;
        char s[600];

        memset(s, 'a', 510);
        strcpy(s + 510, "é and more"); /* 'é' is bytes 510..511: the last one would not fit */
        cr_expect_eq(jr_error_set(&e, EINVAL, "%s", s), -EINVAL);
        cr_expect_eq(e.error, -EINVAL);
        cr_expect_eq(strlen(e.message), 510);
        cr_expect_eq(jr_error_set(NULL, -EPERM, "x"), -EPERM);
}

Test(spec, messages_quote_values_printably_and_short) {
        char *argv[] = { (char *) "rel\xff\"\\", NULL };
        char *argv2[] = { (char *) "relative-but-very-long-relative-but-very-long-relative-but-very-long-relative-but-very-long-relative", NULL };
        jr_spec s = { .argv = argv };
        jr_error e;

        cr_expect_eq(jr_spec_validate(&s, NULL, &e), -EINVAL);
        cr_expect_str_eq(e.message, "argv[0]: not valid UTF-8 at byte 3");
        argv[0] = (char *) "r\"\\";
        cr_expect_eq(jr_spec_validate(&s, NULL, &e), -EINVAL);
        cr_expect(strstr(e.message, "argv[0] \"r\\\"\\\\\": must be"), "%s", e.message);
        s.argv = argv2;
        cr_expect_eq(jr_spec_validate(&s, NULL, &e), -EINVAL);
        cr_expect(strstr(e.message, "…: must be an absolute path"), "%s", e.message);
}

Test(spec, copy_is_deep_and_done_frees) {
        char *argv[] = { (char *) LS, (char *) "-l", NULL }, *env[] = { (char *) "A=1", NULL };
        jr_io_limit io[] = { { (char *) "/dev/vda", 1, 2 } };
        jr_spec from = { .argv = argv, .env = env, .working_directory = (char *) "/tmp", .user = (char *) "root",
                         .cpu_weight = 5, .memory_max = JR_UNLIMITED, .io_limits = io, .n_io_limits = 1,
                         .network = JR_NETWORK_HOST, .private_tmp = JR_TOGGLE_OFF };
        jr_spec to;

        cr_assert_eq(jr_spec_copy(&from, &to), 0);
        cr_expect_neq(to.argv, from.argv);
        cr_expect_str_eq(to.argv[1], "-l");
        cr_expect_null(to.argv[2]);
        cr_expect_neq(to.env[0], env[0]);
        cr_expect_str_eq(to.env[0], "A=1");
        cr_expect_str_eq(to.working_directory, "/tmp");
        cr_expect_str_eq(to.user, "root");
        cr_expect_eq(to.n_io_limits, 1);
        cr_expect_neq(to.io_limits[0].device, io[0].device);
        cr_expect_str_eq(to.io_limits[0].device, "/dev/vda");
        cr_expect_eq(to.io_limits[0].write_bps, 2);
        cr_expect_eq(to.cpu_weight, 5);
        cr_expect_eq(to.memory_max, JR_UNLIMITED);
        cr_expect_eq(to.network, JR_NETWORK_HOST);
        cr_expect_eq(to.private_tmp, JR_TOGGLE_OFF);
        jr_spec_done(&to);
        cr_expect_null(to.argv);

        jr_spec empty = {};
        cr_assert_eq(jr_spec_copy(&empty, &to), 0);
        cr_expect_null(to.argv);
        cr_expect_null(to.env);
        jr_spec_done(&to);
        jr_spec_done(NULL);
}

Test(spec, states) {
        cr_expect_str_eq(jr_state_to_string(JR_STATE_STARTING), "starting");
        cr_expect_str_eq(jr_state_to_string(JR_STATE_OOM_KILLED), "oom-killed");
        cr_expect_str_eq(jr_state_to_string(JR_STATE_FAILED_TO_START), "failed-to-start");
        cr_expect_null(jr_state_to_string(0));
        cr_expect_null(jr_state_to_string(99));
        cr_expect_not(jr_state_is_final(JR_STATE_STARTING));
        cr_expect_not(jr_state_is_final(JR_STATE_RUNNING));
        for (jr_state s = JR_STATE_EXITED; s <= JR_STATE_FAILED_TO_START; s++)
                cr_expect(jr_state_is_final(s), "%s", jr_state_to_string(s));
        cr_expect_not(jr_state_is_final(0));
        cr_expect_not(jr_state_is_final(99));
}
