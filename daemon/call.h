/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>

#include "authz.h"
#include "status.h"

/* One rpc call as the handlers see it: no gRPC here.  The gRPC layer
 * (grpc-server.c, grpc-call.c) accepts the call, authenticates the peer,
 * unpacks the request and hands it to the method's handler on the sd-event
 * thread; the handler answers with call_send() (streaming only) and
 * call_finish().
 *
 * A client-streaming method (client_streaming) has no request with the
 * call: the layer reads the client's first message itself and hands it to
 * handle() as the request, as for any other method; the handler then asks
 * for each later one with call_recv() and gets it in on_message().
 *
 * Ownership: a handler holds the call from handle() until it calls
 * call_finish() or its on_abort() runs, whichever comes first; after that
 * it must not touch the call again.  on_abort() runs when the client
 * cancelled, the deadline passed, the server is shutting down, or a
 * client-streaming call's later message was malformed; the client is then
 * answered (CANCELLED, DEADLINE_EXCEEDED, UNAVAILABLE or INVALID_ARGUMENT)
 * and the handler only releases what it holds. */

typedef struct Call Call;

typedef struct RpcMethod {
        /* The path is "/<service's full name>/<name>": "/jobrunner.v1.JobRunner/Start".
         * name is also what logs and the audit record call the method. */
        const ProtobufCServiceDescriptor *service;
        const char *name;
        AuthzMethod authz;
        const ProtobufCMessageDescriptor *request_type;
        bool server_streaming;
        /* The client sends a stream (Attach): the first message is the
         * request; later ones come through call_recv(). */
        bool client_streaming;
        /* Handed to handle() even once the server's shutdown began, rather
         * than answered UNAVAILABLE before: the health check, which must
         * then say NOT_SERVING. */
        bool serves_while_stopping;
        /* A call answered OK leaves no audit record (only a debug line):
         * health probes come every few seconds, change nothing and would
         * bury the records that matter.  Failures are recorded. */
        bool audit_failures_only;
        /* How long a call lasts is the client's choice (Wait, Logs): left
         * out of the latency histogram, where it would only be noise. */
        bool open_ended;
        /* request is the call's; it lives as long as the call. */
        void (*handle)(Call *call, const ProtobufCMessage *request, void *userdata);
} RpcMethod;

typedef void (*call_callback_t)(Call *call, void *userdata);
/* A client's later message, unpacked as the method's request_type, or NULL
 * once the client half-closed (it sends no more; the call goes on).  A
 * client that cancels ends its stream too: gRPC may report that as a NULL
 * before on_abort, so a NULL must not be taken for a finished call.  The
 * message is the layer's, valid until the callback returns. */
typedef void (*call_message_t)(Call *call, const ProtobufCMessage *message, void *userdata);

/* Who is calling: set before handle() runs. */
const AuthzIdentity *call_identity(const Call *call);
/* "ipv4:192.0.2.1:40000" as gRPC spells it. */
const char *call_peer(const Call *call);
/* Whether the server's shutdown has begun (SIGTERM, server_shutdown()):
 * from then on gRPC takes no new calls, and those it had taken already
 * are still handed over while it drains. */
bool call_server_stopping(const Call *call);

/* What the audit record of this call names besides who, method and code. */
void call_set_audit_job(Call *call, const char *job_id);
void call_set_audit_argv(Call *call, char *const *argv);
/* Attach: the bytes the call wrote into the job's input (the record counts
 * them, and never says what they were).  Set at any time while the handler
 * holds the call; the last value set is recorded. */
void call_set_audit_input_bytes(Call *call, uint64_t bytes);

/* on_sent: the message of the last call_send() left (the next may go);
 * on_abort: see above.  Either may be NULL. */
void call_set_handlers(Call *call, call_callback_t on_sent, call_callback_t on_abort, void *userdata);

/* Streaming calls only: sends one message; at most one may be in flight,
 * the next only after on_sent.  Returns 0 or a negative errno (the message
 * could not be packed or sent; finish the call then). */
int call_send(Call *call, const ProtobufCMessage *message);
bool call_send_in_flight(const Call *call);

/* Client-streaming calls only: where later messages go; set before the
 * first call_recv(). */
void call_set_message_handler(Call *call, call_message_t on_message);
/* Asks for the client's next message: on_message() gets it (or NULL at the
 * client's half-close).  At most one may be in flight, beside one
 * call_send(); nothing is read from the client until the handler asks,
 * which is the handler's backpressure.  Returns 0, -EBUSY while one is in
 * flight or the call is ending, -EPIPE after the half-close, -EIO if gRPC
 * refuses.  A malformed message finishes the call INVALID_ARGUMENT
 * (on_abort runs, as for a cancelled call); a message asked for while the
 * call is cancelled or finished is dropped. */
int call_recv(Call *call);
bool call_recv_in_flight(const Call *call);

/* Ends the call: for a unary call the response (NULL when code is not OK),
 * for a streaming one NULL; then the status with its message (may be NULL).
 * May be called while a call_send() is in flight: the status then follows
 * the message. */
void call_finish(Call *call, const ProtobufCMessage *response, JrCode code, const char *message);

/* call_finish() with the code for a negative errno and message, or
 * strerror() if message is NULL or empty. */
void call_finish_errno(Call *call, int error, const char *message);
