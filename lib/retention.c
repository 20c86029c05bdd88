/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Ended jobs do not stay forever: a sweep removes them, metadata and output
 * alike, once they ended longer ago than the retention period, and the
 * oldest of them while there are more than max_ended_jobs.  A job that
 * somebody still follows or waits for is left for a later sweep: the
 * callers hold it.
 *
 * One CLOCK_REALTIME timer runs the sweep: at the next expiry, and shortly
 * after any job ends (coalescing many ends into one sweep). */
#include <errno.h>

#include "job.h"
#include "log.h"
#include "time-util.h"

/* How long after a job's end the count limit is enforced: one sweep for a
 * burst of ends, not one per job. */
#define SWEEP_DELAY_USEC (1 * USEC_PER_SEC)
/* When a job due for removal is still in use. */
#define SWEEP_BUSY_RETRY_USEC (60 * USEC_PER_SEC)

static bool job_is_ended(const jr_job *j) {
        return jr_state_is_final(j->state);
}

static bool job_is_in_use(const jr_job *j) {
        return j->n_followers > 0 || j->watches;
}

static void manager_remove_ended_job(jr_manager *m, jr_job *j, const char *why) {
        log_debug("Removing job %s: %s", j->id, why);
        manager_forget_job(m, j);
        job_remove_files(j);
        job_free(j);
}

static int on_sweep(sd_event_source *s, uint64_t usec, void *userdata);

static void manager_arm_sweep(jr_manager *m, uint64_t when) {
        int r;

        if (m->sweep_timer) {
                uint64_t armed = 0;
                int enabled = SD_EVENT_OFF;

                (void) sd_event_source_get_enabled(m->sweep_timer, &enabled);
                if (enabled != SD_EVENT_OFF && sd_event_source_get_time(m->sweep_timer, &armed) >= 0 && armed <= when)
                        return;         /* an earlier sweep will do */
                r = sd_event_source_set_time(m->sweep_timer, when);
                if (r >= 0)
                        r = sd_event_source_set_enabled(m->sweep_timer, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time(m->event, &m->sweep_timer, CLOCK_REALTIME, when, USEC_PER_SEC, on_sweep, m);
        if (r < 0)
                log_warning_errno(r, "Cannot schedule the removal of ended jobs");
}

void manager_sweep(jr_manager *m) {
        uint64_t now = now_usec(CLOCK_REALTIME), next = UINT64_MAX;
        uint64_t n_ended = 0;
        unsigned removed = 0;
        jr_job *oldest = NULL;

        for (jr_job *j = m->newest; j; j = j->older) {
                if (job_is_ended(j))
                        n_ended++;
                oldest = j;
        }

        /* Oldest first, so that the count limit keeps the newest. */
        for (jr_job *j = oldest, *newer; j; j = newer) {
                bool expired;
                uint64_t expiry;

                newer = j->newer;
                if (!job_is_ended(j))
                        continue;
                expiry = m->retention_usec == UINT64_MAX || j->end_time_us > UINT64_MAX - m->retention_usec ?
                        UINT64_MAX : j->end_time_us + m->retention_usec;
                expired = expiry <= now;
                if (!expired && n_ended <= m->max_ended_jobs) {
                        if (expiry < next)
                                next = expiry;
                        continue;
                }
                if (job_is_in_use(j)) {
                        if (now + SWEEP_BUSY_RETRY_USEC < next)
                                next = now + SWEEP_BUSY_RETRY_USEC;
                        continue;
                }
                manager_remove_ended_job(m, j, expired ? "past the retention period" : "too many ended jobs");
                n_ended--;
                removed++;
        }

        if (removed > 0)
                log_info("Removed %u ended job%s (retention or count limit)", removed, removed == 1 ? "" : "s");
        if (next != UINT64_MAX)
                manager_arm_sweep(m, next);
}

static int on_sweep(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) s;
        (void) usec;
        manager_sweep(userdata);
        return 0;
}

void manager_schedule_sweep(jr_manager *m) {
        manager_arm_sweep(m, now_usec(CLOCK_REALTIME) + SWEEP_DELAY_USEC);
}
