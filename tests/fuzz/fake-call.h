/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* daemon/call.h without gRPC, for running the daemon's rpc handlers as they
 * are (daemon/rpc-*.c) on requests that never crossed a network.  A call
 * keeps what the handler answered: the code, the response or the streamed
 * messages (packed and unpacked again, as the wire would), and the audit
 * record's fields, which it also formats as the daemon does.  Using a call
 * after the handler let go of it, finishing it twice, or sending while a
 * message is in flight aborts: in the daemon those would be bugs. */

#include <systemd/sd-event.h>

#include "call.h"

Call *fake_call_new(const RpcMethod *method, const AuthzIdentity *who);
void fake_call_free(Call *c);

/* What call_server_stopping() answers: as if the server's shutdown had
 * begun.  Before the handler runs. */
void fake_call_set_server_stopping(Call *c, bool stopping);

/* A client-streaming call: a message the client sends after its request
 * (copied), handed over at the handler's next call_recv().  After the last
 * one the client half-closes, unless it keeps its stream open (then the
 * receive stays in flight until the call ends). */
void fake_call_push_message(Call *c, const ProtobufCMessage *message);
void fake_call_set_client_keeps_open(Call *c, bool open);

/* Delivers sent messages and the client's, and runs the event loop until
 * the handler finishes the call; false if it never does (nothing left to
 * run: the handler's on_abort then runs, as when a client goes away). */
bool fake_call_run(Call *c, sd_event *event);

JrCode fake_call_code(const Call *c);
/* The unary response, unpacked; NULL unless the code is OK. */
const ProtobufCMessage *fake_call_response(const Call *c);
/* The streamed messages, unpacked, in order. */
size_t fake_call_n_messages(const Call *c);
const ProtobufCMessage *fake_call_message(const Call *c, size_t i);
/* What the audit record names. */
const char *fake_call_audit_job(const Call *c);
char *const *fake_call_audit_argv(const Call *c);
/* UINT64_MAX if the handler never set it. */
uint64_t fake_call_audit_input_bytes(const Call *c);
