/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The public face of output-follower.c: a follower of one job. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "output-follower.h"

struct jr_follower {
        jr_job *job;
        sd_event_source *first_wake;
        OutputFollower *follower;
        jr_follower_wake_t wake;
        void *userdata;
};

static void on_wake(OutputFollower *of, void *userdata) {
        jr_follower *f = userdata;

        (void) of;
        if (f->wake)
                f->wake(f, f->userdata);
}

/* The first wake-up comes by itself: a caller that creates a follower and
 * waits for its wake without reading first must not wait forever. */
static int on_first_wake(sd_event_source *s, void *userdata) {
        jr_follower *f = userdata;

        (void) s;
        f->first_wake = sd_event_source_disable_unref(f->first_wake);
        if (f->wake)
                f->wake(f, f->userdata);
        return 0;
}

int jr_follower_new(jr_job *j, uint64_t stdout_offset, uint64_t stderr_offset, unsigned streams,
                    jr_follower_wake_t wake, void *userdata, jr_follower **ret, jr_error *e) {
        OutputStore *store;
        jr_follower *f;
        int r;

        if (streams == 0)
                streams = JR_STREAMS_ALL;
        if (streams & ~JR_STREAMS_ALL)
                return jr_error_set(e, -EINVAL, "unknown output stream in mask 0x%x", streams);

        r = job_get_store(j, &store);
        if (r < 0)
                return jr_error_set(e, r, "cannot open the output of job %s: %s", j->id, strerror(-r));

        f = calloc(1, sizeof(jr_follower));
        if (!f) {
                job_release_store(j);
                return jr_error_set(e, -ENOMEM, "out of memory");
        }
        f->job = j;
        f->wake = wake;
        f->userdata = userdata;
        /* The stream bits are the same in both APIs. */
        r = output_follower_new(store, stdout_offset, stderr_offset, streams, on_wake, f, &f->follower);
        if (r < 0) {
                free(f);
                if (r == -ERANGE)
                        jr_error_set(e, r, "offset past the end of the output of job %s "
                                     "(stdout has %llu bytes, stderr %llu)", j->id,
                                     (unsigned long long) output_store_get_end(store, OUTPUT_STREAM_STDOUT),
                                     (unsigned long long) output_store_get_end(store, OUTPUT_STREAM_STDERR));
                else
                        jr_error_set(e, r, "cannot follow job %s: %s", j->id, strerror(-r));
                job_release_store(j);   /* may close store: after the message */
                return r;
        }
        j->n_followers++;
        if (wake) {
                r = sd_event_add_defer(j->manager->event, &f->first_wake, on_first_wake, f);
                if (r < 0) {
                        jr_follower_free(f);
                        return jr_error_set(e, r, "cannot schedule the follower of job %s: %s", j->id, strerror(-r));
                }
        }
        *ret = f;
        return 0;
}

int jr_follower_next(jr_follower *f, jr_output_event *ev, void *buf, size_t size) {
        OutputEvent oe;
        int r;

        r = output_follower_next(f->follower, &oe, buf, size);
        if (r <= 0)
                return r;
        /* Same numbering on both sides (see jobrunner.h and output-store.h). */
        *ev = (jr_output_event) {
                .type = (jr_output_event_type) oe.type,
                .stream = (jr_stream) oe.stream,
                .offset = oe.offset,
                .length = oe.length,
                .gap_reason = (jr_gap_reason) oe.reason,
        };
        return 1;
}

jr_follower *jr_follower_free(jr_follower *f) {
        if (f) {
                sd_event_source_disable_unref(f->first_wake);
                output_follower_free(f->follower);
                f->job->n_followers--;
                job_release_store(f->job);
                /* An ended job left for its followers may go now. */
                if (jr_state_is_final(f->job->state) && f->job->n_followers == 0)
                        manager_schedule_sweep(f->job->manager);
                free(f);
        }
        return NULL;
}
