/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stopping a job with the caller's grace period.
 *
 * systemd 252 takes TimeoutStopUSec= only when a transient unit is created
 * (SetUnitProperties() refuses it on a running unit), so the grace of one
 * particular stop cannot be handed to systemd's own stop.  The library runs
 * it itself: SIGTERM (and SIGCONT, as systemd's stop does) to every process
 * of the unit, a timer of its own, then SIGKILL to whatever is left.  The
 * deadline is kept in the job's state file so that a restarted daemon
 * keeps it.  The start-time TimeoutStopUSec= stays systemd's, for stops
 * that do not come through us ("systemctl stop", shutdown). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "job.h"
#include "job-store.h"
#include "log.h"
#include "time-util.h"

static void on_signal_reply(void *userdata, const char *error, UnitUpdate *update) {
        jr_job *j = userdata;

        (void) update;
        j->stop_call = NULL;
        if (error) {
                /* Nothing to signal once the job's main process is gone;
                 * anything else (a refusal by polkit) leaves it running. */
                if (!jr_state_is_final(j->state) && j->unit_state.exec_main_exit_us == 0)
                        log_warning("Cannot signal %s: %s", j->unit, error);
                return;
        }
        if (!j->stop_signalled) {
                j->stop_signalled = true;
                (void) job_store_save(j);
        }
}

/* SIGTERM, or for a job that has not started yet the cancellation of its
 * start.  Only systemd's reply makes it certain: a call sent just before
 * the daemon goes away may be dropped, as systemd cannot check the
 * credentials of a sender that has left, and is sent again on re-attach. */
static int job_stop_signal(jr_job *j) {
        int r;

        j->stop_call = unit_call_free(j->stop_call);
        if (j->state == JR_STATE_RUNNING) {
                r = unit_kill(j->manager->unit_bus, j->unit, SIGTERM, on_signal_reply, j, &j->stop_call);
                if (r >= 0)
                        r = unit_kill(j->manager->unit_bus, j->unit, SIGCONT, NULL, NULL, NULL);
                return r;
        }
        return unit_stop(j->manager->unit_bus, j->unit, on_signal_reply, j, &j->stop_call);
}

static int on_grace_over(sd_event_source *s, uint64_t usec, void *userdata) {
        jr_job *j = userdata;
        int r;

        (void) s;
        (void) usec;
        j->grace_timer = sd_event_source_disable_unref(j->grace_timer);
        if (jr_state_is_final(j->state))
                return 0;
        log_info("Grace period of %s is over: SIGKILL", j->unit);
        j->stop_call = unit_call_free(j->stop_call);
        r = unit_kill(j->manager->unit_bus, j->unit, SIGKILL, on_signal_reply, j, &j->stop_call);
        if (r < 0)
                log_warning_errno(r, "Cannot ask systemd to kill %s", j->unit);
        return 0;
}

/* sd-event runs a timer whose time has passed at once: a restarted daemon
 * that finds the deadline behind it kills straight away. */
static int job_stop_arm(jr_job *j) {
        if (j->grace_timer)
                return sd_event_source_set_time(j->grace_timer, j->kill_at_us);
        return sd_event_add_time(j->manager->event, &j->grace_timer, CLOCK_REALTIME, j->kill_at_us, 0,
                                 on_grace_over, j);
}

int job_stop_resume(jr_job *j) {
        int r = 0;

        if (!j->stop_requested || jr_state_is_final(j->state))
                return 0;
        if (!j->stop_signalled)
                r = job_stop_signal(j);
        if (r >= 0 && j->kill_at_us != 0)
                r = job_stop_arm(j);
        return r;
}

void job_stop_done(jr_job *j) {
        j->grace_timer = sd_event_source_disable_unref(j->grace_timer);
        j->stop_call = unit_call_free(j->stop_call);
}

bool job_stop_needed_sigkill(const jr_job *j) {
        const UnitState *u = &j->unit_state;

        if (!j->stop_requested)
                return false;
        /* systemd's own stop ran out of its timeout (a stop of a job that
         * had not started yet, or what was left after the main process). */
        if (strcmp(u->result, "timeout") == 0)
                return true;
        /* Our SIGKILL: the main process died of it, at or after the end of
         * the grace.  A job that ends by itself before then never counts,
         * even if the timer fires while its end is being read. */
        return j->kill_at_us > 0 && u->exec_main_code == CLD_KILLED && u->exec_main_status == SIGKILL &&
                u->exec_main_exit_us >= j->kill_at_us;
}

int jr_job_stop(jr_job *j, uint64_t grace_usec, const char *by, jr_error *e) {
        uint64_t kill_at;
        int r;

        if (jr_state_is_final(j->state))
                return jr_error_set(e, -EALREADY, "job %s has already ended (%s)", j->id,
                                    jr_state_to_string(j->state));
        if (grace_usec == 0)
                grace_usec = JR_GRACE_DEFAULT_USEC;
        if (grace_usec > JR_GRACE_MAX_USEC)
                return jr_error_set(e, -EINVAL, "grace period of %llu ms is over the maximum of %llu ms",
                                    (unsigned long long) (grace_usec / 1000),
                                    (unsigned long long) (JR_GRACE_MAX_USEC / 1000));
        kill_at = now_usec(CLOCK_REALTIME) + grace_usec;

        if (j->stop_requested) {
                /* A second stop may only bring the SIGKILL forward. */
                if (j->kill_at_us != 0 && kill_at >= j->kill_at_us)
                        return 0;
        } else {
                free(j->stopped_by);
                j->stopped_by = strdup(by ?: "");
                if (!j->stopped_by)
                        return jr_error_set(e, -ENOMEM, "out of memory");
        }

        j->kill_at_us = kill_at;
        r = job_stop_arm(j);
        if (r < 0)
                return jr_error_set(e, r, "cannot arm the grace timer of %s: %s", j->unit, strerror(-r));

        if (!j->stop_requested) {
                r = job_stop_signal(j);
                if (r < 0) {
                        job_stop_done(j);
                        j->kill_at_us = 0;
                        return jr_error_set(e, r, "cannot ask systemd to stop %s: %s", j->unit, strerror(-r));
                }
                j->stop_requested = true;
        }
        (void) job_store_save(j);
        return 0;
}
