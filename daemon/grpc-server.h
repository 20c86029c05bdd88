/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "call.h"

/* The gRPC server: mutual TLS 1.3 on the configured addresses, every call
 * handed to its RpcMethod's handler on the sd-event thread.  No gRPC types
 * here; grpc-server.c and grpc-call.c are the only files that include gRPC.
 *
 * Threading: one thread blocks in grpc_completion_queue_next() and hands
 * each event to the sd-event thread through an eventfd; the sd-event thread
 * then drains further ready events itself, a bounded batch at a time.
 * Handlers, and everything they touch, run on the sd-event thread only. */

typedef struct sd_event sd_event;
typedef struct Server Server;

/* Every call, as it is answered (or given up): its method (NULL for one the
 * server does not serve), its status code, and the time since gRPC handed
 * it over.  For monitoring; runs on the sd-event thread. */
typedef void (*server_call_ended_t)(const RpcMethod *method, JrCode code, uint64_t duration_usec,
                                    void *userdata);

typedef struct ServerConfig {
        char *const *addresses;         /* NULL-terminated, "host:port" */
        const char *certificate_path;   /* the server's chain, PEM */
        const char *key_path;
        const char *client_ca_path;     /* client certificates must chain to it */
        size_t max_request_bytes;       /* larger requests: RESOURCE_EXHAUSTED */
        server_call_ended_t on_call_ended;      /* may be NULL */
        void *call_ended_userdata;
} ServerConfig;

/* Must run before anything initialises gRPC or OpenSSL: blocks SIGTERM and
 * SIGINT (gRPC's threads must never take them) and makes TLS 1.3 the only
 * protocol. */
int server_prepare_process(void);

/* Creates the server (grpc_init() happens here) and binds its addresses. */
int server_new(sd_event *event, const ServerConfig *config, const RpcMethod *methods, size_t n_methods,
               void *userdata, Server **ret);

/* Starts accepting: the completion-queue thread runs from here on. */
int server_start(Server *s);

/* Graceful stop: calls in progress end with UNAVAILABLE (their handlers'
 * on_abort runs first), no new call is accepted, calls gRPC had accepted
 * already are answered UNAVAILABLE too, except by methods that serve while
 * stopping (the health check: NOT_SERVING), and once gRPC has let go of
 * every call, done() runs on the sd-event thread.  Idempotent. */
typedef void (*server_done_t)(Server *s, void *userdata);
int server_shutdown(Server *s, server_done_t done, void *userdata);

/* Stops the completion-queue thread and frees everything; grpc_shutdown(). */
Server *server_free(Server *s);

static inline void server_freep(Server **s) {
        server_free(*s);
}
