/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One rpc call over gRPC's batch API: authentication, request unpacking,
 * dispatch to the handler, sending with one message in flight, receiving a
 * client's stream one message at a time, the final status, cancellation,
 * and the audit record. */

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "grpc-internal.h"
#include "log.h"
#include "macro.h"
#include "strv.h"
#include "time-util.h"

struct Call {
        unsigned n_ref;
        Server *server;
        Call *prev, *next;              /* the server's live calls */

        grpc_call *call;
        const RpcMethod *method;        /* NULL: a method we do not serve */
        char *path;                     /* for the audit record of such a call */
        char *peer;
        grpc_byte_buffer *payload;
        ProtobufCMessage *request;
        AuthzIdentity identity;
        bool authenticated;

        char *audit_job;
        char **audit_argv;
        bool audit_has_input;
        uint64_t audit_input_bytes;
        uint64_t accepted_usec;         /* CLOCK_MONOTONIC, for the debug timing */

        /* The handler's side. */
        bool handler_holds;
        call_callback_t on_sent, on_abort;
        void *userdata;

        bool initial_metadata_sent;
        Tag close_tag;                  /* RECV_CLOSE_ON_SERVER */
        int cancelled;
        bool closed;

        Tag send_tag;                   /* SEND_MESSAGE of a stream */
        grpc_byte_buffer *send_buffer;
        bool send_in_flight;

        Tag recv_tag;                   /* RECV_MESSAGE of a client's stream */
        grpc_byte_buffer *recv_buffer;
        bool recv_in_flight;
        bool half_closed;               /* the client sends no more */
        call_message_t on_message;

        Tag status_tag;                 /* SEND_STATUS_FROM_SERVER (+ last message) */
        grpc_byte_buffer *final_buffer;
        grpc_slice status_details;
        bool status_sent;
        bool finish_pending;            /* status waits for the message in flight */
        JrCode code;
};

static Call *call_ref(Call *c) {
        c->n_ref++;
        return c;
}

static void call_free(Call *c) {
        Call **head = server_get_calls(c->server);

        if (c->prev)
                c->prev->next = c->next;
        else if (*head == c)
                *head = c->next;
        if (c->next)
                c->next->prev = c->prev;

        if (c->request)
                protobuf_c_message_free_unpacked(c->request, NULL);
        if (c->payload)
                grpc_byte_buffer_destroy(c->payload);
        if (c->send_buffer)
                grpc_byte_buffer_destroy(c->send_buffer);
        if (c->recv_buffer)
                grpc_byte_buffer_destroy(c->recv_buffer);
        if (c->final_buffer)
                grpc_byte_buffer_destroy(c->final_buffer);
        grpc_slice_unref(c->status_details);
        if (c->call)
                grpc_call_unref(c->call);
        free(c->path);
        free(c->peer);
        free(c->audit_job);
        strv_free(c->audit_argv);
        free(c);
}

static void call_unref(Call *c) {
        if (--c->n_ref == 0)
                call_free(c);
}

/* ---- sending ------------------------------------------------------------- */

static int pack_message(const ProtobufCMessage *m, grpc_byte_buffer **ret) {
        size_t n = protobuf_c_message_get_packed_size(m);
        grpc_slice slice = grpc_slice_malloc(n);

        if (protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(slice)) != n) {
                grpc_slice_unref(slice);
                return -EBADMSG;
        }
        *ret = grpc_raw_byte_buffer_create(&slice, 1);
        grpc_slice_unref(slice);
        return 0;
}

/* Adds SEND_INITIAL_METADATA to ops the first time anything is sent. */
static size_t add_initial_metadata(Call *c, grpc_op *ops) {
        if (c->initial_metadata_sent)
                return 0;
        c->initial_metadata_sent = true;
        ops[0] = (grpc_op) { .op = GRPC_OP_SEND_INITIAL_METADATA };
        return 1;
}

static void on_status_sent(Tag *tag, bool ok) {
        Call *c = (Call *) ((char *) tag - offsetof(Call, status_tag));

        (void) ok;      /* nothing to do if the client had gone */
        call_unref(c);
}

static void send_status(Call *c) {
        grpc_op ops[3];
        size_t n = add_initial_metadata(c, ops);
        grpc_call_error e;

        if (c->final_buffer)
                ops[n++] = (grpc_op) {
                        .op = GRPC_OP_SEND_MESSAGE,
                        .data.send_message.send_message = c->final_buffer,
                };
        ops[n++] = (grpc_op) {
                .op = GRPC_OP_SEND_STATUS_FROM_SERVER,
                .data.send_status_from_server = {
                        .status = (grpc_status_code) c->code,
                        .status_details = &c->status_details,
                },
        };
        c->status_sent = true;
        e = grpc_call_start_batch(c->call, ops, n, &call_ref(c)->status_tag, NULL);
        if (e != GRPC_CALL_OK) {
                log_error("%s: cannot send the status: gRPC call error %d", c->peer, (int) e);
                call_unref(c);
        }
}

static void on_message_sent(Tag *tag, bool ok) {
        Call *c = (Call *) ((char *) tag - offsetof(Call, send_tag));

        c->send_in_flight = false;
        grpc_byte_buffer_destroy(c->send_buffer);
        c->send_buffer = NULL;

        if (c->finish_pending) {
                c->finish_pending = false;
                send_status(c);
        } else if (ok && c->handler_holds && c->on_sent)
                c->on_sent(c, c->userdata);
        /* !ok: the call is over; RECV_CLOSE_ON_SERVER tells the handler. */
        call_unref(c);
}

int call_send(Call *c, const ProtobufCMessage *message) {
        grpc_op ops[2];
        size_t n;
        grpc_call_error e;
        int r;

        if (c->send_in_flight || c->status_sent || c->finish_pending || !c->method || !c->method->server_streaming)
                return -EBUSY;
        r = pack_message(message, &c->send_buffer);
        if (r < 0)
                return r;

        n = add_initial_metadata(c, ops);
        ops[n++] = (grpc_op) {
                .op = GRPC_OP_SEND_MESSAGE,
                .data.send_message.send_message = c->send_buffer,
        };
        c->send_in_flight = true;
        e = grpc_call_start_batch(c->call, ops, n, &call_ref(c)->send_tag, NULL);
        if (e != GRPC_CALL_OK) {
                c->send_in_flight = false;
                grpc_byte_buffer_destroy(c->send_buffer);
                c->send_buffer = NULL;
                call_unref(c);
                return -EIO;
        }
        return 0;
}

bool call_send_in_flight(const Call *c) {
        return c->send_in_flight;
}

/* ---- receiving (client-streaming methods) -------------------------------- */

/* One message of the client, as the method's request_type. */
static int unpack_message(Call *c, grpc_byte_buffer *buffer, ProtobufCMessage **ret, char **ret_error) {
        grpc_byte_buffer_reader reader;
        grpc_slice slice;

        if (!buffer) {
                *ret_error = strdup("the request message is missing");
                return -EINVAL;
        }
        if (!grpc_byte_buffer_reader_init(&reader, buffer)) {
                *ret_error = strdup("the request message cannot be decompressed");
                return -EINVAL;
        }
        slice = grpc_byte_buffer_reader_readall(&reader);
        grpc_byte_buffer_reader_destroy(&reader);
        *ret = protobuf_c_message_unpack(c->method->request_type, NULL, GRPC_SLICE_LENGTH(slice),
                                         GRPC_SLICE_START_PTR(slice));
        grpc_slice_unref(slice);
        if (!*ret) {
                if (asprintf(ret_error, "malformed request: not a valid %s message",
                             c->method->request_type->name) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        return 0;
}

static void call_dispatch(Call *c);
static void call_take_from_handler(Call *c, JrCode code, const char *message);

static void on_message_received(Tag *tag, bool ok) {
        Call *c = (Call *) ((char *) tag - offsetof(Call, recv_tag));
        _cleanup_free_ char *error = NULL;
        grpc_byte_buffer *buffer = TAKE_PTR(c->recv_buffer);
        ProtobufCMessage *m = NULL;
        int r;

        c->recv_in_flight = false;
        if (!c->handler_holds || !ok)
                /* Finished or cancelled meanwhile (!ok: the call broke;
                 * RECV_CLOSE_ON_SERVER tells the handler). */
                goto done;

        if (!c->request) {
                /* The first message: the request of handle(). */
                c->payload = TAKE_PTR(buffer);
                call_dispatch(c);
                goto done;
        }
        if (!buffer) {
                c->half_closed = true;
                if (c->on_message)
                        c->on_message(c, NULL, c->userdata);
                goto done;
        }
        r = unpack_message(c, buffer, &m, &error);
        if (r < 0) {
                call_take_from_handler(c, JR_CODE_INVALID_ARGUMENT, error ?: "malformed request");
                goto done;
        }
        if (c->on_message)
                c->on_message(c, m, c->userdata);
        protobuf_c_message_free_unpacked(m, NULL);
done:
        if (buffer)
                grpc_byte_buffer_destroy(buffer);
        call_unref(c);
}

static int start_recv(Call *c) {
        grpc_op op = {
                .op = GRPC_OP_RECV_MESSAGE,
                .data.recv_message.recv_message = &c->recv_buffer,
        };

        c->recv_in_flight = true;
        if (grpc_call_start_batch(c->call, &op, 1, &call_ref(c)->recv_tag, NULL) != GRPC_CALL_OK) {
                c->recv_in_flight = false;
                call_unref(c);
                return -EIO;
        }
        return 0;
}

int call_recv(Call *c) {
        if (!c->method || !c->method->client_streaming || !c->handler_holds)
                return -EINVAL;
        if (c->half_closed)
                return -EPIPE;
        if (c->recv_in_flight || c->closed || c->status_sent || c->finish_pending)
                return -EBUSY;
        return start_recv(c);
}

bool call_recv_in_flight(const Call *c) {
        return c->recv_in_flight;
}

void call_set_message_handler(Call *c, call_message_t on_message) {
        c->on_message = on_message;
}

/* ---- ending -------------------------------------------------------------- */

/* The call's end as the journal and the server's observer see it. */
static void call_audit(Call *c, JrCode code, const char *message) {
        uint64_t duration = now_usec(CLOCK_MONOTONIC) - c->accepted_usec;

        log_debug("%s%s%s: answered %s, %.1f ms after it was taken from gRPC's queue",
                  c->method ? c->method->name : "unknown method", c->audit_job ? " of job " : "",
                  c->audit_job ?: "", jr_code_to_string(code) ?: "?", duration / 1000.0);
        server_call_ended(c->server, c->method, code, duration);
        if (c->method && c->method->audit_failures_only && code == JR_CODE_OK)
                return;
        audit_log_call(c->authenticated ? &c->identity : NULL, c->peer,
                       c->method ? c->method->name : c->path,
                       c->audit_job, c->audit_argv, c->audit_has_input ? &c->audit_input_bytes : NULL,
                       code, message);
}

/* Queues the final status; the call is answered once it is sent. */
static void call_end(Call *c, grpc_byte_buffer *response, JrCode code, const char *message) {
        c->code = code;
        c->final_buffer = response;
        c->status_details = grpc_slice_from_copied_string(message ? message : "");
        if (c->closed)
                return;         /* nobody to answer */
        if (c->send_in_flight)
                c->finish_pending = true;
        else
                send_status(c);
}

void call_finish(Call *c, const ProtobufCMessage *response, JrCode code, const char *message) {
        grpc_byte_buffer *buffer = NULL;

        if (!c->handler_holds)
                return;
        c->handler_holds = false;

        if (response && code == JR_CODE_OK && pack_message(response, &buffer) < 0) {
                code = JR_CODE_INTERNAL;
                message = "cannot encode the response";
        }
        call_audit(c, code, message);
        call_end(c, buffer, code, message);
        call_unref(c);
}

void call_finish_errno(Call *c, int error, const char *message) {
        call_finish(c, NULL, jr_code_from_errno(error),
                    message && *message ? message : strerror(abs(error)));
}

/* The handler lets go without answering: the client went away, or the
 * server is shutting down (code_if_open then answers it). */
static void call_take_from_handler(Call *c, JrCode code, const char *message) {
        if (!c->handler_holds)
                return;
        c->handler_holds = false;
        if (c->on_abort)
                c->on_abort(c, c->userdata);
        call_audit(c, code, message);
        if (!c->closed && !c->status_sent && !c->finish_pending)
                call_end(c, NULL, code, message);
        call_unref(c);
}

static void on_close(Tag *tag, bool ok) {
        Call *c = (Call *) ((char *) tag - offsetof(Call, close_tag));

        (void) ok;
        c->closed = true;
        /* Cancelled by the client, by its deadline, or by gRPC itself. */
        if (c->cancelled || !ok)
                call_take_from_handler(c, JR_CODE_CANCELLED, "cancelled by the client or its deadline");
        call_unref(c);
}

void calls_abort_all(Server *s, const char *message) {
        Call *next;

        for (Call *c = *server_get_calls(s); c; c = next) {
                call_ref(c);
                call_take_from_handler(c, JR_CODE_UNAVAILABLE, message);
                next = c->next;
                call_unref(c);
        }
}

/* ---- accepting ----------------------------------------------------------- */

/* The property's value, which gRPC does not promise to NUL-terminate. */
static char *auth_property(grpc_auth_context *ctx, const char *name) {
        grpc_auth_property_iterator it = grpc_auth_context_find_properties_by_name(ctx, name);
        const grpc_auth_property *p = grpc_auth_property_iterator_next(&it);

        return p ? strndup(p->value, p->value_length) : NULL;
}

static int call_authenticate(Call *c, char **ret_error) {
        grpc_auth_context *ctx = grpc_call_auth_context(c->call);
        _cleanup_free_ char *cn = NULL, *subject = NULL;
        int r;

        if (!ctx) {
                *ret_error = strdup("no authenticated TLS peer");
                return -ENOKEY;
        }
        cn = auth_property(ctx, GRPC_X509_CN_PROPERTY_NAME);
        subject = auth_property(ctx, GRPC_X509_SUBJECT_PROPERTY_NAME);
        grpc_auth_context_release(ctx);

        r = authz_identity_from_subject(cn, subject, &c->identity, ret_error);
        if (r < 0)
                return r;
        c->authenticated = true;
        return 0;
}

static int call_start_close_watch(Call *c) {
        grpc_op op = {
                .op = GRPC_OP_RECV_CLOSE_ON_SERVER,
                .data.recv_close_on_server.cancelled = &c->cancelled,
        };

        if (grpc_call_start_batch(c->call, &op, 1, &call_ref(c)->close_tag, NULL) != GRPC_CALL_OK) {
                call_unref(c);
                return -EIO;
        }
        return 0;
}

/* Unpacks the payload and hands it to the handler, or answers the call. */
static void call_dispatch(Call *c) {
        _cleanup_free_ char *error = NULL;
        int r;

        r = unpack_message(c, c->payload, &c->request, &error);
        if (r < 0) {
                call_finish_errno(c, r, error);
                return;
        }
        c->method->handle(c, c->request, server_get_userdata(c->server));
}

void call_accept(Server *s, grpc_call *call, const RpcMethod *method, const char *path,
                 grpc_byte_buffer *payload) {
        _cleanup_free_ char *error = NULL, *path_copy = NULL;
        char *peer;
        Call *c, **head;
        int r;

        c = calloc(1, sizeof(Call));
        if (!c || (!method && !(path_copy = strdup(path ? path : "")))) {
                /* Out of memory: drop the call rather than guess. */
                free(c);
                grpc_call_cancel_with_status(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory", NULL);
                grpc_call_unref(call);
                if (payload)
                        grpc_byte_buffer_destroy(payload);
                return;
        }
        *c = (Call) {
                .n_ref = 1,
                .server = s,
                .call = call,
                .method = method,
                .path = TAKE_PTR(path_copy),
                .payload = payload,
                .close_tag.done = on_close,
                .send_tag.done = on_message_sent,
                .recv_tag.done = on_message_received,
                .status_tag.done = on_status_sent,
                .status_details = grpc_empty_slice(),
                .accepted_usec = now_usec(CLOCK_MONOTONIC),
        };
        head = server_get_calls(s);
        c->next = *head;
        if (*head)
                (*head)->prev = c;
        *head = c;

        peer = grpc_call_get_peer(call);
        c->peer = strdup(peer ? peer : "unknown");
        gpr_free(peer);
        if (!c->peer)
                goto fail;

        r = call_start_close_watch(c);
        if (r < 0)
                goto fail;

        /* The handler's reference: call_finish() or the abort drops it. */
        c->handler_holds = true;
        call_ref(c);

        r = call_authenticate(c, &error);
        if (r < 0) {
                call_finish_errno(c, r, error);
                goto done;
        }
        if (!method) {
                call_finish(c, NULL, JR_CODE_UNIMPLEMENTED, "unknown method");
                goto done;
        }
        if (server_is_shutting_down(s) && !method->serves_while_stopping) {
                /* Taken from gRPC's queue after the shutdown began. */
                call_finish(c, NULL, JR_CODE_UNAVAILABLE, "jobrunnerd is shutting down; retry later");
                goto done;
        }
        if (method->client_streaming) {
                /* No payload came with the call: read the first message;
                 * on_message_received() dispatches it. */
                r = start_recv(c);
                if (r < 0)
                        call_finish_errno(c, r, "cannot read the request message");
                goto done;
        }
        call_dispatch(c);
done:
        call_unref(c);
        return;
fail:
        grpc_call_cancel_with_status(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory", NULL);
        call_unref(c);
}

/* ---- for handlers -------------------------------------------------------- */

const AuthzIdentity *call_identity(const Call *c) {
        return &c->identity;
}

const char *call_peer(const Call *c) {
        return c->peer;
}

bool call_server_stopping(const Call *c) {
        return server_is_shutting_down(c->server);
}

void call_set_audit_job(Call *c, const char *job_id) {
        free(c->audit_job);
        c->audit_job = job_id ? strdup(job_id) : NULL;
}

void call_set_audit_argv(Call *c, char *const *argv) {
        strv_free(c->audit_argv);
        c->audit_argv = strv_copy(argv);       /* out of memory: no argv in the record */
}

void call_set_audit_input_bytes(Call *c, uint64_t bytes) {
        c->audit_has_input = true;
        c->audit_input_bytes = bytes;
}

void call_set_handlers(Call *c, call_callback_t on_sent, call_callback_t on_abort, void *userdata) {
        c->on_sent = on_sent;
        c->on_abort = on_abort;
        c->userdata = userdata;
}
