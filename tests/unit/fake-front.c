/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake-front.h"
#include "fake-server.h"
#include "macro.h"

#define PAIRS_MAX 64

char fake_front_target[64];

static struct {
        bool started;
        int listen_fd;
        int wake[2];
        pthread_t thread;
        pthread_mutex_t lock;
        FakeFrontMode mode, then;
        unsigned close_next, closed;
        bool stopping;
        int pairs[PAIRS_MAX][2];        /* client side, server side; -1 once closed */
        size_t n_pairs;
        atomic_int pumps;
} front = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void wake(void) {
        char c = 0;

        SRV_CHECK(write(front.wake[1], &c, 1) == 1);
}

/* Copies bytes both ways until either side ends. */
static void *pump(void *userdata) {
        size_t i = (size_t) userdata;
        struct pollfd p[2];

        pthread_mutex_lock(&front.lock);
        p[0] = (struct pollfd) { .fd = front.pairs[i][0], .events = POLLIN };
        p[1] = (struct pollfd) { .fd = front.pairs[i][1], .events = POLLIN };
        pthread_mutex_unlock(&front.lock);

        for (bool done = false; !done;) {
                if (poll(p, 2, -1) < 0) {
                        SRV_CHECK(errno == EINTR);
                        continue;
                }
                for (int k = 0; k < 2 && !done; k++) {
                        char buf[16384];
                        ssize_t n;

                        if (!p[k].revents)
                                continue;
                        n = read(p[k].fd, buf, sizeof(buf));
                        done = n <= 0 || write(p[1 - k].fd, buf, (size_t) n) != n;
                }
        }

        pthread_mutex_lock(&front.lock);
        close(front.pairs[i][0]);
        close(front.pairs[i][1]);
        front.pairs[i][0] = front.pairs[i][1] = -1;
        pthread_mutex_unlock(&front.lock);
        atomic_fetch_sub(&front.pumps, 1);
        return NULL;
}

static void forward(int fd) {
        struct sockaddr_in backend = { .sin_family = AF_INET, .sin_port = htons((uint16_t) fake_server.port) };
        int server_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        pthread_t t;
        size_t i;

        backend.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        SRV_CHECK(server_fd >= 0);
        SRV_CHECK(connect(server_fd, (struct sockaddr *) &backend, sizeof(backend)) == 0);

        pthread_mutex_lock(&front.lock);
        SRV_CHECK(front.n_pairs < PAIRS_MAX);
        i = front.n_pairs++;
        front.pairs[i][0] = fd;
        front.pairs[i][1] = server_fd;
        pthread_mutex_unlock(&front.lock);
        atomic_fetch_add(&front.pumps, 1);
        SRV_CHECK(pthread_create(&t, NULL, pump, (void *) i) == 0);
        pthread_detach(t);
}

/* The mode for the next connection; with the lock held. */
static FakeFrontMode current_mode(void) {
        return front.close_next > 0 ? FAKE_FRONT_CLOSE : front.mode;
}

static void *acceptor(void *userdata) {
        (void) userdata;

        for (;;) {
                struct pollfd p[2] = {
                        { .fd = front.wake[0], .events = POLLIN },
                        { .fd = front.listen_fd, .events = POLLIN },
                };
                FakeFrontMode mode;
                bool stopping;
                int fd;

                pthread_mutex_lock(&front.lock);
                mode = current_mode();
                stopping = front.stopping;
                pthread_mutex_unlock(&front.lock);
                if (stopping)
                        return NULL;

                /* Holding: nobody accepts, the kernel queues. */
                if (poll(p, mode == FAKE_FRONT_HOLD ? 1 : 2, -1) < 0) {
                        SRV_CHECK(errno == EINTR);
                        continue;
                }
                if (p[0].revents) {
                        char buf[16];

                        discard_result(read(front.wake[0], buf, sizeof(buf)));
                        continue;
                }
                fd = accept4(front.listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        continue;

                pthread_mutex_lock(&front.lock);
                mode = current_mode();
                if (mode != FAKE_FRONT_FORWARD) {
                        close(fd);
                        front.closed++;
                        if (front.close_next > 0 && --front.close_next == 0)
                                front.mode = front.then;
                }
                pthread_mutex_unlock(&front.lock);
                if (mode == FAKE_FRONT_FORWARD)
                        forward(fd);
        }
}

void fake_front_start(FakeFrontMode mode) {
        struct sockaddr_in a = { .sin_family = AF_INET };
        socklen_t len = sizeof(a);

        cr_assert_gt(fake_server.port, 0, "the fake server is not running");
        front.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert_geq(front.listen_fd, 0);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        cr_assert_eq(bind(front.listen_fd, (struct sockaddr *) &a, sizeof(a)), 0, "bind: %m");
        cr_assert_eq(listen(front.listen_fd, 16), 0);
        cr_assert_eq(getsockname(front.listen_fd, (struct sockaddr *) &a, &len), 0);
        snprintf(fake_front_target, sizeof(fake_front_target), "127.0.0.1:%d", ntohs(a.sin_port));
        cr_assert_eq(pipe2(front.wake, O_CLOEXEC), 0);

        front.mode = mode;
        front.close_next = front.closed = 0;
        front.n_pairs = 0;
        front.stopping = false;
        cr_assert_eq(pthread_create(&front.thread, NULL, acceptor, NULL), 0);
        front.started = true;
}

void fake_front_set_mode(FakeFrontMode mode) {
        pthread_mutex_lock(&front.lock);
        front.mode = mode;
        pthread_mutex_unlock(&front.lock);
        wake();
}

void fake_front_close_next(unsigned n, FakeFrontMode then) {
        pthread_mutex_lock(&front.lock);
        front.close_next = n;
        front.then = then;
        if (n == 0)
                front.mode = then;
        pthread_mutex_unlock(&front.lock);
        wake();
}

unsigned fake_front_closed(void) {
        unsigned n;

        pthread_mutex_lock(&front.lock);
        n = front.closed;
        pthread_mutex_unlock(&front.lock);
        return n;
}

unsigned fake_front_queued(void) {
        struct tcp_info info = {};
        socklen_t len = sizeof(info);

        /* For a listening socket, Linux reports the length of its accept
         * queue as tcpi_unacked. */
        cr_assert_eq(getsockopt(front.listen_fd, IPPROTO_TCP, TCP_INFO, &info, &len), 0, "TCP_INFO: %m");
        return info.tcpi_unacked;
}

void fake_front_cut(void) {
        pthread_mutex_lock(&front.lock);
        for (size_t i = 0; i < front.n_pairs; i++)
                for (int k = 0; k < 2; k++)
                        if (front.pairs[i][k] >= 0)
                                (void) shutdown(front.pairs[i][k], SHUT_RDWR);
        pthread_mutex_unlock(&front.lock);
}

void fake_front_stop(void) {
        if (!front.started)
                return;
        pthread_mutex_lock(&front.lock);
        front.stopping = true;
        pthread_mutex_unlock(&front.lock);
        wake();
        cr_assert_eq(pthread_join(front.thread, NULL), 0);
        fake_front_cut();
        for (int i = 0; i < 1000 && atomic_load(&front.pumps) > 0; i++)
                usleep(10000);
        cr_assert_eq(atomic_load(&front.pumps), 0, "connections still forwarded");
        close(front.listen_fd);
        close(front.wake[0]);
        close(front.wake[1]);
        front.started = false;
}
