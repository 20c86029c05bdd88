/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jobrunner-starter's connections and their requests (see server.h). */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "log.h"
#include "macro.h"
#include "payload.h"
#include "peer.h"
#include "request.h"
#include "server.h"
#include "starter-wire.h"
#include "starter.pb-c.h"
#include "unit-properties.h"

/* Requests of one connection not yet answered on the wire, those waiting
 * for systemd (at most STARTER_WIRE_MAX_PENDING) and those whose reply
 * waits behind them: refusals are immediate, and a peer that sends faster
 * than it reads must not queue them without end. */
#define MAX_QUEUED (4 * STARTER_WIRE_MAX_PENDING)

/* One descriptor more than a request carries, so that an extra one is
 * seen as such; more still are cut by the kernel (MSG_CTRUNC), which
 * closes what does not fit. */
#define RECV_FDS_MAX (STARTER_WIRE_N_FDS_MAX + 1)

typedef struct Connection Connection;

/* One request, from its packet until its reply is on the wire. */
typedef struct Pending {
        struct Pending *next;
        Connection *conn;
        UnitStartCall *call;            /* while systemd has not answered */
        bool done;                      /* reply is packed */
        char job_id[JR_ID_STRING_MAX];  /* "" until the request was parsed */
        size_t reply_size;
        uint8_t reply[STARTER_WIRE_REPLY_MAX];
} Pending;

struct Connection {
        StarterServer *server;
        Connection *prev, *next;
        int fd;                         /* -EBADF once closed */
        sd_event_source *io;
        pid_t pid;
        uid_t uid;
        Pending *head, *tail;           /* in the order of the requests */
        unsigned n_queued;
        unsigned n_waiting;             /* of them, those systemd has not answered */
        bool eof;                       /* the peer sends no more */
        bool write_blocked;             /* the last reply met a full socket */
};

struct StarterServer {
        sd_event *event;
        int listen_fd;
        sd_event_source *listen_io;
        sd_event_source *idle;
        UnitStarter *starter;
        const StarterPolicy *policy;
        uid_t peer_uid;
        char *peer_cgroup_line;
        unsigned max_connections;
        uint64_t idle_usec;
        StarterServerDone on_done;
        void *userdata;
        Connection *connections;
        unsigned n_connections;
        bool done;
};

/* ---- replies -------------------------------------------------------------- */

/* message cut to STARTER_WIRE_MESSAGE_MAX bytes, not inside a UTF-8
 * character. */
static void cut_message(const char *message, char buf[static STARTER_WIRE_MESSAGE_MAX + 1]) {
        size_t n = strnlen(message, STARTER_WIRE_MESSAGE_MAX + 1);

        if (n > STARTER_WIRE_MESSAGE_MAX) {
                n = STARTER_WIRE_MESSAGE_MAX;
                while (n > 0 && ((unsigned char) message[n] & 0xC0) == 0x80)
                        n--;
        }
        memcpy(buf, message, n);
        buf[n] = 0;
}

/* On success message is systemd's job path, if known (unit-starter.h). */
static void pending_set_reply(Pending *p, int error, const char *message) {
        Jobrunner__Starter__V1__StartUnitReply reply = JOBRUNNER__STARTER__V1__START_UNIT_REPLY__INIT;
        char text[STARTER_WIRE_MESSAGE_MAX + 1];

        /* One of the two strings at most, each cut to the wire's bound, so
         * that the reply fits STARTER_WIRE_REPLY_MAX. */
        cut_message(message ?: "", text);
        reply.error = error;
        if (error < 0)
                reply.message = text;
        else
                reply.job_path = text;
        /* The magic first: a success without a job path packs to nothing,
         * and an empty packet would read as the end of the connection. */
        memcpy(p->reply, STARTER_WIRE_MAGIC, STARTER_WIRE_MAGIC_LEN);
        p->reply_size = STARTER_WIRE_MAGIC_LEN +
                jobrunner__starter__v1__start_unit_reply__pack(&reply, p->reply + STARTER_WIRE_MAGIC_LEN);
        p->done = true;
}

/* ---- connections ---------------------------------------------------------- */

static void server_update_idle(StarterServer *s);

static Pending *pending_free(Pending *p) {
        if (!p)
                return NULL;
        /* Only when the server goes: see server.h. */
        unit_start_call_free(p->call);
        free(p);
        return NULL;
}

static void connection_unlink(Connection *c, Pending *p) {
        Pending **pp = &c->head, *prev = NULL;

        for (; *pp && *pp != p; pp = &(*pp)->next)
                prev = *pp;
        if (!*pp)
                return;
        *pp = p->next;
        if (c->tail == p)
                c->tail = prev;
        c->n_queued--;
        if (!p->done)
                c->n_waiting--;
        pending_free(p);
}

static void connection_free(Connection *c) {
        StarterServer *s = c->server;

        while (c->head)
                connection_unlink(c, c->head);
        c->io = sd_event_source_disable_unref(c->io);
        c->fd = safe_close(c->fd);
        if (c->prev)
                c->prev->next = c->next;
        else
                s->connections = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n_connections--;
        free(c);
        server_update_idle(s);
}

/* The peer is gone, or the socket broken: no more replies.  Requests
 * waiting for systemd stay until it answers (see server.h). */
static void connection_close(Connection *c) {
        Pending *p = c->head;

        c->io = sd_event_source_disable_unref(c->io);
        c->fd = safe_close(c->fd);
        c->eof = true;
        while (p) {
                Pending *next = p->next;

                if (p->done)
                        connection_unlink(c, p);
                p = next;
        }
        if (c->n_waiting > 0)
                log_debug("connection of pid %d closed with %u starts waiting for systemd", (int) c->pid,
                          c->n_waiting);
}

/* The replies that are known, in order, as far as the socket takes them. */
static void connection_flush(Connection *c) {
        while (c->fd >= 0 && !c->write_blocked && c->head && c->head->done) {
                Pending *p = c->head;

                if (send(c->fd, p->reply, p->reply_size, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                c->write_blocked = true;
                                return;
                        }
                        log_debug_errno(errno, "connection of pid %d: cannot send a reply", (int) c->pid);
                        connection_close(c);
                        return;
                }
                connection_unlink(c, p);
        }
}

static bool connection_can_read(const Connection *c) {
        return c->fd >= 0 && !c->eof && !c->write_blocked && c->n_waiting < STARTER_WIRE_MAX_PENDING &&
                c->n_queued < MAX_QUEUED;
}

/* After anything happened on c: replies out, the events it waits for
 * updated, or c freed once it has nothing left to do.  c may be gone on
 * return. */
static void connection_changed(Connection *c) {
        uint32_t events = 0;
        int r;

        connection_flush(c);
        if ((c->fd < 0 && c->n_waiting == 0) || (c->eof && c->n_queued == 0)) {
                connection_free(c);
                return;
        }
        if (c->fd < 0)
                return;

        /* Level-triggered, and EPOLLHUP comes even when nothing is asked
         * for: a peer that goes while its connection is full is seen. */
        if (connection_can_read(c))
                events |= EPOLLIN;
        if (c->write_blocked)
                events |= EPOLLOUT;
        r = sd_event_source_set_io_events(c->io, events);
        if (r < 0) {
                log_error_errno(r, "connection of pid %d: cannot watch it", (int) c->pid);
                connection_close(c);
                connection_changed(c);
        }
}

static void on_started(void *userdata, int error, const char *message) {
        Pending *p = userdata;
        Connection *c = p->conn;

        p->call = NULL;
        c->n_waiting--;
        if (error < 0)
                log_warning_errno(error, "job %s: systemd did not start its unit: %s", p->job_id,
                                  message ?: "no message");
        else
                log_info("job %s: systemd queued the start of " JR_UNIT_PREFIX "%s.service (%s)", p->job_id,
                         p->job_id, message ?: "no job path");
        pending_set_reply(p, error, message);
        if (c->fd < 0)
                connection_unlink(c, p);
        connection_changed(c);
}

/* ---- requests ------------------------------------------------------------- */

typedef struct Packet {
        ssize_t size;
        int flags;                      /* recvmsg()'s msg_flags */
        char data[STARTER_WIRE_MAGIC_LEN + 1];
        int fds[RECV_FDS_MAX];
        size_t n_fds;
} Packet;

static void packet_done(Packet *pk) {
        for (size_t i = 0; i < pk->n_fds; i++)
                safe_close(pk->fds[i]);
        pk->n_fds = 0;
}

/* One packet, with its descriptors however many came.  0 and pk filled,
 * -EAGAIN, -EPIPE at the end, or why the socket failed. */
static int receive_packet(int fd, Packet *pk) {
        union {
                struct cmsghdr align;
                uint8_t buf[CMSG_SPACE(sizeof(int) * RECV_FDS_MAX)];
        } control = {};
        struct iovec iov = { .iov_base = pk->data, .iov_len = sizeof pk->data };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
                .msg_controllen = sizeof control,
        };
        struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };

        do
                pk->size = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        while (pk->size < 0 && errno == EINTR);
        if (pk->size < 0)
                return -errno;
        pk->flags = mh.msg_flags;

        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
                size_t n;

                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < n; i++) {
                        int f;

                        memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof f);
                        /* The control buffer holds RECV_FDS_MAX at most;
                         * never leak one whatever the kernel put there. */
                        if (pk->n_fds < RECV_FDS_MAX)
                                pk->fds[pk->n_fds++] = f;
                        else
                                safe_close(f);
                }
        }

        /* 0 bytes is an empty packet, or the end: the peer shut down its
         * side.  An empty packet before the end goes unanswered. */
        if (pk->size == 0 && pk->n_fds == 0 && poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP)))
                return -EPIPE;
        return 0;
}

/* The packet to a started unit, or a negative errno and e. */
static int request_start(Connection *c, Pending *p, const Packet *pk, jr_error *e) {
        StarterServer *s = c->server;
        _cleanup_(starter_request_done) StarterRequest req = { .stdout_fd = -EBADF, .stderr_fd = -EBADF,
                                                               .stdin_fd = -EBADF };
        _cleanup_free_ void *data = NULL;
        size_t size;
        int r;

        if ((pk->flags & MSG_TRUNC) || (size_t) pk->size != STARTER_WIRE_MAGIC_LEN ||
            memcmp(pk->data, STARTER_WIRE_MAGIC, STARTER_WIRE_MAGIC_LEN) != 0)
                return jr_error_set(e, -EBADMSG, "not a request packet: its data must be exactly \"%s\"",
                                    STARTER_WIRE_MAGIC);
        if ((pk->flags & MSG_CTRUNC) || pk->n_fds < STARTER_WIRE_N_FDS || pk->n_fds > STARTER_WIRE_N_FDS_MAX)
                return jr_error_set(e, -EBADF, "%s%zu file descriptors came with the request, not %d or %d: the "
                                    "request's memfd, the job's stdout and stderr, and its stdin pipe if it has one",
                                    pk->flags & MSG_CTRUNC ? "more than " : "", pk->n_fds, STARTER_WIRE_N_FDS,
                                    STARTER_WIRE_N_FDS_MAX);

        r = starter_payload_read(pk->fds[STARTER_WIRE_FD_REQUEST], &data, &size, e);
        if (r < 0)
                return r;
        r = starter_request_parse(data, size, pk->fds + STARTER_WIRE_FD_STDOUT, pk->n_fds - STARTER_WIRE_FD_STDOUT,
                                  s->policy, &req, e);
        if (r < 0)
                return r;
        memcpy(p->job_id, req.job_id, sizeof p->job_id);

        /* The spec and the pipes are the caller's only for the call (see
         * unit-starter.h): freed and closed on return. */
        r = unit_starter_start(s->starter, req.job_id, &req.spec, req.stdout_fd, req.stderr_fd, req.stdin_fd,
                               on_started, p, &p->call, e);
        if (r < 0)
                return r;
        log_debug("job %s: asked systemd to start " JR_UNIT_PREFIX "%s.service", p->job_id, p->job_id);
        return 0;
}

static void connection_receive(Connection *c) {
        _cleanup_(packet_done) Packet pk = {};
        jr_error e = {};
        Pending *p;
        int r;

        r = receive_packet(c->fd, &pk);
        if (r == -EAGAIN)
                return;
        if (r == -EPIPE) {
                c->eof = true;
                return;
        }
        if (r < 0) {
                log_debug_errno(r, "connection of pid %d: cannot receive", (int) c->pid);
                connection_close(c);
                return;
        }

        p = calloc(1, sizeof *p);
        if (!p) {
                /* No reply can keep its place: the peer learns from the
                 * end of the connection. */
                log_error("connection of pid %d: out of memory for a request, closing it", (int) c->pid);
                connection_close(c);
                return;
        }
        p->conn = c;
        if (c->tail)
                c->tail->next = p;
        else
                c->head = p;
        c->tail = p;
        c->n_queued++;
        c->n_waiting++;

        r = request_start(c, p, &pk, &e);
        if (r < 0) {
                c->n_waiting--;
                log_warning_errno(r, "connection of pid %d: refused %s%s: %s", (int) c->pid,
                                  p->job_id[0] ? "job " : "a request", p->job_id, e.message);
                pending_set_reply(p, r, e.message);
        }
}

static int on_connection_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Connection *c = userdata;

        (void) source, (void) fd;
        if (revents & (EPOLLHUP | EPOLLERR)) {
                log_debug("connection of pid %d: the peer is gone", (int) c->pid);
                connection_close(c);
        } else {
                if (revents & EPOLLOUT)
                        c->write_blocked = false;
                /* The events were those asked for before this turn of
                 * the loop; the limits are now's. */
                if ((revents & EPOLLIN) && connection_can_read(c))
                        connection_receive(c);
        }
        connection_changed(c);
        return 0;
}

static int connection_new(StarterServer *s, int fd, pid_t pid, uid_t uid) {
        Connection *c;
        int r;

        c = calloc(1, sizeof *c);
        if (!c) {
                safe_close(fd);
                return -ENOMEM;
        }
        *c = (Connection) { .server = s, .fd = fd, .pid = pid, .uid = uid };
        r = sd_event_add_io(s->event, &c->io, fd, EPOLLIN, on_connection_io, c);
        if (r < 0) {
                safe_close(fd);
                free(c);
                return r;
        }
        c->next = s->connections;
        if (c->next)
                c->next->prev = c;
        s->connections = c;
        s->n_connections++;
        server_update_idle(s);
        return 0;
}

/* ---- the listening socket ------------------------------------------------- */

static void server_stop(StarterServer *s, int error) {
        if (s->done)
                return;
        s->done = true;
        (void) sd_event_source_set_enabled(s->listen_io, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(s->idle, SD_EVENT_OFF);
        if (s->on_done)
                s->on_done(s->userdata, error);
}

static int on_listen_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        StarterServer *s = userdata;
        _cleanup_close_ int cfd = -EBADF;
        jr_error e = {};
        pid_t pid = 0;
        uid_t uid = (uid_t) -1;
        int r;

        (void) source, (void) revents;
        cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
                /* One that gave up before it was accepted, or a signal. */
                if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                        return 0;
                /* Out of descriptors or memory: the listening socket stays
                 * readable, and the loop would spin.  Socket activation
                 * starts a fresh starter at the next connect(). */
                r = log_error_errno(errno, "cannot accept connections");
                server_stop(s, r);
                return 0;
        }

        if (s->n_connections >= s->max_connections) {
                (void) starter_peer_credentials(cfd, &pid, &uid);
                log_warning("refused the connection of pid %d uid %u: already %u connections", (int) pid,
                            (unsigned) uid, s->n_connections);
                return 0;
        }
        r = starter_peer_check(cfd, s->peer_uid, s->peer_cgroup_line, &e);
        if (r < 0) {
                log_warning_errno(r, "refused a connection: %s", e.message);
                return 0;
        }
        (void) starter_peer_credentials(cfd, &pid, &uid);
        r = connection_new(s, TAKE_FD(cfd), pid, uid);
        if (r < 0) {
                log_error_errno(r, "cannot serve the connection of pid %d", (int) pid);
                return 0;
        }
        log_debug("accepted the connection of pid %d uid %u", (int) pid, (unsigned) uid);
        return 0;
}

static int on_idle(sd_event_source *source, uint64_t usec, void *userdata) {
        StarterServer *s = userdata;

        (void) source, (void) usec;
        log_debug("no connection for %" PRIu64 " s, exiting", s->idle_usec / 1000000u);
        server_stop(s, 0);
        return 0;
}

/* The idle timer runs while there is no connection. */
static void server_update_idle(StarterServer *s) {
        int r;

        if (s->done || !s->idle)
                return;
        if (s->n_connections > 0) {
                (void) sd_event_source_set_enabled(s->idle, SD_EVENT_OFF);
                return;
        }
        r = sd_event_source_set_time_relative(s->idle, s->idle_usec);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->idle, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "cannot arm the idle timer, staying up");
}

int starter_server_new(sd_event *event, const StarterServerConfig *config, StarterServer **ret) {
        _cleanup_(starter_server_freep) StarterServer *s = NULL;
        _cleanup_close_ int listen_fd = config ? config->listen_fd : -EBADF;
        int flags, r;

        if (!event || !config || listen_fd < 0 || !config->starter || !config->policy || !config->peer_cgroup_line ||
            !ret)
                return -EINVAL;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        *s = (StarterServer) {
                .event = sd_event_ref(event),
                .listen_fd = TAKE_FD(listen_fd),
                .starter = config->starter,
                .policy = config->policy,
                .peer_uid = config->peer_uid,
                .peer_cgroup_line = strdup(config->peer_cgroup_line),
                .max_connections = config->max_connections ?: STARTER_SERVER_MAX_CONNECTIONS_DEFAULT,
                .idle_usec = config->idle_usec ?: STARTER_SERVER_IDLE_USEC_DEFAULT,
                .on_done = config->on_done,
                .userdata = config->userdata,
        };
        if (!s->peer_cgroup_line)
                return -ENOMEM;

        /* accept() must never wait: a connection can be gone between the
         * event and the call. */
        flags = fcntl(s->listen_fd, F_GETFL);
        if (flags < 0 || fcntl(s->listen_fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return -errno;
        r = sd_event_add_io(event, &s->listen_io, s->listen_fd, EPOLLIN, on_listen_io, s);
        if (r < 0)
                return r;
        if (s->idle_usec != UINT64_MAX) {
                r = sd_event_add_time_relative(event, &s->idle, CLOCK_MONOTONIC, s->idle_usec, 0, on_idle, s);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(s);
        return 0;
}

StarterServer *starter_server_free(StarterServer *s) {
        if (!s)
                return NULL;
        s->done = true;         /* no idle timer for the connections' ends */
        while (s->connections)
                connection_free(s->connections);
        sd_event_source_disable_unref(s->listen_io);
        sd_event_source_disable_unref(s->idle);
        safe_close(s->listen_fd);
        sd_event_unref(s->event);
        free(s->peer_cgroup_line);
        free(s);
        return NULL;
}

unsigned starter_server_connections(const StarterServer *s) {
        return s ? s->n_connections : 0;
}
