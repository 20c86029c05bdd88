/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "fake-call.h"
#include "fuzz.h"
#include "macro.h"
#include "strv.h"

struct Call {
        const RpcMethod *method;
        AuthzIdentity identity;
        bool server_stopping;

        bool handler_holds;
        call_callback_t on_sent, on_abort;
        void *userdata;
        bool send_in_flight;
        call_message_t on_message;
        bool recv_in_flight;
        bool half_closed;
        ProtobufCMessage **client_messages;     /* what the client sends after its request */
        size_t n_client_messages, next_client_message;
        bool client_keeps_open;
        bool finish_pending;
        bool finished;

        JrCode code;
        ProtobufCMessage *response;
        ProtobufCMessage **messages;
        size_t n_messages;

        char *audit_job;
        char **audit_argv;
        bool audit_has_input;
        uint64_t audit_input_bytes;
};

Call *fake_call_new(const RpcMethod *method, const AuthzIdentity *who) {
        Call *c = calloc(1, sizeof(Call));

        FUZZ_CHECK(c, "out of memory");
        c->method = method;
        c->identity = *who;
        c->handler_holds = true;
        return c;
}

void fake_call_free(Call *c) {
        if (!c)
                return;
        if (c->response)
                protobuf_c_message_free_unpacked(c->response, NULL);
        for (size_t i = 0; i < c->n_messages; i++)
                protobuf_c_message_free_unpacked(c->messages[i], NULL);
        free(c->messages);
        for (size_t i = c->next_client_message; i < c->n_client_messages; i++)
                protobuf_c_message_free_unpacked(c->client_messages[i], NULL);
        free(c->client_messages);
        free(c->audit_job);
        strv_free(c->audit_argv);
        free(c);
}

/* Packs m and unpacks it again, as the wire would. */
static ProtobufCMessage *through_the_wire(const ProtobufCMessage *m) {
        size_t size = protobuf_c_message_get_packed_size(m);
        _cleanup_free_ uint8_t *buf = malloc(size ? size : 1);
        ProtobufCMessage *back;

        FUZZ_CHECK(buf, "out of memory");
        FUZZ_CHECK(protobuf_c_message_pack(m, buf) == size, "%s: packed size differs", m->descriptor->name);
        back = protobuf_c_message_unpack(m->descriptor, NULL, size, buf);
        FUZZ_CHECK(back, "%s does not unpack as it was packed", m->descriptor->name);
        return back;
}

const AuthzIdentity *call_identity(const Call *c) {
        FUZZ_CHECK(c->handler_holds, "the call is used after it was finished");
        return &c->identity;
}

const char *call_peer(const Call *c) {
        FUZZ_CHECK(c->handler_holds, "the call is used after it was finished");
        return "ipv4:192.0.2.1:40000";
}

bool call_server_stopping(const Call *c) {
        FUZZ_CHECK(c->handler_holds, "the call is used after it was finished");
        return c->server_stopping;
}

void fake_call_set_server_stopping(Call *c, bool stopping) {
        c->server_stopping = stopping;
}

void call_set_audit_job(Call *c, const char *job_id) {
        FUZZ_CHECK(c->handler_holds, "the call is used after it was finished");
        free(c->audit_job);
        c->audit_job = strdup(job_id);
        FUZZ_CHECK(c->audit_job, "out of memory");
}

void call_set_audit_argv(Call *c, char *const *argv) {
        FUZZ_CHECK(c->handler_holds, "the call is used after it was finished");
        strv_free(c->audit_argv);
        c->audit_argv = strv_copy(argv);
        FUZZ_CHECK(c->audit_argv, "out of memory");
}

void call_set_audit_input_bytes(Call *c, uint64_t bytes) {
        FUZZ_CHECK(c->handler_holds, "the call is used after it was finished");
        c->audit_has_input = true;
        c->audit_input_bytes = bytes;
}

void call_set_handlers(Call *c, call_callback_t on_sent, call_callback_t on_abort, void *userdata) {
        FUZZ_CHECK(c->handler_holds, "the call is used after it was finished");
        c->on_sent = on_sent;
        c->on_abort = on_abort;
        c->userdata = userdata;
}

int call_send(Call *c, const ProtobufCMessage *message) {
        ProtobufCMessage **grown;

        FUZZ_CHECK(c->handler_holds, "the call is used after it was finished");
        FUZZ_CHECK(c->method->server_streaming, "a message sent on a unary call");
        FUZZ_CHECK(!c->send_in_flight, "a message sent while another is in flight");
        grown = realloc(c->messages, (c->n_messages + 1) * sizeof(ProtobufCMessage *));
        FUZZ_CHECK(grown, "out of memory");
        c->messages = grown;
        c->messages[c->n_messages++] = through_the_wire(message);
        c->send_in_flight = true;
        return 0;
}

bool call_send_in_flight(const Call *c) {
        return c->send_in_flight;
}

void call_set_message_handler(Call *c, call_message_t on_message) {
        FUZZ_CHECK(c->handler_holds, "the call is used after it was finished");
        c->on_message = on_message;
}

void fake_call_push_message(Call *c, const ProtobufCMessage *message) {
        ProtobufCMessage **grown;

        FUZZ_CHECK(message->descriptor == c->method->request_type, "a %s on a call that takes %s",
                   message->descriptor->name, c->method->request_type->name);
        grown = realloc(c->client_messages, (c->n_client_messages + 1) * sizeof(ProtobufCMessage *));
        FUZZ_CHECK(grown, "out of memory");
        c->client_messages = grown;
        c->client_messages[c->n_client_messages++] = through_the_wire(message);
}

void fake_call_set_client_keeps_open(Call *c, bool open) {
        c->client_keeps_open = open;
}

uint64_t fake_call_audit_input_bytes(const Call *c) {
        return c->audit_has_input ? c->audit_input_bytes : UINT64_MAX;
}

/* The fake client's messages come one per receive, then its half-close. */
int call_recv(Call *c) {
        FUZZ_CHECK(c->handler_holds, "the call is used after it was finished");
        FUZZ_CHECK(c->method->client_streaming, "a message asked for on a call without a client stream");
        FUZZ_CHECK(!c->recv_in_flight, "a message asked for while another is");
        if (c->half_closed)
                return -EPIPE;
        c->recv_in_flight = true;
        return 0;
}

bool call_recv_in_flight(const Call *c) {
        return c->recv_in_flight;
}

void call_finish(Call *c, const ProtobufCMessage *response, JrCode code, const char *message) {
        _cleanup_(strv_freep) char **record = NULL;

        FUZZ_CHECK(c->handler_holds, "the call is finished twice, or after it was aborted");
        FUZZ_CHECK((unsigned) code < _JR_CODE_MAX, "code %d", (int) code);
        FUZZ_CHECK(!response || code == JR_CODE_OK, "a response with code %d", (int) code);
        FUZZ_CHECK(!c->method->server_streaming || !response, "a unary response on a stream");
        c->handler_holds = false;
        c->code = code;
        if (response)
                c->response = through_the_wire(response);

        /* The daemon's audit record of every call. */
        FUZZ_CHECK(audit_build_record(&c->identity, "ipv4:192.0.2.1:40000", c->method->name, c->audit_job,
                                      c->audit_argv, c->audit_has_input ? &c->audit_input_bytes : NULL, code,
                                      message, &record) == 0, "out of memory");
        if (c->send_in_flight)
                c->finish_pending = true;
        else
                c->finished = true;
}

void call_finish_errno(Call *c, int error, const char *message) {
        call_finish(c, NULL, jr_code_from_errno(error), message && *message ? message : strerror(abs(error)));
}

static void protobuf_c_message_free_unpackedp(ProtobufCMessage **m) {
        if (*m)
                protobuf_c_message_free_unpacked(*m, NULL);
}

bool fake_call_run(Call *c, sd_event *event) {
        /* Each round delivers a message or runs one event; a Logs call on
         * a finished job needs a few per chunk. */
        for (unsigned round = 0; round < 100000 && !c->finished; round++) {
                if (c->send_in_flight) {
                        c->send_in_flight = false;
                        if (c->finish_pending)
                                c->finished = true;
                        else if (c->handler_holds && c->on_sent)
                                c->on_sent(c, c->userdata);
                        continue;
                }
                if (c->recv_in_flight && c->handler_holds &&
                    c->next_client_message < c->n_client_messages) {
                        _cleanup_(protobuf_c_message_free_unpackedp) ProtobufCMessage *m =
                                c->client_messages[c->next_client_message++];

                        c->recv_in_flight = false;
                        if (c->on_message)
                                c->on_message(c, m, c->userdata);
                        continue;
                }
                if (c->recv_in_flight && c->handler_holds && !c->client_keeps_open) {
                        c->recv_in_flight = false;
                        c->half_closed = true;
                        if (c->on_message)
                                c->on_message(c, NULL, c->userdata);
                        continue;
                }
                if (sd_event_run(event, 0) <= 0)
                        break;
        }
        if (!c->finished && c->handler_holds) {
                /* As the daemon does when the client goes away. */
                c->handler_holds = false;
                if (c->on_abort)
                        c->on_abort(c, c->userdata);
        }
        return c->finished;
}

JrCode fake_call_code(const Call *c) {
        return c->code;
}

const ProtobufCMessage *fake_call_response(const Call *c) {
        return c->response;
}

size_t fake_call_n_messages(const Call *c) {
        return c->n_messages;
}

const ProtobufCMessage *fake_call_message(const Call *c, size_t i) {
        return i < c->n_messages ? c->messages[i] : NULL;
}

const char *fake_call_audit_job(const Call *c) {
        return c->audit_job;
}

char *const *fake_call_audit_argv(const Call *c) {
        return c->audit_argv;
}
