/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

/* The address of $NOTIFY_SOCKET: a path, or "@name" in the abstract
 * namespace.  0 without one, 1 with one, -EINVAL for anything else. */
static int notify_address(struct sockaddr_un *ret, socklen_t *ret_len) {
        const char *e = getenv("NOTIFY_SOCKET");
        size_t n;

        if (!e)
                return 0;
        n = strlen(e);
        if ((e[0] != '/' && e[0] != '@') || n < 2 || n > sizeof(ret->sun_path))
                return -EINVAL;
        *ret = (struct sockaddr_un) { .sun_family = AF_UNIX };
        memcpy(ret->sun_path, e, n);
        if (e[0] == '@')
                ret->sun_path[0] = '\0';
        /* A path's address includes its NUL when there is room, an
         * abstract one is exactly its bytes. */
        *ret_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + (e[0] == '/' && n < sizeof(ret->sun_path)));
        return 1;
}

/* One datagram, with fd passed along if it is not negative. */
static int notify_datagram(const char *state, int fd) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct sockaddr_un sa;
        socklen_t sa_len;
        struct iovec iov = { .iov_base = (void *) state, .iov_len = strlen(state) };
        struct msghdr mh = { .msg_name = &sa, .msg_iov = &iov, .msg_iovlen = 1 };
        int s, r;

        r = notify_address(&sa, &sa_len);
        if (r <= 0)
                return r;
        mh.msg_namelen = sa_len;
        if (fd >= 0) {
                struct cmsghdr *c;

                mh.msg_control = &control;
                mh.msg_controllen = sizeof(control.buf);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }

        s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return -errno;
        r = sendmsg(s, &mh, MSG_NOSIGNAL) < 0 ? -errno : 1;
        close(s);
        return r;
}

int notify_send(const char *state) {
        return notify_datagram(state, -EBADF);
}

int notify_sendf(const char *format, ...) {
        char *state = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&state, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        r = notify_send(state);
        free(state);
        return r;
}

int notify_barrier(uint64_t timeout_usec) {
        struct pollfd p = { .events = POLLHUP };
        int pipefd[2], r;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        r = notify_datagram("BARRIER=1", pipefd[1]);
        close(pipefd[1]);
        if (r > 0) {
                /* systemd closes its copy once it has read all before. */
                p.fd = pipefd[0];
                r = poll(&p, 1, (int) (timeout_usec / 1000));
                r = r < 0 ? -errno : r == 0 ? -ETIMEDOUT : 1;
        }
        close(pipefd[0]);
        return r;
}
