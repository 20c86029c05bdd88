/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What conn.c (connections and unary calls) shares with conn-stream.c
 * (server streams) and conn-bidi.c (bidirectional ones), and these two
 * with conn-recv.c (their receiving half): the connection itself and the
 * pieces of a call.  Not for the rest of the CLI, which sees conn.h only. */

#include <grpc/grpc.h>
#include <grpc/support/time.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "identity.h"
#include "resolve.h"

#define METHOD_PREFIX "/jobrunner.v1.JobRunner/"

/* How long after a call's deadline we still wait for gRPC to complete its
 * batch before cancelling the call ourselves: gRPC completes every batch
 * once the deadline has passed, so this is a safety net only. */
#define PLUCK_SLACK_MS 10000
/* How often an interruptible wait looks at the Ctrl-C flag. */
#define INTERRUPT_POLL_MS 100

struct Conn {
        grpc_channel_credentials *creds;
        grpc_channel *channel;
        grpc_completion_queue *cq;
        unsigned n_streams;

        char *server, *cert, *ca;
        char *tls_server_name;          /* NULL: the server's host name */
        char *authority;                /* every call's :authority, authority_for() */
        ResolvedServer resolved;
        bool grpc_initialized;
        uint64_t timeout_usec;          /* 0: none given */
        bool reached_server;
        ConnRetryFunc retry;
        void *retry_userdata;

        bool identity_loaded;
        Identity identity;
        char *who;
};

/* The server's answer, not gRPC's or the network's: a status code no
 * transport failure produces. */
bool conn_answered_by_server(int code);

/* The call's timeout: --timeout, else the default for its kind (0: none). */
uint64_t conn_timeout_for(const Conn *c, ConnDeadline d);
gpr_timespec conn_deadline_in(uint64_t usec);

/* Waits for the batch with this tag of call: 1 if it succeeded, 0 if not;
 * -EINTR (interruptible only) once Ctrl-C was pressed. */
int conn_pluck(Conn *c, grpc_call *call, void *tag, bool has_deadline, gpr_timespec deadline, bool interruptible);

grpc_call *conn_call_create(Conn *c, const char *method, gpr_timespec deadline);
grpc_byte_buffer *conn_pack(const ProtobufCMessage *m);
ProtobufCMessage *conn_unpack(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *type);
int conn_bad_response(const char *method, CliError *e);
int conn_status_from(grpc_status_code code, grpc_slice details, RpcStatus *ret, CliError *e);
/* The error for a failed call, as conn_fail() with the timeout given. */
int conn_fail_after(Conn *c, const RpcStatus *status, const char *what, uint64_t timeout_usec, CliError *e);

/* The receiving half of a streaming call, server-streaming (conn-stream.c)
 * or bidirectional (conn-bidi.c): the call, its deadline, the batches of
 * the status, the initial metadata and the next message, and the status
 * the call ended with.  Embedded in either; only its receiving thread
 * uses it, but for broken. */
typedef struct ConnRecv {
        Conn *conn;
        grpc_call *call;                /* NULL: not created */
        bool has_deadline;
        gpr_timespec deadline;
        uint64_t timeout_usec;
        const ProtobufCMessageDescriptor *resp_type;

        /* The addresses are the batch tags. */
        char tag_start, tag_message, tag_status;
        bool start_pending, message_pending, status_pending, ended;
        grpc_byte_buffer *recv_message;
        /* The call is over, or sending failed: a bidirectional call's
         * sender sends no more. */
        atomic_bool broken;

        grpc_metadata_array initial_metadata, trailing_metadata;
        grpc_status_code code;
        grpc_slice status_details;
        const char *error_string;
        RpcStatus status;
} ConnRecv;

/* Creates the call of method and starts receiving its status, the one
 * batch every streaming call has from the start.  On failure, e set and
 * conn_recv_done() still due. */
int conn_recv_begin(ConnRecv *r, Conn *c, const char *method, const ProtobufCMessageDescriptor *resp_type,
                    ConnDeadline deadline, CliError *e);
/* As conn_stream_next(). */
int conn_recv_next(ConnRecv *r, bool interruptible, ProtobufCMessage **ret, CliError *e);
const RpcStatus *conn_recv_status(ConnRecv *r);
int conn_recv_fail(ConnRecv *r, const char *what, CliError *e);
/* Once the call is cancelled or over: collects the receiving batches
 * still pending, and the status. */
void conn_recv_collect(ConnRecv *r);
/* Whether a receiving batch is pending. */
bool conn_recv_pending(const ConnRecv *r);
void conn_recv_done(ConnRecv *r);
