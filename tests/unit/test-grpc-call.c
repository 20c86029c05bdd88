/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's gRPC layer (daemon/grpc-server.c, grpc-call.c) for a
 * client-streaming method, over mutual TLS on loopback, against the test
 * client: the first message becomes handle()'s request, later ones come one
 * per call_recv(), the half-close as NULL, a malformed message ends the call
 * INVALID_ARGUMENT after on_abort, and a receive in flight when the client
 * cancels is dropped with the call.  (The daemon's methods are the VM
 * tests'.)  The handler is a test's own: it
 * answers each input with an input_closed counting its bytes. */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "fake-server.h"
#include "grpc-server.h"
#include "macro.h"
#include "status.h"
#include "test-client.h"
#include "time-util.h"

#define DEADLINE_MS INT64_C(30000)

static char keys_dir[PATH_MAX];

ReportHook(PRE_ALL)(struct criterion_test_set *set) {
        (void) set;
        (void) fake_keys_make_operator(keys_dir, sizeof(keys_dir), "/tmp/jr-test-grpc-call.XXXXXX");
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats) {
        (void) stats;
        fake_keys_remove(keys_dir);
}

/* ---- the handler, on the server's thread ------------------------------------ */

static atomic_int handled, finished, aborted, busy_seen;

typedef struct Echo {
        Call *call;
} Echo;

static void echo_free(Echo *e) {
        free(e);
}

static void echo_on_sent(Call *call, void *userdata) {
        (void) userdata;
        SRV_CHECK(call_recv(call) == 0);
        /* One receive at a time. */
        if (call_recv(call) == -EBUSY)
                busy_seen++;
}

static void echo_on_abort(Call *call, void *userdata) {
        (void) call;
        echo_free(userdata);
        aborted++;
}

static void echo_on_message(Call *call, const ProtobufCMessage *message, void *userdata) {
        const Jobrunner__V1__AttachRequest *req = (const Jobrunner__V1__AttachRequest *) message;
        Jobrunner__V1__AttachResponse resp = JOBRUNNER__V1__ATTACH_RESPONSE__INIT;
        Jobrunner__V1__InputClosed closed = JOBRUNNER__V1__INPUT_CLOSED__INIT;

        if (!req) {
                SRV_CHECK(call_recv(call) == -EPIPE);
                call_finish(call, NULL, JR_CODE_OK, NULL);
                echo_free(userdata);
                finished++;
                return;
        }
        if (req->event_case != JOBRUNNER__V1__ATTACH_REQUEST__EVENT_INPUT) {
                call_finish(call, NULL, JR_CODE_FAILED_PRECONDITION, "only input");
                echo_free(userdata);
                finished++;
                return;
        }
        closed.input_bytes = req->input.len;
        resp.event_case = JOBRUNNER__V1__ATTACH_RESPONSE__EVENT_INPUT_CLOSED;
        resp.input_closed = &closed;
        SRV_CHECK(call_send(call, &resp.base) == 0);
}

static void echo_handle(Call *call, const ProtobufCMessage *request, void *userdata) {
        const Jobrunner__V1__AttachRequest *req = (const Jobrunner__V1__AttachRequest *) request;
        Echo *e;

        (void) userdata;
        handled++;
        if (req->event_case != JOBRUNNER__V1__ATTACH_REQUEST__EVENT_START) {
                call_finish(call, NULL, JR_CODE_INVALID_ARGUMENT, "start first");
                return;
        }
        e = calloc(1, sizeof(Echo));
        SRV_CHECK(e);
        e->call = call;
        call_set_handlers(call, echo_on_sent, echo_on_abort, e);
        call_set_message_handler(call, echo_on_message);
        SRV_CHECK(call_recv(call) == 0);
}

static const RpcMethod methods[] = {
        { .service = &jobrunner__v1__job_runner__descriptor, .name = "Attach", .authz = AUTHZ_METHOD_ATTACH,
          .request_type = &jobrunner__v1__attach_request__descriptor, .server_streaming = true,
          .client_streaming = true, .open_ended = true, .handle = echo_handle },
};

/* ---- the server, on a thread of its own ---------------------------------------- */

static struct {
        pthread_t thread;
        atomic_bool stop;
        atomic_bool ready;
        uint16_t port;
} srv;

static uint16_t free_port(void) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        cr_assert_geq(fd, 0);
        cr_assert_eq(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        cr_assert_eq(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        close(fd);
        return ntohs(sa.sin_port);
}

static void on_done(Server *s, void *userdata) {
        (void) s;
        sd_event_exit(userdata, 0);
}

static void *server_thread(void *arg) {
        char cert[PATH_MAX], key[PATH_MAX], ca[PATH_MAX], address[64];
        char *addresses[] = { address, NULL };
        sd_event *event = NULL;
        Server *s = NULL;
        ServerConfig config = {
                .addresses = addresses,
                .certificate_path = cert,
                .key_path = key,
                .client_ca_path = ca,
                .max_request_bytes = 1u << 20,
        };

        (void) arg;
        snprintf(address, sizeof(address), "127.0.0.1:%u", srv.port);
        SRV_CHECK(fake_keys_dir());
        snprintf(cert, sizeof(cert), "%s/server.crt", fake_keys_dir());
        snprintf(key, sizeof(key), "%s/server.key", fake_keys_dir());
        snprintf(ca, sizeof(ca), "%s/ca.crt", fake_keys_dir());
        SRV_CHECK(sd_event_new(&event) >= 0);
        SRV_CHECK(server_new(event, &config, methods, ELEMENTSOF(methods), NULL, &s) == 0);
        SRV_CHECK(server_start(s) == 0);
        srv.ready = true;
        while (!srv.stop)
                SRV_CHECK(sd_event_run(event, 50 * 1000) >= 0);
        SRV_CHECK(server_shutdown(s, on_done, event) >= 0);
        SRV_CHECK(sd_event_loop(event) >= 0);
        server_free(s);
        sd_event_unref(event);
        return NULL;
}

static void server_up(void) {
        srv.port = free_port();
        cr_assert_eq(pthread_create(&srv.thread, NULL, server_thread, NULL), 0);
        while (!srv.ready)
                usleep(10 * 1000);
}

static void server_down(void) {
        srv.stop = true;
        pthread_join(srv.thread, NULL);
}

TestSuite(grpc_call, .init = server_up, .fini = server_down, .timeout = 120);

/* ---- the client ---------------------------------------------------------------- */

static TcConn *connect_alice(void) {
        char cert[PATH_MAX], key[PATH_MAX], ca[PATH_MAX], target[64];
        TcConn *c = NULL;

        cr_assert_not_null(fake_keys_dir(), "no keys: is JOBRUNNER_KEYS set?");
        fake_keys_path(cert, sizeof(cert), "users/alice/client.crt");
        fake_keys_path(key, sizeof(key), "users/alice/client.key");
        fake_keys_path(ca, sizeof(ca), "ca.crt");
        snprintf(target, sizeof(target), "127.0.0.1:%u", srv.port);
        cr_assert_eq(tc_connect(target, cert, key, ca, &c), 0);
        return c;
}

static TcStream *open_with(TcConn *c, Jobrunner__V1__AttachRequest *first) {
        TcStream *s = NULL;

        cr_assert_eq(tc_attach_open(c, first, DEADLINE_MS, &s), 0);
        return s;
}

static TcStream *open_started(TcConn *c) {
        Jobrunner__V1__AttachRequest req = JOBRUNNER__V1__ATTACH_REQUEST__INIT;
        Jobrunner__V1__AttachStart start = JOBRUNNER__V1__ATTACH_START__INIT;

        start.id = (char *) "0123456789abcdef0123456789abcdef";
        req.event_case = JOBRUNNER__V1__ATTACH_REQUEST__EVENT_START;
        req.start = &start;
        return open_with(c, &req);
}

static void send_input(TcStream *s, size_t len) {
        Jobrunner__V1__AttachRequest req = JOBRUNNER__V1__ATTACH_REQUEST__INIT;
        _cleanup_free_ uint8_t *data = calloc(1, len);

        cr_assert_not_null(data);
        req.event_case = JOBRUNNER__V1__ATTACH_REQUEST__EVENT_INPUT;
        req.input = (ProtobufCBinaryData) { .len = len, .data = data };
        cr_assert_eq(tc_stream_send(s, &req.base), 0);
}

static uint64_t next_echo(TcStream *s) {
        Jobrunner__V1__AttachResponse *m = NULL;
        uint64_t n;

        cr_assert_eq(tc_attach_next(s, &m), 1);
        cr_assert_eq(m->event_case, JOBRUNNER__V1__ATTACH_RESPONSE__EVENT_INPUT_CLOSED);
        n = m->input_closed->input_bytes;
        jobrunner__v1__attach_response__free_unpacked(m, NULL);
        return n;
}

/* The status once the server has nothing more to send. */
static int end_status(TcStream *s, const char **ret_details) {
        Jobrunner__V1__AttachResponse *m = NULL;
        int status = -1;

        cr_assert_eq(tc_attach_next(s, &m), 0, "a message more than expected");
        cr_assert_eq(tc_stream_status(s, &status, ret_details), 0);
        return status;
}

static void wait_for(atomic_int *counter, int want) {
        for (int i = 0; i < 500 && *counter < want; i++)
                usleep(10 * 1000);
        cr_assert_geq(*counter, want);
}

/* ---- tests --------------------------------------------------------------------- */

Test(grpc_call, messages_one_at_a_time_then_the_half_close) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        _cleanup_(tc_stream_freep) TcStream *s = open_started(c);
        static const size_t sizes[] = { 1, 100, 65536, 7 };

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                send_input(s, sizes[i]);
                cr_assert_eq(next_echo(s), sizes[i]);
        }
        cr_assert_eq(tc_stream_close_send(s), 0);
        cr_assert_eq(end_status(s, NULL), JR_CODE_OK);
        cr_assert_eq(handled, 1);
        wait_for(&finished, 1);
        cr_assert_eq(aborted, 0);
        cr_assert_geq(busy_seen, 1, "a second receive in flight was not refused");
}

Test(grpc_call, the_first_message_is_the_request) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        Jobrunner__V1__AttachRequest req = JOBRUNNER__V1__ATTACH_REQUEST__INIT;
        _cleanup_(tc_stream_freep) TcStream *s = NULL;
        const char *details = NULL;

        req.event_case = JOBRUNNER__V1__ATTACH_REQUEST__EVENT_INPUT;
        req.input = (ProtobufCBinaryData) { .len = 1, .data = (uint8_t *) "x" };
        s = open_with(c, &req);
        cr_assert_eq(end_status(s, &details), JR_CODE_INVALID_ARGUMENT);
        cr_assert_str_eq(details, "start first");
        cr_assert_eq(handled, 1);
}

/* A LogChunk's stream = 1 is a varint in field 1, where AttachRequest has
 * a message: no valid AttachRequest. */
Test(grpc_call, a_malformed_message_ends_the_call_after_on_abort) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        _cleanup_(tc_stream_freep) TcStream *s = open_started(c);
        Jobrunner__V1__LogChunk bad = JOBRUNNER__V1__LOG_CHUNK__INIT;
        const char *details = NULL;

        send_input(s, 3);
        cr_assert_eq(next_echo(s), 3);
        bad.stream = JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT;
        cr_assert_eq(tc_stream_send(s, &bad.base), 0);
        cr_assert_eq(end_status(s, &details), JR_CODE_INVALID_ARGUMENT);
        cr_assert(strstr(details, "malformed"), "details: %s", details);
        wait_for(&aborted, 1);
        cr_assert_eq(finished, 0);
}

/* The handler waits in call_recv() when the client goes: the receive
 * completes with the call, and on_abort frees the handler's state. */
Test(grpc_call, a_cancel_with_a_receive_in_flight) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        _cleanup_(tc_stream_freep) TcStream *s = open_started(c);

        send_input(s, 5);
        cr_assert_eq(next_echo(s), 5);
        tc_stream_cancel(s);
        cr_assert_eq(end_status(s, NULL), JR_CODE_CANCELLED);
        /* gRPC may end the receive as a half-close first (the handler
         * then finishes the call itself), or the close comes first. */
        for (int i = 0; i < 500 && aborted + finished < 1; i++)
                usleep(10 * 1000);
        cr_log_info("aborted %d, finished %d", (int) aborted, (int) finished);
        cr_assert_eq(aborted + finished, 1);
}

/* An AttachRequest with nothing set packs to no bytes at all: still a
 * message, which reaches handle(). */
Test(grpc_call, an_empty_first_message) {
        _cleanup_(tc_disconnectp) TcConn *c = connect_alice();
        Jobrunner__V1__AttachRequest req = JOBRUNNER__V1__ATTACH_REQUEST__INIT;
        _cleanup_(tc_stream_freep) TcStream *s = NULL;
        const char *details = NULL;

        s = open_with(c, &req);
        cr_assert_eq(end_status(s, &details), JR_CODE_INVALID_ARGUMENT);
        cr_assert_eq(handled, 1);
}
