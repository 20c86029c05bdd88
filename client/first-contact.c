/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>

#include "first-contact.h"
#include "rpc-error.h"
#include "status.h"
#include "time-util.h"
#include "transient.h"

static int retry(void *userdata, Conn *c, const RpcStatus *status, bool unsent, CliError *e) {
        FirstContact *f = userdata;
        CallFailure failure = {
                .code = status->code,
                .details = status->details,
                .connected = conn_connected(c),
                .cert_explained = conn_refusal_explained(c, status),
                .waits_out_restarts = f->repeatable && !conn_timeout_given(c),
        };
        Transient t = transient_classify(&failure);
        uint64_t now;
        int r;

        if (!unsent && !f->repeatable) {
                /* The server did not answer, and may have had the request:
                 * a second one could start a second job. */
                if (status->code == JR_CODE_UNAVAILABLE)
                        return cli_error(e, CLI_EXIT_UNAVAILABLE, -ECONNABORTED,
                                         "the connection to the server broke before it answered (%s): the job may "
                                         "or may not have been started; see 'jobrunner list'", status->details);
                r = conn_fail(c, status, NULL, e);
                cli_error_amend(e, -1, "; the job may or may not have been started: see 'jobrunner list'");
                return r;
        }
        if (t == TRANSIENT_NO)
                return 0;

        now = now_usec(CLOCK_MONOTONIC);
        if (t != TRANSIENT_BRIEFLY)
                f->briefly_since = 0;
        else if (f->briefly_since == 0)
                f->briefly_since = now;
        else if (now - f->briefly_since >= TRANSIENT_BRIEFLY_USEC)
                return 0;

        if (!f->waiting) {
                (void) logs_output_notice(f->out, "cannot reach the server yet (%s); retrying...",
                                          rpc_details_cause(status->details));
                f->waiting = true;
        }
        if (!backoff_wait(&f->backoff, false))
                return cli_error(e, CLI_EXIT_UNAVAILABLE, -ETIMEDOUT,
                                 "the server did not answer within %" PRIu64 " minutes (%s)",
                                 BACKOFF_GIVE_UP_USEC / 60000000, status->details);
        conn_reconnect(c);
        return 1;
}

void first_contact_begin(FirstContact *f, Conn *c, LogsOutput *out, bool repeatable) {
        *f = (FirstContact) { .conn = c, .out = out, .repeatable = repeatable };
        conn_set_retry(c, retry, f);
}

void first_contact_end(FirstContact *f) {
        if (!f->conn)
                return;
        if (f->waiting && conn_reached_server(f->conn))
                (void) logs_output_notice(f->out, "connected");
        conn_set_retry(f->conn, NULL, NULL);
        f->conn = NULL;
}
