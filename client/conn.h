/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The connection to jobrunnerd: a gRPC channel over mutual TLS, on the
 * gRPC C core, used synchronously from one thread (a fan-out has one
 * connection per host, each used by the host's thread only; an Attach
 * call has a second thread, which only sends on it).  The conn*.c files
 * are the only ones that include gRPC headers.
 *
 * Every call waits on a PLUCK completion queue for exactly its own batch,
 * so a Logs stream can stay open while a unary call (Stop) runs beside it
 * on the same thread. */

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

typedef struct Conn Conn;
typedef struct ConnStream ConnStream;

/* Deadlines.  Short calls (GetStatus, List, Start) get --timeout, by
 * default 30 s; long ones (Wait, Stop, Logs) none unless --timeout was
 * given. */
typedef enum ConnDeadline {
        CONN_DEADLINE_SHORT,
        CONN_DEADLINE_LONG,
} ConnDeadline;

#define CONN_TIMEOUT_DEFAULT_USEC (UINT64_C(30) * 1000000)

typedef struct RpcStatus {
        int code;                       /* grpc_status_code, alias JrCode */
        char *details;                  /* never NULL after a call */
} RpcStatus;

void rpc_status_done(RpcStatus *s);

/* Reads the certificate, key and CA (CLI_EXIT_CONFIG errors naming the
 * file and where its path came from), checks that key and certificate
 * match, and creates the channel; nothing is sent yet.  timeout_usec: 0 =
 * the default for short calls, none for long ones. */
int conn_open(const CliSettings *settings, uint64_t timeout_usec, Conn **ret, CliError *e);
void conn_close(Conn *c);
/* conn_close() of each (NULL ones too), waiting once for gRPC's shutdown. */
void conn_close_many(Conn **conns, size_t n);
static inline void conn_closep(Conn **c) {
        conn_close(*c);
}

/* Whether a call on this connection has had an answer from the server:
 * after that, UNAVAILABLE means the daemon went away (a restart), not that
 * we could never talk to it. */
bool conn_reached_server(const Conn *c);

/* Whether the channel has a connection up now. */
bool conn_connected(Conn *c);

/* Whether the user chose the calls' deadline (--timeout). */
bool conn_timeout_given(const Conn *c);

/* Connects if need be and waits, as long as a call with this deadline
 * would, until the channel has a connection up (1), or has failed to get
 * one (0: a call fails at once, with the reason); -ETIMEDOUT when still
 * connecting. */
int conn_wait_connected(Conn *c, ConnDeadline deadline);

/* If the channel failed to connect: a new one, for a new connection
 * attempt from scratch.  gRPC keeps a channel that failed to connect in
 * TRANSIENT_FAILURE while it tries again, failing every call at once with
 * the last attempt's error meanwhile, and makes that next attempt only when
 * something polls it.  No stream may be open. */
void conn_reconnect(Conn *c);

/* Whether status is a closed TLS handshake that the local checks of the
 * client certificate explain (expired, of another CA...). */
bool conn_refusal_explained(Conn *c, const RpcStatus *status);

/* Consulted by conn_call_ok() when a call failed before the server had
 * ever answered on this connection: 1 to make the call again, 0 to fail
 * with the call's error, or a negative errno with e set.  unsent: the
 * request certainly reached no server.  While one is set, those first
 * calls are made only once the channel has a connection or has failed to
 * get one (see conn_wait_connected()); a call's deadline that passes
 * before is a DEADLINE_EXCEEDED with unsent set. */
typedef int (*ConnRetryFunc)(void *userdata, Conn *c, const RpcStatus *status, bool unsent, CliError *e);
void conn_set_retry(Conn *c, ConnRetryFunc retry, void *userdata);

/* "alice (role operator)" from the certificate, for messages; NULL if it
 * cannot be read. */
const char *conn_who(Conn *c);
/* The CN of the certificate: the user name the server knows us by. */
int conn_user_name(Conn *c, const char **ret, CliError *e);

/* One unary call.  Returns 0 when the call completed with a status, in
 * *ret_status (free with rpc_status_done()); *ret_resp is the unpacked
 * response iff the status is OK.  A negative errno (e set) when the call
 * failed here: out of memory, a response that does not unpack. */
int conn_call(Conn *c, const char *method, const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_type,
              ConnDeadline deadline, RpcStatus *ret_status, ProtobufCMessage **ret_resp, CliError *e);

/* Sets e for a non-OK status (see rpc-error.h); what names the job or
 * object of the call, or NULL.  Returns a negative errno. */
int conn_fail(Conn *c, const RpcStatus *status, const char *what, CliError *e);

/* conn_call(), and conn_fail() unless the status is OK. */
int conn_call_ok(Conn *c, const char *method, const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_type,
                 ConnDeadline deadline, const char *what, ProtobufCMessage **ret_resp, CliError *e);

/* A server-streaming call: starts it and returns at once. */
int conn_stream_open(Conn *c, const char *method, const ProtobufCMessage *req,
                     const ProtobufCMessageDescriptor *resp_type, ConnDeadline deadline, ConnStream **ret,
                     CliError *e);
/* 1 and *ret (free with protobuf_c_message_free_unpacked()); 0 at the end
 * of the call (conn_stream_status() has the status).  interruptible: also
 * returns -EINTR once interrupt_requested() is true, with the receive still
 * pending: call again to go on, or cancel. */
int conn_stream_next(ConnStream *s, bool interruptible, ProtobufCMessage **ret, CliError *e);
/* After conn_stream_next() returned 0; the status is the stream's. */
const RpcStatus *conn_stream_status(ConnStream *s);
/* conn_fail() for the stream's non-OK status. */
int conn_stream_fail(ConnStream *s, const char *what, CliError *e);
void conn_stream_cancel(ConnStream *s);
void conn_stream_free(ConnStream *s);
static inline void conn_stream_freep(ConnStream **s) {
        conn_stream_free(*s);
}

/* A bidirectional stream (Attach), for two threads: one receives (and may
 * cancel), the other sends; each waits on the call's queue for its own
 * batches only.  One message is in flight at a time: conn_bidi_send()
 * returns once gRPC has taken it, so a server that reads slowly holds the
 * sender back.  No deadline unless --timeout was given. */
typedef struct ConnBidi ConnBidi;

/* Starts the call with first as its first message, and returns at once. */
int conn_bidi_open(Conn *c, const char *method, const ProtobufCMessage *first,
                   const ProtobufCMessageDescriptor *resp_type, ConnBidi **ret, CliError *e);
/* The sending thread: 1 once m was taken; 0 if the call is over or was
 * cancelled (the receiving thread learns the status); a negative errno
 * with e set. */
int conn_bidi_send(ConnBidi *b, const ProtobufCMessage *m, CliError *e);
/* The sending thread: nothing more will be sent.  1, 0 or an errno as
 * conn_bidi_send(). */
int conn_bidi_close_send(ConnBidi *b, CliError *e);
/* The receiving thread, as conn_stream_next(). */
int conn_bidi_next(ConnBidi *b, bool interruptible, ProtobufCMessage **ret, CliError *e);
/* After conn_bidi_next() returned 0. */
const RpcStatus *conn_bidi_status(ConnBidi *b);
int conn_bidi_fail(ConnBidi *b, const char *what, CliError *e);
/* Any thread: ends the call; the batches pending on it complete soon. */
void conn_bidi_cancel(ConnBidi *b);
/* Once neither thread uses it any more: cancels the call if it is not
 * over and collects every batch still pending. */
void conn_bidi_free(ConnBidi *b);
static inline void conn_bidi_freep(ConnBidi **b) {
        conn_bidi_free(*b);
}
