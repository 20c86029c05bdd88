/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Requested limits land in the job's cgroup files, and hold. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "job-harness.h"

static Harness h;

static void setup(void) {
        harness_setup(&h);
}

static void teardown(void) {
        harness_teardown(&h);
}

TestSuite(job_limits, .init = setup, .fini = teardown, .timeout = 240);

static void stop(jr_job *j) {
        jr_error e = {};

        cr_assert_eq(jr_job_stop(j, 5 * 1000000ull, "tester", &e), 0, "%s", e.message);
        harness_wait_final(&h, j);
}

Test(job_limits, land_in_the_cgroup_files) {
        char *argv[] = { "/bin/sleep", "600", NULL };
        jr_io_limit io = { .device = "/dev/vda", .read_bps = 10u << 20, .write_bps = 5u << 20 };
        jr_spec spec = harness_spec(argv);
        char expected_io[128];
        struct stat st;
        jr_job *j;
        char *dir;

        spec.cpu_quota_percent = 50;
        spec.cpu_weight = 42;
        spec.memory_max = 256u << 20;
        spec.io_weight = 77;
        spec.io_limits = &io;
        spec.n_io_limits = 1;
        spec.tasks_max = 33;

        j = harness_start(&h, &spec);
        harness_wait_started(&h, j);
        cr_assert_eq(jr_job_get_state(j), JR_STATE_RUNNING);
        dir = harness_cgroup_dir(j);

        cr_expect_str_eq(harness_read_file(dir, "cpu.max"), "50000 100000");
        cr_expect_str_eq(harness_read_file(dir, "cpu.weight"), "42");
        cr_expect_str_eq(harness_read_file(dir, "memory.max"), "268435456");
        cr_expect_str_eq(harness_read_file(dir, "memory.swap.max"), "0");
        cr_expect_str_eq(harness_read_file(dir, "io.weight"), "default 77");
        cr_assert_eq(stat("/dev/vda", &st), 0);
        snprintf(expected_io, sizeof(expected_io), "%u:%u rbps=10485760 wbps=5242880 riops=max wiops=max",
                 major(st.st_rdev), minor(st.st_rdev));
        cr_expect_str_eq(harness_read_file(dir, "io.max"), expected_io);
        cr_expect_str_eq(harness_read_file(dir, "pids.max"), "33");

        stop(j);
        free(dir);
}

Test(job_limits, a_fork_bomb_is_contained_and_stop_still_works) {
        char *argv[] = { "/bin/sh", "-c", "b() { b | b & }; b; sleep 600", NULL };
        jr_spec spec = harness_spec(argv);
        jr_status s;
        jr_job *j;
        char *dir;

        spec.tasks_max = 24;
        j = harness_start(&h, &spec);
        harness_wait_started(&h, j);
        dir = harness_cgroup_dir(j);
        cr_expect_str_eq(harness_read_file(dir, "pids.max"), "24");
        /* Whatever it reached, it cannot pass the limit. */
        cr_assert_leq(strtoul(harness_read_file(dir, "pids.current"), NULL, 10), 24);

        stop(j);
        jr_job_get_status(j, &s);
        cr_assert_eq(s.state, JR_STATE_STOPPED, "state %s", jr_state_to_string(s.state));
        free(dir);
}

/* Processes whose command line contains marker, anywhere on the system. */
static int count_processes_with(const char *marker) {
        DIR *d = opendir("/proc");
        struct dirent *de;
        int n = 0;

        cr_assert_not_null(d);
        while ((de = readdir(d))) {
                char path[300], cmdline[4096];
                size_t len;
                FILE *f;

                if (!isdigit((unsigned char) de->d_name[0]))
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
                f = fopen(path, "re");
                if (!f)
                        continue;
                len = fread(cmdline, 1, sizeof(cmdline) - 1, f);
                fclose(f);
                for (size_t i = 0; i < len; i++)
                        if (cmdline[i] == '\0')
                                cmdline[i] = ' ';
                cmdline[len] = '\0';
                n += strstr(cmdline, marker) != NULL;
        }
        closedir(d);
        return n;
}

Test(job_limits, a_setsid_double_forked_grandchild_does_not_survive_stop) {
        /* sleep's argument is the marker (computed, so that no shell's own
         * command line contains it); the grandchild escapes the job's session
         * and process group, but not its cgroup. */
        char *argv[] = { "/bin/sh", "-c",
                         "setsid sh -c '/bin/sleep $((987000 + 654)) & exit 0'; "
                         "until pgrep -f \"sleep $((987000 + 654))\" > /dev/null; do sleep 0.05; done; "
                         "echo forked; /bin/sleep $((987000 + 655))", NULL };
        jr_spec spec = harness_spec(argv);
        char *out, *err;
        size_t out_len, err_len;
        jr_job *j;

        j = harness_start(&h, &spec);
        harness_wait_started(&h, j);
        /* "forked" comes once the grandchild runs sleep. */
        harness_wait_output(&h, j, "forked");
        cr_assert_eq(count_processes_with("987654"), 1, "the grandchild should be running");
        stop(j);
        cr_assert_eq(count_processes_with("987654"), 0, "the grandchild survived the stop");
        cr_assert_eq(count_processes_with("987655"), 0);
        harness_read_output(&h, j, &out, &out_len, &err, &err_len);
        free(out);
        free(err);
}
