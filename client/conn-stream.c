/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Server-streaming calls (Logs) on a connection: start, next message,
 * the final status, cancel.  The receiving is conn-recv.c's; here the one
 * request, sent with the headers and the half-close. */
#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <stdlib.h>
#include <string.h>

#include "conn-internal.h"
#include "macro.h"

struct ConnStream {
        ConnRecv recv;
        grpc_byte_buffer *send_message;
};

int conn_stream_open(Conn *c, const char *method, const ProtobufCMessage *req,
                     const ProtobufCMessageDescriptor *resp_type, ConnDeadline deadline, ConnStream **ret,
                     CliError *e) {
        grpc_op ops[4];
        ConnStream *s;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return cli_error_oom(e);
        r = conn_recv_begin(&s->recv, c, method, resp_type, deadline, e);
        if (r < 0) {
                conn_stream_free(s);
                return r;
        }

        s->send_message = conn_pack(req);
        memset(ops, 0, sizeof(ops));
        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[1].op = GRPC_OP_SEND_MESSAGE;
        ops[1].data.send_message.send_message = s->send_message;
        ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
        ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[3].data.recv_initial_metadata.recv_initial_metadata = &s->recv.initial_metadata;
        if (grpc_call_start_batch(s->recv.call, ops, ELEMENTSOF(ops), &s->recv.tag_start, NULL) != GRPC_CALL_OK) {
                conn_stream_free(s);
                return cli_error(e, CLI_EXIT_LOCAL, -EINVAL, "cannot start the gRPC call of %s", method);
        }
        s->recv.start_pending = true;

        *ret = s;
        return 0;
}

int conn_stream_next(ConnStream *s, bool interruptible, ProtobufCMessage **ret, CliError *e) {
        return conn_recv_next(&s->recv, interruptible, ret, e);
}

const RpcStatus *conn_stream_status(ConnStream *s) {
        return conn_recv_status(&s->recv);
}

void conn_stream_cancel(ConnStream *s) {
        if (s && !s->recv.ended)
                (void) grpc_call_cancel(s->recv.call, NULL);
}

void conn_stream_free(ConnStream *s) {
        if (!s)
                return;

        if (conn_recv_pending(&s->recv)) {
                (void) grpc_call_cancel(s->recv.call, NULL);
                conn_recv_collect(&s->recv);
        }
        if (s->send_message)
                grpc_byte_buffer_destroy(s->send_message);
        conn_recv_done(&s->recv);
        free(s);
}

int conn_stream_fail(ConnStream *s, const char *what, CliError *e) {
        return conn_recv_fail(&s->recv, what, e);
}
