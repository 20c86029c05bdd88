/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake-server.h"
#include "macro.h"
#include "tls.h"

/* Where fake_keys_make() tells the tests, which run in processes of their
 * own, where the keys are. */
#define FAKE_KEYS_DIR_ENV "JR_FAKE_KEYS_DIR"

extern char **environ;

FakeServer fake_server;
static int shutdown_tag;

/* ---- keys ---------------------------------------------------------------------- */

/* $JOBRUNNER_KEYS --dir dir args..., its stdout to /dev/null; its exit
 * status, or -1. */
static int keys_run(const char *dir, const char *const *args) {
        const char *tool = getenv("JOBRUNNER_KEYS");
        char *argv[16] = { (char *) tool, (char *) "--dir", (char *) dir };
        posix_spawn_file_actions_t fa;
        size_t n = 3;
        pid_t pid;
        int status;

        if (!tool)
                return -1;
        for (; *args && n < ELEMENTSOF(argv) - 1; args++)
                argv[n++] = (char *) *args;
        argv[n] = NULL;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        if (posix_spawn(&pid, tool, &fa, NULL, argv, environ) != 0)
                return -1;
        posix_spawn_file_actions_destroy(&fa);
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
                return -1;
        return WEXITSTATUS(status);
}

int fake_keys_make(char *dir, size_t size, const char *template, const FakeKeysStep *steps, size_t n_steps) {
        snprintf(dir, size, "%s", template);
        if (!mkdtemp(dir)) {
                fprintf(stderr, "mkdtemp: %m\n");
                return -1;
        }
        for (size_t i = 0; i < n_steps; i++) {
                char sub[PATH_MAX + 16];

                if (steps[i].subdir)
                        snprintf(sub, sizeof(sub), "%s/%s", dir, steps[i].subdir);
                else
                        snprintf(sub, sizeof(sub), "%s", dir);
                if (keys_run(sub, steps[i].args) != 0) {
                        fprintf(stderr, "jobrunner-keys ($JOBRUNNER_KEYS) failed\n");
                        return -1;
                }
        }
        setenv(FAKE_KEYS_DIR_ENV, dir, 1);
        return 0;
}

int fake_keys_make_operator(char *dir, size_t size, const char *template) {
        static const FakeKeysStep steps[] = {
                { NULL, { "init" } },
                { NULL, { "server", "127.0.0.1", "localhost" } },
                { NULL, { "user", "alice", "operator" } },
        };

        return fake_keys_make(dir, size, template, steps, ELEMENTSOF(steps));
}

void fake_keys_remove(const char *dir) {
        char *argv[] = { (char *) "/bin/rm", (char *) "-rf", (char *) dir, NULL };
        pid_t pid;

        if (dir[0] && posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) == 0)
                (void) waitpid(pid, NULL, 0);
}

const char *fake_keys_dir(void) {
        return getenv(FAKE_KEYS_DIR_ENV);
}

void fake_keys_path(char *buf, size_t size, const char *file) {
        const char *d = fake_keys_dir();

        cr_assert_not_null(d, "the keys were not made");
        snprintf(buf, size, "%s/%s", d, file);
}

char *fake_read_file(const char *path, size_t *ret_len) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t size = 0;
        FILE *m;

        cr_assert_not_null(f, "%s: %m", path);
        m = open_memstream(&buf, &size);
        cr_assert_not_null(m);
        for (int ch; (ch = fgetc(f)) != EOF;)
                fputc(ch, m);
        fclose(m);
        if (ret_len)
                *ret_len = size;
        return buf;
}

/* ---- calls --------------------------------------------------------------------- */

gpr_timespec fake_in_ms(int64_t ms) {
        return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

bool fake_server_pluck(void *tag) {
        grpc_event ev = grpc_completion_queue_pluck(fake_server.call_cq, tag, fake_in_ms(60000), NULL);

        SRV_CHECK(ev.type == GRPC_OP_COMPLETE);
        return ev.success;
}

void fake_server_idle(int64_t ms) {
        static char never;
        grpc_event ev = grpc_completion_queue_pluck(fake_server.call_cq, &never, fake_in_ms(ms), NULL);

        SRV_CHECK(ev.type == GRPC_QUEUE_TIMEOUT);
}

bool fake_server_wait_flag(void *close_tag, atomic_int *flag) {
        for (int i = 0; i < 2000 && !atomic_load(flag); i++) {
                grpc_event ev = grpc_completion_queue_pluck(fake_server.call_cq, close_tag, fake_in_ms(10), NULL);

                if (ev.type == GRPC_OP_COMPLETE)
                        return true;
        }
        return false;
}

bool fake_server_batch(grpc_call *call, const grpc_op *ops, size_t n) {
        int tag;

        SRV_CHECK(grpc_call_start_batch(call, ops, n, &tag, NULL) == GRPC_CALL_OK);
        return fake_server_pluck(&tag);
}

ProtobufCMessage *fake_request_unpack(FakeRequest *r, const ProtobufCMessageDescriptor *type) {
        grpc_byte_buffer_reader reader;
        ProtobufCMessage *m;
        grpc_slice all;

        if (!r->payload)
                return NULL;
        SRV_CHECK(grpc_byte_buffer_reader_init(&reader, r->payload));
        all = grpc_byte_buffer_reader_readall(&reader);
        grpc_byte_buffer_reader_destroy(&reader);
        m = protobuf_c_message_unpack(type, NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
        grpc_slice_unref(all);
        return m;
}

grpc_byte_buffer *fake_pack_message(const ProtobufCMessage *m) {
        size_t len = protobuf_c_message_get_packed_size(m);
        grpc_slice s = grpc_slice_malloc(len);
        grpc_byte_buffer *bb;

        protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(s));
        bb = grpc_raw_byte_buffer_create(&s, 1);
        grpc_slice_unref(s);
        return bb;
}

void fake_finish_call(grpc_call *call, bool send_metadata, grpc_byte_buffer *message, grpc_status_code code,
                      const char *details, bool recv_close) {
        grpc_slice details_slice = grpc_slice_from_copied_string(details ?: "");
        grpc_op ops[4] = {};
        size_t n = 0;
        int cancelled;

        if (send_metadata)
                ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        if (message) {
                ops[n].op = GRPC_OP_SEND_MESSAGE;
                ops[n++].data.send_message.send_message = message;
        }
        ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
        ops[n].data.send_status_from_server.status = code;
        ops[n++].data.send_status_from_server.status_details = &details_slice;
        if (recv_close) {
                ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
                ops[n++].data.recv_close_on_server.cancelled = &cancelled;
        }
        (void) fake_server_batch(call, ops, n);
        grpc_slice_unref(details_slice);
        if (message)
                grpc_byte_buffer_destroy(message);
}

char *fake_peer_cn(grpc_call *call) {
        grpc_auth_context *ctx = grpc_call_auth_context(call);
        grpc_auth_property_iterator it;
        const grpc_auth_property *p;
        char *cn = NULL;

        SRV_CHECK(ctx);
        it = grpc_auth_context_find_properties_by_name(ctx, GRPC_X509_CN_PROPERTY_NAME);
        p = grpc_auth_property_iterator_next(&it);
        if (p)
                cn = strndup(p->value, p->value_length);
        grpc_auth_context_release(ctx);
        return cn ?: strdup("");
}

bool fake_send_message(grpc_call *call, const ProtobufCMessage *m, bool send_metadata) {
        grpc_op ops[2] = {};
        size_t n = 0;
        grpc_byte_buffer *bb = fake_pack_message(m);
        bool ok;

        if (send_metadata)
                ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = bb;
        ok = fake_server_batch(call, ops, n);
        grpc_byte_buffer_destroy(bb);
        return ok;
}

bool fake_send_logs_message(grpc_call *call, const Jobrunner__V1__LogsResponse *m, bool send_metadata) {
        return fake_send_message(call, &m->base, send_metadata);
}

bool fake_send_chunk(grpc_call *call, Jobrunner__V1__OutputStream stream, uint64_t offset, const void *data,
                     size_t len, bool send_metadata) {
        Jobrunner__V1__LogsResponse m = JOBRUNNER__V1__LOGS_RESPONSE__INIT;
        Jobrunner__V1__LogChunk chunk = JOBRUNNER__V1__LOG_CHUNK__INIT;

        chunk.stream = stream;
        chunk.offset = offset;
        chunk.data = (ProtobufCBinaryData) { .len = len, .data = (uint8_t *) data };
        m.event_case = JOBRUNNER__V1__LOGS_RESPONSE__EVENT_CHUNK;
        m.chunk = &chunk;
        return fake_send_logs_message(call, &m, send_metadata);
}

/* ---- the server ---------------------------------------------------------------- */

/* Asks for the next call of method m. */
static void request(unsigned m) {
        FakeRequest *r = calloc(1, sizeof(*r));
        grpc_call_error e;

        SRV_CHECK(r);
        r->method = m;
        grpc_metadata_array_init(&r->metadata);
        if (m == fake_server.options.n_methods) {
                grpc_call_details_init(&r->details);
                e = grpc_server_request_call(fake_server.server, &r->call, &r->details, &r->metadata,
                                             fake_server.call_cq, fake_server.cq, r);
        } else
                e = grpc_server_request_registered_call(fake_server.server, fake_server.registered[m], &r->call,
                                                        &r->deadline, &r->metadata, &r->payload,
                                                        fake_server.call_cq, fake_server.cq, r);
        SRV_CHECK(e == GRPC_CALL_OK);
}

static void request_free(FakeRequest *r) {
        if (!r)
                return;
        grpc_metadata_array_destroy(&r->metadata);
        if (r->method == fake_server.options.n_methods)
                grpc_call_details_destroy(&r->details);
        if (r->payload)
                grpc_byte_buffer_destroy(r->payload);
        if (r->call)
                grpc_call_unref(r->call);
        free(r);
}

static void *worker(void *userdata) {
        FakeRequest *r = userdata;

        fake_server.options.serve(r);
        request_free(r);
        atomic_fetch_sub(&fake_server.workers, 1);
        return NULL;
}

static void *server_thread(void *userdata) {
        size_t n = fake_server.options.n_methods + fake_server.options.generic;

        (void) userdata;

        for (unsigned m = 0; m < n; m++)
                request(m);
        for (;;) {
                grpc_event ev = grpc_completion_queue_next(fake_server.cq, gpr_inf_future(GPR_CLOCK_MONOTONIC),
                                                           NULL);
                FakeRequest *r;
                unsigned m;
                pthread_t t;

                if (ev.type == GRPC_QUEUE_SHUTDOWN || ev.tag == &shutdown_tag)
                        return NULL;
                SRV_CHECK(ev.type == GRPC_OP_COMPLETE);
                r = ev.tag;
                if (!ev.success) {      /* shutting down */
                        request_free(r);
                        continue;
                }
                m = r->method;
                if (fake_server.options.thread_per_call) {
                        request(m);
                        atomic_fetch_add(&fake_server.workers, 1);
                        SRV_CHECK(pthread_create(&t, NULL, worker, r) == 0);
                        pthread_detach(t);
                } else {
                        fake_server.options.serve(r);
                        request_free(r);
                        request(m);
                }
        }
}

void fake_server_start(const FakeServerOptions *options) {
        _cleanup_free_ char *ca = NULL, *cert = NULL, *key = NULL;
        char path[PATH_MAX + 32];
        grpc_ssl_pem_key_cert_pair pair;
        grpc_server_credentials *creds;
        char address[] = "127.0.0.1:0";

        cr_assert_leq(options->n_methods, FAKE_SERVER_METHODS_MAX);
        cr_assert_not_null(options->serve);
        fake_server = (FakeServer) { .options = *options };

        fake_keys_path(path, sizeof(path), "ca.crt");
        cr_assert_eq(tls_read_pem(path, &ca), 0);
        fake_keys_path(path, sizeof(path), "server.crt");
        cr_assert_eq(tls_read_pem(path, &cert), 0);
        fake_keys_path(path, sizeof(path), "server.key");
        cr_assert_eq(tls_read_pem(path, &key), 0);

        if (options->tls13_only)
                cr_assert_eq(tls_restrict_to_tls13(), 0);
        grpc_init();
        fake_server.cq = grpc_completion_queue_create_for_next(NULL);
        fake_server.call_cq = grpc_completion_queue_create_for_pluck(NULL);
        fake_server.server = grpc_server_create(NULL, NULL);
        grpc_server_register_completion_queue(fake_server.server, fake_server.cq, NULL);
        for (size_t m = 0; m < options->n_methods; m++) {
                fake_server.registered[m] = grpc_server_register_method(fake_server.server,
                                                                        options->method_paths[m], NULL,
                                                                        GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER,
                                                                        0);
                cr_assert_not_null(fake_server.registered[m]);
        }

        pair = (grpc_ssl_pem_key_cert_pair) { .private_key = key, .cert_chain = cert };
        creds = grpc_ssl_server_credentials_create_ex(ca, &pair, 1,
                                                      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY,
                                                      NULL);
        cr_assert_not_null(creds);
        fake_server.port = grpc_server_add_http2_port(fake_server.server, address, creds);
        cr_assert_gt(fake_server.port, 0);
        cr_assert_leq(options->extra_ports, FAKE_SERVER_EXTRA_PORTS_MAX);
        for (unsigned i = 0; i < options->extra_ports; i++) {
                fake_server.extra_ports[i] = grpc_server_add_http2_port(fake_server.server, address, creds);
                cr_assert_gt(fake_server.extra_ports[i], 0);
        }
        grpc_server_credentials_release(creds);
        snprintf(fake_server.target, sizeof(fake_server.target), "127.0.0.1:%d", fake_server.port);

        grpc_server_start(fake_server.server);
        cr_assert_eq(pthread_create(&fake_server.thread, NULL, server_thread, NULL), 0);
}

void fake_server_stop(void) {
        grpc_event ev;

        if (!fake_server.server)
                return;
        grpc_server_shutdown_and_notify(fake_server.server, fake_server.cq, &shutdown_tag);
        grpc_server_cancel_all_calls(fake_server.server);
        cr_assert_eq(pthread_join(fake_server.thread, NULL), 0);
        for (int i = 0; i < 1000 && atomic_load(&fake_server.workers) > 0; i++)
                usleep(10000);
        cr_assert_eq(atomic_load(&fake_server.workers), 0, "calls still being served");
        grpc_server_destroy(fake_server.server);

        grpc_completion_queue_shutdown(fake_server.cq);
        do {
                ev = grpc_completion_queue_next(fake_server.cq, fake_in_ms(10000), NULL);
                if (ev.type == GRPC_OP_COMPLETE && ev.tag != &shutdown_tag)
                        request_free(ev.tag);
        } while (ev.type == GRPC_OP_COMPLETE);
        cr_assert_eq(ev.type, GRPC_QUEUE_SHUTDOWN);
        grpc_completion_queue_destroy(fake_server.cq);

        grpc_completion_queue_shutdown(fake_server.call_cq);
        do
                ev = grpc_completion_queue_pluck(fake_server.call_cq, NULL, fake_in_ms(10000), NULL);
        while (ev.type == GRPC_OP_COMPLETE);
        cr_assert_eq(ev.type, GRPC_QUEUE_SHUTDOWN);
        grpc_completion_queue_destroy(fake_server.call_cq);
        grpc_shutdown();
        fake_server = (FakeServer) {};
}
