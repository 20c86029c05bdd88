/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Which failures of a command's first calls are worth trying again because
 * the daemon is restarting, and which are not.  Before the server has ever
 * answered, a restart shows up as a connection that waits in the socket's
 * backlog (the call's deadline passes while the channel is still
 * connecting), as a connection closed by the daemon that is going away, or
 * as an established connection that breaks; everything that says the
 * server cannot be reached or refuses us stays an error at once. */

#include <stdbool.h>
#include <stdint.h>

typedef enum Transient {
        TRANSIENT_NO,           /* retrying cannot help: fail with the error */
        TRANSIENT_YES,          /* the daemon is (re)starting: retry while the backoff lasts */
        /* The server closed the connection in the TLS handshake, and the
         * local checks of the client certificate found nothing wrong:
         * with TLS 1.3 a refused certificate looks exactly like a daemon
         * that closed the connection on its way out.  Retried for
         * TRANSIENT_BRIEFLY_USEC only. */
        TRANSIENT_BRIEFLY,
} Transient;

#define TRANSIENT_BRIEFLY_USEC (UINT64_C(5) * 1000000)

typedef struct CallFailure {
        int code;                       /* the status code, alias JrCode */
        const char *details;
        bool connected;                 /* the channel had a connection up when the call ended */
        bool cert_explained;            /* the local checks found what is wrong with the client certificate */
        /* The command follows a job and nobody chose its deadline: a
         * server that is up but does not answer in time is a daemon still
         * starting after a restart (it re-attaches every job first), part
         * of the restart being waited out, as for a follower that was
         * already connected.  Otherwise --timeout is what the user asked
         * for. */
        bool waits_out_restarts;
} CallFailure;

/* For a call on a connection whose server has not answered yet. */
Transient transient_classify(const CallFailure *f);

/* Whether gRPC failed the call before it had a connection to send it on:
 * then no server has seen the request.  gRPC 1.51's pick_first policy
 * fails every call made while it has no connection with "failed to connect
 * to all addresses; last error: ..."; a call that was sent ends with the
 * transport's own error instead, and a stream that the server refused
 * unprocessed is retried by gRPC itself and then ends like a new call.
 * Should the wording ever change, this says false: the safe side. */
bool transient_never_sent(int code, const char *details);
