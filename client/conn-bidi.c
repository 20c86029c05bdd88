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
        /* The receiver's. */
        ConnRecv recv;
        /* The sender's. */
        char tag_send;
        bool send_pending, send_closed;
        grpc_byte_buffer *send_message;
};

static int start_batch(ConnBidi *b, const grpc_op *ops, size_t n, void *tag) {
        return grpc_call_start_batch(b->recv.call, ops, n, tag, NULL) == GRPC_CALL_OK ? 0 : -EINVAL;
}

/* Collects the sender's batch: whether it succeeded. */
static bool send_wait(ConnBidi *b) {
        ConnRecv *r = &b->recv;
        int q;

        if (!b->send_pending)
                return true;
        q = conn_pluck(r->conn, r->call, &b->tag_send, r->has_deadline, r->deadline, false);
        b->send_pending = false;
        if (b->send_message) {
                grpc_byte_buffer_destroy(b->send_message);
                b->send_message = NULL;
        }
        if (q <= 0)
                atomic_store(&r->broken, true);
        return q > 0;
}

int conn_bidi_open(Conn *c, const char *method, const ProtobufCMessage *first,
                   const ProtobufCMessageDescriptor *resp_type, ConnBidi **ret, CliError *e) {
        grpc_op ops[2], md_op;
        ConnBidi *b;
        int r;

        b = calloc(1, sizeof(*b));
        if (!b)
                return cli_error_oom(e);
        /* The status first, as for server streams. */
        r = conn_recv_begin(&b->recv, c, method, resp_type, CONN_DEADLINE_LONG, e);
        if (r < 0) {
                conn_bidi_free(b);
                return r;
        }

        md_op = (grpc_op) { .op = GRPC_OP_RECV_INITIAL_METADATA };
        md_op.data.recv_initial_metadata.recv_initial_metadata = &b->recv.initial_metadata;
        if (start_batch(b, &md_op, 1, &b->recv.tag_start) < 0)
                goto fail;
        b->recv.start_pending = true;

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

        if (!send_wait(b) || b->send_closed || atomic_load(&b->recv.broken))
                return 0;
        b->send_message = conn_pack(m);
        op.data.send_message.send_message = b->send_message;
        if (start_batch(b, &op, 1, &b->tag_send) < 0) {
                grpc_byte_buffer_destroy(b->send_message);
                b->send_message = NULL;
                (void) grpc_call_cancel(b->recv.call, NULL);
                return cli_error(e, CLI_EXIT_LOCAL, -EINVAL, "cannot send on the gRPC call");
        }
        b->send_pending = true;
        return send_wait(b) ? 1 : 0;
}

int conn_bidi_close_send(ConnBidi *b, CliError *e) {
        grpc_op op = { .op = GRPC_OP_SEND_CLOSE_FROM_CLIENT };

        if (!send_wait(b) || b->send_closed || atomic_load(&b->recv.broken))
                return 0;
        b->send_closed = true;
        if (start_batch(b, &op, 1, &b->tag_send) < 0) {
                (void) grpc_call_cancel(b->recv.call, NULL);
                return cli_error(e, CLI_EXIT_LOCAL, -EINVAL, "cannot half-close the gRPC call");
        }
        b->send_pending = true;
        return send_wait(b) ? 1 : 0;
}

int conn_bidi_next(ConnBidi *b, bool interruptible, ProtobufCMessage **ret, CliError *e) {
        return conn_recv_next(&b->recv, interruptible, ret, e);
}

const RpcStatus *conn_bidi_status(ConnBidi *b) {
        return conn_recv_status(&b->recv);
}

int conn_bidi_fail(ConnBidi *b, const char *what, CliError *e) {
        return conn_recv_fail(&b->recv, what, e);
}

void conn_bidi_cancel(ConnBidi *b) {
        /* Thread-safe in gRPC, and harmless on a call that is over. */
        if (b) {
                atomic_store(&b->recv.broken, true);
                (void) grpc_call_cancel(b->recv.call, NULL);
        }
}

void conn_bidi_free(ConnBidi *b) {
        if (!b)
                return;

        if (b->send_pending || conn_recv_pending(&b->recv))
                (void) grpc_call_cancel(b->recv.call, NULL);
        (void) send_wait(b);
        conn_recv_collect(&b->recv);
        conn_recv_done(&b->recv);
        free(b);
}
