/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Server-streaming calls (Logs) on a connection: start, next message,
 * the final status, cancel. */
#include <assert.h>
#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <stdlib.h>
#include <string.h>

#include "conn-internal.h"
#include "macro.h"

struct ConnStream {
        Conn *conn;
        grpc_call *call;
        bool has_deadline;
        gpr_timespec deadline;
        uint64_t timeout_usec;
        const ProtobufCMessageDescriptor *resp_type;

        /* The addresses are the batch tags. */
        char tag_start, tag_message, tag_status;
        bool start_pending, message_pending, status_pending, ended;

        grpc_byte_buffer *send_message, *recv_message;
        grpc_metadata_array initial_metadata, trailing_metadata;
        grpc_status_code code;
        grpc_slice status_details;
        const char *error_string;
        RpcStatus status;
};

/* ---- streams ----------------------------------------------------------- */

int conn_stream_open(Conn *c, const char *method, const ProtobufCMessage *req,
                     const ProtobufCMessageDescriptor *resp_type, ConnDeadline deadline, ConnStream **ret,
                     CliError *e) {
        grpc_op ops[4], status_op;
        ConnStream *s;

        s = calloc(1, sizeof(*s));
        if (!s)
                return cli_error_oom(e);
        s->conn = c;
        s->resp_type = resp_type;
        s->timeout_usec = conn_timeout_for(c, deadline);
        s->has_deadline = s->timeout_usec > 0;
        s->deadline = conn_deadline_in(s->timeout_usec);
        s->code = GRPC_STATUS_UNKNOWN;
        s->status_details = grpc_empty_slice();
        grpc_metadata_array_init(&s->initial_metadata);
        grpc_metadata_array_init(&s->trailing_metadata);

        s->call = conn_call_create(c, method, s->deadline);
        if (!s->call) {
                grpc_metadata_array_destroy(&s->initial_metadata);
                grpc_metadata_array_destroy(&s->trailing_metadata);
                free(s);
                return cli_error(e, CLI_EXIT_LOCAL, -EINVAL, "cannot create a gRPC call of %s", method);
        }
        c->n_streams++;

        /* The status first: whatever happens to the rest, it is what the
         * call ends with, and collecting it is what conn_stream_free()
         * waits for. */
        status_op = (grpc_op) { .op = GRPC_OP_RECV_STATUS_ON_CLIENT };
        status_op.data.recv_status_on_client.trailing_metadata = &s->trailing_metadata;
        status_op.data.recv_status_on_client.status = &s->code;
        status_op.data.recv_status_on_client.status_details = &s->status_details;
        status_op.data.recv_status_on_client.error_string = &s->error_string;
        if (grpc_call_start_batch(s->call, &status_op, 1, &s->tag_status, NULL) != GRPC_CALL_OK) {
                conn_stream_free(s);
                return cli_error(e, CLI_EXIT_LOCAL, -EINVAL, "cannot start the gRPC call of %s", method);
        }
        s->status_pending = true;

        s->send_message = conn_pack(req);
        memset(ops, 0, sizeof(ops));
        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[1].op = GRPC_OP_SEND_MESSAGE;
        ops[1].data.send_message.send_message = s->send_message;
        ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
        ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[3].data.recv_initial_metadata.recv_initial_metadata = &s->initial_metadata;
        if (grpc_call_start_batch(s->call, ops, ELEMENTSOF(ops), &s->tag_start, NULL) != GRPC_CALL_OK) {
                conn_stream_free(s);
                return cli_error(e, CLI_EXIT_LOCAL, -EINVAL, "cannot start the gRPC call of %s", method);
        }
        s->start_pending = true;

        *ret = s;
        return 0;
}

static int stream_finish(ConnStream *s, CliError *e) {
        if (s->start_pending) {
                (void) conn_pluck(s->conn, s->call, &s->tag_start, s->has_deadline, s->deadline, false);
                s->start_pending = false;
        }
        if (s->status_pending) {
                (void) conn_pluck(s->conn, s->call, &s->tag_status, s->has_deadline, s->deadline, false);
                s->status_pending = false;
        }
        s->ended = true;
        if (!s->status.details) {
                int r = conn_status_from(s->code, s->status_details, &s->status, e);

                if (r < 0)
                        return r;
                if (conn_answered_by_server(s->status.code))
                        s->conn->reached_server = true;
        }
        return 0;
}

int conn_stream_next(ConnStream *s, bool interruptible, ProtobufCMessage **ret, CliError *e) {
        ProtobufCMessage *m;
        int r;

        if (s->ended)
                return 0;

        if (!s->message_pending) {
                grpc_op op = { .op = GRPC_OP_RECV_MESSAGE };

                s->recv_message = NULL;
                op.data.recv_message.recv_message = &s->recv_message;
                if (grpc_call_start_batch(s->call, &op, 1, &s->tag_message, NULL) != GRPC_CALL_OK) {
                        (void) grpc_call_cancel(s->call, NULL);
                        (void) stream_finish(s, NULL);
                        return cli_error(e, CLI_EXIT_LOCAL, -EINVAL, "cannot receive from the gRPC call");
                }
                s->message_pending = true;
        }
        r = conn_pluck(s->conn, s->call, &s->tag_message, s->has_deadline, s->deadline, interruptible);
        if (r == -EINTR)
                return r;
        s->message_pending = false;

        /* The initial metadata came before any message, or the call is
         * over: either way that batch is done now. */
        if (s->start_pending) {
                (void) conn_pluck(s->conn, s->call, &s->tag_start, s->has_deadline, s->deadline, false);
                s->start_pending = false;
        }

        if (!s->recv_message) {
                r = stream_finish(s, e);
                return r < 0 ? r : 0;
        }

        m = conn_unpack(s->recv_message, s->resp_type);
        grpc_byte_buffer_destroy(s->recv_message);
        s->recv_message = NULL;
        if (!m) {
                (void) grpc_call_cancel(s->call, NULL);
                return conn_bad_response("a stream", e);
        }
        s->conn->reached_server = true;
        *ret = m;
        return 1;
}

const RpcStatus *conn_stream_status(ConnStream *s) {
        return s->ended ? &s->status : NULL;
}

void conn_stream_cancel(ConnStream *s) {
        if (s && !s->ended)
                (void) grpc_call_cancel(s->call, NULL);
}

void conn_stream_free(ConnStream *s) {
        if (!s)
                return;

        if (s->message_pending || s->start_pending || s->status_pending) {
                (void) grpc_call_cancel(s->call, NULL);
                if (s->message_pending) {
                        (void) conn_pluck(s->conn, s->call, &s->tag_message, s->has_deadline, s->deadline, false);
                        s->message_pending = false;
                        if (s->recv_message)
                                grpc_byte_buffer_destroy(s->recv_message);
                }
                (void) stream_finish(s, NULL);
        }

        if (s->send_message)
                grpc_byte_buffer_destroy(s->send_message);
        grpc_metadata_array_destroy(&s->initial_metadata);
        grpc_metadata_array_destroy(&s->trailing_metadata);
        grpc_slice_unref(s->status_details);
        gpr_free((void *) s->error_string);
        grpc_call_unref(s->call);
        s->conn->n_streams--;
        rpc_status_done(&s->status);
        free(s);
}

int conn_stream_fail(ConnStream *s, const char *what, CliError *e) {
        return conn_fail_after(s->conn, &s->status, what, s->timeout_usec, e);
}
