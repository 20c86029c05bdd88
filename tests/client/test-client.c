/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "health.pb-c.h"
#include "macro.h"
#include "status.h"
#include "test-client.h"
#include "tls.h"

#define METHOD_PREFIX "/jobrunner.v1.JobRunner/"

/* How long after a call's deadline we still wait for gRPC to complete one of
 * its batches before cancelling it ourselves.  gRPC completes every batch
 * once the deadline has passed, so this is a safety net only. */
#define PLUCK_SLACK_MS INT64_C(10000)

/* Connections use a PLUCK queue: every wait names the one batch it waits
 * for, so that several streams may be open on one connection and be read in
 * any order, all on one thread. */
struct TcConn {
        grpc_channel *channel;
        grpc_completion_queue *cq;
        unsigned n_streams;             /* and unary calls in flight */
};

struct TcStream {
        TcConn *conn;
        grpc_call *call;
        gpr_timespec deadline;

        /* The addresses are the batch tags. */
        char tag_start, tag_message, tag_status, tag_send;
        bool start_pending, status_pending, ended;

        grpc_byte_buffer *send_message;
        grpc_metadata_array initial_metadata, trailing_metadata;
        grpc_status_code status;
        grpc_slice status_details;
        const char *error_string;
        char *details;

        /* Each message is copied here to be unpacked: grows, never shrinks. */
        uint8_t *buf;
        size_t buf_size;
};

/* tls_restrict_to_tls13() works only before OpenSSL is initialised, which
 * the first grpc_init() of the process does. */
static bool grpc_ever_initialized = false;
static bool tls13_restricted = false;
/* After the last grpc_shutdown(), gRPC's final shutdown may still run on a
 * thread of its own (a subchannel can outlive its channel).  A process
 * that exits meanwhile runs OpenSSL's atexit cleanup under it, which
 * deletes the key of OpenSSL's per-thread state: that thread's error state
 * is then never freed (LeakSanitizer reported such a 904-byte leak from
 * libcrypto once in the sanitized VM suite; compare gRPC issue 38539), or
 * gRPC's globals are destroyed under it.  So the test programs keep
 * OpenSSL's state until the kernel takes it (OPENSSL_INIT_NO_ATEXIT, where
 * this file initialises OpenSSL first), and wait at exit for gRPC's final
 * shutdown: grpc_is_initialized() answers under the lock it holds. */
static void wait_for_grpc_shutdown(void) {
        for (unsigned waited_ms = 0; grpc_is_initialized() && waited_ms < 5000; waited_ms++)
                (void) usleep(1000);
}

const char *tc_method_path(const char *method, char *buf, size_t size) {
        int n;

        if (!method || !buf)
                return NULL;
        if (method[0] == '/')
                n = snprintf(buf, size, "%s", method);
        else
                n = snprintf(buf, size, METHOD_PREFIX "%s", method);
        if (n < 0 || (size_t) n >= size)
                return NULL;
        return buf;
}

const char *tc_status_name(int status) {
        return jr_code_to_string((JrCode) status);
}

static gpr_timespec deadline_from_now(int64_t deadline_ms) {
        if (deadline_ms <= 0)
                deadline_ms = TC_DEFAULT_DEADLINE_MS;
        return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(deadline_ms, GPR_TIMESPAN));
}

/* Waits for the batch with this tag of call and returns whether it
 * succeeded.  Never gives up: a batch that is not collected would complete
 * into a queue that may be gone by then. */
static bool pluck(TcConn *c, grpc_call *call, void *tag, gpr_timespec call_deadline) {
        gpr_timespec limit = gpr_time_add(call_deadline, gpr_time_from_millis(PLUCK_SLACK_MS, GPR_TIMESPAN));
        grpc_event ev;

        ev = grpc_completion_queue_pluck(c->cq, tag, limit, NULL);
        if (ev.type == GRPC_QUEUE_TIMEOUT) {
                (void) grpc_call_cancel(call, NULL);
                ev = grpc_completion_queue_pluck(c->cq, tag, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
        }
        assert(ev.type == GRPC_OP_COMPLETE && ev.tag == tag);
        return ev.success;
}

static char *slice_to_string(grpc_slice s) {
        return strndup((const char *) GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s));
}

/* Copies the message in bb into *buf (grown as needed, at least one byte
 * so that an empty message has a non-NULL buffer); returns its length or a
 * negative errno. */
static ssize_t byte_buffer_copy_out(grpc_byte_buffer *bb, uint8_t **buf, size_t *size) {
        grpc_byte_buffer_reader reader;
        grpc_slice slice;
        size_t len = grpc_byte_buffer_length(bb), n = 0;

        if (len > SSIZE_MAX - 1)
                return -EFBIG;
        if (!*buf || *size < len + 1) {
                uint8_t *p = realloc(*buf, len + 1);

                if (!p)
                        return -ENOMEM;
                *buf = p;
                *size = len + 1;
        }

        /* The reader also undoes message compression, which would change
         * the length: count what it hands out. */
        if (!grpc_byte_buffer_reader_init(&reader, bb))
                return -EBADMSG;
        while (grpc_byte_buffer_reader_next(&reader, &slice)) {
                size_t l = GRPC_SLICE_LENGTH(slice);

                if (n + l + 1 > *size) {
                        size_t want = n + l + 1;
                        uint8_t *p = realloc(*buf, want);

                        if (!p) {
                                grpc_slice_unref(slice);
                                grpc_byte_buffer_reader_destroy(&reader);
                                return -ENOMEM;
                        }
                        *buf = p;
                        *size = want;
                }
                memcpy(*buf + n, GRPC_SLICE_START_PTR(slice), l);
                n += l;
                grpc_slice_unref(slice);
        }
        grpc_byte_buffer_reader_destroy(&reader);
        return (ssize_t) n;
}

static grpc_byte_buffer *byte_buffer_from(const void *data, size_t len) {
        grpc_slice slice = grpc_slice_from_copied_buffer(data ?: "", data ? len : 0);
        grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&slice, 1);

        /* The buffer took its own reference. */
        grpc_slice_unref(slice);
        return bb;
}

static grpc_call *call_create(TcConn *c, const char *method, gpr_timespec deadline) {
        char path[512];
        grpc_slice method_slice;
        grpc_call *call;

        if (!tc_method_path(method, path, sizeof(path)))
                return NULL;
        method_slice = grpc_slice_from_copied_string(path);
        /* No GRPC_INITIAL_METADATA_WAIT_FOR_READY anywhere: a channel that
         * cannot connect fails the call with UNAVAILABLE at once. */
        call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
                                        method_slice, NULL, deadline, NULL);
        grpc_slice_unref(method_slice);
        return call;
}

int tc_connect_full(const char *target, const char *cert_pem_path, const char *key_pem_path,
                    const char *ca_pem_path, const TcOptions *options, TcConn **ret) {
        _cleanup_free_ char *cert = NULL, *ca = NULL;
        _cleanup_(tls_erase_and_freep) char *key = NULL;
        grpc_ssl_pem_key_cert_pair pair;
        grpc_channel_credentials *creds;
        grpc_arg args[5];
        size_t n_args = 0;
        TcConn *c;
        int r;

        if (!target || !ret)
                return -EINVAL;
        if (!cert_pem_path != !key_pem_path)
                return -EINVAL;

        if (cert_pem_path) {
                r = tls_read_pem(cert_pem_path, &cert);
                if (r < 0)
                        return r;
                r = tls_read_pem(key_pem_path, &key);
                if (r < 0)
                        return r;
        }
        if (ca_pem_path) {
                r = tls_read_pem(ca_pem_path, &ca);
                if (r < 0)
                        return r;
        }

        if (options && options->tls13_only && !tls13_restricted) {
                if (grpc_ever_initialized || grpc_is_initialized())
                        return -EALREADY;
                r = tls_restrict_to_tls13();
                if (r < 0)
                        return r;
                tls13_restricted = true;
        }

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;

        if (!grpc_ever_initialized) {
                (void) OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
                (void) atexit(wait_for_grpc_shutdown);
        }
        grpc_init();
        grpc_ever_initialized = true;

        pair = (grpc_ssl_pem_key_cert_pair) { .private_key = key, .cert_chain = cert };
        /* Copies the PEM strings. */
        creds = grpc_ssl_credentials_create_ex(ca, cert ? &pair : NULL, NULL, NULL);
        if (!creds) {
                free(c);
                grpc_shutdown();
                return -EINVAL;
        }

        /* One attempt per call: what the tests see is what the server said. */
        args[n_args++] = (grpc_arg) {
                .type = GRPC_ARG_INTEGER,
                .key = (char *) GRPC_ARG_ENABLE_RETRIES,
                .value.integer = 0,
        };
        args[n_args++] = (grpc_arg) {
                .type = GRPC_ARG_INTEGER,
                .key = (char *) GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
                .value.integer = options && options->max_receive_message_bytes > 0 ?
                                 options->max_receive_message_bytes : -1,
        };
        /* After a failed connection attempt the channel refuses calls until
         * its backoff has passed: keep that short for a daemon being
         * restarted under a test. */
        args[n_args++] = (grpc_arg) {
                .type = GRPC_ARG_INTEGER,
                .key = (char *) GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
                .value.integer = 100,
        };
        args[n_args++] = (grpc_arg) {
                .type = GRPC_ARG_INTEGER,
                .key = (char *) GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                .value.integer = 1000,
        };
        if (options && options->target_name_override)
                args[n_args++] = (grpc_arg) {
                        .type = GRPC_ARG_STRING,
                        .key = (char *) GRPC_SSL_TARGET_NAME_OVERRIDE_ARG,
                        .value.string = (char *) options->target_name_override,
                };
        assert(n_args <= ELEMENTSOF(args));

        c->channel = grpc_channel_create(target, creds, &(grpc_channel_args) { .num_args = n_args, .args = args });
        grpc_channel_credentials_release(creds);
        c->cq = grpc_completion_queue_create_for_pluck(NULL);

        *ret = c;
        return 0;
}

int tc_connect(const char *target, const char *cert_pem_path, const char *key_pem_path,
               const char *ca_pem_path, TcConn **ret) {
        return tc_connect_full(target, cert_pem_path, key_pem_path, ca_pem_path, NULL, ret);
}

void tc_disconnect(TcConn *c) {
        grpc_event ev;

        if (!c)
                return;
        assert(c->n_streams == 0);

        grpc_channel_destroy(c->channel);
        /* Every batch was collected, so the queue is empty: shutting it down
         * completes at once. */
        grpc_completion_queue_shutdown(c->cq);
        do
                ev = grpc_completion_queue_pluck(c->cq, NULL, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
        while (ev.type != GRPC_QUEUE_SHUTDOWN);
        grpc_completion_queue_destroy(c->cq);
        free(c);
        grpc_shutdown();
}

void tc_result_done(TcResult *r) {
        if (!r)
                return;
        free(r->details);
        free(r->response);
        *r = (TcResult) {};
}

/* A unary call in flight: everything its one batch writes into. */
struct TcUnary {
        TcConn *conn;
        grpc_call *call;
        gpr_timespec deadline;
        grpc_op ops[6];                 /* &ops[0] is the batch's tag */
        grpc_metadata_array initial_metadata, trailing_metadata;
        grpc_byte_buffer *send_message, *recv_message;
        grpc_status_code status;
        grpc_slice status_details;
        const char *error_string;
};

static void unary_free(TcUnary *u) {
        grpc_byte_buffer_destroy(u->send_message);
        if (u->recv_message)
                grpc_byte_buffer_destroy(u->recv_message);
        grpc_metadata_array_destroy(&u->initial_metadata);
        grpc_metadata_array_destroy(&u->trailing_metadata);
        grpc_slice_unref(u->status_details);
        gpr_free((void *) u->error_string);
        grpc_call_unref(u->call);
        u->conn->n_streams--;
        free(u);
}

int tc_unary_start(TcConn *c, const char *method, const void *request, size_t request_len, int64_t deadline_ms,
                   TcUnary **ret) {
        grpc_call_error e;
        TcUnary *u;

        if (!c || !method || !ret || (!request && request_len > 0))
                return -EINVAL;

        u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        u->conn = c;
        u->deadline = deadline_from_now(deadline_ms);
        u->call = call_create(c, method, u->deadline);
        if (!u->call) {
                free(u);
                return -EINVAL;
        }
        c->n_streams++;
        u->status = GRPC_STATUS_UNKNOWN;
        u->status_details = grpc_empty_slice();
        grpc_metadata_array_init(&u->initial_metadata);
        grpc_metadata_array_init(&u->trailing_metadata);
        u->send_message = byte_buffer_from(request, request_len);

        /* A unary call in one batch: its completion means the call is over. */
        u->ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        u->ops[1].op = GRPC_OP_SEND_MESSAGE;
        u->ops[1].data.send_message.send_message = u->send_message;
        u->ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
        u->ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
        u->ops[3].data.recv_initial_metadata.recv_initial_metadata = &u->initial_metadata;
        u->ops[4].op = GRPC_OP_RECV_MESSAGE;
        u->ops[4].data.recv_message.recv_message = &u->recv_message;
        u->ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
        u->ops[5].data.recv_status_on_client.trailing_metadata = &u->trailing_metadata;
        u->ops[5].data.recv_status_on_client.status = &u->status;
        u->ops[5].data.recv_status_on_client.status_details = &u->status_details;
        u->ops[5].data.recv_status_on_client.error_string = &u->error_string;

        e = grpc_call_start_batch(u->call, u->ops, ELEMENTSOF(u->ops), &u->ops[0], NULL);
        if (e != GRPC_CALL_OK) {
                unary_free(u);
                return -EINVAL;
        }
        *ret = u;
        return 0;
}

int tc_unary_wait(TcUnary *u, TcResult *ret) {
        TcResult result = {};
        int r = 0;

        if (!u)
                return -EINVAL;
        (void) pluck(u->conn, u->call, &u->ops[0], u->deadline);

        result.status = u->status;
        result.details = slice_to_string(u->status_details);
        if (!result.details)
                r = -ENOMEM;
        if (r >= 0 && u->recv_message) {
                size_t size = 0;
                ssize_t n = byte_buffer_copy_out(u->recv_message, &result.response, &size);

                if (n < 0)
                        r = (int) n;
                else
                        result.response_len = (size_t) n;
        }
        unary_free(u);

        if (r < 0) {
                tc_result_done(&result);
                return r;
        }
        if (ret)
                *ret = result;
        else
                tc_result_done(&result);
        return 0;
}

int tc_unary(TcConn *c, const char *method, const void *request, size_t request_len,
             int64_t deadline_ms, TcResult *ret) {
        TcUnary *u;
        int r;

        if (!ret)
                return -EINVAL;
        r = tc_unary_start(c, method, request, request_len, deadline_ms, &u);
        if (r < 0)
                return r;
        return tc_unary_wait(u, ret);
}

static int pack(const ProtobufCMessage *m, uint8_t **ret, size_t *ret_len) {
        size_t len = protobuf_c_message_get_packed_size(m);
        uint8_t *buf = malloc(len + 1);

        if (!buf)
                return -ENOMEM;
        *ret_len = protobuf_c_message_pack(m, buf);
        *ret = buf;
        return 0;
}

int tc_call_start(TcConn *c, const char *method, const ProtobufCMessage *req, int64_t deadline_ms, TcUnary **ret) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        int r;

        if (!req)
                return -EINVAL;
        r = pack(req, &buf, &len);
        if (r < 0)
                return r;
        return tc_unary_start(c, method, buf, len, deadline_ms, ret);
}

int tc_call_wait(TcUnary *u, const ProtobufCMessageDescriptor *resp_type, int *ret_status, char **ret_details,
                 ProtobufCMessage **ret_resp) {
        ProtobufCMessage *resp = NULL;
        TcResult result = {};
        int r;

        if (!resp_type) {
                (void) tc_unary_wait(u, NULL);
                return -EINVAL;
        }
        r = tc_unary_wait(u, &result);
        if (r < 0)
                return r;

        if (result.status == GRPC_STATUS_OK) {
                if (!result.response) {
                        tc_result_done(&result);
                        return -EBADMSG;
                }
                resp = protobuf_c_message_unpack(resp_type, NULL, result.response_len, result.response);
                if (!resp) {
                        tc_result_done(&result);
                        return -EBADMSG;
                }
        }

        if (ret_status)
                *ret_status = result.status;
        if (ret_details)
                *ret_details = TAKE_PTR(result.details);
        if (ret_resp)
                *ret_resp = resp;
        else if (resp)
                protobuf_c_message_free_unpacked(resp, NULL);
        tc_result_done(&result);
        return 0;
}

int tc_call(TcConn *c, const char *method, const ProtobufCMessage *req,
            const ProtobufCMessageDescriptor *resp_type, int64_t deadline_ms,
            int *ret_status, char **ret_details, ProtobufCMessage **ret_resp) {
        TcUnary *u;
        int r;

        if (!resp_type)
                return -EINVAL;
        r = tc_call_start(c, method, req, deadline_ms, &u);
        if (r < 0)
                return r;
        return tc_call_wait(u, resp_type, ret_status, ret_details, ret_resp);
}

/* ---- the health check ----------------------------------------------------- */

int tc_health_check(TcConn *c, const char *service, int64_t deadline_ms, int *ret_status, char **ret_details,
                    int *ret_serving) {
        Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
        Grpc__Health__V1__HealthCheckResponse *resp = NULL;
        int r;

        req.service = (char *) (service ?: "");
        r = tc_call(c, TC_HEALTH_CHECK_PATH, &req.base, &grpc__health__v1__health_check_response__descriptor,
                    deadline_ms, ret_status, ret_details, (ProtobufCMessage **) &resp);
        if (r < 0)
                return r;
        if (ret_serving)
                *ret_serving = resp ? (int) resp->status : -1;
        if (resp)
                grpc__health__v1__health_check_response__free_unpacked(resp, NULL);
        return 0;
}

const char *tc_serving_status_name(int serving) {
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
                        &grpc__health__v1__health_check_response__serving_status__descriptor, serving);

        return v ? v->name : NULL;
}

/* ---- streams: Logs, Attach ----------------------------------------------- */

/* Starts a streaming call: its status batch, then the initial metadata
 * both ways.  Logs sends its one request and half-closes in the same batch
 * (first non-NULL); Attach sends its messages with tc_stream_send(). */
static int stream_open(TcConn *c, const char *method, const ProtobufCMessage *first, int64_t deadline_ms,
                       TcStream **ret) {
        _cleanup_free_ uint8_t *buf = NULL;
        grpc_op ops[4], status_op;
        grpc_call_error e;
        TcStream *s;
        size_t len = 0, n = 0;
        int r;

        if (first) {
                r = pack(first, &buf, &len);
                if (r < 0)
                        return r;
        }

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->conn = c;
        s->deadline = deadline_from_now(deadline_ms);
        s->status = GRPC_STATUS_UNKNOWN;
        s->status_details = grpc_empty_slice();
        grpc_metadata_array_init(&s->initial_metadata);
        grpc_metadata_array_init(&s->trailing_metadata);

        s->call = call_create(c, method, s->deadline);
        if (!s->call) {
                grpc_metadata_array_destroy(&s->initial_metadata);
                grpc_metadata_array_destroy(&s->trailing_metadata);
                free(s);
                return -EINVAL;
        }
        c->n_streams++;

        /* The status first: whatever happens to the rest, it is what the call
         * ends with, and collecting it is what tc_stream_free() waits for. */
        status_op = (grpc_op) { .op = GRPC_OP_RECV_STATUS_ON_CLIENT };
        status_op.data.recv_status_on_client.trailing_metadata = &s->trailing_metadata;
        status_op.data.recv_status_on_client.status = &s->status;
        status_op.data.recv_status_on_client.status_details = &s->status_details;
        status_op.data.recv_status_on_client.error_string = &s->error_string;
        e = grpc_call_start_batch(s->call, &status_op, 1, &s->tag_status, NULL);
        if (e != GRPC_CALL_OK) {
                tc_stream_free(s);
                return -EINVAL;
        }
        s->status_pending = true;

        memset(ops, 0, sizeof(ops));
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        if (first) {
                s->send_message = byte_buffer_from(buf, len);
                ops[n].op = GRPC_OP_SEND_MESSAGE;
                ops[n++].data.send_message.send_message = s->send_message;
                ops[n++].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
        }
        ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[n++].data.recv_initial_metadata.recv_initial_metadata = &s->initial_metadata;
        e = grpc_call_start_batch(s->call, ops, n, &s->tag_start, NULL);
        if (e != GRPC_CALL_OK) {
                tc_stream_free(s);
                return -EINVAL;
        }
        s->start_pending = true;

        *ret = s;
        return 0;
}

int tc_logs_open(TcConn *c, const Jobrunner__V1__LogsRequest *req, int64_t deadline_ms, TcStream **ret) {
        if (!c || !req || !ret)
                return -EINVAL;
        return stream_open(c, "Logs", &req->base, deadline_ms, ret);
}

/* One batch of the stream's own, waited for. */
static int stream_batch(TcStream *s, grpc_op *op) {
        if (s->ended)
                return -EPIPE;
        if (grpc_call_start_batch(s->call, op, 1, &s->tag_send, NULL) != GRPC_CALL_OK)
                return -EINVAL;
        /* Not ok: the call is over (the server answered already); its status
         * says why. */
        return pluck(s->conn, s->call, &s->tag_send, s->deadline) ? 0 : -EPIPE;
}

int tc_stream_send(TcStream *s, const ProtobufCMessage *m) {
        _cleanup_free_ uint8_t *buf = NULL;
        grpc_byte_buffer *bb;
        grpc_op op;
        size_t len;
        int r;

        if (!s || !m)
                return -EINVAL;
        r = pack(m, &buf, &len);
        if (r < 0)
                return r;
        bb = byte_buffer_from(buf, len);
        op = (grpc_op) { .op = GRPC_OP_SEND_MESSAGE };
        op.data.send_message.send_message = bb;
        r = stream_batch(s, &op);
        grpc_byte_buffer_destroy(bb);
        return r;
}

int tc_stream_close_send(TcStream *s) {
        grpc_op op = { .op = GRPC_OP_SEND_CLOSE_FROM_CLIENT };

        if (!s)
                return -EINVAL;
        return stream_batch(s, &op);
}

int tc_attach_open(TcConn *c, const Jobrunner__V1__AttachRequest *first, int64_t deadline_ms, TcStream **ret) {
        TcStream *s = NULL;
        int r;

        if (!c || !first || !ret)
                return -EINVAL;
        r = stream_open(c, "Attach", NULL, deadline_ms, &s);
        if (r < 0)
                return r;
        r = tc_stream_send(s, &first->base);
        if (r < 0 && r != -EPIPE) {
                tc_stream_free(s);
                return r;
        }
        /* -EPIPE: answered already; tc_attach_next() gets the status. */
        *ret = s;
        return 0;
}

static int stream_finish(TcStream *s) {
        if (s->start_pending) {
                (void) pluck(s->conn, s->call, &s->tag_start, s->deadline);
                s->start_pending = false;
        }
        if (s->status_pending) {
                (void) pluck(s->conn, s->call, &s->tag_status, s->deadline);
                s->status_pending = false;
        }
        s->ended = true;
        if (!s->details) {
                s->details = slice_to_string(s->status_details);
                if (!s->details)
                        return -ENOMEM;
        }
        return 0;
}

static int stream_next(TcStream *s, const ProtobufCMessageDescriptor *type, ProtobufCMessage **ret_msg) {
        grpc_byte_buffer *recv_message = NULL;
        ProtobufCMessage *m;
        grpc_call_error e;
        grpc_op op;
        ssize_t n;

        if (!s || !ret_msg)
                return -EINVAL;
        if (s->ended)
                return 0;

        op = (grpc_op) { .op = GRPC_OP_RECV_MESSAGE };
        op.data.recv_message.recv_message = &recv_message;
        e = grpc_call_start_batch(s->call, &op, 1, &s->tag_message, NULL);
        if (e != GRPC_CALL_OK) {
                (void) grpc_call_cancel(s->call, NULL);
                (void) stream_finish(s);
                return -EINVAL;
        }
        (void) pluck(s->conn, s->call, &s->tag_message, s->deadline);

        /* The initial metadata came before any message, or the call is over:
         * either way that batch is done now. */
        if (s->start_pending) {
                (void) pluck(s->conn, s->call, &s->tag_start, s->deadline);
                s->start_pending = false;
        }

        if (!recv_message) {
                int r = stream_finish(s);
                return r < 0 ? r : 0;
        }

        n = byte_buffer_copy_out(recv_message, &s->buf, &s->buf_size);
        grpc_byte_buffer_destroy(recv_message);
        if (n < 0) {
                (void) grpc_call_cancel(s->call, NULL);
                return (int) n;
        }

        /* protobuf-c copies bytes fields out: s->buf may be reused. */
        m = protobuf_c_message_unpack(type, NULL, (size_t) n, s->buf);
        if (!m) {
                (void) grpc_call_cancel(s->call, NULL);
                return -EBADMSG;
        }
        *ret_msg = m;
        return 1;
}

int tc_stream_next(TcStream *s, Jobrunner__V1__LogsResponse **ret_msg) {
        return stream_next(s, &jobrunner__v1__logs_response__descriptor, (ProtobufCMessage **) ret_msg);
}

int tc_attach_next(TcStream *s, Jobrunner__V1__AttachResponse **ret_msg) {
        return stream_next(s, &jobrunner__v1__attach_response__descriptor, (ProtobufCMessage **) ret_msg);
}

int tc_stream_status(TcStream *s, int *ret_status, const char **ret_details) {
        if (!s)
                return -EINVAL;
        if (!s->ended)
                return -EBUSY;
        if (ret_status)
                *ret_status = s->status;
        if (ret_details)
                *ret_details = s->details;
        return 0;
}

void tc_stream_cancel(TcStream *s) {
        if (s && !s->ended)
                (void) grpc_call_cancel(s->call, NULL);
}

void tc_stream_free(TcStream *s) {
        if (!s)
                return;

        if (s->start_pending || s->status_pending) {
                (void) grpc_call_cancel(s->call, NULL);
                (void) stream_finish(s);
        }

        if (s->send_message)
                grpc_byte_buffer_destroy(s->send_message);
        grpc_metadata_array_destroy(&s->initial_metadata);
        grpc_metadata_array_destroy(&s->trailing_metadata);
        grpc_slice_unref(s->status_details);
        gpr_free((void *) s->error_string);
        grpc_call_unref(s->call);
        s->conn->n_streams--;
        free(s->details);
        free(s->buf);
        free(s);
}
