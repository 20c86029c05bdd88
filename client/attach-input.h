/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The sending half of an attach session: a thread that reads the local
 * input as it comes and sends it on the Attach call, one message at a
 * time, so that a job that reads slowly holds back the local reader; at the
 * end of a pipe's input, end_of_input; on a raw terminal, the detach keys
 * and the terminal's resizes.  Its state outlives a call: after a daemon
 * restart the next call's thread goes on from where the last one
 * stopped. */

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "detach-keys.h"

typedef struct AttachInput {
        int in_fd;
        bool pipe, raw;
        int wake[2];                    /* the session wakes the thread to stop it */
        int resize_fd;                  /* raw: readable after SIGWINCH; else -1 */
        ConnBidi *call;
        pthread_t thread;
        bool running;

        atomic_bool stop;               /* the session's: stop sending */
        atomic_bool closed;             /* the server said input_closed: never send again */
        atomic_bool detached;           /* the thread's: the detach keys were typed */
        atomic_bool local_eof;          /* in_fd ended (and a pipe's end was sent once) */
        atomic_bool in_flight;          /* a message is being sent */
        /* Input bytes gRPC took on the current call, and before it. */
        _Atomic uint64_t sent_call, sent_before;
        /* A message whose send failed when the call broke: it may or may
         * not have reached the job.  Never sent again. */
        uint64_t unsure;
        int error;                      /* negative errno: reading in_fd failed */

        DetachKeys keys;
        uint8_t *buf, *out;
} AttachInput;

int attach_input_init(AttachInput *in, int in_fd, bool pipe, bool raw);
void attach_input_done(AttachInput *in);

/* Starts the thread on call (it sends the pipe's end again first if the
 * local input had ended: whether the broken call delivered it is not
 * known, and a second end is harmless). */
int attach_input_start(AttachInput *in, ConnBidi *call);
/* Wakes the thread from waiting for local input (to look at stop and
 * closed); a send in progress ends only with the call. */
void attach_input_wake(AttachInput *in);
/* Asks the thread to stop, and waits for it: cancel the call first if it
 * may be sending. */
void attach_input_stop(AttachInput *in);

/* Whether local input is left that was not sent: a message in flight, or
 * bytes waiting to be read. */
bool attach_input_pending(AttachInput *in);
