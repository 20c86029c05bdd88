/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "rpc-error.h"
#include "status.h"
#include "transient.h"

/* The wording of pick_first's failure in gRPC 1.51. */
#define PICK_FAILED "failed to connect to all addresses"

bool transient_never_sent(int code, const char *details) {
        return code == JR_CODE_UNAVAILABLE && details && strstr(details, PICK_FAILED);
}

static Transient closed(const CallFailure *f) {
        /* Not in the handshake: a connection that was up broke, which is
         * how a daemon that stops looks to a call it has not answered. */
        if (!transient_never_sent(f->code, f->details))
                return TRANSIENT_YES;
        return f->cert_explained ? TRANSIENT_NO : TRANSIENT_BRIEFLY;
}

Transient transient_classify(const CallFailure *f) {
        static const Transient by_class[] = {
                [UNAVAILABLE_DNS] = TRANSIENT_NO,
                /* Nobody listens: systemd keeps jobrunner.socket listening
                 * across restarts, so this is no restart. */
                [UNAVAILABLE_CONNECT] = TRANSIENT_NO,
                [UNAVAILABLE_SERVER_CERT] = TRANSIENT_NO,
                [UNAVAILABLE_NOT_TLS] = TRANSIENT_NO,
                [UNAVAILABLE_CLOSED] = TRANSIENT_BRIEFLY,       /* see closed() */
                /* E.g. "jobrunnerd is shutting down; retry later". */
                [UNAVAILABLE_OTHER] = TRANSIENT_YES,
        };
        Unavailable u;

        switch (f->code) {
        case JR_CODE_UNAVAILABLE:
                u = classify_unavailable(f->details);
                return u == UNAVAILABLE_CLOSED ? closed(f) : by_class[u];
        case JR_CODE_DEADLINE_EXCEEDED:
                /* Still connecting: the connection waits in the backlog of
                 * the socket for the next daemon to accept it.  With a
                 * connection up, the server is slow: see
                 * waits_out_restarts. */
                return f->connected && !f->waits_out_restarts ? TRANSIENT_NO : TRANSIENT_YES;
        case JR_CODE_CANCELLED:
                /* gRPC let the deadline pass and conn.c cancelled the call. */
                return f->waits_out_restarts ? TRANSIENT_YES : TRANSIENT_NO;
        default:
                return TRANSIENT_NO;
        }
}
