/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jobrunner-init's side of systemd's notification protocol
 * (lib/init/notify.h), against a datagram socket of the test's own. */

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

/* A socket bound to name (a path, or "@..." for the abstract namespace),
 * which $NOTIFY_SOCKET then names. */
static int listen_at(const char *name) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t n = strlen(name);
        int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        cr_assert_geq(s, 0);
        memcpy(sa.sun_path, name, n);
        if (name[0] == '@')
                sa.sun_path[0] = '\0';
        else
                (void) unlink(name);
        cr_assert_eq(bind(s, (struct sockaddr *) &sa,
                          (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'))), 0,
                     "bind %s: %s", name, strerror(errno));
        cr_assert_eq(setenv("NOTIFY_SOCKET", name, 1), 0);
        return s;
}

/* The next datagram, and the fd it carried (or -1). */
static void receive(int s, char *buf, size_t size, int *ret_fd) {
        union {
                struct cmsghdr h;
                char b[CMSG_SPACE(sizeof(int))];
        } control;
        struct iovec iov = { .iov_base = buf, .iov_len = size - 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                             .msg_controllen = sizeof(control) };
        ssize_t n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

        cr_assert_geq(n, 0, "recvmsg: %s", strerror(errno));
        buf[n] = '\0';
        *ret_fd = -1;
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
}

Test(notify, without_a_socket_nothing_is_sent) {
        cr_assert_eq(unsetenv("NOTIFY_SOCKET"), 0);
        cr_assert_eq(notify_send("READY=1"), 0);
        cr_assert_eq(notify_barrier(1000), 0);
        cr_assert_eq(setenv("NOTIFY_SOCKET", "relative", 1), 0);
        cr_assert_eq(notify_send("READY=1"), -EINVAL);
}

Test(notify, a_path) {
        char path[64], buf[256];
        int s, fd;

        snprintf(path, sizeof(path), "/tmp/test-init-notify.%d", (int) getpid());
        s = listen_at(path);
        cr_assert_eq(notify_send("READY=1"), 1);
        receive(s, buf, sizeof(buf), &fd);
        cr_assert_str_eq(buf, "READY=1");
        cr_assert_eq(fd, -1);
        cr_assert_eq(notify_sendf("STATUS=cannot execute %s: %s\nERRNO=%i", "/x", "No such file", 2), 1);
        receive(s, buf, sizeof(buf), &fd);
        cr_assert_str_eq(buf, "STATUS=cannot execute /x: No such file\nERRNO=2");
        close(s);
        unlink(path);
}

/* BARRIER=1 carries a pipe; the barrier holds until the receiver has
 * closed it, or times out. */
Test(notify, an_abstract_socket_and_the_barrier) {
        char name[64], buf[256];
        int s, fd;

        snprintf(name, sizeof(name), "@test-init-notify.%d", (int) getpid());
        s = listen_at(name);

        cr_assert_eq(notify_barrier(200 * 1000), -ETIMEDOUT);
        receive(s, buf, sizeof(buf), &fd);
        cr_assert_str_eq(buf, "BARRIER=1");
        cr_assert_geq(fd, 0);
        close(fd);

        /* Answered at once: the test closes the pipe before the barrier
         * polls, as systemd does once it has read it. */
        cr_assert_eq(notify_send("READY=1"), 1);
        receive(s, buf, sizeof(buf), &fd);
        cr_assert_str_eq(buf, "READY=1");
        close(s);
}

static void *systemd_reads(void *userdata) {
        int s = *(int *) userdata, fd;
        char buf[64];
        struct pollfd p = { .fd = s, .events = POLLIN };

        cr_assert_eq(poll(&p, 1, 10000), 1);
        receive(s, buf, sizeof(buf), &fd);
        cr_assert_str_eq(buf, "BARRIER=1");
        usleep(50 * 1000);
        close(fd);
        return NULL;
}

Test(notify, the_barrier_returns_once_the_pipe_is_closed) {
        char name[64];
        pthread_t t;
        int s;

        snprintf(name, sizeof(name), "@test-init-notify-barrier.%d", (int) getpid());
        s = listen_at(name);
        cr_assert_eq(pthread_create(&t, NULL, systemd_reads, &s), 0);
        cr_assert_eq(notify_barrier(10 * 1000 * 1000), 1);
        cr_assert_eq(pthread_join(t, NULL), 0);
        close(s);
}
