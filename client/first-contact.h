/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The first calls of logs -f and run, begun while the daemon restarts:
 * retried like a follower that lost its connection (the backoff of
 * backoff.h, a notice when the wait begins and one when it ends) as long
 * as the failure is transient (transient.h).  A call that must not reach
 * the server twice (Start) is retried only when its request certainly
 * reached no server; otherwise the error says that the job may have
 * started. */

#include <stdbool.h>
#include <stdint.h>

#include "backoff.h"
#include "conn.h"
#include "logs-output.h"

typedef struct FirstContact {
        Conn *conn;                     /* NULL: not begun */
        LogsOutput *out;                /* for the notices */
        bool repeatable;                /* the calls may reach the server twice */
        Backoff backoff;
        uint64_t briefly_since;         /* CLOCK_MONOTONIC of the first ambiguous failure in a row; 0: none */
        bool waiting;                   /* the first notice was given */
} FirstContact;

/* Makes c retry its first calls (conn_set_retry()) until
 * first_contact_end(). */
void first_contact_begin(FirstContact *f, Conn *c, LogsOutput *out, bool repeatable);

/* After the first calls: says "connected" if it had to wait, and stops
 * retrying.  A no-op if not begun. */
void first_contact_end(FirstContact *f);
