/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libjobrunner with a delegated starter (jr_manager_config.unit_starter),
 * as jobrunnerd runs it with jobrunner-starter: the delegate here starts the
 * unit with the library's own direct starter (what jobrunner-starter does)
 * and answers as told.  A start that is queued, refused, or whose answer is
 * lost, with and without the unit started; and a manager freed while a
 * start is pending. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job-harness.h"
#include "macro.h"
#include "systemd-unit.h"
#include "unit-starter.h"

typedef enum Behaviour {
        PASS_THROUGH,           /* start it, answer what systemd answered */
        REFUSE,                 /* start nothing, refuse */
        LOSE_UNSTARTED,         /* start nothing, answer "lost" */
        LOSE_STARTED,           /* start it, answer "lost" */
        NEVER_ANSWER,           /* start nothing, answer nothing */
} Behaviour;

/* The delegate: a direct starter on a bus connection of its own, as
 * jobrunner-starter has. */
typedef struct Delegate {
        Behaviour behaviour;
        sd_bus *bus;
        UnitBus *unit_bus;
        UnitStarter *direct;
        unsigned starts, cancels;
} Delegate;

typedef struct Request {
        Delegate *d;
        jr_unit_start_done_t done;
        void *cookie;
        UnitStartCall *call;
        sd_event_source *later;
        int error;
} Request;

static Harness h;
static Delegate delegate;

static void request_free(Request *q) {
        unit_start_call_free(q->call);
        sd_event_source_disable_unref(q->later);
        free(q);
}

static void on_direct_answer(void *userdata, int error, const char *message) {
        Request *q = userdata;

        q->call = NULL;
        if (q->d->behaviour == LOSE_STARTED)
                q->done(q->cookie, JR_UNIT_START_LOST, NULL);
        else
                q->done(q->cookie, error, message);
        request_free(q);
}

static int on_later(sd_event_source *s, void *userdata) {
        Request *q = userdata;

        (void) s;
        q->done(q->cookie, q->error, q->error == -EPERM ? "refused by the test's delegate" : NULL);
        request_free(q);
        return 0;
}

static int delegate_start(void *userdata, const char *job_id, const jr_spec *spec, int stdout_fd, int stderr_fd,
                          int stdin_fd, jr_unit_start_done_t done, void *cookie, void **ret_handle) {
        Delegate *d = userdata;
        Request *q = calloc(1, sizeof(Request));
        jr_error e = {};
        int r;

        cr_assert_not_null(q);
        *q = (Request) { .d = d, .done = done, .cookie = cookie };
        d->starts++;
        switch (d->behaviour) {
        case PASS_THROUGH:
        case LOSE_STARTED:
                r = unit_starter_start(d->direct, job_id, spec, stdout_fd, stderr_fd, stdin_fd, on_direct_answer, q,
                                       &q->call, &e);
                cr_assert_eq(r, 0, "%s", e.message);
                break;
        case REFUSE:
        case LOSE_UNSTARTED:
                q->error = d->behaviour == REFUSE ? -EPERM : JR_UNIT_START_LOST;
                cr_assert_eq(sd_event_add_defer(h.event, &q->later, on_later, q), 0);
                break;
        case NEVER_ANSWER:
                break;
        }
        *ret_handle = q;
        return 0;
}

static void delegate_cancel(void *userdata, void *handle) {
        Delegate *d = userdata;

        d->cancels++;
        request_free(handle);
}

static void setup_with(Behaviour b) {
        static jr_unit_starter ops = { .start = delegate_start, .cancel = delegate_cancel, .userdata = &delegate };
        const char *init = getenv("JOBRUNNER_INIT");

        cr_assert_not_null(init);
        delegate = (Delegate) { .behaviour = b };
        harness_setup_config(&h, (jr_manager_config) { .unit_starter = &ops });
        cr_assert_geq(sd_bus_open_system(&delegate.bus), 0);
        cr_assert_geq(sd_bus_attach_event(delegate.bus, h.event, 0), 0);
        cr_assert_eq(unit_bus_new(delegate.bus, &(UnitBusHandlers) {}, NULL, &delegate.unit_bus), 0);
        cr_assert_eq(unit_starter_new_direct(delegate.unit_bus, "jobrunner.slice", init, &delegate.direct), 0);
}

static void teardown(void) {
        harness_teardown(&h);
        unit_starter_free(delegate.direct);
        unit_bus_free(delegate.unit_bus);
        sd_bus_flush_close_unref(delegate.bus);
}

TestSuite(job_starter, .fini = teardown, .timeout = 240);

static jr_status run_to_end(jr_job **ret) {
        char *argv[] = { "/bin/sh", "-c", "echo out; echo err >&2", NULL };
        jr_spec spec = harness_spec(argv);
        jr_job *j = harness_start(&h, &spec);
        jr_status s;

        harness_wait_final(&h, j);
        cr_assert_eq(jr_job_get_status(j, &s), 0);
        *ret = j;
        return s;
}

static void expect_output(jr_job *j) {
        _cleanup_free_ char *out = NULL, *err = NULL;
        size_t out_len, err_len;

        harness_read_output(&h, j, &out, &out_len, &err, &err_len);
        cr_expect_str_eq(out, "out\n");
        cr_expect_str_eq(err, "err\n");
}

/* The job runs to exit 0 with its output captured from the pipes the
 * delegate was handed. */
static void expect_exit_0_with_output(Behaviour b) {
        jr_job *j;
        jr_status s;

        setup_with(b);
        s = run_to_end(&j);
        cr_assert_eq(s.state, JR_STATE_EXITED, "state %s: %s", jr_state_to_string(s.state), s.failure_reason);
        cr_assert_eq(s.exit_code, 0);
        expect_output(j);
}

Test(job_starter, a_delegated_start_runs_the_job_with_its_pipes) {
        expect_exit_0_with_output(PASS_THROUGH);
        cr_assert_eq(delegate.starts, 1);
}

Test(job_starter, a_refusal_is_the_jobs_failure_with_its_reason) {
        jr_job *j;
        jr_status s;

        setup_with(REFUSE);
        s = run_to_end(&j);
        cr_assert_eq(s.state, JR_STATE_FAILED_TO_START, "state %s", jr_state_to_string(s.state));
        cr_assert_str_eq(s.failure_reason, "refused by the test's delegate");
        cr_assert_eq(s.exit_code, 0);
}

Test(job_starter, a_lost_answer_of_a_started_unit_finds_the_unit) {
        expect_exit_0_with_output(LOSE_STARTED);
}

Test(job_starter, a_lost_answer_of_no_unit_is_a_failure_to_start) {
        jr_job *j;
        jr_status s;

        setup_with(LOSE_UNSTARTED);
        s = run_to_end(&j);
        cr_assert_eq(s.state, JR_STATE_FAILED_TO_START, "state %s", jr_state_to_string(s.state));
        cr_assert_not_null(s.failure_reason);
        cr_expect(strstr(s.failure_reason, "unanswered"), "%s", s.failure_reason);
}

Test(job_starter, a_manager_freed_while_a_start_is_pending_cancels_it) {
        char *argv[] = { "/bin/true", NULL };
        jr_spec spec;

        setup_with(NEVER_ANSWER);
        spec = harness_spec(argv);
        harness_start(&h, &spec);
        cr_assert_eq(delegate.starts, 1);
        jr_manager_free(h.manager);
        h.manager = NULL;
        cr_assert_eq(delegate.cancels, 1);
}
