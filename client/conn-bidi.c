/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bidirectional streams (Attach) on a connection: one thread receives,
 * another sends.  A PLUCK queue lets each wait for its own batches: the
 * sender for its message being taken, the receiver for the next message,
 * side by side. */
#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "conn-internal.h"
#include "macro.h"

struct ConnBidi {
        Conn *conn;
        grpc_call *call;
        bool has_deadline;
        gpr_timespec deadline;
        uint64_t timeout_usec;
        const ProtobufCMessageDescriptor *resp_type;

        /* The addresses are the batch tags. */
        char tag_start, tag_send, tag_message, tag_status;
        /* The sender's. */
        bool send_pending, send_closed;
        grpc_byte_buffer *send_message;
        /* The receiver's. */
        bool start_pending, message_pending, status_pending, ended;
        grpc_byte_buffer *recv_message;
        /* Either's: after a failed send the call is over for the sender. */
        atomic_bool broken;

        grpc_metadata_array initial_metadata, trailing_metadata;
        grpc_status_code code;
        grpc_slice status_details;
        const char *error_string;
        RpcStatus status;
};

static int start_batch(ConnBidi *b, const grpc_op *ops, size_t n, void *tag) {
        return grpc_call_start_batch(b->call, ops, n, tag, NULL) == GRPC_CALL_OK ? 0 : -EINVAL;
}

/* Collects the sender's batch: whether it succeeded. */
static bool send_wait(ConnBidi *b) {
        int r;

        if (!b->send_pending)
                return true;
        r = conn_pluck(b->conn, b->call, &b->tag_send, b->has_deadline, b->deadline, false);
        b->send_pending = false;
        if (b->send_message) {
                grpc_byte_buffer_destroy(b->send_message);
                b->send_message = NULL;
        }
        if (r <= 0)
                atomic_store(&b->broken, true);
        return r > 0;
}

int conn_bidi_open(Conn *c, const char *method, const ProtobufCMessage *first,
                   const ProtobufCMessageDescriptor *resp_type, ConnBidi **ret, CliError *e) {
        grpc_op ops[2], status_op, md_op;
        ConnBidi *b;

        b = calloc(1, sizeof(*b));
        if (!b)
                return cli_error_oom(e);
        b->conn = c;
        b->resp_type = resp_type;
        b->timeout_usec = conn_timeout_for(c, CONN_DEADLINE_LONG);
        b->has_deadline = b->timeout_usec > 0;
        b->deadline = conn_deadline_in(b->timeout_usec);
        b->code = GRPC_STATUS_UNKNOWN;
        b->status_details = grpc_empty_slice();
        atomic_init(&b->broken, false);
        grpc_metadata_array_init(&b->initial_metadata);
        grpc_metadata_array_init(&b->trailing_metadata);

        b->call = conn_call_create(c, method, b->deadline);
        if (!b->call) {
                grpc_metadata_array_destroy(&b->initial_metadata);
                grpc_metadata_array_destroy(&b->trailing_metadata);
                free(b);
                return cli_error(e, CLI_EXIT_LOCAL, -EINVAL, "cannot create a gRPC call of %s", method);
        }
        c->n_streams++;

        /* The status first, as for server streams: whatever happens to the
         * rest, it is what the call ends with. */
        status_op = (grpc_op) { .op = GRPC_OP_RECV_STATUS_ON_CLIENT };
        status_op.data.recv_status_on_client.trailing_metadata = &b->trailing_metadata;
        status_op.data.recv_status_on_client.status = &b->code;
        status_op.data.recv_status_on_client.status_details = &b->status_details;
        status_op.data.recv_status_on_client.error_string = &b->error_string;
        if (start_batch(b, &status_op, 1, &b->tag_status) < 0)
                goto fail;
        b->status_pending = true;

        md_op = (grpc_op) { .op = GRPC_OP_RECV_INITIAL_METADATA };
        md_op.data.recv_initial_metadata.recv_initial_metadata = &b->initial_metadata;
        if (start_batch(b, &md_op, 1, &b->tag_start) < 0)
                goto fail;
        b->start_pending = true;

        /* The first message goes with the headers; the sender's first
         * conn_bidi_send() waits for it to be taken. */
        b->send_message = conn_pack(first);
        memset(ops, 0, sizeof(ops));
        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[1].op = GRPC_OP_SEND_MESSAGE;
        ops[1].data.send_message.send_message = b->send_message;
        if (start_batch(b, ops, ELEMENTSOF(ops), &b->tag_send) < 0)
                goto fail;
        b->send_pending = true;

        *ret = b;
        return 0;

fail:
        conn_bidi_free(b);
        return cli_error(e, CLI_EXIT_LOCAL, -EINVAL, "cannot start the gRPC call of %s", method);
}

int conn_bidi_send(ConnBidi *b, const ProtobufCMessage *m, CliError *e) {
        grpc_op op = { .op = GRPC_OP_SEND_MESSAGE };

        if (!send_wait(b) || b->send_closed || atomic_load(&b->broken))
                return 0;
        b->send_message = conn_pack(m);
        op.data.send_message.send_message = b->send_message;
        if (start_batch(b, &op, 1, &b->tag_send) < 0) {
                grpc_byte_buffer_destroy(b->send_message);
                b->send_message = NULL;
                (void) grpc_call_cancel(b->call, NULL);
                return cli_error(e, CLI_EXIT_LOCAL, -EINVAL, "cannot send on the gRPC call");
        }
        b->send_pending = true;
        return send_wait(b) ? 1 : 0;
}

int conn_bidi_close_send(ConnBidi *b, CliError *e) {
        grpc_op op = { .op = GRPC_OP_SEND_CLOSE_FROM_CLIENT };

        if (!send_wait(b) || b->send_closed || atomic_load(&b->broken))
                return 0;
        b->send_closed = true;
        if (start_batch(b, &op, 1, &b->tag_send) < 0) {
                (void) grpc_call_cancel(b->call, NULL);
                return cli_error(e, CLI_EXIT_LOCAL, -EINVAL, "cannot half-close the gRPC call");
        }
        b->send_pending = true;
        return send_wait(b) ? 1 : 0;
}

static int bidi_finish(ConnBidi *b, CliError *e) {
        if (b->start_pending) {
                (void) conn_pluck(b->conn, b->call, &b->tag_start, b->has_deadline, b->deadline, false);
                b->start_pending = false;
        }
        if (b->status_pending) {
                (void) conn_pluck(b->conn, b->call, &b->tag_status, b->has_deadline, b->deadline, false);
                b->status_pending = false;
        }
        b->ended = true;
        atomic_store(&b->broken, true);
        if (!b->status.details) {
                int r = conn_status_from(b->code, b->status_details, &b->status, e);

                if (r < 0)
                        return r;
                if (conn_answered_by_server(b->status.code))
                        b->conn->reached_server = true;
        }
        return 0;
}

int conn_bidi_next(ConnBidi *b, bool interruptible, ProtobufCMessage **ret, CliError *e) {
        ProtobufCMessage *m;
        int r;

        if (b->ended)
                return 0;

        if (!b->message_pending) {
                grpc_op op = { .op = GRPC_OP_RECV_MESSAGE };

                b->recv_message = NULL;
                op.data.recv_message.recv_message = &b->recv_message;
                if (start_batch(b, &op, 1, &b->tag_message) < 0) {
                        (void) grpc_call_cancel(b->call, NULL);
                        (void) bidi_finish(b, NULL);
                        return cli_error(e, CLI_EXIT_LOCAL, -EINVAL, "cannot receive from the gRPC call");
                }
                b->message_pending = true;
        }
        r = conn_pluck(b->conn, b->call, &b->tag_message, b->has_deadline, b->deadline, interruptible);
        if (r == -EINTR)
                return r;
        b->message_pending = false;

        if (b->start_pending) {
                (void) conn_pluck(b->conn, b->call, &b->tag_start, b->has_deadline, b->deadline, false);
                b->start_pending = false;
        }

        if (!b->recv_message) {
                r = bidi_finish(b, e);
                return r < 0 ? r : 0;
        }

        m = conn_unpack(b->recv_message, b->resp_type);
        grpc_byte_buffer_destroy(b->recv_message);
        b->recv_message = NULL;
        if (!m) {
                (void) grpc_call_cancel(b->call, NULL);
                return conn_bad_response("a stream", e);
        }
        b->conn->reached_server = true;
        *ret = m;
        return 1;
}

const RpcStatus *conn_bidi_status(ConnBidi *b) {
        return b->ended ? &b->status : NULL;
}

int conn_bidi_fail(ConnBidi *b, const char *what, CliError *e) {
        return conn_fail_after(b->conn, &b->status, what, b->timeout_usec, e);
}

void conn_bidi_cancel(ConnBidi *b) {
        /* Thread-safe in gRPC, and harmless on a call that is over. */
        if (b) {
                atomic_store(&b->broken, true);
                (void) grpc_call_cancel(b->call, NULL);
        }
}

void conn_bidi_free(ConnBidi *b) {
        if (!b)
                return;

        if (b->send_pending || b->message_pending || b->start_pending || b->status_pending)
                (void) grpc_call_cancel(b->call, NULL);
        (void) send_wait(b);
        if (b->message_pending) {
                (void) conn_pluck(b->conn, b->call, &b->tag_message, b->has_deadline, b->deadline, false);
                b->message_pending = false;
                if (b->recv_message)
                        grpc_byte_buffer_destroy(b->recv_message);
        }
        (void) bidi_finish(b, NULL);

        grpc_metadata_array_destroy(&b->initial_metadata);
        grpc_metadata_array_destroy(&b->trailing_metadata);
        grpc_slice_unref(b->status_details);
        gpr_free((void *) b->error_string);
        grpc_call_unref(b->call);
        b->conn->n_streams--;
        rpc_status_done(&b->status);
        free(b);
}
