/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The gRPC server and its completion queue, pumped into sd-event. */

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <systemd/sd-event.h>

#include "grpc-internal.h"
#include "log.h"
#include "macro.h"
#include "tls.h"

/* Requests kept posted per method: calls that arrive beyond these wait in
 * gRPC until the next is posted, right after one is taken. */
#define REQUESTS_PER_METHOD 8

/* Events the sd-event thread drains itself per wake-up, after those the
 * queue thread handed over, before it lets other event sources run. */
#define DRAIN_BATCH 64

/* How long a graceful shutdown may take before gRPC cancels what is left. */
#define SHUTDOWN_GRACE_USEC (5 * 1000000ULL)

typedef struct Server Server;

/* A posted request for one method (method NULL: the generic request that
 * catches every method we do not serve). */
typedef struct Request {
        Tag tag;
        Server *server;
        const RpcMethod *method;
        void *handle;                   /* grpc_server_register_method() */
        grpc_call *call;
        gpr_timespec deadline;
        grpc_metadata_array metadata;
        grpc_byte_buffer *payload;
        grpc_call_details details;      /* generic only */
} Request;

/* Events the queue thread passes to the sd-event thread.  Two arrays that
 * trade places on each wake-up, so that the hand-over does not allocate. */
typedef struct Handover {
        pthread_mutex_t lock;
        grpc_event *events, *spare;
        size_t n, allocated, spare_allocated;
} Handover;

struct Server {
        sd_event *event;
        grpc_server *server;
        grpc_completion_queue *cq;
        void *userdata;
        Call *calls;

        const RpcMethod *methods;
        size_t n_methods;
        Request *requests;              /* REQUESTS_PER_METHOD per method, then the generic ones */
        size_t n_requests;

        int eventfd;
        sd_event_source *eventfd_source;
        Handover handover;
        pthread_t thread;
        bool thread_running;
        bool cq_drained;                /* GRPC_QUEUE_SHUTDOWN seen */

        bool shutting_down;
        Tag shutdown_tag;
        bool shutdown_complete;
        sd_event_source *shutdown_timer;
        server_done_t done;
        void *done_userdata;

        server_call_ended_t on_call_ended;
        void *call_ended_userdata;
};

void server_call_ended(Server *s, const RpcMethod *method, JrCode code, uint64_t duration_usec) {
        if (s->on_call_ended)
                s->on_call_ended(method, code, duration_usec, s->call_ended_userdata);
}

grpc_server *server_get_grpc(Server *s) {
        return s->server;
}

grpc_completion_queue *server_get_cq(Server *s) {
        return s->cq;
}

void *server_get_userdata(Server *s) {
        return s->userdata;
}

bool server_is_shutting_down(Server *s) {
        return s->shutting_down;
}

Call **server_get_calls(Server *s) {
        return &s->calls;
}

int server_prepare_process(void) {
        sigset_t mask;
        int r;

        /* Every thread gRPC creates inherits this mask; sd-event takes the
         * signals through a signalfd on the main thread. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        r = pthread_sigmask(SIG_BLOCK, &mask, NULL);
        if (r != 0)
                return log_error_errno(r, "cannot block SIGTERM and SIGINT: %m");

        return tls_restrict_to_tls13();
}

/* ---- requests ------------------------------------------------------------ */

static void request_post(Request *q);

static void on_request(Tag *tag, bool ok) {
        Request *q = (Request *) tag;
        grpc_call *call = TAKE_PTR(q->call);
        grpc_byte_buffer *payload = TAKE_PTR(q->payload);
        _cleanup_free_ char *path = NULL;

        if (!q->method && ok)
                path = grpc_slice_to_c_string(q->details.method);
        grpc_metadata_array_destroy(&q->metadata);
        if (!q->method) {
                grpc_call_details_destroy(&q->details);
                grpc_call_details_init(&q->details);
        }
        grpc_metadata_array_init(&q->metadata);

        if (!ok) {
                /* The server is shutting down: the request is withdrawn. */
                if (payload)
                        grpc_byte_buffer_destroy(payload);
                return;
        }
        /* Post the next one first, so the queue of waiting calls moves. */
        if (!q->server->shutting_down)
                request_post(q);
        call_accept(q->server, call, q->method, path, payload);
}

static void request_post(Request *q) {
        Server *s = q->server;
        grpc_call_error e;

        if (q->method)
                /* A client-streaming method has no payload with the call
                 * (gRPC insists: none may be asked for). */
                e = grpc_server_request_registered_call(s->server, q->handle, &q->call, &q->deadline,
                                                        &q->metadata,
                                                        q->method->client_streaming ? NULL : &q->payload,
                                                        s->cq, s->cq, &q->tag);
        else
                e = grpc_server_request_call(s->server, &q->call, &q->details, &q->metadata, s->cq, s->cq,
                                             &q->tag);
        if (e != GRPC_CALL_OK)
                log_error("cannot request a call for %s: gRPC call error %d",
                          q->method ? q->method->name : "unknown methods", (int) e);
}

static int server_register_methods(Server *s) {
        size_t n = 0;

        s->n_requests = (s->n_methods + 1) * REQUESTS_PER_METHOD;
        s->requests = calloc(s->n_requests, sizeof(Request));
        if (!s->requests)
                return -ENOMEM;

        for (size_t m = 0; m <= s->n_methods; m++) {
                const RpcMethod *method = m < s->n_methods ? &s->methods[m] : NULL;
                void *handle = NULL;

                if (method) {
                        const ProtobufCMethodDescriptor *d =
                                protobuf_c_service_descriptor_get_method_by_name(method->service, method->name);
                        _cleanup_free_ char *path = NULL;

                        /* A row its service does not declare as it stands
                         * is a typo in the table: no client sends that. */
                        if (!d || d->input != method->request_type)
                                return log_error_errno(EINVAL, "%s has no method %s taking %s",
                                                       method->service->name, method->name,
                                                       method->request_type->name);
                        if (asprintf(&path, "/%s/%s", method->service->name, method->name) < 0)
                                return -ENOMEM;
                        /* The first message comes with the call, except for
                         * a client's stream, which grpc-call.c reads a
                         * message at a time. */
                        handle = grpc_server_register_method(s->server, path, NULL,
                                                             method->client_streaming
                                                                     ? GRPC_SRM_PAYLOAD_NONE
                                                                     : GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER,
                                                             0);
                        if (!handle)
                                return log_error_errno(EINVAL, "cannot register method %s", path);
                }
                for (size_t i = 0; i < REQUESTS_PER_METHOD; i++) {
                        Request *q = &s->requests[n++];

                        *q = (Request) {
                                .tag.done = on_request,
                                .server = s,
                                .method = method,
                                .handle = handle,
                        };
                        grpc_metadata_array_init(&q->metadata);
                        grpc_call_details_init(&q->details);
                }
        }
        return 0;
}

/* ---- the completion queue, pumped into sd-event -------------------------- */

static void handover_push(Server *s, const grpc_event *ev) {
        bool was_empty;

        pthread_mutex_lock(&s->handover.lock);
        if (s->handover.n == s->handover.allocated) {
                size_t a = s->handover.allocated ? s->handover.allocated * 2 : 64;
                grpc_event *e = realloc(s->handover.events, a * sizeof(grpc_event));

                if (!e) {
                        /* An event must never be lost: a call would leak and
                         * shutdown would hang.  Wait for memory. */
                        pthread_mutex_unlock(&s->handover.lock);
                        log_error("out of memory handing over a gRPC event, retrying");
                        usleep(10000);
                        handover_push(s, ev);
                        return;
                }
                s->handover.events = e;
                s->handover.allocated = a;
        }
        was_empty = s->handover.n == 0;
        s->handover.events[s->handover.n++] = *ev;
        pthread_mutex_unlock(&s->handover.lock);

        if (was_empty)
                (void) eventfd_write(s->eventfd, 1);
}

static void *queue_thread(void *userdata) {
        Server *s = userdata;

        for (;;) {
                grpc_event ev = grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);

                handover_push(s, &ev);
                if (ev.type == GRPC_QUEUE_SHUTDOWN)
                        return NULL;
        }
}

static void dispatch(Server *s, const grpc_event *ev) {
        switch (ev->type) {
        case GRPC_OP_COMPLETE: {
                Tag *tag = ev->tag;

                tag->done(tag, ev->success);
                break;
        }
        case GRPC_QUEUE_SHUTDOWN:
                s->cq_drained = true;
                break;
        case GRPC_QUEUE_TIMEOUT:
                break;
        }
}

/* Everything the queue thread handed over, then up to DRAIN_BATCH more taken
 * straight from the queue without blocking: under load one wake-up then
 * serves many events. */
static int on_events(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Server *s = userdata;
        Handover *h = &s->handover;
        grpc_event *events;
        size_t n, allocated;
        eventfd_t value;

        (void) source, (void) revents;
        (void) eventfd_read(fd, &value);

        pthread_mutex_lock(&h->lock);
        events = h->events;
        n = h->n;
        allocated = h->allocated;
        h->events = h->spare;
        h->allocated = h->spare_allocated;
        h->n = 0;
        h->spare = NULL;
        pthread_mutex_unlock(&h->lock);

        for (size_t i = 0; i < n; i++)
                dispatch(s, &events[i]);

        /* Only this thread touches the spare slot while it is NULL. */
        pthread_mutex_lock(&h->lock);
        h->spare = events;
        h->spare_allocated = allocated;
        pthread_mutex_unlock(&h->lock);

        for (size_t i = 0; i < DRAIN_BATCH && !s->cq_drained; i++) {
                grpc_event ev = grpc_completion_queue_next(s->cq, gpr_inf_past(GPR_CLOCK_MONOTONIC), NULL);

                if (ev.type == GRPC_QUEUE_TIMEOUT)
                        return 0;
                dispatch(s, &ev);
        }
        /* A full batch: there is likely more; come back after the others. */
        if (!s->cq_drained)
                (void) eventfd_write(s->eventfd, 1);
        return 0;
}

/* ---- set-up -------------------------------------------------------------- */

static grpc_server_credentials *server_credentials(const ServerConfig *config) {
        _cleanup_free_ char *cert = NULL, *key = NULL, *ca = NULL;
        grpc_ssl_pem_key_cert_pair pair;

        if (tls_read_pem(config->certificate_path, &cert) < 0 ||
            tls_read_pem(config->key_path, &key) < 0 ||
            tls_read_pem(config->client_ca_path, &ca) < 0)
                return NULL;    /* logged */
        pair = (grpc_ssl_pem_key_cert_pair) { .private_key = key, .cert_chain = cert };
        /* gRPC copies the PEM strings. */
        return grpc_ssl_server_credentials_create_ex(
                        ca, &pair, 1, GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY, NULL);
}

int server_new(sd_event *event, const ServerConfig *config, const RpcMethod *methods, size_t n_methods,
               void *userdata, Server **ret) {
        _cleanup_(server_freep) Server *s = NULL;
        grpc_server_credentials *creds;
        grpc_arg args[] = {
                /* The socket must be the one we bind, never shared with
                 * another process (socket-activation.h). */
                { .type = GRPC_ARG_INTEGER, .key = (char *) GRPC_ARG_ALLOW_REUSEPORT, .value.integer = 0 },
                { .type = GRPC_ARG_INTEGER, .key = (char *) GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
                  .value.integer = (int) config->max_request_bytes },
        };
        grpc_channel_args channel_args = { .num_args = ELEMENTSOF(args), .args = args };
        int r;

        s = calloc(1, sizeof(Server));
        if (!s)
                return -ENOMEM;
        *s = (Server) {
                .event = sd_event_ref(event),
                .userdata = userdata,
                .methods = methods,
                .n_methods = n_methods,
                .eventfd = -EBADF,
                .on_call_ended = config->on_call_ended,
                .call_ended_userdata = config->call_ended_userdata,
        };
        pthread_mutex_init(&s->handover.lock, NULL);

        grpc_init();
        s->cq = grpc_completion_queue_create_for_next(NULL);
        s->server = grpc_server_create(&channel_args, NULL);
        grpc_server_register_completion_queue(s->server, s->cq, NULL);
        r = server_register_methods(s);
        if (r < 0)
                return r;

        creds = server_credentials(config);
        if (!creds)
                return log_error_errno(EINVAL, "cannot set up TLS from %s, %s and %s",
                                       config->certificate_path, config->key_path, config->client_ca_path);
        for (char *const *a = config->addresses; *a; a++)
                if (grpc_server_add_http2_port(s->server, *a, creds) == 0) {
                        grpc_server_credentials_release(creds);
                        return log_error_errno(EADDRNOTAVAIL, "cannot listen on %s", *a);
                }
        grpc_server_credentials_release(creds);

        s->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->eventfd < 0)
                return log_error_errno(errno, "cannot create an eventfd: %m");
        r = sd_event_add_io(event, &s->eventfd_source, s->eventfd, EPOLLIN, on_events, s);
        if (r < 0)
                return log_error_errno(r, "cannot watch the eventfd: %m");

        *ret = TAKE_PTR(s);
        return 0;
}

int server_start(Server *s) {
        int r;

        grpc_server_start(s->server);
        for (size_t i = 0; i < s->n_requests; i++)
                request_post(&s->requests[i]);

        r = pthread_create(&s->thread, NULL, queue_thread, s);
        if (r != 0)
                return log_error_errno(r, "cannot start the completion queue thread: %m");
        s->thread_running = true;
        return 0;
}

/* ---- shutdown ------------------------------------------------------------ */

static void on_shutdown(Tag *tag, bool ok) {
        Server *s = (Server *) ((char *) tag - offsetof(Server, shutdown_tag));

        (void) ok;
        s->shutdown_complete = true;
        s->shutdown_timer = sd_event_source_disable_unref(s->shutdown_timer);
        if (s->done)
                s->done(s, s->done_userdata);
}

static int on_shutdown_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        Server *s = userdata;

        (void) source, (void) usec;
        log_warning("calls still open %llu s after shutdown began, cancelling them",
                    (unsigned long long) (SHUTDOWN_GRACE_USEC / 1000000));
        grpc_server_cancel_all_calls(s->server);
        return 0;
}

int server_shutdown(Server *s, server_done_t done, void *userdata) {
        if (s->shutting_down)
                return 0;
        /* First of all: from here on the health check answers NOT_SERVING
         * (call_server_stopping()), also to the calls gRPC still hands
         * over below while it drains. */
        s->shutting_down = true;
        s->done = done;
        s->done_userdata = userdata;

        /* Answer what the handlers hold (follows, waits), then let gRPC
         * finish sending those answers before it reports the end. */
        calls_abort_all(s, "jobrunnerd is shutting down; retry later");
        s->shutdown_tag.done = on_shutdown;
        grpc_server_shutdown_and_notify(s->server, s->cq, &s->shutdown_tag);
        return sd_event_add_time_relative(s->event, &s->shutdown_timer, CLOCK_MONOTONIC, SHUTDOWN_GRACE_USEC, 0,
                                          on_shutdown_timeout, s);
}

Server *server_free(Server *s) {
        if (!s)
                return NULL;

        if (s->server) {
                if (!s->shutdown_complete) {
                        /* Not shut down gracefully (a set-up error, or the
                         * grace ran out): do it now, synchronously. */
                        if (!s->shutting_down) {
                                s->shutting_down = true;
                                calls_abort_all(s, "jobrunnerd is shutting down; retry later");
                                s->shutdown_tag.done = on_shutdown;
                                grpc_server_shutdown_and_notify(s->server, s->cq, &s->shutdown_tag);
                        }
                        grpc_server_cancel_all_calls(s->server);
                        s->done = NULL;
                }
                /* Waits for the shutdown to complete on its own. */
        }

        if (s->cq) {
                if (!s->thread_running) {
                        /* Never started: pump the queue here. */
                        if (s->server && s->shutting_down)
                                while (!s->shutdown_complete) {
                                        grpc_event ev = grpc_completion_queue_next(
                                                        s->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
                                        dispatch(s, &ev);
                                }
                } else
                        /* The queue thread keeps handing over events; take
                         * them here until the shutdown tag came (the event
                         * loop may have finished already). */
                        while (!s->shutdown_complete && s->server) {
                                struct pollfd p = { .fd = s->eventfd, .events = POLLIN };

                                (void) poll(&p, 1, -1);
                                on_events(NULL, s->eventfd, 0, s);
                        }
                if (s->server) {
                        grpc_server_destroy(s->server);
                        s->server = NULL;
                }
                grpc_completion_queue_shutdown(s->cq);
                if (s->thread_running) {
                        pthread_join(s->thread, NULL);
                        s->thread_running = false;
                        /* What the thread handed over last, SHUTDOWN included. */
                        on_events(NULL, s->eventfd, 0, s);
                }
                while (!s->cq_drained) {
                        grpc_event ev = grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
                        dispatch(s, &ev);
                }
                grpc_completion_queue_destroy(s->cq);
                grpc_shutdown();
        } else if (s->server)
                grpc_server_destroy(s->server);

        for (size_t i = 0; i < s->n_requests; i++) {
                grpc_metadata_array_destroy(&s->requests[i].metadata);
                grpc_call_details_destroy(&s->requests[i].details);
        }
        free(s->requests);
        free(s->handover.events);
        free(s->handover.spare);
        pthread_mutex_destroy(&s->handover.lock);
        sd_event_source_disable_unref(s->shutdown_timer);
        sd_event_source_disable_unref(s->eventfd_source);
        safe_close(s->eventfd);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}
