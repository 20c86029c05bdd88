/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Retrying after UNAVAILABLE while the daemon restarts: waits growing from
 * 100 ms to 5 s, for at most 5 minutes since the first failure of a run of
 * failures. */

#include <stdbool.h>
#include <stdint.h>

#define BACKOFF_FIRST_USEC (UINT64_C(100) * 1000)
#define BACKOFF_MAX_USEC (UINT64_C(5) * 1000000)
#define BACKOFF_GIVE_UP_USEC (UINT64_C(300) * 1000000)

typedef struct Backoff {
        uint64_t delay_usec;            /* 0: no failure yet */
        uint64_t first_failure_usec;    /* CLOCK_MONOTONIC */
} Backoff;

/* A call succeeded: the next failure starts a new run. */
void backoff_reset(Backoff *b);

/* A call failed: sleeps before the next attempt and returns true, or
 * returns false at once when the retries are over.  Also returns false
 * (after at most 100 ms) if interruptible and Ctrl-C was pressed. */
bool backoff_wait(Backoff *b, bool interruptible);

/* Whether this is the first failure of a run (to say so once). */
bool backoff_first(const Backoff *b);
