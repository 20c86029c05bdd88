/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the two files of the gRPC layer, grpc-server.c and
 * grpc-call.c, and by nothing else. */

#include <grpc/grpc.h>
#include <stdbool.h>

#include "call.h"
#include "grpc-server.h"

/* Every completion-queue tag is one of these, embedded in its owner: the
 * event loop calls done() with the event's success bit. */
typedef struct Tag {
        void (*done)(struct Tag *tag, bool ok);
} Tag;

/* What the call layer needs of its server. */
grpc_server *server_get_grpc(Server *s);
grpc_completion_queue *server_get_cq(Server *s);
void *server_get_userdata(Server *s);
bool server_is_shutting_down(Server *s);
/* Tells the server's on_call_ended, if any. */
void server_call_ended(Server *s, const RpcMethod *method, JrCode code, uint64_t duration_usec);
/* The head of the server's list of live calls, which grpc-call.c keeps. */
Call **server_get_calls(Server *s);

/* A call that gRPC gave us: grpc_call and, for a registered method, the
 * method and its request payload (both owned by the new Call).  method NULL
 * means a method we do not serve (the generic request), named by path.
 * Answers or dispatches it; the Call frees itself when done. */
void call_accept(Server *s, grpc_call *call, const RpcMethod *method, const char *path,
                 grpc_byte_buffer *payload);

/* Shutdown: every live call whose handler still holds it ends with
 * UNAVAILABLE and message, after the handler's on_abort. */
void calls_abort_all(Server *s, const char *message);
