/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-usage.h"

static char root[] = "/tmp/jobrunner-cgroup-test.XXXXXX";

static void put(const char *name, const char *content) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/jobrunner.slice/job.service/%s", root, name);
        f = fopen(path, "we");
        cr_assert_not_null(f);
        fputs(content, f);
        fclose(f);
}

static void setup(void) {
        char path[512];

        cr_assert_not_null(mkdtemp(root));
        snprintf(path, sizeof(path), "%s/jobrunner.slice", root);
        cr_assert_eq(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/jobrunner.slice/job.service", root);
        cr_assert_eq(mkdir(path, 0755), 0);
}

static void teardown(void) {
        char cmd[600];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        (void) !system(cmd);
}

TestSuite(cgroup_usage, .init = setup, .fini = teardown);

Test(cgroup_usage, reads_every_controller) {
        jr_usage u;

        put("cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
        put("memory.current", "4096\n");
        put("memory.peak", "8192\n");
        put("io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n"
                       "253:0 rbytes=10 wbytes=20 rios=1 wios=1 dbytes=0 dios=0\n");
        put("pids.current", "3\n");

        cr_assert_eq(cgroup_read_usage(root, "/jobrunner.slice/job.service", &u), 0);
        cr_assert_eq(u.cpu_usage_ns, 1500000);
        cr_assert_eq(u.memory_current, 4096);
        cr_assert_eq(u.memory_peak, 8192);
        cr_assert_eq(u.io_read_bytes, 110);
        cr_assert_eq(u.io_write_bytes, 220);
        cr_assert_eq(u.tasks_current, 3);
}

Test(cgroup_usage, missing_files_read_as_zero) {
        jr_usage u;

        put("memory.current", "4096\n");
        cr_assert_eq(cgroup_read_usage(root, "jobrunner.slice/job.service", &u), 0);
        cr_assert_eq(u.memory_current, 4096);
        cr_assert_eq(u.memory_peak, 0);
        cr_assert_eq(u.cpu_usage_ns, 0);
        cr_assert_eq(u.tasks_current, 0);
}

Test(cgroup_usage, a_gone_cgroup_is_enoent) {
        jr_usage u;

        cr_assert_eq(cgroup_read_usage(root, "/jobrunner.slice/gone.service", &u), -ENOENT);
}
