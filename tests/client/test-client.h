/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A minimal, synchronous client of the jobrunner.v1.JobRunner API (and of
 * the standard health check) over mutual TLS, on the gRPC C core: for the VM tests and the benchmark, not
 * for users (that is client/).  One thread; every call blocks until it has
 * a status, and every call has a deadline, so nothing here hangs: a server
 * that is not there or refuses the handshake comes back as UNAVAILABLE with
 * gRPC's own details.
 *
 * Return values: 0 (or 1, see tc_stream_next()) when the call ran and has a
 * gRPC status, whatever that status is; a negative errno when the client
 * itself failed (cannot read a PEM file, out of memory, a response it could
 * not unpack...).  The gRPC status codes are the wire values of
 * grpc_status_code, also spelled JrCode in common/status.h. */

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jobrunner.pb-c.h"

/* Used when a deadline_ms argument is <= 0.  A safety net against hangs,
 * not a measure: the first call of a VM boot starts jobrunnerd and polkit,
 * which under ASan in TCG on a busy host takes most of 30 s by itself. */
#define TC_DEFAULT_DEADLINE_MS INT64_C(120000)

typedef struct TcConn TcConn;
typedef struct TcStream TcStream;
typedef struct TcUnary TcUnary;

typedef struct TcOptions {
        /* Name to verify the server certificate against instead of the host
         * part of the target (GRPC_SSL_TARGET_NAME_OVERRIDE_ARG); NULL:
         * the target's host. */
        const char *target_name_override;
        /* Call common/tls.h's tls_restrict_to_tls13() first.  Only possible
         * before anything in the process has initialised OpenSSL or gRPC:
         * tc_connect() fails with -EALREADY otherwise.  TLS 1.3 is what
         * OpenSSL negotiates with our server anyway. */
        bool tls13_only;
        /* Largest response message accepted; 0: no limit (gRPC's own
         * default would be 4 MiB). */
        int max_receive_message_bytes;
} TcOptions;

typedef struct TcResult {
        int status;             /* grpc_status_code */
        char *details;          /* the status message, never NULL after a call */
        uint8_t *response;      /* NULL iff no response message arrived */
        size_t response_len;
} TcResult;

/* cert_pem_path and key_pem_path: the client key pair, both or neither
 * (NULL: no client certificate is presented).  ca_pem_path: the CA to verify
 * the server with (NULL: gRPC's default roots).  target: "host:port".
 * Takes a grpc_init() reference that tc_disconnect() returns. */
int tc_connect(const char *target, const char *cert_pem_path, const char *key_pem_path,
               const char *ca_pem_path, TcConn **ret);
int tc_connect_full(const char *target, const char *cert_pem_path, const char *key_pem_path,
                    const char *ca_pem_path, const TcOptions *options, TcConn **ret);
/* Every stream of the connection must have been freed, and every call
 * started with tc_unary_start() waited for.  NULL is fine. */
void tc_disconnect(TcConn *c);
static inline void tc_disconnectp(TcConn **c) {
        tc_disconnect(*c);
}

/* Writes "/jobrunner.v1.JobRunner/Start" for "Start" into buf; a method
 * starting with '/' is copied as it is.  Returns buf, NULL if it does not
 * fit. */
const char *tc_method_path(const char *method, char *buf, size_t size);

/* "OK", "NOT_FOUND", ...; NULL for a code outside the table. */
const char *tc_status_name(int status);

/* One unary call with raw request bytes (any bytes: garbage and oversized
 * payloads are the point).  *ret is overwritten, free it with
 * tc_result_done(). */
int tc_unary(TcConn *c, const char *method, const void *request, size_t request_len,
             int64_t deadline_ms, TcResult *ret);
void tc_result_done(TcResult *r);

/* tc_unary() with packing and unpacking: *ret_resp is the unpacked response
 * if the status is OK (free it with protobuf_c_message_free_unpacked()),
 * else NULL.  ret_details and ret_resp may be NULL.  -EBADMSG if the status
 * is OK but the response is missing or does not unpack as resp_type. */
int tc_call(TcConn *c, const char *method, const ProtobufCMessage *req,
            const ProtobufCMessageDescriptor *resp_type, int64_t deadline_ms,
            int *ret_status, char **ret_details, ProtobufCMessage **ret_resp);

/* The same in two halves, for many calls in flight on one connection (one
 * thread still): _start() sends the call and returns at once, _wait()
 * blocks until it is over and releases it, in any order.  Every started
 * call must be waited for before tc_disconnect(); tc_unary_wait() with ret
 * NULL discards the result. */
int tc_unary_start(TcConn *c, const char *method, const void *request, size_t request_len, int64_t deadline_ms,
                   TcUnary **ret);
int tc_unary_wait(TcUnary *u, TcResult *ret);
int tc_call_start(TcConn *c, const char *method, const ProtobufCMessage *req, int64_t deadline_ms, TcUnary **ret);
int tc_call_wait(TcUnary *u, const ProtobufCMessageDescriptor *resp_type, int *ret_status, char **ret_details,
                 ProtobufCMessage **ret_resp);

/* grpc.health.v1.Health/Check of service (NULL or "": the server as a
 * whole).  *ret_serving is the response's ServingStatus (SERVING = 1,
 * NOT_SERVING = 2, ...) if the status is OK, else -1; ret_details and
 * ret_serving may be NULL.  Returns as tc_call() does. */
#define TC_HEALTH_CHECK_PATH "/grpc.health.v1.Health/Check"
int tc_health_check(TcConn *c, const char *service, int64_t deadline_ms, int *ret_status, char **ret_details,
                    int *ret_serving);
/* "SERVING", "NOT_SERVING", ...; NULL for a value outside the enum. */
const char *tc_serving_status_name(int serving);

/* Logs: starts the call and returns without waiting for anything.  The
 * stream functions below serve both Logs and Attach. */
int tc_logs_open(TcConn *c, const Jobrunner__V1__LogsRequest *req, int64_t deadline_ms, TcStream **ret);
/* 1 and *ret_msg (free with jobrunner__v1__logs_response__free_unpacked());
 * 0 at the end of the call, then tc_stream_status() has the status;
 * -EBADMSG for a message that does not unpack (the call is cancelled),
 * another negative errno if the call failed locally. */
int tc_stream_next(TcStream *s, Jobrunner__V1__LogsResponse **ret_msg);
/* After tc_stream_next() returned 0: the final status.  details is the
 * stream's: valid until tc_stream_free(), may be NULL. -EBUSY before. */
int tc_stream_status(TcStream *s, int *ret_status, const char **ret_details);
/* Cancels the call (client-side CANCELLED): the following tc_stream_next()
 * returns 0 soon, possibly after messages that had already arrived. */
void tc_stream_cancel(TcStream *s);

/* Attach: starts the call, sends first (start, or anything else to see it
 * refused) and returns once gRPC took it, without waiting for an answer. */
int tc_attach_open(TcConn *c, const Jobrunner__V1__AttachRequest *first, int64_t deadline_ms, TcStream **ret);
/* Sends one more message of the client's stream (Attach) and returns once
 * gRPC took it: 0, -EPIPE if the call is over (the status says why; read on
 * with tc_attach_next()), another negative errno if it failed locally. */
int tc_stream_send(TcStream *s, const ProtobufCMessage *m);
/* The client's half-close: it sends no more.  Returns as tc_stream_send(). */
int tc_stream_close_send(TcStream *s);
/* tc_stream_next() for Attach: free with
 * jobrunner__v1__attach_response__free_unpacked(). */
int tc_attach_next(TcStream *s, Jobrunner__V1__AttachResponse **ret_msg);

/* Cancels the call if it has not ended and releases everything. NULL is
 * fine. */
void tc_stream_free(TcStream *s);
static inline void tc_stream_freep(TcStream **s) {
        tc_stream_free(*s);
}
