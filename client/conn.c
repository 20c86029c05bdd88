/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "conn.h"
#include "conn-internal.h"
#include "format.h"
#include "identity.h"
#include "interrupt.h"
#include "log.h"
#include "macro.h"
#include "resolve.h"
#include "rpc-error.h"
#include "status.h"
#include "tls.h"
#include "transient.h"

/* How long an exit waits for gRPC's shutdown to finish elsewhere. */
#define GRPC_SHUTDOWN_WAIT_MS 5000u

void rpc_status_done(RpcStatus *s) {
        free(s->details);
        *s = (RpcStatus) {};
}


/* gRPC writes its own errors to stderr ("Handshake failed with fatal
 * error ..."); ours say the same with the cause, once.  Its messages are
 * still there for debugging, with $JOBRUNNER_DEBUG. */
static void grpc_log(gpr_log_func_args *args) {
        log_debug("gRPC: %s:%d: %s", args->file, args->line, args->message);
}

/* Once per process, also when the hosts of a fan-out open their
 * connections side by side. */
static pthread_once_t process_once = PTHREAD_ONCE_INIT;

static void process_init(void) {
        int r;

        /* The server speaks TLS 1.3 only; so do we, which also keeps a
         * downgrade from being tried.  It must come before anything
         * initialises OpenSSL, and failing it costs nothing but that. */
        r = tls_restrict_to_tls13();
        if (r < 0)
                log_debug_errno(r, "cannot restrict OpenSSL to TLS 1.3, going on");
        if (!getenv("GRPC_VERBOSITY"))
                gpr_set_log_function(grpc_log);
}

static int read_pem(const Setting *s, const char *what, char **ret, CliError *e) {
        bool by_default = strcmp(s->origin, "default") == 0;
        int r = tls_read_pem(s->value, ret);

        if (r >= 0)
                return 0;
        if (r == -EBADMSG)
                cli_error(e, CLI_EXIT_CONFIG, r, "the %s %s (from %s) is not a PEM file", what, s->value, s->origin);
        else if (by_default)
                cli_error(e, CLI_EXIT_CONFIG, r, "cannot read the %s %s: %s", what, s->value, strerror(-r));
        else
                cli_error(e, CLI_EXIT_CONFIG, r, "cannot read the %s %s (from %s): %s", what, s->value, s->origin,
                          strerror(-r));
        if (by_default && r == -ENOENT) {
                const char *slash = strrchr(s->value, '/');

                cli_error_amend(e, -1, ". Copy the files jobrunner-keys made for you (client.crt, client.key and "
                                "ca.crt of its users/NAME/ directory) to %.*s/, or give --cert, --key and --ca",
                                slash ? (int) (slash - s->value) : 0, s->value);
        }
        return r;
}

/* Every call's :authority: the server as given, or, with a TLS server
 * name, that name with the server's port.  gRPC 1.51 checks each call's
 * authority against the server's certificate too, after the handshake
 * (grpc_ssl_check_call_host()), and lets a mismatch through for an
 * overridden target name only if the authority is exactly the target's
 * host, port and all: "192.0.2.7:7443" would fail every call to a server
 * whose certificate carries only the TLS server name. */
static int authority_for(const char *server, const char *tls_server_name, char **ret) {
        const char *port;

        if (!tls_server_name) {
                *ret = strdup(server);
                return *ret ? 0 : -ENOMEM;
        }
        /* server is normalized: "HOST:PORT" or "[IPV6]:PORT". */
        port = strrchr(server, ':');
        assert(port);
        if (asprintf(ret, strchr(tls_server_name, ':') ? "[%s]%s" : "%s%s", tls_server_name, port) < 0)
                return -ENOMEM;
        return 0;
}

static void create_channel(Conn *c) {
        grpc_arg args[7];

        /* A List page or a status with a large spec may exceed gRPC's
         * default of 4 MiB. */
        args[0] = (grpc_arg) {
                .type = GRPC_ARG_INTEGER,
                .key = (char *) GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
                .value.integer = -1,
        };
        /* After a failed connection attempt the channel fails calls at once
         * until its backoff has passed (1 s, growing to 2 min, by default):
         * keep it short so that following a job's output resumes soon
         * after the daemon restarts. */
        args[1] = (grpc_arg) {
                .type = GRPC_ARG_INTEGER,
                .key = (char *) GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
                .value.integer = 200,
        };
        args[2] = (grpc_arg) {
                .type = GRPC_ARG_INTEGER,
                .key = (char *) GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                .value.integer = 2000,
        };
        /* How long a connection attempt, TLS handshake included, may take
         * (gRPC 1.51 uses this argument for nothing else): 20 s by default.
         * While the daemon (re)starts, systemd keeps our connection in the
         * socket's backlog and the handshake waits for the next daemon; at
         * 20 s gRPC would give up on it with "Handshake read failed", which
         * looks like a refused certificate.  As long as we would wait for a
         * restarting daemon anyway: each call's own deadline still ends it
         * sooner. */
        args[3] = (grpc_arg) {
                .type = GRPC_ARG_INTEGER,
                .key = (char *) GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
                .value.integer = (int) (BACKOFF_GIVE_UP_USEC / 1000),
        };
        /* Subchannels of the channel's own: from the process-wide pool, a
         * new channel (conn_reconnect()) would get the old one's back, with
         * its last failure and its backoff. */
        args[4] = (grpc_arg) {
                .type = GRPC_ARG_INTEGER,
                .key = (char *) GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL,
                .value.integer = 1,
        };
        /* The target holds the addresses (resolve.h); the certificate must
         * name the host as given (or the TLS server name, for a server
         * reached by an address its certificate does not carry), and the
         * :authority header names it too (authority_for()). */
        args[5] = (grpc_arg) {
                .type = GRPC_ARG_STRING,
                .key = (char *) GRPC_SSL_TARGET_NAME_OVERRIDE_ARG,
                .value.string = c->tls_server_name ?: c->resolved.host,
        };
        args[6] = (grpc_arg) {
                .type = GRPC_ARG_STRING,
                .key = (char *) GRPC_ARG_DEFAULT_AUTHORITY,
                .value.string = c->authority,
        };
        c->channel = grpc_channel_create(c->resolved.target, c->creds,
                                         &(grpc_channel_args) { .num_args = ELEMENTSOF(args), .args = args });
}

int conn_open(const CliSettings *settings, uint64_t timeout_usec, Conn **ret, CliError *e) {
        _cleanup_free_ char *cert = NULL, *ca = NULL;
        _cleanup_(tls_erase_and_freep) char *key = NULL;
        const Setting *s = settings->s;
        grpc_ssl_pem_key_cert_pair pair;
        grpc_channel_credentials *creds;
        Conn *c;
        int r;

        (void) pthread_once(&process_once, process_init);

        r = read_pem(&s[SETTING_CERT], "client certificate", &cert, e);
        if (r >= 0)
                r = read_pem(&s[SETTING_KEY], "client key", &key, e);
        if (r >= 0)
                r = read_pem(&s[SETTING_CA], "CA certificate", &ca, e);
        if (r < 0)
                return r;
        r = identity_check_key_pair(s[SETTING_CERT].value, s[SETTING_KEY].value, e);
        if (r < 0)
                return r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return cli_error_oom(e);
        c->server = strdup(s[SETTING_SERVER].value);
        c->cert = strdup(s[SETTING_CERT].value);
        c->ca = strdup(s[SETTING_CA].value);
        c->tls_server_name = s[SETTING_TLS_SERVER_NAME].value ? strdup(s[SETTING_TLS_SERVER_NAME].value) : NULL;
        c->timeout_usec = timeout_usec;
        if (!c->server || !c->cert || !c->ca || (s[SETTING_TLS_SERVER_NAME].value && !c->tls_server_name) ||
            authority_for(c->server, c->tls_server_name, &c->authority) < 0) {
                free(c->server);
                free(c->cert);
                free(c->ca);
                free(c->tls_server_name);
                free(c);
                return cli_error_oom(e);
        }

        r = resolve_server(c->server, &c->resolved, e);
        if (r < 0) {
                conn_close(c);
                return r;
        }

        grpc_init();
        c->grpc_initialized = true;

        pair = (grpc_ssl_pem_key_cert_pair) { .private_key = key, .cert_chain = cert };
        /* Copies the PEM strings. */
        creds = grpc_ssl_credentials_create_ex(ca, &pair, NULL, NULL);
        if (!creds) {
                conn_close(c);
                return cli_error(e, CLI_EXIT_CONFIG, -EINVAL, "gRPC refused the TLS credentials of %s and %s",
                                 s[SETTING_CERT].value, s[SETTING_KEY].value);
        }

        c->creds = creds;
        create_channel(c);
        c->cq = grpc_completion_queue_create_for_pluck(NULL);

        *ret = c;
        return 0;
}

/* A subchannel still connecting can outlive its channel, and its end then
 * runs gRPC's final shutdown on a thread of gRPC's own: about one exit in
 * ten after a connection attempt timed out.  Exiting meanwhile destroys
 * gRPC's globals under that thread, a crash at exit seen under load.
 * grpc_is_initialized() answers under the lock that the final shutdown
 * holds, so once it says 0 the shutdown is over. */
static void wait_for_grpc_shutdown(void) {
        for (unsigned waited_ms = 0; grpc_is_initialized() && waited_ms < GRPC_SHUTDOWN_WAIT_MS; waited_ms++)
                (void) usleep(1000);
}

/* Frees c; whether it had initialised gRPC, whose shutdown the caller
 * waits for. */
static bool conn_free(Conn *c) {
        bool initialized;
        grpc_event ev;

        if (!c)
                return false;
        assert(c->n_streams == 0);

        if (c->channel)
                grpc_channel_destroy(c->channel);
        if (c->creds)
                grpc_channel_credentials_release(c->creds);
        if (c->cq) {
                /* Every batch was collected: the shutdown completes at once. */
                grpc_completion_queue_shutdown(c->cq);
                do
                        ev = grpc_completion_queue_pluck(c->cq, NULL, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
                while (ev.type != GRPC_QUEUE_SHUTDOWN);
                grpc_completion_queue_destroy(c->cq);
        }
        initialized = c->grpc_initialized;
        if (initialized)
                grpc_shutdown();
        resolved_server_done(&c->resolved);

        identity_done(&c->identity);
        free(c->who);
        free(c->server);
        free(c->cert);
        free(c->ca);
        free(c->tls_server_name);
        free(c->authority);
        free(c);
        return initialized;
}

void conn_close(Conn *c) {
        if (conn_free(c))
                wait_for_grpc_shutdown();
}

void conn_close_many(Conn **conns, size_t n) {
        bool initialized = false;

        /* gRPC's shutdown ends with the last connection's: waiting after
         * each would wait for the others in vain. */
        for (size_t i = 0; i < n; i++) {
                initialized = conn_free(conns[i]) || initialized;
                conns[i] = NULL;
        }
        if (initialized)
                wait_for_grpc_shutdown();
}

bool conn_reached_server(const Conn *c) {
        return c->reached_server;
}

void conn_reconnect(Conn *c) {
        assert(c->n_streams == 0);
        if (grpc_channel_check_connectivity_state(c->channel, 0) != GRPC_CHANNEL_TRANSIENT_FAILURE)
                return;
        grpc_channel_destroy(c->channel);
        create_channel(c);
}

void conn_set_retry(Conn *c, ConnRetryFunc retry, void *userdata) {
        c->retry = retry;
        c->retry_userdata = userdata;
}

static void load_identity(Conn *c) {
        if (c->identity_loaded)
                return;
        c->identity_loaded = true;
        if (identity_load(c->cert, &c->identity, NULL) >= 0)
                c->who = identity_describe(&c->identity);
}

const char *conn_who(Conn *c) {
        load_identity(c);
        return c->who;
}

int conn_user_name(Conn *c, const char **ret, CliError *e) {
        load_identity(c);
        if (!c->identity.cn || !c->identity.cn[0])
                return cli_error(e, CLI_EXIT_CONFIG, -ENOKEY,
                                 "the certificate %s has no subject CN, the user name the server knows you by",
                                 c->cert);
        *ret = c->identity.cn;
        return 0;
}

/* Whether a call that ended with this code had an answer of the server;
 * the others can also come from our side of the channel. */
bool conn_answered_by_server(int code) {
        return code != JR_CODE_UNAVAILABLE && code != JR_CODE_DEADLINE_EXCEEDED && code != JR_CODE_CANCELLED &&
               code != JR_CODE_UNKNOWN;
}

uint64_t conn_timeout_for(const Conn *c, ConnDeadline d) {
        if (c->timeout_usec > 0)
                return c->timeout_usec;
        return d == CONN_DEADLINE_SHORT ? CONN_TIMEOUT_DEFAULT_USEC : 0;
}

gpr_timespec conn_deadline_in(uint64_t usec) {
        if (usec == 0)
                return gpr_inf_future(GPR_CLOCK_MONOTONIC);
        return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_micros((int64_t) usec, GPR_TIMESPAN));
}

bool conn_timeout_given(const Conn *c) {
        return c->timeout_usec > 0;
}

bool conn_connected(Conn *c) {
        return grpc_channel_check_connectivity_state(c->channel, 0) == GRPC_CHANNEL_READY;
}

int conn_wait_connected(Conn *c, ConnDeadline deadline) {
        gpr_timespec until = conn_deadline_in(conn_timeout_for(c, deadline));
        grpc_connectivity_state state;
        grpc_event ev;
        char tag;

        for (;;) {
                state = grpc_channel_check_connectivity_state(c->channel, 1);
                if (state == GRPC_CHANNEL_READY)
                        return 1;
                /* A call now fails at once, with the reason. */
                if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN)
                        return 0;
                grpc_channel_watch_connectivity_state(c->channel, state, until, c->cq, &tag);
                ev = grpc_completion_queue_pluck(c->cq, &tag, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
                assert(ev.type == GRPC_OP_COMPLETE);
                if (!ev.success)
                        return -ETIMEDOUT;
        }
}

/* Waits for the batch with this tag of call: 1 if it succeeded, 0 if not;
 * -EINTR (interruptible only) once Ctrl-C was pressed, the batch still
 * pending.  Never gives up otherwise: a batch left behind would complete
 * into a queue that may be gone by then. */
int conn_pluck(Conn *c, grpc_call *call, void *tag, bool has_deadline, gpr_timespec deadline,
                 bool interruptible) {
        gpr_timespec limit = has_deadline ?
                gpr_time_add(deadline, gpr_time_from_millis(PLUCK_SLACK_MS, GPR_TIMESPAN)) :
                gpr_inf_future(GPR_CLOCK_MONOTONIC);
        grpc_event ev;

        for (;;) {
                gpr_timespec until = limit;

                /* Also before waiting: with output streaming in, the wait
                 * below may never time out. */
                if (interruptible && interrupt_requested())
                        return -EINTR;
                if (interruptible) {
                        gpr_timespec poll = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                                         gpr_time_from_millis(INTERRUPT_POLL_MS, GPR_TIMESPAN));

                        if (gpr_time_cmp(poll, until) < 0)
                                until = poll;
                }
                ev = grpc_completion_queue_pluck(c->cq, tag, until, NULL);
                if (ev.type == GRPC_OP_COMPLETE) {
                        assert(ev.tag == tag);
                        return ev.success ? 1 : 0;
                }
                if (interruptible && interrupt_requested())
                        return -EINTR;
                if (has_deadline && gpr_time_cmp(gpr_now(GPR_CLOCK_MONOTONIC), limit) >= 0) {
                        (void) grpc_call_cancel(call, NULL);
                        ev = grpc_completion_queue_pluck(c->cq, tag, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
                        assert(ev.type == GRPC_OP_COMPLETE);
                        return ev.success ? 1 : 0;
                }
        }
}

grpc_call *conn_call_create(Conn *c, const char *method, gpr_timespec deadline) {
        char path[128];
        grpc_slice method_slice;
        grpc_call *call;

        if ((size_t) snprintf(path, sizeof(path), METHOD_PREFIX "%s", method) >= sizeof(path))
                return NULL;
        method_slice = grpc_slice_from_copied_string(path);
        /* Not GRPC_INITIAL_METADATA_WAIT_FOR_READY: a server that cannot be
         * reached fails the call with UNAVAILABLE at once, with the reason. */
        call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq, method_slice, NULL,
                                        deadline, NULL);
        grpc_slice_unref(method_slice);
        return call;
}

grpc_byte_buffer *conn_pack(const ProtobufCMessage *m) {
        size_t len = protobuf_c_message_get_packed_size(m);
        grpc_slice slice = grpc_slice_malloc(len);
        grpc_byte_buffer *bb;

        protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(slice));
        bb = grpc_raw_byte_buffer_create(&slice, 1);
        grpc_slice_unref(slice);
        return bb;
}

/* The message in bb, unpacked; NULL if it does not unpack. */
ProtobufCMessage *conn_unpack(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *type) {
        grpc_byte_buffer_reader reader;
        ProtobufCMessage *m;
        grpc_slice all;

        /* The reader also undoes compression. */
        if (!grpc_byte_buffer_reader_init(&reader, bb))
                return NULL;
        all = grpc_byte_buffer_reader_readall(&reader);
        grpc_byte_buffer_reader_destroy(&reader);
        m = protobuf_c_message_unpack(type, NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
        grpc_slice_unref(all);
        return m;
}

int conn_bad_response(const char *method, CliError *e) {
        return cli_error(e, CLI_EXIT_API, -EBADMSG,
                         "the server's answer to %s is not a valid message (is it a jobrunner v1 server?)", method);
}

int conn_status_from(grpc_status_code code, grpc_slice details, RpcStatus *ret, CliError *e) {
        char *d = strndup((const char *) GRPC_SLICE_START_PTR(details), GRPC_SLICE_LENGTH(details));

        if (!d)
                return cli_error_oom(e);
        *ret = (RpcStatus) { .code = (int) code, .details = d };
        return 0;
}

int conn_call(Conn *c, const char *method, const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_type,
              ConnDeadline deadline, RpcStatus *ret_status, ProtobufCMessage **ret_resp, CliError *e) {
        grpc_metadata_array initial_metadata, trailing_metadata;
        grpc_byte_buffer *send_message, *recv_message = NULL;
        grpc_status_code code = GRPC_STATUS_UNKNOWN;
        grpc_slice status_details = grpc_empty_slice();
        const char *error_string = NULL;
        uint64_t timeout = conn_timeout_for(c, deadline);
        gpr_timespec when = conn_deadline_in(timeout);
        ProtobufCMessage *resp = NULL;
        RpcStatus status = {};
        grpc_call *call;
        grpc_op ops[6];
        int r = 0;

        call = conn_call_create(c, method, when);
        if (!call)
                return cli_error(e, CLI_EXIT_LOCAL, -EINVAL, "cannot create a gRPC call of %s", method);

        grpc_metadata_array_init(&initial_metadata);
        grpc_metadata_array_init(&trailing_metadata);
        send_message = conn_pack(req);

        /* A unary call in one batch: its completion means the call is over. */
        memset(ops, 0, sizeof(ops));
        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[1].op = GRPC_OP_SEND_MESSAGE;
        ops[1].data.send_message.send_message = send_message;
        ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
        ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial_metadata;
        ops[4].op = GRPC_OP_RECV_MESSAGE;
        ops[4].data.recv_message.recv_message = &recv_message;
        ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
        ops[5].data.recv_status_on_client.trailing_metadata = &trailing_metadata;
        ops[5].data.recv_status_on_client.status = &code;
        ops[5].data.recv_status_on_client.status_details = &status_details;
        ops[5].data.recv_status_on_client.error_string = &error_string;

        if (grpc_call_start_batch(call, ops, ELEMENTSOF(ops), &ops[0], NULL) != GRPC_CALL_OK)
                r = cli_error(e, CLI_EXIT_LOCAL, -EINVAL, "cannot start the gRPC call of %s", method);
        else
                (void) conn_pluck(c, call, &ops[0], timeout > 0, when, false);

        if (r >= 0)
                r = conn_status_from(code, status_details, &status, e);
        if (r >= 0 && code == GRPC_STATUS_OK) {
                resp = recv_message ? conn_unpack(recv_message, resp_type) : NULL;
                if (!resp)
                        r = conn_bad_response(method, e);
        }
        if (r >= 0 && conn_answered_by_server(status.code))
                c->reached_server = true;

        grpc_byte_buffer_destroy(send_message);
        if (recv_message)
                grpc_byte_buffer_destroy(recv_message);
        grpc_metadata_array_destroy(&initial_metadata);
        grpc_metadata_array_destroy(&trailing_metadata);
        grpc_slice_unref(status_details);
        gpr_free((void *) error_string);
        grpc_call_unref(call);

        if (r < 0) {
                rpc_status_done(&status);
                return r;
        }
        *ret_status = status;
        *ret_resp = resp;
        return 0;
}

/* A refused client certificate looks like a closed connection: what the
 * local checks find wrong with it, or NULL if the failure is no such
 * closed handshake (or the checks could not run). */
static char *cert_diagnosis(Conn *c, const RpcStatus *status) {
        char *diagnosis = NULL;

        if (status->code == JR_CODE_UNAVAILABLE && !c->reached_server &&
            classify_unavailable(status->details) == UNAVAILABLE_CLOSED &&
            identity_diagnose(c->cert, c->ca, (int64_t) time(NULL), &diagnosis) >= 0)
                return diagnosis;
        return NULL;
}

bool conn_refusal_explained(Conn *c, const RpcStatus *status) {
        _cleanup_free_ char *diagnosis = cert_diagnosis(c, status);

        return diagnosis && diagnosis[0];
}

int conn_fail_after(Conn *c, const RpcStatus *status, const char *what, uint64_t timeout_usec, CliError *e) {
        _cleanup_free_ char *diagnosis = cert_diagnosis(c, status);
        RpcErrorContext ctx = {
                .server = c->server,
                .cert = c->cert,
                .ca = c->ca,
                .tls_server_name = c->tls_server_name,
                .who = conn_who(c),
                .reached_server = c->reached_server,
                .timeout_usec = timeout_usec,
        };

        ctx.cert_diagnosis = diagnosis;
        return rpc_error(&ctx, status->code, status->details, what, e);
}

int conn_fail(Conn *c, const RpcStatus *status, const char *what, CliError *e) {
        return conn_fail_after(c, status, what, c->timeout_usec > 0 ? c->timeout_usec : CONN_TIMEOUT_DEFAULT_USEC, e);
}

/* The first calls, while a retry function is set, must tell a request
 * that no server saw from one that a server may have acted on (Start).
 * The call is made only once the channel has a connection, or has failed
 * to get one: then gRPC fails it at once, before it has a connection to
 * send it on, with pick_first's wording (transient_never_sent()).  A
 * connection still waiting in the backlog of a restarting daemon's socket
 * when the call's deadline passes thus leaves no call behind at all.
 * GRPC_INITIAL_METADATA_WAIT_FOR_READY would not do: its deadline ends
 * the call the same whether it was waiting for the connection or for the
 * answer, and it holds back what must fail at once (connection refused,
 * DNS) until the deadline. */
static int call_when_connected(Conn *c, const char *method, const ProtobufCMessage *req,
                               const ProtobufCMessageDescriptor *resp_type, ConnDeadline deadline,
                               RpcStatus *ret_status, ProtobufCMessage **ret_resp, bool *ret_unsent, CliError *e) {
        char t[FORMAT_TIMESPAN_MAX];
        uint64_t timeout = conn_timeout_for(c, deadline);
        int r;

        r = conn_wait_connected(c, deadline);
        if (r == -ETIMEDOUT) {
                char *d;

                if (asprintf(&d, "no TLS handshake within %s", format_timespan(timeout, t)) < 0)
                        return cli_error_oom(e);
                *ret_status = (RpcStatus) { .code = JR_CODE_DEADLINE_EXCEEDED, .details = d };
                *ret_unsent = true;
                return 0;
        }
        r = conn_call(c, method, req, resp_type, deadline, ret_status, ret_resp, e);
        if (r < 0)
                return r;
        *ret_unsent = transient_never_sent(ret_status->code, ret_status->details);
        return 0;
}

int conn_call_ok(Conn *c, const char *method, const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_type,
                 ConnDeadline deadline, const char *what, ProtobufCMessage **ret_resp, CliError *e) {
        for (;;) {
                _cleanup_(rpc_status_done) RpcStatus status = {};
                bool unsent = false;
                int r;

                if (c->retry && !c->reached_server)
                        r = call_when_connected(c, method, req, resp_type, deadline, &status, ret_resp, &unsent, e);
                else
                        r = conn_call(c, method, req, resp_type, deadline, &status, ret_resp, e);
                if (r < 0)
                        return r;
                if (status.code == JR_CODE_OK)
                        return 0;
                if (c->retry && !c->reached_server) {
                        r = c->retry(c->retry_userdata, c, &status, unsent, e);
                        if (r < 0)
                                return r;
                        if (r > 0)
                                continue;
                }
                return conn_fail_after(c, &status, what, conn_timeout_for(c, deadline), e);
        }
}
