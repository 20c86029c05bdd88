/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* main() of every integration test binary: the tests need systemd as PID 1
 * on cgroup v2, i.e. the test VM (tests/vm/vm-run), whose harness unit sets
 * JOBRUNNER_TEST_VM=1.  Anywhere else the binary exits 77, which meson
 * reports as SKIP, after saying why. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vm-env.h"

/* The helper programs that units execute live in the build tree, which may
 * be under /tmp, and units get a private /tmp (DynamicUser=yes implies
 * PrivateTmp=yes): run them from a copy in /run instead. */
static int relocate_for_units(const char *dir, const char *variable) {
        const char *path = getenv(variable), *base;
        char target[256], command[600];

        if (!path)
                return 0;
        base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        snprintf(target, sizeof(target), "%s/%s", dir, base);
        snprintf(command, sizeof(command), "install -m 0755 '%s' '%s'", path, target);
        if (system(command) != 0) {
                fprintf(stderr, "cannot copy %s to %s\n", path, target);
                return -1;
        }
        return setenv(variable, target, 1);
}

int main(int argc, char *argv[]) {
        struct criterion_test_set *tests;
        int result = 0;

        if (!getenv("JOBRUNNER_TEST_VM")) {
                printf("SKIP: not inside the jobrunner test VM (PID 1 here is '%s', /sys/fs/cgroup is %s); "
                       "these tests run there via the 'vm' suite or tests/vm/vm-run\n",
                       vm_env_pid1_name(), vm_env_cgroup_fs_name());
                return 77;
        }

        /* One directory per test binary: meson runs them in parallel. */
        char dir[] = "/run/jobrunner-test.XXXXXX";
        if (!mkdtemp(dir) || chmod(dir, 0755) < 0 ||
            relocate_for_units(dir, "JOBRUNNER_INIT") < 0 || relocate_for_units(dir, "JOBRUNNER_MEMHOG") < 0)
                return 1;

        tests = criterion_initialize();
        if (criterion_handle_args(argc, argv, true))
                result = !criterion_run_all_tests(tests);
        criterion_finalize(tests);
        return result;
}
