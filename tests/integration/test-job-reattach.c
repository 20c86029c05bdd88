/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A restarted library (a new manager over the same state directory, on a
 * new bus connection) lists past jobs, re-attaches to running units and
 * reads the results of jobs that ended while nobody was watching. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "job-harness.h"
#include "time-util.h"

static Harness h;

static void setup(void) {
        harness_setup(&h);
}

static void teardown(void) {
        harness_teardown(&h);
}

TestSuite(job_reattach, .init = setup, .fini = teardown, .timeout = 300);

/* The daemon goes away: the manager, its pipes and its bus connection (and
 * with it the units' AddRef references). */
static void restart(void) {
        jr_error e = {};

        jr_manager_free(h.manager);
        sd_bus_flush_close_unref(h.bus);
        cr_assert_geq(sd_bus_open_system(&h.bus), 0);
        cr_assert_geq(sd_bus_attach_event(h.bus, h.event, 0), 0);
        cr_assert_eq(jr_manager_new(h.event, h.bus,
                                    &(jr_manager_config) { .state_dir = h.state_dir,
                                                           .init_path = getenv("JOBRUNNER_INIT") },
                                    &h.manager, &e),
                     0, "%s", e.message);
}

static jr_job *start_and_wait_output(char **argv, const char *needle) {
        jr_spec spec = harness_spec(argv);
        jr_job *j = harness_start(&h, &spec);

        harness_wait_output(&h, j, needle);
        return j;
}

Test(job_reattach, a_running_job_is_reattached_and_can_be_stopped) {
        char *argv[] = { "/bin/sh", "-c", "echo started; exec sleep 600", NULL };
        char id[JR_ID_STRING_MAX];
        char *out, *err;
        size_t out_len, err_len;
        jr_error e = {};
        jr_status s;
        jr_job *j;

        j = start_and_wait_output(argv, "started");
        snprintf(id, sizeof(id), "%s", jr_job_get_id(j));
        restart();

        j = jr_manager_get_job(h.manager, id);
        cr_assert_not_null(j, "the restarted manager does not know job %s", id);
        harness_wait_started(&h, j);
        /* Its state comes from systemd once the re-attach has read it. */
        cr_assert_eq(jr_job_get_state(j), JR_STATE_RUNNING);
        cr_assert_eq(jr_job_stop(j, 5 * 1000000ull, "tester", &e), 0, "%s", e.message);
        harness_wait_final(&h, j);
        jr_job_get_status(j, &s);
        cr_assert_eq(s.state, JR_STATE_STOPPED, "state %s", jr_state_to_string(s.state));

        /* What was captured before is still there. */
        harness_read_output(&h, j, &out, &out_len, &err, &err_len);
        cr_assert_str_eq(out, "started\n");
        free(out);
        free(err);
}

static bool is_final_or_unknown(void *userdata) {
        jr_job *j = userdata;

        return jr_state_is_final(jr_job_get_state(j));
}

Test(job_reattach, results_of_jobs_that_ended_while_away_are_read_from_systemd) {
        /* Both wait for a file the test creates after the restart. */
        char flag[128];
        char fail_script[256], ok_script[256];
        char *fail_argv[] = { "/bin/sh", "-c", fail_script, NULL };
        char *ok_argv[] = { "/bin/sh", "-c", ok_script, NULL };
        char fail_id[JR_ID_STRING_MAX], ok_id[JR_ID_STRING_MAX];
        jr_job *fail, *ok;
        jr_status s;
        FILE *f;

        /* Where the jobs' dynamic users can see it (the state directory is
         * private to the daemon). */
        char flag_dir[] = "/var/lib/jobrunner-flag.XXXXXX";
        cr_assert_not_null(mkdtemp(flag_dir));
        cr_assert_eq(chmod(flag_dir, 0755), 0);
        snprintf(flag, sizeof(flag), "%s/go", flag_dir);
        snprintf(fail_script, sizeof(fail_script),
                 "echo waiting; while [ ! -e %s ]; do sleep 0.1; done; exit 4", flag);
        snprintf(ok_script, sizeof(ok_script),
                 "echo waiting; while [ ! -e %s ]; do sleep 0.1; done; exit 0", flag);
        fail = start_and_wait_output(fail_argv, "waiting");
        ok = start_and_wait_output(ok_argv, "waiting");
        snprintf(fail_id, sizeof(fail_id), "%s", jr_job_get_id(fail));
        snprintf(ok_id, sizeof(ok_id), "%s", jr_job_get_id(ok));

        /* Down: nobody reads; the jobs end in the meantime. */
        jr_manager_free(h.manager);
        h.manager = NULL;
        f = fopen(flag, "we");
        cr_assert_not_null(f);
        fclose(f);
        restart();

        fail = jr_manager_get_job(h.manager, fail_id);
        ok = jr_manager_get_job(h.manager, ok_id);
        cr_assert(fail && ok);
        harness_run_until(&h, is_final_or_unknown, fail);
        harness_run_until(&h, is_final_or_unknown, ok);

        jr_job_get_status(fail, &s);
        cr_assert_eq(s.state, JR_STATE_EXITED, "state %s", jr_state_to_string(s.state));
        cr_assert_eq(s.exit_code, 4);
        jr_job_get_status(ok, &s);
        cr_assert_eq(s.state, JR_STATE_EXITED, "state %s", jr_state_to_string(s.state));
        cr_assert_eq(s.exit_code, 0);
        unlink(flag);
        rmdir(flag_dir);
}

Test(job_reattach, output_lost_while_away_is_reported_as_a_gap) {
        char *argv[] = { "/bin/sh", "-c", "echo before; exec sleep 600", NULL };
        char id[JR_ID_STRING_MAX];
        static char buf[65536];
        jr_output_event ev;
        jr_follower *f;
        jr_error e = {};
        bool gap = false;
        jr_job *j;
        int r;

        j = start_and_wait_output(argv, "before");
        snprintf(id, sizeof(id), "%s", jr_job_get_id(j));
        restart();
        j = jr_manager_get_job(h.manager, id);
        cr_assert_not_null(j);

        cr_assert_eq(jr_follower_new(j, 0, 0, JR_STREAMS_ALL, NULL, NULL, &f, &e), 0, "%s", e.message);
        while ((r = jr_follower_next(f, &ev, buf, sizeof(buf))) > 0 && ev.type != JR_OUTPUT_END)
                if (ev.type == JR_OUTPUT_GAP && ev.gap_reason == JR_GAP_DAEMON_DOWN)
                        gap = true;
        cr_assert_geq(r, 0);
        cr_assert(gap, "no DAEMON_DOWN gap after the restart");
        jr_follower_free(f);

        harness_wait_started(&h, j);
        cr_assert_eq(jr_job_stop(j, 5 * 1000000ull, "tester", &e), 0, "%s", e.message);
        harness_wait_final(&h, j);
}

/* Starts script, waits for its "ready", stops it with grace_usec and
 * restarts the manager at once; then waits for the end as the new manager
 * sees it.  Returns how long that took from the stop, in ms. */
static uint64_t stop_across_a_restart(const char *script, uint64_t grace_usec, jr_status *ret) {
        char *argv[] = { (char *) "/bin/sh", (char *) "-c", (char *) script, NULL };
        char id[JR_ID_STRING_MAX];
        jr_error e = {};
        uint64_t start;
        jr_job *j;

        j = start_and_wait_output(argv, "ready");
        harness_wait_started(&h, j);
        snprintf(id, sizeof(id), "%s", jr_job_get_id(j));
        start = now_usec(CLOCK_MONOTONIC);
        cr_assert_eq(jr_job_stop(j, grace_usec, "tester", &e), 0, "%s", e.message);
        restart();

        j = jr_manager_get_job(h.manager, id);
        cr_assert_not_null(j);
        harness_run_until(&h, is_final_or_unknown, j);
        jr_job_get_status(j, ret);
        return (now_usec(CLOCK_MONOTONIC) - start) / USEC_PER_MSEC;
}

/* The grace of a stop is the library's timer: a restart in the middle of
 * it must not lose the SIGKILL (nor wait for the unit's own 10 s). */
Test(job_reattach, a_stop_under_way_is_finished_by_the_restarted_manager) {
        jr_status s;
        uint64_t ms = stop_across_a_restart("trap '' TERM; echo ready; while :; do sleep 0.2; done",
                                            2 * USEC_PER_SEC, &s);

        cr_assert_lt(ms, 8000, "a 2 s grace took %llu ms", (unsigned long long) ms);
        cr_assert_eq(s.state, JR_STATE_STOPPED, "state %s", jr_state_to_string(s.state));
        cr_assert(s.killed_after_grace);
        cr_assert_str_eq(s.stopped_by, "tester");
}

/* The SIGTERM goes out just before the manager does.  systemd drops a call
 * whose sender has gone, so the restarted manager sends it again: it must
 * reach the job all the same. */
Test(job_reattach, a_stop_just_before_a_restart_still_reaches_the_job) {
        jr_status s;
        uint64_t ms = stop_across_a_restart("trap 'exit 3' TERM; echo ready; while :; do sleep 0.2; done",
                                            120 * USEC_PER_SEC, &s);

        cr_assert_lt(ms, 60000, "the SIGTERM was lost: the job ran on");
        cr_assert_eq(s.state, JR_STATE_STOPPED, "state %s", jr_state_to_string(s.state));
        cr_assert_eq(s.exit_code, 3);
        cr_assert_not(s.killed_after_grace);
}

/* An operator's "systemctl stop" is under way (the job ignores SIGTERM, so
 * the unit is "deactivating" until systemd's SIGKILL) when the daemon
 * restarts: the new manager reads the end all the same. */
Test(job_reattach, a_unit_stopping_during_a_restart_is_followed_to_its_end) {
        char *argv[] = { "/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.2; done", NULL };
        char id[JR_ID_STRING_MAX], cmd[256];
        jr_status s;
        jr_job *j;

        j = start_and_wait_output(argv, "ready");
        harness_wait_started(&h, j);
        snprintf(id, sizeof(id), "%s", jr_job_get_id(j));
        snprintf(cmd, sizeof(cmd), "systemctl stop --no-block jobrunner-%s.service", id);
        cr_assert_eq(system(cmd), 0);
        restart();

        j = jr_manager_get_job(h.manager, id);
        cr_assert_not_null(j);
        harness_run_until(&h, is_final_or_unknown, j);
        jr_job_get_status(j, &s);
        /* Not stopped through the library: killed, by systemd's SIGKILL. */
        cr_assert_eq(s.state, JR_STATE_KILLED, "state %s", jr_state_to_string(s.state));
        cr_assert_eq(s.signal, SIGKILL, "signal %d", s.signal);
}
