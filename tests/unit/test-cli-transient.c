/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Which failures of the CLI's first calls are retried while the daemon
 * restarts (client/transient.c), with the details gRPC 1.51 gives. */

#include <criterion/criterion.h>

#include "macro.h"
#include "status.h"
#include "transient.h"

#define PICK "failed to connect to all addresses; last error: "

Test(transient, classify) {
        static const struct {
                CallFailure f;
                Transient expected;
        } table[] = {
                /* Nobody listens, no such host, or not our server: at once. */
                { { .code = JR_CODE_UNAVAILABLE, .details = PICK "UNKNOWN: ipv4:127.0.0.1:1: Failed to connect to remote host: "
                                         "Connection refused" }, TRANSIENT_NO },
                { { .code = JR_CODE_UNAVAILABLE, .details = "DNS resolution failed for nowhere.invalid:50051" }, TRANSIENT_NO },
                { { .code = JR_CODE_UNAVAILABLE, .details = PICK "UNKNOWN: ipv4:127.0.0.1:50051: Ssl handshake failed: "
                                         "SSL_ERROR_SSL: error:0A000086:SSL routines::certificate verify failed" },
                  TRANSIENT_NO },
                { { .code = JR_CODE_UNAVAILABLE, .details = PICK "UNKNOWN: ipv4:127.0.0.1:80: wrong version number" }, TRANSIENT_NO },
                /* A closed handshake: a refusal the local checks explain,
                 * or ambiguous. */
                { { .code = JR_CODE_UNAVAILABLE, .details = PICK "UNAVAILABLE: ipv4:127.0.0.1:50051: Socket closed",
                    .cert_explained = true }, TRANSIENT_NO },
                { { .code = JR_CODE_UNAVAILABLE, .details = PICK "UNAVAILABLE: ipv4:127.0.0.1:50051: Socket closed" },
                  TRANSIENT_BRIEFLY },
                { { .code = JR_CODE_UNAVAILABLE, .details = PICK "UNAVAILABLE: ipv4:127.0.0.1:50051: recvmsg:Connection reset by peer" },
                  TRANSIENT_BRIEFLY },
                /* A connection that was up broke; the daemon says it stops. */
                { { .code = JR_CODE_UNAVAILABLE, .details = "Socket closed" }, TRANSIENT_YES },
                { { .code = JR_CODE_UNAVAILABLE, .details = "jobrunnerd is shutting down; retry later" }, TRANSIENT_YES },
                /* A deadline: still connecting (in the backlog), or a slow
                 * server. */
                { { .code = JR_CODE_DEADLINE_EXCEEDED, .details = "Deadline Exceeded" }, TRANSIENT_YES },
                { { .code = JR_CODE_DEADLINE_EXCEEDED, .details = "Deadline Exceeded", .connected = true }, TRANSIENT_NO },
                { { .code = JR_CODE_CANCELLED, .details = "Cancelled" }, TRANSIENT_NO },
                /* A follower with the default deadline: a daemon that is
                 * up but still starting is part of the restart. */
                { { .code = JR_CODE_DEADLINE_EXCEEDED, .details = "Deadline Exceeded", .connected = true,
                    .waits_out_restarts = true }, TRANSIENT_YES },
                { { .code = JR_CODE_CANCELLED, .details = "Cancelled", .connected = true, .waits_out_restarts = true },
                  TRANSIENT_YES },
                { { .code = JR_CODE_PERMISSION_DENIED, .details = "permission denied", .connected = true,
                    .waits_out_restarts = true }, TRANSIENT_NO },
                { { .code = JR_CODE_UNKNOWN, .details = "Stream removed" }, TRANSIENT_NO },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                cr_assert_eq(transient_classify(&table[i].f), table[i].expected, "entry %zu: %s", i,
                             table[i].f.details);
}

Test(transient, never_sent) {
        cr_assert(transient_never_sent(JR_CODE_UNAVAILABLE, PICK "UNAVAILABLE: ipv4:127.0.0.1:50051: Socket closed"));
        /* The transport's own errors: the request may have been sent. */
        cr_assert_not(transient_never_sent(JR_CODE_UNAVAILABLE, "Socket closed"));
        cr_assert_not(transient_never_sent(JR_CODE_UNAVAILABLE, "jobrunnerd is shutting down; retry later"));
        cr_assert_not(transient_never_sent(JR_CODE_DEADLINE_EXCEEDED, "Deadline Exceeded"));
        cr_assert_not(transient_never_sent(JR_CODE_UNAVAILABLE, NULL));
}
