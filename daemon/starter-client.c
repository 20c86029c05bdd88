/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jobrunnerd's client of jobrunner-starter (see starter-client.h and
 * common/starter-wire.h). */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "convert.h"
#include "io-util.h"
#include "log.h"
#include "macro.h"
#include "starter-client.h"
#include "starter-wire.h"
#include "starter.pb-c.h"

/* How soon to try again when the starter's listen backlog is full. */
#define RECONNECT_USEC (50 * 1000)

typedef struct Request Request;
struct Request {
        Request *next;
        int fds[STARTER_WIRE_N_FDS_MAX];        /* until sent: the request's memfd, stdout, stderr, stdin */
        size_t n_fds;
        jr_unit_start_done_t done;
        void *cookie;
        bool sent;                      /* its reply is the next but n before it */
        bool cancelled;                 /* sent, then cancelled: its reply is dropped */
};

struct StarterClient {
        sd_event *event;
        char *socket_path;
        int fd;
        sd_event_source *io;
        sd_event_source *kick;          /* runs client_pump() on the next turn */
        sd_event_source *reconnect;
        /* Oldest first: the sent ones, then those waiting to be sent. */
        Request *head;
        unsigned n_sent;
};

static void request_free(Request *q) {
        for (size_t i = 0; i < q->n_fds; i++)
                safe_close(q->fds[i]);
        free(q);
}

static void queue_append(StarterClient *c, Request *q) {
        Request **p = &c->head;

        while (*p)
                p = &(*p)->next;
        *p = q;
}

static void queue_unlink(StarterClient *c, Request *q) {
        for (Request **p = &c->head; *p; p = &(*p)->next)
                if (*p == q) {
                        *p = q->next;
                        q->next = NULL;
                        return;
                }
}

/* Unlinks q and tells its caller, once: q is gone before done() runs, so
 * done() may start or cancel others. */
static void request_finish(StarterClient *c, Request *q, int error, const char *message) {
        queue_unlink(c, q);
        if (!q->cancelled)
                q->done(q->cookie, error, message);
        request_free(q);
}

/* ---- the request --------------------------------------------------------- */

/* The serialized StartUnitRequest in a sealed memfd: the starter reads
 * exactly what was checked here, whatever its size. */
static int request_memfd(const char *job_id, const jr_spec *spec) {
        Jobrunner__Starter__V1__StartUnitRequest req = JOBRUNNER__STARTER__V1__START_UNIT_REQUEST__INIT;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ uint8_t *buf = NULL;
        size_t n;
        int r;

        r = convert_spec_to_proto(spec, &req.spec);
        if (r < 0)
                return r;
        req.job_id = (char *) job_id;
        n = jobrunner__starter__v1__start_unit_request__get_packed_size(&req);
        buf = malloc(n ?: 1);
        if (!buf) {
                convert_spec_proto_free(req.spec);
                return -ENOMEM;
        }
        jobrunner__starter__v1__start_unit_request__pack(&req, buf);
        convert_spec_proto_free(req.spec);

        fd = memfd_create("jobrunner-start-request", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        r = write_all(fd, buf, n);
        if (r < 0)
                return r;
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
                return -errno;
        return TAKE_FD(fd);
}

/* ---- the connection ------------------------------------------------------ */

static int client_pump(StarterClient *c);

static void client_kick(StarterClient *c) {
        (void) sd_event_source_set_enabled(c->kick, SD_EVENT_ONESHOT);
}

/* The connection is gone: the starter may have acted on what it carried. */
static void client_disconnect(StarterClient *c) {
        c->io = sd_event_source_disable_unref(c->io);
        c->fd = safe_close(c->fd);
        c->n_sent = 0;
        while (c->head && c->head->sent)
                request_finish(c, c->head, JR_UNIT_START_LOST, NULL);
        if (c->head)
                client_kick(c);
}

/* Every waiting request is refused: nobody can start it. */
static void client_refuse_all(StarterClient *c, int error) {
        char message[256];

        snprintf(message, sizeof(message), "cannot reach jobrunner-starter at %s: %s", c->socket_path,
                 strerror(-error));
        log_error("%s", message);
        while (c->head)
                request_finish(c, c->head, error, message);
}

static int client_handle_reply(StarterClient *c, const uint8_t *buf, size_t n) {
        Jobrunner__Starter__V1__StartUnitReply *reply;
        Request *q = c->head;
        int error;

        if (!q || !q->sent) {
                log_error("jobrunner-starter answered a request it was not sent");
                return -EPROTO;
        }
        reply = jobrunner__starter__v1__start_unit_reply__unpack(NULL, n, buf);
        if (!reply) {
                log_error("jobrunner-starter's answer is no StartUnitReply");
                return -EPROTO;
        }
        c->n_sent--;
        /* 0 or a negative errno; anything else is a refusal all the same. */
        error = reply->error > 0 ? -EIO : reply->error;
        if (error == 0)
                request_finish(c, q, 0, reply->job_path[0] ? reply->job_path : NULL);
        else
                request_finish(c, q, error, reply->message[0] ? reply->message : "jobrunner-starter refused the job");
        jobrunner__starter__v1__start_unit_reply__free_unpacked(reply, NULL);
        return 0;
}

static int client_receive(StarterClient *c) {
        uint8_t buf[STARTER_WIRE_REPLY_MAX];
        char control[CMSG_SPACE(sizeof(int) * STARTER_WIRE_N_FDS_MAX)];

        for (;;) {
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
                struct msghdr mh = {
                        .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = control, .msg_controllen = sizeof(control),
                };
                ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
                int r;

                if (n < 0)
                        return errno == EAGAIN ? 0 : errno == EINTR ? 0 : -errno;
                /* No descriptors are due in a reply: none stay open here. */
                for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
                        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
                                for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
                                        safe_close(((int *) CMSG_DATA(cm))[i]);
                if (n == 0)
                        return -ECONNRESET;
                if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
                        log_error("jobrunner-starter's answer does not fit a StartUnitReply");
                        return -EPROTO;
                }
                if ((size_t) n < STARTER_WIRE_MAGIC_LEN ||
                    memcmp(buf, STARTER_WIRE_MAGIC, STARTER_WIRE_MAGIC_LEN) != 0) {
                        log_error("jobrunner-starter's answer does not start with " STARTER_WIRE_MAGIC);
                        return -EPROTO;
                }
                r = client_handle_reply(c, buf + STARTER_WIRE_MAGIC_LEN, (size_t) n - STARTER_WIRE_MAGIC_LEN);
                if (r < 0)
                        return r;
        }
}

static int client_send(StarterClient *c, Request *q) {
        char control[CMSG_SPACE(sizeof(q->fds))] = {};
        struct iovec iov = { .iov_base = (char *) STARTER_WIRE_MAGIC, .iov_len = STARTER_WIRE_MAGIC_LEN };
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1,
                .msg_control = control, .msg_controllen = sizeof(control),
        };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(q->n_fds * sizeof(int));
        mh.msg_controllen = CMSG_SPACE(q->n_fds * sizeof(int));
        memcpy(CMSG_DATA(cm), q->fds, q->n_fds * sizeof(int));
        if (sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                return -errno;

        /* In the packet now, and soon the starter's: ours go, so that the
         * job's pipes reach EOF when the job and systemd close theirs. */
        for (size_t i = 0; i < q->n_fds; i++)
                q->fds[i] = safe_close(q->fds[i]);
        q->sent = true;
        c->n_sent++;
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        StarterClient *c = userdata;
        int r = 0;

        (void) s;
        (void) fd;
        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
                r = client_receive(c);
        if (r < 0 || (c->fd >= 0 && (revents & (EPOLLHUP | EPOLLERR)) && !(revents & EPOLLIN))) {
                if (r != -ECONNRESET)
                        log_warning_errno(r, "Lost the connection to jobrunner-starter");
                client_disconnect(c);
                return 0;
        }
        (void) client_pump(c);
        return 0;
}

static int on_reconnect(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) s;
        (void) usec;
        (void) client_pump(userdata);
        return 0;
}

static int client_connect(StarterClient *c) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (strlen(c->socket_path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, c->socket_path, strlen(c->socket_path));
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        r = sd_event_add_io(c->event, &c->io, fd, EPOLLIN, on_io, c);
        if (r < 0)
                return r;
        c->fd = TAKE_FD(fd);
        log_debug("Connected to jobrunner-starter at %s", c->socket_path);
        return 0;
}

/* Sends what may be sent now; connects first if needed. */
static int client_pump(StarterClient *c) {
        Request *q;
        int r;

        if (!c->head)
                return 0;
        if (c->fd < 0) {
                r = client_connect(c);
                if (r == -EAGAIN) {
                        /* Its listen backlog is full: it is busy, not gone. */
                        r = sd_event_source_set_time_relative(c->reconnect, RECONNECT_USEC);
                        if (r >= 0)
                                r = sd_event_source_set_enabled(c->reconnect, SD_EVENT_ONESHOT);
                        if (r < 0)
                                client_refuse_all(c, r);
                        return r;
                }
                if (r < 0) {
                        client_refuse_all(c, r);
                        return r;
                }
        }

        for (q = c->head; q && q->sent; q = q->next)
                ;
        while (q && c->n_sent < STARTER_WIRE_MAX_PENDING) {
                r = client_send(c, q);
                if (r == -EAGAIN)
                        break;
                if (r < 0) {
                        log_warning_errno(r, "Lost the connection to jobrunner-starter");
                        client_disconnect(c);
                        return r;
                }
                q = q->next;
        }
        /* Woken when the socket has room again. */
        return sd_event_source_set_io_events(c->io, q && c->n_sent < STARTER_WIRE_MAX_PENDING ?
                                             EPOLLIN | EPOLLOUT : EPOLLIN);
}

static int on_kick(sd_event_source *s, void *userdata) {
        (void) s;
        (void) client_pump(userdata);
        return 0;
}

/* ---- jr_unit_starter ----------------------------------------------------- */

static int client_start(void *userdata, const char *job_id, const jr_spec *spec, int stdout_fd, int stderr_fd,
                        int stdin_fd, jr_unit_start_done_t done, void *cookie, void **ret_handle) {
        StarterClient *c = userdata;
        Request *q;
        int r;

        q = calloc(1, sizeof(Request));
        if (!q)
                return -ENOMEM;
        *q = (Request) {
                .fds = { -EBADF, -EBADF, -EBADF, -EBADF },
                .n_fds = stdin_fd >= 0 ? STARTER_WIRE_N_FDS_MAX : STARTER_WIRE_N_FDS,
                .done = done,
                .cookie = cookie,
        };
        r = request_memfd(job_id, spec);
        if (r >= 0) {
                q->fds[STARTER_WIRE_FD_REQUEST] = r;
                q->fds[STARTER_WIRE_FD_STDOUT] = fcntl(stdout_fd, F_DUPFD_CLOEXEC, 3);
                q->fds[STARTER_WIRE_FD_STDERR] = fcntl(stderr_fd, F_DUPFD_CLOEXEC, 3);
                if (stdin_fd >= 0)
                        q->fds[STARTER_WIRE_FD_STDIN] = fcntl(stdin_fd, F_DUPFD_CLOEXEC, 3);
                if (q->fds[STARTER_WIRE_FD_STDOUT] < 0 || q->fds[STARTER_WIRE_FD_STDERR] < 0 ||
                    (stdin_fd >= 0 && q->fds[STARTER_WIRE_FD_STDIN] < 0))
                        r = -errno;
        }
        if (r < 0) {
                request_free(q);
                return r;
        }

        /* Sent on the next turn of the loop, never from here: done() must
         * not run before start() has returned. */
        queue_append(c, q);
        client_kick(c);
        *ret_handle = q;
        return 0;
}

static void client_cancel(void *userdata, void *handle) {
        StarterClient *c = userdata;
        Request *q = handle;

        if (q->sent) {
                q->cancelled = true;    /* its reply still comes, in its turn */
                return;
        }
        queue_unlink(c, q);
        request_free(q);
}

jr_unit_starter starter_client_ops(StarterClient *c) {
        return (jr_unit_starter) { .start = client_start, .cancel = client_cancel, .userdata = c };
}

int starter_client_new(sd_event *event, const char *socket_path, StarterClient **ret) {
        StarterClient *c;
        int r;

        c = calloc(1, sizeof(StarterClient));
        if (!c)
                return -ENOMEM;
        *c = (StarterClient) { .event = sd_event_ref(event), .fd = -EBADF, .socket_path = strdup(socket_path) };
        if (!c->socket_path) {
                starter_client_free(c);
                return -ENOMEM;
        }
        r = sd_event_add_defer(event, &c->kick, on_kick, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->kick, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time_relative(event, &c->reconnect, CLOCK_MONOTONIC, RECONNECT_USEC, 0,
                                               on_reconnect, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->reconnect, SD_EVENT_OFF);
        if (r < 0) {
                starter_client_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

StarterClient *starter_client_free(StarterClient *c) {
        if (!c)
                return NULL;
        while (c->head) {
                Request *q = c->head;

                c->head = q->next;
                request_free(q);
        }
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->kick);
        sd_event_source_disable_unref(c->reconnect);
        safe_close(c->fd);
        sd_event_unref(c->event);
        free(c->socket_path);
        free(c);
        return NULL;
}
