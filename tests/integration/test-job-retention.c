/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Ended jobs are removed, metadata and output, after the retention period
 * and beyond the count limit; never while somebody follows or waits for
 * them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <sys/stat.h>

#include "job-harness.h"
#include "time-util.h"

static Harness h;

static void teardown(void) {
        harness_teardown(&h);
}

TestSuite(job_retention, .fini = teardown, .timeout = 240);

static char *argv_true[] = { "/bin/true", NULL };

static jr_job *run_to_end(void) {
        jr_spec spec = harness_spec(argv_true);
        jr_job *j = harness_start(&h, &spec);

        harness_wait_final(&h, j);
        return j;
}

static bool job_dir_exists(const char *id) {
        char path[256];
        struct stat st;

        snprintf(path, sizeof(path), "%s/jobs/%s", h.state_dir, id);
        return stat(path, &st) == 0;
}

static bool job_is_gone(void *userdata) {
        return !jr_manager_get_job(h.manager, userdata);
}

Test(job_retention, an_ended_job_goes_after_the_retention_period) {
        char id[JR_ID_STRING_MAX];
        jr_job *j;

        harness_setup_config(&h, (jr_manager_config) { .retention_usec = 2 * USEC_PER_SEC });
        j = run_to_end();
        snprintf(id, sizeof(id), "%s", jr_job_get_id(j));
        cr_assert(job_dir_exists(id));

        harness_run_until(&h, job_is_gone, id);
        cr_assert_not(job_dir_exists(id), "the job is gone but its directory is not");
}

Test(job_retention, beyond_the_count_the_oldest_ended_jobs_go) {
        char ids[4][JR_ID_STRING_MAX];
        jr_job **list = NULL;

        harness_setup_config(&h, (jr_manager_config) { .max_ended_jobs = 2 });
        for (int i = 0; i < 4; i++)
                snprintf(ids[i], sizeof(ids[i]), "%s", jr_job_get_id(run_to_end()));

        harness_run_until(&h, job_is_gone, ids[1]);
        cr_assert_null(jr_manager_get_job(h.manager, ids[0]));
        cr_assert_not(job_dir_exists(ids[0]));
        cr_assert_not(job_dir_exists(ids[1]));
        cr_assert_not_null(jr_manager_get_job(h.manager, ids[2]));
        cr_assert_not_null(jr_manager_get_job(h.manager, ids[3]));
        cr_assert_eq(jr_manager_list(h.manager, NULL, &list), 2);
        free(list);
}

/* A running job is never counted nor removed. */
Test(job_retention, running_jobs_stay) {
        char *argv[] = { "/bin/sh", "-c", "echo ready; exec sleep 600", NULL };
        jr_spec spec = harness_spec(argv);
        char id[JR_ID_STRING_MAX];
        jr_error e = {};
        jr_job *running;

        harness_setup_config(&h, (jr_manager_config) { .retention_usec = 1, .max_ended_jobs = 1 });
        running = harness_start(&h, &spec);
        harness_wait_output(&h, running, "ready");
        snprintf(id, sizeof(id), "%s", jr_job_get_id(run_to_end()));
        harness_run_until(&h, job_is_gone, id);
        cr_assert_eq(jr_manager_get_job(h.manager, jr_job_get_id(running)), running);
        cr_assert_eq(jr_job_stop(running, USEC_PER_SEC, "tester", &e), 0, "%s", e.message);
        harness_wait_final(&h, running);
}

static void on_change(jr_job *j, void *userdata) {
        (void) j;
        (void) userdata;
}

/* Somebody follows the output of an ended job, or waits on it: it stays
 * until they are done, then goes. */
Test(job_retention, a_job_in_use_stays_until_nobody_uses_it) {
        char id[JR_ID_STRING_MAX];
        jr_follower *f = NULL;
        jr_watch *w = NULL;
        jr_error e = {};
        jr_job *j;

        harness_setup_config(&h, (jr_manager_config) { .retention_usec = 3 * USEC_PER_SEC });
        j = run_to_end();
        snprintf(id, sizeof(id), "%s", jr_job_get_id(j));
        cr_assert_eq(jr_follower_new(j, 0, 0, JR_STREAMS_ALL, NULL, NULL, &f, &e), 0, "%s", e.message);
        cr_assert_eq(jr_job_add_watch(j, on_change, NULL, &w), 0);

        /* Well past the retention period: the sweep has run and skipped it. */
        uint64_t until = now_usec(CLOCK_MONOTONIC) + 6 * USEC_PER_SEC;
        while (now_usec(CLOCK_MONOTONIC) < until)
                cr_assert_geq(sd_event_run(h.event, 100 * 1000), 0);
        cr_assert_eq(jr_manager_get_job(h.manager, id), j, "removed while followed");

        jr_follower_free(f);
        until = now_usec(CLOCK_MONOTONIC) + 2 * USEC_PER_SEC;
        while (now_usec(CLOCK_MONOTONIC) < until)
                cr_assert_geq(sd_event_run(h.event, 100 * 1000), 0);
        cr_assert_eq(jr_manager_get_job(h.manager, id), j, "removed while waited for");

        jr_watch_free(w);
        harness_run_until(&h, job_is_gone, id);
        cr_assert_not(job_dir_exists(id));
}

/* Jobs that expired while the daemon was away go when it comes back. */
Test(job_retention, expired_jobs_go_when_the_manager_starts) {
        char id[JR_ID_STRING_MAX];

        harness_setup(&h);
        snprintf(id, sizeof(id), "%s", jr_job_get_id(run_to_end()));
        h.manager = jr_manager_free(h.manager);

        harness_new_manager(&h, (jr_manager_config) { .retention_usec = 1 });
        cr_assert_null(jr_manager_get_job(h.manager, id), "still there after the restart");
        cr_assert_not(job_dir_exists(id));
}
