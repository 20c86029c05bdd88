/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every way a job can end, as libjobrunner reports it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job-harness.h"
#include "macro.h"
#include "time-util.h"

static Harness h;

static void setup(void) {
        harness_setup(&h);
}

static void teardown(void) {
        harness_teardown(&h);
}

TestSuite(job_states, .init = setup, .fini = teardown, .timeout = 240);

static jr_status run(char **argv, jr_job **ret) {
        jr_spec spec = harness_spec(argv);
        jr_job *j = harness_start(&h, &spec);
        jr_status s;

        harness_wait_final(&h, j);
        cr_assert_eq(jr_job_get_status(j, &s), 0);
        if (ret)
                *ret = j;
        return s;
}

Test(job_states, exit_0) {
        char *argv[] = { "/bin/true", NULL };
        jr_status s = run(argv, NULL);

        cr_assert_eq(s.state, JR_STATE_EXITED, "state %s", jr_state_to_string(s.state));
        cr_assert_eq(s.exit_code, 0);
        cr_assert_eq(s.signal, 0);
        cr_assert_gt(s.start_time_us, 0);
        cr_assert_geq(s.end_time_us, s.start_time_us);
}

Test(job_states, exit_3) {
        char *argv[] = { "/bin/sh", "-c", "exit 3", NULL };
        jr_status s = run(argv, NULL);

        cr_assert_eq(s.state, JR_STATE_EXITED, "state %s", jr_state_to_string(s.state));
        cr_assert_eq(s.exit_code, 3);
}

Test(job_states, killed_by_a_signal) {
        char *argv[] = { "/bin/sh", "-c", "kill -KILL $$", NULL };
        jr_status s = run(argv, NULL);

        cr_assert_eq(s.state, JR_STATE_KILLED, "state %s", jr_state_to_string(s.state));
        cr_assert_eq(s.signal, SIGKILL);
        cr_assert_not(s.oom_killed);
}

Test(job_states, oom_kill_comes_from_the_unit_result) {
        char *argv[] = { getenv("JOBRUNNER_MEMHOG"), "128", NULL };
        jr_spec spec = harness_spec(argv);
        jr_status s;
        jr_job *j;

        cr_assert_not_null(argv[0]);
        spec.memory_max = 32u << 20;
        j = harness_start(&h, &spec);
        harness_wait_final(&h, j);
        jr_job_get_status(j, &s);
        cr_assert_eq(s.state, JR_STATE_OOM_KILLED, "state %s", jr_state_to_string(s.state));
        cr_assert(s.oom_killed);
}

/* The job says "ready" once its trap is set: stopping it earlier would
 * test the shell's start-up, not the trap. */
static void stop_and_wait(jr_job *j, uint64_t grace_usec, jr_status *s) {
        jr_error e = {};

        harness_wait_output(&h, j, "ready");
        /* The job's output may come before systemd's word that it started. */
        harness_wait_started(&h, j);
        cr_assert_eq(jr_job_get_state(j), JR_STATE_RUNNING);
        cr_assert_eq(jr_job_stop(j, grace_usec, "tester", &e), 0, "%s", e.message);
        harness_wait_final(&h, j);
        jr_job_get_status(j, s);
}

/* The job takes 12 s to shut down, longer than the 10 s the unit was
 * started with: the stop's own grace must be the one that counts. */
Test(job_states, a_long_grace_lets_a_slow_job_finish) {
        char *argv[] = { "/bin/sh", "-c", "trap 'echo term; sleep 12; exit 7' TERM; echo ready; while :; do sleep 0.2; done", NULL };
        jr_spec spec = harness_spec(argv);
        jr_job *j = harness_start(&h, &spec);
        jr_status s;

        stop_and_wait(j, 60 * 1000000ull, &s);
        cr_assert_eq(s.state, JR_STATE_STOPPED, "state %s", jr_state_to_string(s.state));
        cr_assert_not(s.killed_after_grace, "killed before its 60 s grace were over");
        cr_assert_eq(s.exit_code, 7, "exit code %d, signal %d", s.exit_code, s.signal);
        cr_assert_str_eq(s.stopped_by, "tester");
}

/* A short grace is not the unit's 10 s either.  The bound is loose: it
 * only has to tell 1 s from 10 s on a loaded machine. */
Test(job_states, a_job_that_ignores_sigterm_is_killed_when_its_grace_is_over) {
        char *argv[] = { "/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.2; done", NULL };
        jr_spec spec = harness_spec(argv);
        jr_job *j = harness_start(&h, &spec);
        uint64_t start, ms;
        jr_status s;

        harness_wait_output(&h, j, "ready");
        harness_wait_started(&h, j);
        start = now_usec(CLOCK_MONOTONIC);
        stop_and_wait(j, USEC_PER_SEC, &s);
        ms = (now_usec(CLOCK_MONOTONIC) - start) / USEC_PER_MSEC;
        cr_assert_lt(ms, 8000, "a 1 s grace took %llu ms", (unsigned long long) ms);
        cr_assert_eq(s.state, JR_STATE_STOPPED, "state %s", jr_state_to_string(s.state));
        cr_assert(s.killed_after_grace);
        cr_assert_eq(s.signal, SIGKILL, "signal %d", s.signal);
}

Test(job_states, a_second_stop_can_only_bring_the_kill_forward) {
        char *argv[] = { "/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.2; done", NULL };
        jr_spec spec = harness_spec(argv);
        jr_job *j = harness_start(&h, &spec);
        jr_error e = {};
        uint64_t start, ms;
        jr_status s;

        harness_wait_output(&h, j, "ready");
        harness_wait_started(&h, j);
        start = now_usec(CLOCK_MONOTONIC);
        cr_assert_eq(jr_job_stop(j, 240 * USEC_PER_SEC, "first", &e), 0, "%s", e.message);
        cr_assert_eq(jr_job_stop(j, USEC_PER_SEC, "second", &e), 0, "%s", e.message);
        cr_assert_eq(jr_job_stop(j, 200 * USEC_PER_SEC, "third", &e), 0, "%s", e.message);
        harness_wait_final(&h, j);
        ms = (now_usec(CLOCK_MONOTONIC) - start) / USEC_PER_MSEC;
        cr_assert_lt(ms, 8000, "took %llu ms", (unsigned long long) ms);
        jr_job_get_status(j, &s);
        cr_assert_eq(s.state, JR_STATE_STOPPED, "state %s", jr_state_to_string(s.state));
        cr_assert(s.killed_after_grace);
        cr_assert_str_eq(s.stopped_by, "first");
}

/* Stopped before systemd said it started: the start is cancelled, or if it
 * won the race the job is stopped as usual.  Either way: STOPPED, soon. */
Test(job_states, a_job_stopped_while_starting_is_stopped) {
        char *argv[] = { "/bin/sleep", "600", NULL };
        jr_spec spec = harness_spec(argv);
        jr_job *j = harness_start(&h, &spec);
        jr_error e = {};
        jr_status s;

        cr_assert_eq(jr_job_get_state(j), JR_STATE_STARTING);
        cr_assert_eq(jr_job_stop(j, 2 * USEC_PER_SEC, "tester", &e), 0, "%s", e.message);
        harness_wait_final(&h, j);
        jr_job_get_status(j, &s);
        cr_assert_eq(s.state, JR_STATE_STOPPED, "state %s", jr_state_to_string(s.state));
        cr_assert_str_eq(s.stopped_by, "tester");
        cr_assert_null(s.failure_reason, "reason: %s", s.failure_reason);
}

Test(job_states, a_missing_binary_fails_to_start) {
        char *argv[] = { "/nonexistent/program", NULL };
        jr_status s = run(argv, NULL);

        cr_assert_eq(s.state, JR_STATE_FAILED_TO_START, "state %s", jr_state_to_string(s.state));
        cr_assert_not_null(s.failure_reason);
        cr_assert(strstr(s.failure_reason, "/nonexistent/program"), "reason: %s", s.failure_reason);
        cr_assert(strstr(s.failure_reason, "No such file"), "reason: %s", s.failure_reason);
}

Test(job_states, stopping_an_ended_job_is_refused) {
        char *argv[] = { "/bin/true", NULL };
        jr_error e = {};
        jr_job *j;

        run(argv, &j);
        cr_assert_eq(jr_job_stop(j, 0, "tester", &e), -EALREADY);
        cr_assert(strstr(e.message, "already ended"), "%s", e.message);
}

Test(job_states, validation_happens_before_anything_is_created) {
        char *argv[] = { "relative", NULL };
        jr_spec spec = harness_spec(argv);
        jr_error e = {};
        jr_job *j = NULL, **list = NULL;

        cr_assert_eq(jr_manager_start(h.manager, &spec, "tester", NULL, &j, &e), -EINVAL);
        cr_assert_null(j);
        cr_assert(strstr(e.message, "absolute"), "%s", e.message);
        cr_assert_eq(jr_manager_list(h.manager, NULL, &list), 0);
        free(list);
}

Test(job_states, usage_is_reported_while_running_and_at_the_end) {
        /* Busy after "ready": its CPU time grows between two samples. */
        char *argv[] = { "/bin/sh", "-c", "head -c 20000000 /dev/urandom | cksum; echo ready; while :; do :; done",
                         NULL };
        jr_status s, known, later;
        jr_job *j = harness_start_ready(&h, argv, &s);
        jr_error e = {};

        printf("running: cpu %llu ns, memory %llu (peak %llu), tasks %llu\n",
               (unsigned long long) s.usage.cpu_usage_ns, (unsigned long long) s.usage.memory_current,
               (unsigned long long) s.usage.memory_peak, (unsigned long long) s.usage.tasks_current);
        cr_assert_gt(s.usage.cpu_usage_ns, 0);
        cr_assert_gt(s.usage.memory_current, 0);
        cr_assert_geq(s.usage.memory_peak, s.usage.memory_current);
        cr_assert_geq(s.usage.tasks_current, 1);

        /* The known status reads nothing: the usage stays the last
         * sample's while the job burns CPU, until the next sample. */
        usleep(200 * 1000);
        cr_assert_eq(jr_job_get_known_status(j, &known), 0);
        cr_assert_eq(known.state, JR_STATE_RUNNING);
        cr_assert_eq(known.usage.cpu_usage_ns, s.usage.cpu_usage_ns);
        cr_assert_eq(jr_job_get_status(j, &later), 0);
        cr_assert_gt(later.usage.cpu_usage_ns, known.usage.cpu_usage_ns);

        cr_assert_eq(jr_job_stop(j, 0, "tester", &e), 0, "%s", e.message);
        harness_wait_final(&h, j);
        cr_assert_eq(jr_job_get_status(j, &s), 0);
        printf("ended: cpu %llu ns, peak %llu\n", (unsigned long long) s.usage.cpu_usage_ns,
               (unsigned long long) s.usage.memory_peak);
        cr_assert_gt(s.usage.cpu_usage_ns, 0);
        cr_assert_gt(s.usage.memory_peak, 0);
        cr_assert_eq(s.usage.tasks_current, 0);
}

static bool unit_is_loaded(const char *unit) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(h.bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "GetUnit", &error, &reply, "s", unit);
        cr_assert(r >= 0 || sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit"), "GetUnit: %s",
                  error.message);
        sd_bus_error_free(&error);
        return r >= 0;
}

/* systemd watches whoever holds a reference on a unit (AddRef=, Ref())
 * with a match rule of PID 1's, and the bus allows PID 1 512 of them: past
 * those, systemd 252 drops off the bus.  So a job holds none; its unit
 * stays after its main process until the library has read the end, and
 * goes then. */
Test(job_states, a_job_holds_no_reference_on_its_unit_which_goes_once_read) {
        char *argv[] = { "/bin/sh", "-c", "echo ready; exec sleep 600", NULL };
        jr_spec spec = harness_spec(argv);
        jr_job *j = harness_start(&h, &spec);
        _cleanup_free_ char *path = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        char **refs = NULL;
        jr_error e = {};
        jr_status s;

        harness_wait_output(&h, j, "ready");
        cr_assert_eq(jr_job_get_status(j, &s), 0);
        cr_assert_geq(sd_bus_path_encode("/org/freedesktop/systemd1/unit", s.unit, &path), 0);
        cr_assert_geq(sd_bus_get_property_strv(h.bus, "org.freedesktop.systemd1", path,
                                               "org.freedesktop.systemd1.Unit", "Refs", &error, &refs),
                      0, "Refs: %s", error.message);
        cr_assert(!refs || !refs[0], "%s holds a reference on its unit", refs[0]);
        free(refs);

        cr_assert_eq(jr_job_stop(j, 0, "tester", &e), 0, "%s", e.message);
        harness_wait_final(&h, j);
        for (unsigned i = 0; unit_is_loaded(s.unit); i++) {
                cr_assert_lt(i, 300, "%s is still loaded 30 s after its end was read", s.unit);
                cr_assert_geq(sd_event_run(h.event, 100 * USEC_PER_MSEC), 0);
        }
}
