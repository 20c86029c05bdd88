/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* An in-process fake of a gRPC server over mutual TLS, for the unit tests
 * that drive a real client against it: the keys (made by
 * keys/jobrunner-keys, $JOBRUNNER_KEYS, into a temporary directory), the
 * server with its credentials, the completion-queue loop that hands each
 * call of a registered method to the test's serve function, helpers to
 * unpack requests and send answers, and the tear-down.  The test keeps only
 * what its methods answer.
 *
 * One server per process: the functions work on fake_server. */

#include <grpc/grpc.h>
#include <grpc/support/time.h>
#include <limits.h>
#include <protobuf-c/protobuf-c.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "jobrunner.pb-c.h"

/* In the server's threads, where Criterion's asserts cannot be used. */
#define SRV_CHECK(expr)                                                                         \
        do {                                                                                    \
                if (!(expr)) {                                                                  \
                        fprintf(stderr, "%s:%d: server: CHECK(%s) failed\n", __FILE__, __LINE__, #expr); \
                        abort();                                                                \
                }                                                                               \
        } while (0)

/* ---- keys ---------------------------------------------------------------------- */

/* One run of jobrunner-keys: --dir <keys dir>[/subdir] args... */
typedef struct FakeKeysStep {
        const char *subdir;             /* NULL: the keys directory itself */
        const char *args[8];            /* NULL-terminated */
} FakeKeysStep;

/* Makes a directory from template ("/tmp/...XXXXXX", copied into dir) and
 * runs the steps in it; for a ReportHook(PRE_ALL), before the tests are
 * spawned, which find it with fake_keys_path().  Reports failures on
 * stderr; returns 0 or -1. */
int fake_keys_make(char *dir, size_t size, const char *template, const FakeKeysStep *steps, size_t n_steps);

/* rm -rf dir, unless it is empty; for a ReportHook(POST_ALL). */
void fake_keys_remove(const char *dir);

/* fake_keys_make() of the keys most tests use: the server's for 127.0.0.1
 * and localhost, and user alice's with the operator role. */
int fake_keys_make_operator(char *dir, size_t size, const char *template);

/* The keys directory, or NULL if it was not made. */
const char *fake_keys_dir(void);

/* <keys dir>/file into buf; asserts that the keys were made. */
void fake_keys_path(char *buf, size_t size, const char *file);

/* The whole file (a client's output, say), NUL-terminated; *ret_len (if
 * not NULL) without the NUL.  Asserts. */
char *fake_read_file(const char *path, size_t *ret_len);

/* ---- the server ---------------------------------------------------------------- */

#define FAKE_SERVER_METHODS_MAX 16
#define FAKE_SERVER_EXTRA_PORTS_MAX 4

typedef struct FakeRequest {
        unsigned method;                /* index into the method paths; n_methods: not registered */
        grpc_call *call;
        gpr_timespec deadline;
        grpc_metadata_array metadata;
        grpc_byte_buffer *payload;
        grpc_call_details details;      /* unregistered methods only */
} FakeRequest;

typedef struct FakeServerOptions {
        const char *const *method_paths;
        size_t n_methods;
        /* Also take calls of any other method, as method n_methods. */
        bool generic;
        /* Each call on a thread of its own, re-armed before it is served;
         * otherwise one call at a time, on the server's thread. */
        bool thread_per_call;
        /* Listening on that many more ports, all the same server (for
         * clients that must believe they talk to several). */
        unsigned extra_ports;
        /* tls_restrict_to_tls13() first, like the daemon. */
        bool tls13_only;
        void (*serve)(FakeRequest *r);
} FakeServerOptions;

typedef struct FakeServer {
        char target[64];                        /* "127.0.0.1:<port>" */
        int port;
        int extra_ports[FAKE_SERVER_EXTRA_PORTS_MAX];  /* options.extra_ports of them */
        grpc_completion_queue *call_cq;         /* the calls being served; PLUCK */

        /* Private. */
        FakeServerOptions options;
        grpc_server *server;
        grpc_completion_queue *cq;              /* new calls; NEXT */
        void *registered[FAKE_SERVER_METHODS_MAX];
        pthread_t thread;
        atomic_int workers;
} FakeServer;

extern FakeServer fake_server;

/* With the server certificate and key of fake_keys_path(), on 127.0.0.1,
 * any port.  Asserts. */
void fake_server_start(const FakeServerOptions *options);
/* Ends the calls, waits for the workers, frees everything; a no-op if not
 * started. */
void fake_server_stop(void);

gpr_timespec fake_in_ms(int64_t ms);

/* Waits (60 s at most) for the batch of tag on call_cq; its success. */
bool fake_server_pluck(void *tag);
/* Sleeps while polling call_cq: gRPC reads from its sockets only while a
 * thread polls a queue; with a plain sleep nobody would read the client's
 * RST_STREAM until gRPC's backup poller runs, 5 s later. */
void fake_server_idle(int64_t ms);
/* Waits until *flag is set (at most 20 s) or the batch of close_tag (a
 * RECV_CLOSE_ON_SERVER) completes: true if the call was closed (the
 * client went away) first. */
bool fake_server_wait_flag(void *close_tag, atomic_int *flag);
/* Starts a batch of ops on call and waits for it; its success. */
bool fake_server_batch(grpc_call *call, const grpc_op *ops, size_t n);

/* The request message, unpacked; NULL if there is none or it does not
 * unpack. */
ProtobufCMessage *fake_request_unpack(FakeRequest *r, const ProtobufCMessageDescriptor *type);
grpc_byte_buffer *fake_pack_message(const ProtobufCMessage *m);

/* Initial metadata (unless sent already), the message if any (taken), the
 * status; with recv_close unless the caller has its own. */
void fake_finish_call(grpc_call *call, bool send_metadata, grpc_byte_buffer *message, grpc_status_code code,
                      const char *details, bool recv_close);

/* The CN of the client's certificate, "" if none; to be freed. */
char *fake_peer_cn(grpc_call *call);

/* One message of a server stream (Logs, Attach), with the initial
 * metadata first if send_metadata; false if the call is over. */
bool fake_send_message(grpc_call *call, const ProtobufCMessage *m, bool send_metadata);
/* fake_send_message() of a Logs stream. */
bool fake_send_logs_message(grpc_call *call, const Jobrunner__V1__LogsResponse *m, bool send_metadata);
bool fake_send_chunk(grpc_call *call, Jobrunner__V1__OutputStream stream, uint64_t offset, const void *data,
                     size_t len, bool send_metadata);
