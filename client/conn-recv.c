/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The receiving half of streaming calls, one for server streams and
 * bidirectional streams alike: their receive path, status and end are the
 * same; only what they send differs. */
#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "conn-internal.h"

int conn_recv_begin(ConnRecv *r, Conn *c, const char *method, const ProtobufCMessageDescriptor *resp_type,
                    ConnDeadline deadline, CliError *e) {
        grpc_op status_op;

        r->conn = c;
        r->resp_type = resp_type;
        r->timeout_usec = conn_timeout_for(c, deadline);
        r->has_deadline = r->timeout_usec > 0;
        r->deadline = conn_deadline_in(r->timeout_usec);
        r->code = GRPC_STATUS_UNKNOWN;
        r->status_details = grpc_empty_slice();
        atomic_init(&r->broken, false);
        grpc_metadata_array_init(&r->initial_metadata);
        grpc_metadata_array_init(&r->trailing_metadata);

        r->call = conn_call_create(c, method, r->deadline);
        if (!r->call)
                return cli_error(e, CLI_EXIT_LOCAL, -EINVAL, "cannot create a gRPC call of %s", method);
        c->n_streams++;

        /* The status first: whatever happens to the rest, it is what the
         * call ends with, and collecting it is what freeing the call
         * waits for. */
        status_op = (grpc_op) { .op = GRPC_OP_RECV_STATUS_ON_CLIENT };
        status_op.data.recv_status_on_client.trailing_metadata = &r->trailing_metadata;
        status_op.data.recv_status_on_client.status = &r->code;
        status_op.data.recv_status_on_client.status_details = &r->status_details;
        status_op.data.recv_status_on_client.error_string = &r->error_string;
        if (grpc_call_start_batch(r->call, &status_op, 1, &r->tag_status, NULL) != GRPC_CALL_OK)
                return cli_error(e, CLI_EXIT_LOCAL, -EINVAL, "cannot start the gRPC call of %s", method);
        r->status_pending = true;
        return 0;
}

static int recv_finish(ConnRecv *r, CliError *e) {
        if (r->start_pending) {
                (void) conn_pluck(r->conn, r->call, &r->tag_start, r->has_deadline, r->deadline, false);
                r->start_pending = false;
        }
        if (r->status_pending) {
                (void) conn_pluck(r->conn, r->call, &r->tag_status, r->has_deadline, r->deadline, false);
                r->status_pending = false;
        }
        r->ended = true;
        atomic_store(&r->broken, true);
        if (!r->status.details) {
                int q = conn_status_from(r->code, r->status_details, &r->status, e);

                if (q < 0)
                        return q;
                if (conn_answered_by_server(r->status.code))
                        r->conn->reached_server = true;
        }
        return 0;
}

int conn_recv_next(ConnRecv *r, bool interruptible, ProtobufCMessage **ret, CliError *e) {
        ProtobufCMessage *m;
        int q;

        if (r->ended)
                return 0;

        if (!r->message_pending) {
                grpc_op op = { .op = GRPC_OP_RECV_MESSAGE };

                r->recv_message = NULL;
                op.data.recv_message.recv_message = &r->recv_message;
                if (grpc_call_start_batch(r->call, &op, 1, &r->tag_message, NULL) != GRPC_CALL_OK) {
                        (void) grpc_call_cancel(r->call, NULL);
                        (void) recv_finish(r, NULL);
                        return cli_error(e, CLI_EXIT_LOCAL, -EINVAL, "cannot receive from the gRPC call");
                }
                r->message_pending = true;
        }
        q = conn_pluck(r->conn, r->call, &r->tag_message, r->has_deadline, r->deadline, interruptible);
        if (q == -EINTR)
                return q;
        r->message_pending = false;

        /* The initial metadata came before any message, or the call is
         * over: either way that batch is done now. */
        if (r->start_pending) {
                (void) conn_pluck(r->conn, r->call, &r->tag_start, r->has_deadline, r->deadline, false);
                r->start_pending = false;
        }

        if (!r->recv_message) {
                q = recv_finish(r, e);
                return q < 0 ? q : 0;
        }

        m = conn_unpack(r->recv_message, r->resp_type);
        grpc_byte_buffer_destroy(r->recv_message);
        r->recv_message = NULL;
        if (!m) {
                (void) grpc_call_cancel(r->call, NULL);
                return conn_bad_response("a stream", e);
        }
        r->conn->reached_server = true;
        *ret = m;
        return 1;
}

const RpcStatus *conn_recv_status(ConnRecv *r) {
        return r->ended ? &r->status : NULL;
}

int conn_recv_fail(ConnRecv *r, const char *what, CliError *e) {
        return conn_fail_after(r->conn, &r->status, what, r->timeout_usec, e);
}

bool conn_recv_pending(const ConnRecv *r) {
        return r->message_pending || r->start_pending || r->status_pending;
}

void conn_recv_collect(ConnRecv *r) {
        if (!r->call)
                return;
        if (r->message_pending) {
                (void) conn_pluck(r->conn, r->call, &r->tag_message, r->has_deadline, r->deadline, false);
                r->message_pending = false;
                if (r->recv_message)
                        grpc_byte_buffer_destroy(r->recv_message);
        }
        (void) recv_finish(r, NULL);
}

void conn_recv_done(ConnRecv *r) {
        grpc_metadata_array_destroy(&r->initial_metadata);
        grpc_metadata_array_destroy(&r->trailing_metadata);
        grpc_slice_unref(r->status_details);
        gpr_free((void *) r->error_string);
        if (r->call) {
                grpc_call_unref(r->call);
                r->conn->n_streams--;
        }
        rpc_status_done(&r->status);
}
