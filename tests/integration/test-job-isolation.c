/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a job can see: its own PID namespace, only a loopback network, its
 * own mounts, and never uid 0 by default. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job-harness.h"

static Harness h;

static void setup(void) {
        harness_setup(&h);
}

static void teardown(void) {
        harness_teardown(&h);
}

TestSuite(job_isolation, .init = setup, .fini = teardown, .timeout = 240);

static char *run_for_output(jr_spec *spec, bool as_admin) {
        jr_job *j = harness_start_as(&h, spec, as_admin);
        char *out, *err;
        size_t out_len, err_len;
        jr_status s;

        harness_read_output(&h, j, &out, &out_len, &err, &err_len);
        jr_job_get_status(j, &s);
        cr_assert_eq(s.state, JR_STATE_EXITED, "state %s, stderr: %s", jr_state_to_string(s.state), err);
        cr_assert_eq(s.exit_code, 0, "stderr: %s", err);
        free(err);
        return out;
}

Test(job_isolation, the_pid_namespace_shows_only_the_job) {
        char *argv[] = { "/bin/sh", "-c", "echo pid=$$; for p in /proc/[0-9]*; do echo proc=${p#/proc/}; done", NULL };
        jr_spec spec = harness_spec(argv);
        char *out = run_for_output(&spec, false);
        int procs = 0;

        printf("%s", out);
        for (char *p = strstr(out, "proc="); p; p = strstr(p + 1, "proc=")) {
                cr_assert_lt(atoi(p + 5), 10, "a foreign process is visible: %s", out);
                procs++;
        }
        /* The namespace's init, the shell, and nothing else. */
        cr_assert_leq(procs, 3, "%s", out);
        cr_assert_lt(atoi(strstr(out, "pid=") + 4), 10, "%s", out);
        free(out);
}

/* Host PIDs, but only the job's own processes: ProtectProc=invisible hides
 * every other user's, PID 1 among them. */
Test(job_isolation, without_a_pid_namespace_only_its_own_processes_are_visible) {
        char *argv[] = { "/bin/sh", "-c",
                         "echo pid=$$; [ -d /proc/$$ ] && echo own; [ -e /proc/1 ] && echo pid-1; exit 0", NULL };
        jr_spec spec = harness_spec(argv);
        char *out;

        spec.pid_namespace = JR_TOGGLE_OFF;
        out = run_for_output(&spec, false);
        printf("%s", out);
        cr_assert_gt(atoi(strstr(out, "pid=") + 4), 10, "not a host PID: %s", out);
        cr_assert(strstr(out, "\nown\n"), "%s", out);
        cr_assert_null(strstr(out, "pid-1"), "PID 1 is visible: %s", out);
        free(out);
}

Test(job_isolation, network_none_has_only_loopback) {
        char *argv[] = { "/bin/sh", "-c", "sed -n 's/^ *\\([^:]*\\):.*/\\1/p' /proc/net/dev", NULL };
        jr_spec spec = harness_spec(argv);
        char *out = run_for_output(&spec, false);

        cr_assert_str_eq(out, "lo\n");
        free(out);
}

Test(job_isolation, the_default_user_is_not_root) {
        char *argv[] = { "/usr/bin/id", "-u", NULL };
        jr_spec spec = harness_spec(argv);
        char *out = run_for_output(&spec, false);

        printf("job uid: %s", out);
        cr_assert_neq(atoi(out), 0);
        cr_assert_neq(out[0], '\0');
        free(out);
}

Test(job_isolation, a_mount_made_by_the_job_is_invisible_outside) {
        /* Mounting needs root: as an admin may, run the job as root. */
        char *argv[] = { "/bin/sh", "-c",
                         "mount -t tmpfs jobrunner-test-mount /mnt && grep -q jobrunner-test-mount /proc/self/mountinfo "
                         "&& echo mounted && exec sleep 600", NULL };
        jr_spec spec = harness_spec(argv);
        jr_error e = {};
        char *mountinfo = NULL;
        size_t size = 0;
        FILE *f;
        jr_job *j;

        spec.user = "root";
        j = harness_start_as(&h, &spec, true);
        harness_wait_output(&h, j, "mounted");

        f = fopen("/proc/1/mountinfo", "re");
        cr_assert_not_null(f);
        cr_assert_gt(getdelim(&mountinfo, &size, '\0', f), 0);
        fclose(f);
        cr_assert_null(strstr(mountinfo, "jobrunner-test-mount"), "the job's mount leaked out");
        free(mountinfo);

        cr_assert_eq(jr_job_stop(j, 5 * 1000000ull, "tester", &e), 0, "%s", e.message);
        harness_wait_final(&h, j);
}
