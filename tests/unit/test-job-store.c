/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Job metadata survives a save/load round trip, whatever its strings hold. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "job-store.h"

static const char *const tricky[] = {
        "plain", "", "with space", "new\nline", "back\\slash", "\\n literally", "tab\there",
        "\x01\x1f\x7f", "ünïcödé ✓", "=equals=", "trailing\\",
};

Test(job_store, escape_round_trips) {
        for (size_t i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
                char *text = NULL, *line, *back;
                size_t len = 0;
                FILE *f = open_memstream(&text, &len);

                cr_assert_eq(job_store_write_value(f, "k", tricky[i]), 0);
                fclose(f);
                cr_assert_eq(strchr(text, '\n'), text + len - 1, "one line only for %s", tricky[i]);
                text[len - 1] = '\0';
                line = text + 2;        /* after "k=" */
                cr_assert_eq(job_store_unescape(line, &back), 0);
                cr_assert_str_eq(back, tricky[i]);
                free(back);
                free(text);
        }
}

Test(job_store, bad_escapes_are_refused) {
        char *out;

        cr_assert_eq(job_store_unescape("\\q", &out), -EBADMSG);
        cr_assert_eq(job_store_unescape("\\x0", &out), -EBADMSG);
        cr_assert_eq(job_store_unescape("\\x00", &out), -EBADMSG);   /* no NUL inside a C string */
}

Test(job_store, a_job_round_trips) {
        char state[] = "/tmp/jobrunner-store-test.XXXXXX", jobs[128], cmd[256];
        char *argv[] = { (char *) "/bin/echo", (char *) "a\nb", (char *) "$HOME", NULL };
        char *env[] = { (char *) "A=1", (char *) "B=x y", NULL };
        jr_io_limit io = { .device = (char *) "/dev/vda", .read_bps = 10, .write_bps = 20 };
        jr_spec spec = { .argv = argv, .env = env, .working_directory = (char *) "/srv",
                         .memory_max = 1u << 30, .cpu_quota_percent = 150, .io_limits = &io, .n_io_limits = 1,
                         .tasks_max = JR_UNLIMITED, .network = JR_NETWORK_HOST, .pid_namespace = JR_TOGGLE_OFF };
        jr_manager m = { .state_dir = state, .slice = (char *) "jobrunner.slice" };
        jr_job *j, *back;

        cr_assert_not_null(mkdtemp(state));
        snprintf(jobs, sizeof(jobs), "%s/jobs", state);
        cr_assert_eq(mkdir(jobs, 0700), 0);
        cr_assert_eq(job_new(&m, "0123456789abcdef0123456789abcdef", "alice", &spec, &j), 0);
        cr_assert_eq(mkdir(j->dir, 0700), 0);
        j->state = JR_STATE_STOPPED;
        j->signal = 15;
        j->killed_after_grace = true;
        j->stopped_by = strdup("bob");
        j->start_time_us = 1700000000000000;
        j->usage.memory_peak = 12345;
        cr_assert_eq(job_store_save(j), 0);

        cr_assert_eq(job_store_load(&m, j->id, &back), 0);
        cr_assert_str_eq(back->owner, "alice");
        cr_assert_str_eq(back->spec.argv[1], "a\nb");
        cr_assert_str_eq(back->spec.argv[2], "$HOME");
        cr_assert_null(back->spec.argv[3]);
        cr_assert_str_eq(back->spec.env[1], "B=x y");
        cr_assert_str_eq(back->spec.working_directory, "/srv");
        cr_assert_eq(back->spec.memory_max, 1u << 30);
        cr_assert_eq(back->spec.cpu_quota_percent, 150);
        cr_assert_eq(back->spec.tasks_max, JR_UNLIMITED);
        cr_assert_eq(back->spec.network, JR_NETWORK_HOST);
        cr_assert_eq(back->spec.pid_namespace, JR_TOGGLE_OFF);
        cr_assert_eq(back->spec.n_io_limits, 1);
        cr_assert_str_eq(back->spec.io_limits[0].device, "/dev/vda");
        cr_assert_eq(back->spec.io_limits[0].write_bps, 20);
        cr_assert_eq(back->state, JR_STATE_STOPPED);
        cr_assert_eq(back->signal, 15);
        cr_assert(back->killed_after_grace);
        cr_assert_str_eq(back->stopped_by, "bob");
        cr_assert_eq(back->start_time_us, 1700000000000000);
        cr_assert_eq(back->usage.memory_peak, 12345);

        job_free(back);
        job_free(j);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
        (void) !system(cmd);
}
