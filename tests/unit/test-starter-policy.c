/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* jobrunner-starter's policy file (starter/policy.c): the defaults of a
 * missing file, every key, and every kind of line refused with its file and
 * line.  What the policy does to requests is in test-starter-request.c. */

#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "leak-check.h"
#include "macro.h"
#include "policy.h"

static char tmp[PATH_MAX], conf[PATH_MAX + 32];

static void setup(void) {
        snprintf(tmp, sizeof tmp, "/tmp/jr-test-starter-policy.XXXXXX");
        cr_assert_not_null(mkdtemp(tmp));
        snprintf(conf, sizeof conf, "%s/starter.conf", tmp);
}

static void teardown(void) {
        (void) unlink(conf);
        (void) rmdir(tmp);
        abort_on_leaks();
}

TestSuite(starter_policy, .init = setup, .fini = teardown);

static void write_file(const char *path, const char *text, size_t len) {
        FILE *f = fopen(path, "we");

        cr_assert_not_null(f, "%s: %m", path);
        cr_assert_eq(fwrite(text, 1, len, f), len);
        cr_assert_eq(fclose(f), 0);
}

/* Loads text as the policy file. */
static int load(const char *text, StarterPolicy *p, jr_error *e) {
        write_file(conf, text, strlen(text));
        return starter_policy_load(conf, p, e);
}

static void expect_defaults(const StarterPolicy *p) {
        cr_expect_null(p->run_as_users);
        cr_expect_eq(p->max_memory, STARTER_NO_CAP);
        cr_expect_eq(p->max_tasks, STARTER_NO_CAP);
        cr_expect_eq(p->max_cpu_quota_percent, STARTER_NO_CAP);
        cr_expect(p->allow_host_network);
        cr_expect(p->allow_no_pid_namespace);
        cr_expect(p->allow_no_private_mounts);
        cr_expect(p->allow_no_private_tmp);
}

Test(starter_policy, missing_file_is_the_defaults) {
        StarterPolicy p = {};
        jr_error e = {};

        cr_assert_eq(starter_policy_load(conf, &p, &e), 0, "%s", e.message);
        cr_expect_str_eq(p.path, conf);
        expect_defaults(&p);
        cr_expect_not(starter_policy_allows_user(&p, "root"));
        cr_expect_not(starter_policy_allows_user(&p, NULL));
        starter_policy_done(&p);
}

Test(starter_policy, empty_file_and_comments_are_the_defaults) {
        StarterPolicy p = {};
        jr_error e = {};

        cr_assert_eq(load("# jobrunner-starter's policy\n\n   \n\t# indented comment\n", &p, &e), 0, "%s",
                     e.message);
        expect_defaults(&p);
        starter_policy_done(&p);
}

Test(starter_policy, every_key) {
        StarterPolicy p = {};
        jr_error e = {};

        cr_assert_eq(load("# the build hosts\n"
                          "RunAsUsers=builder  deploy\troot builder\n"
                          "MaxMemory = 4G\n"
                          "  MaxTasks=512  \r\n"
                          "MaxCPUQuota=400%\n"
                          "\n"
                          "AllowHostNetwork=no\n"
                          "AllowNoPIDNamespace=no\n"
                          "AllowNoPrivateMounts=no\n"
                          "AllowNoPrivateTmp=no", /* no newline at the end */
                          &p, &e), 0, "%s", e.message);
        /* In order, without the repeated name. */
        cr_assert_not_null(p.run_as_users);
        cr_expect_str_eq(p.run_as_users[0], "builder");
        cr_expect_str_eq(p.run_as_users[1], "deploy");
        cr_expect_str_eq(p.run_as_users[2], "root");
        cr_expect_null(p.run_as_users[3]);
        cr_expect(starter_policy_allows_user(&p, "root"));
        cr_expect(starter_policy_allows_user(&p, "deploy"));
        cr_expect_not(starter_policy_allows_user(&p, "Deploy"));
        cr_expect_not(starter_policy_allows_user(&p, "deplo"));
        cr_expect_eq(p.max_memory, UINT64_C(4) << 30);
        cr_expect_eq(p.max_tasks, 512);
        cr_expect_eq(p.max_cpu_quota_percent, 400);
        cr_expect_not(p.allow_host_network);
        cr_expect_not(p.allow_no_pid_namespace);
        cr_expect_not(p.allow_no_private_mounts);
        cr_expect_not(p.allow_no_private_tmp);
        starter_policy_done(&p);
}

Test(starter_policy, values_at_their_ends) {
        static const struct {
                const char *text;
                uint64_t memory, tasks, cpu;
        } table[] = {
                { "MaxMemory=1M\nMaxTasks=1\nMaxCPUQuota=1%\n", 1u << 20, 1, 1 },
                { "MaxMemory=1048576\nMaxTasks=4194304\nMaxCPUQuota=100000%\n", 1u << 20, 4194304, 100000 },
                { "MaxMemory=1.5G\n", UINT64_C(1536) << 20, STARTER_NO_CAP, STARTER_NO_CAP },
                { "MaxMemory=2T\n", UINT64_C(2) << 40, STARTER_NO_CAP, STARTER_NO_CAP },
                { "MaxMemory=infinity\nMaxTasks=infinity\nMaxCPUQuota=infinity\n",
                  STARTER_NO_CAP, STARTER_NO_CAP, STARTER_NO_CAP },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                StarterPolicy p = {};
                jr_error e = {};

                cr_assert_eq(load(table[i].text, &p, &e), 0, "%s: %s", table[i].text, e.message);
                cr_expect_eq(p.max_memory, table[i].memory, "%s", table[i].text);
                cr_expect_eq(p.max_tasks, table[i].tasks, "%s", table[i].text);
                cr_expect_eq(p.max_cpu_quota_percent, table[i].cpu, "%s", table[i].text);
                starter_policy_done(&p);
        }
}

Test(starter_policy, yes_is_yes) {
        StarterPolicy p = {};
        jr_error e = {};

        cr_assert_eq(load("AllowHostNetwork=yes\nAllowNoPIDNamespace=yes\nAllowNoPrivateMounts=yes\n"
                          "AllowNoPrivateTmp=yes\nRunAsUsers=\n", &p, &e), 0, "%s", e.message);
        expect_defaults(&p);
        starter_policy_done(&p);
}

Test(starter_policy, user_names) {
        StarterPolicy p = {};
        jr_error e = {};

        /* As jr_spec_validate() takes them: 31 characters at most. */
        cr_assert_eq(load("RunAsUsers=_x a234567890123456789012345678901 Build-bot_2\n", &p, &e), 0, "%s", e.message);
        cr_expect(starter_policy_allows_user(&p, "_x"));
        cr_expect(starter_policy_allows_user(&p, "a234567890123456789012345678901"));
        cr_expect(starter_policy_allows_user(&p, "Build-bot_2"));
        cr_expect_not(starter_policy_allows_user(&p, "root"));
        starter_policy_done(&p);
}

/* Every refusal names the file and the line, and says what is wrong. */
Test(starter_policy, refused_lines) {
        static const struct {
                const char *text;
                unsigned line;
                const char *says;
        } table[] = {
                { "MaxMemory=4G\nFoo=1\n", 2, "unknown key \"Foo\" (known: RunAsUsers, MaxMemory, " },
                { "maxmemory=4G\n", 1, "unknown key \"maxmemory\"" },
                { "# a comment\n\nMaxMemory 4G\n", 3, "not of the form Key=Value" },
                { "[Starter]\n", 1, "not of the form Key=Value" },
                { "=4G\n", 1, "no key before \"=\"" },
                { "MaxMemory=\n", 1, "MaxMemory= has no value" },
                { "AllowNoPIDNamespace=  \n", 1, "AllowNoPIDNamespace= has no value" },
                { "RunAsUsers=alice\nMaxTasks=5\nRunAsUsers=bob\n", 3,
                  "RunAsUsers= is set a second time (first on line 1)" },
                { "MaxMemory=4X\n", 1, "MaxMemory=4X: not a size" },
                { "MaxMemory=-1\n", 1, "MaxMemory=-1: not a size" },
                { "MaxMemory=0\n", 1, "MaxMemory=0: below 1M" },
                { "MaxMemory=1023K\n", 1, "MaxMemory=1023K: below 1M" },
                { "MaxMemory=99999999T\n", 1, "MaxMemory=99999999T: too large" },
                { "MaxMemory=unlimited\n", 1, "MaxMemory=unlimited: not a size" },
                { "MaxTasks=0\n", 1, "MaxTasks=0: must be 1..4194304 or infinity" },
                { "MaxTasks=4194305\n", 1, "MaxTasks=4194305: must be 1..4194304" },
                { "MaxTasks=ten\n", 1, "MaxTasks=ten: not a number or infinity" },
                { "MaxTasks=10K\n", 1, "MaxTasks=10K: not a number" },
                { "MaxCPUQuota=400\n", 1, "MaxCPUQuota=400: not a percentage (e.g. 400%) or infinity" },
                { "MaxCPUQuota=%\n", 1, "MaxCPUQuota=%: not a percentage" },
                { "MaxCPUQuota=4.5%\n", 1, "MaxCPUQuota=4.5%: not a percentage" },
                { "MaxCPUQuota=0%\n", 1, "MaxCPUQuota=0%: must be 1%..100000% or infinity" },
                { "MaxCPUQuota=100001%\n", 1, "MaxCPUQuota=100001%: must be 1%..100000%" },
                { "AllowHostNetwork=true\n", 1, "AllowHostNetwork=true: must be yes or no" },
                { "AllowNoPrivateTmp=No\n", 1, "AllowNoPrivateTmp=No: must be yes or no" },
                { "AllowNoPrivateMounts=1\n", 1, "AllowNoPrivateMounts=1: must be yes or no" },
                { "RunAsUsers=alice 1bob\n", 1, "RunAsUsers=: \"1bob\" is not a user name" },
                { "RunAsUsers=alice,bob\n", 1, "RunAsUsers=: \"alice,bob\" is not a user name" },
                { "RunAsUsers=0\n", 1, "RunAsUsers=: \"0\" is not a user name" },
                /* 32 characters */
                { "RunAsUsers=a234567890123456789012345678901x\n", 1,
                  "RunAsUsers=: \"a234567890123456789012345678901x\" is not a user name" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *want = NULL;
                StarterPolicy p = {};
                jr_error e = {};
                int r;

                r = load(table[i].text, &p, &e);
                cr_expect_eq(r, -EBADMSG, "%s: %d", table[i].text, r);
                cr_expect_eq(e.error, r);
                cr_assert_gt(asprintf(&want, "%s:%u: %s", conf, table[i].line, table[i].says), 0);
                cr_expect_eq(strncmp(e.message, want, strlen(want)), 0, "%s: '%s', not '%s...'", table[i].text,
                             e.message, want);
                /* Untouched on failure: nothing to free. */
                cr_expect_null(p.path);
                cr_expect_null(p.run_as_users);
        }
}

Test(starter_policy, nul_byte) {
        static const char text[] = "MaxTasks=5\nMaxMemory=4G\0\n";
        _cleanup_free_ char *want = NULL;
        StarterPolicy p = {};
        jr_error e = {};

        write_file(conf, text, sizeof text - 1);
        cr_expect_eq(starter_policy_load(conf, &p, &e), -EBADMSG);
        cr_assert_gt(asprintf(&want, "%s:2: contains a NUL byte", conf), 0);
        cr_expect_str_eq(e.message, want);
}

/* Only a missing file is the defaults: one that cannot be read is an
 * error, never a policy that allows everything. */
Test(starter_policy, unreadable) {
        _cleanup_free_ char *want = NULL, *below = NULL;
        StarterPolicy p = {};
        jr_error e = {};

        cr_expect_eq(starter_policy_load(tmp, &p, &e), -EISDIR);
        cr_assert_gt(asprintf(&want, "%s: cannot read: %s", tmp, strerror(EISDIR)), 0);
        cr_expect_str_eq(e.message, want);
        cr_expect_null(p.path);

        /* Below a file: missing too, but not simply so. */
        write_file(conf, "", 0);
        cr_assert_gt(asprintf(&below, "%s/starter.conf", conf), 0);
        cr_expect_eq(starter_policy_load(below, &p, &e), -ENOTDIR);
        cr_expect_null(p.path);
}

Test(starter_policy, format_size) {
        char buf[STARTER_SIZE_STRING_MAX];

        cr_expect_str_eq(starter_format_size(0, buf), "0");
        cr_expect_str_eq(starter_format_size(1000, buf), "1000");
        cr_expect_str_eq(starter_format_size(1024, buf), "1K");
        cr_expect_str_eq(starter_format_size(UINT64_C(1536) << 20, buf), "1536M");
        cr_expect_str_eq(starter_format_size(UINT64_C(4) << 30, buf), "4G");
        cr_expect_str_eq(starter_format_size(UINT64_C(1) << 50, buf), "1024T");
        cr_expect_str_eq(starter_format_size(UINT64_MAX, buf), "18446744073709551615");
}
