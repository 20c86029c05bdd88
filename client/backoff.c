/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "backoff.h"
#include "interrupt.h"
#include "time-util.h"

void backoff_reset(Backoff *b) {
        *b = (Backoff) {};
}

bool backoff_first(const Backoff *b) {
        return b->delay_usec == 0;
}

bool backoff_wait(Backoff *b, bool interruptible) {
        uint64_t now = now_usec(CLOCK_MONOTONIC), until;

        if (b->delay_usec == 0) {
                b->first_failure_usec = now;
                b->delay_usec = BACKOFF_FIRST_USEC;
        } else {
                b->delay_usec *= 2;
                if (b->delay_usec > BACKOFF_MAX_USEC)
                        b->delay_usec = BACKOFF_MAX_USEC;
        }
        if (now - b->first_failure_usec >= BACKOFF_GIVE_UP_USEC)
                return false;

        /* In slices: the signal that should cut the wait short may be
         * delivered to one of gRPC's threads and not interrupt ours. */
        until = now + b->delay_usec;
        while ((now = now_usec(CLOCK_MONOTONIC)) < until) {
                uint64_t slice = until - now < 100000 ? until - now : 100000;
                struct timespec ts = { .tv_sec = 0, .tv_nsec = (long) (slice * 1000) };

                if (interruptible && interrupt_requested())
                        return false;
                (void) nanosleep(&ts, NULL);
        }
        return !(interruptible && interrupt_requested());
}
