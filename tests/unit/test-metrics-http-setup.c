/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The metrics endpoint's set-up: metrics_http_new() with what it is given
 * and what libmicrohttpd does with it, and metrics_http_listen()'s
 * addresses.  Serving is test-metrics-http.c's. */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "leak-check.h"
#include "macro.h"
#include "metrics-http.h"
#include "net-check.h"

TestSuite(metrics_http, .fini = abort_on_leaks, .timeout = 240);

/* ---- metrics_http_new() ------------------------------------------------------- */

static void no_body(void *userdata, MetricsHttpRequest *req) {
        (void) userdata;
        metrics_http_answer(req, -EIO, NULL, 0);
}

Test(metrics_http, new_takes_the_socket_even_on_failure) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        MetricsHttp *h = NULL;
        unsigned n_fds;
        int fd;

        cr_assert_eq(sd_event_new(&event), 0);
        n_fds = net_check_count_fds();

        fd = metrics_http_listen("127.0.0.1:0");
        cr_assert_geq(fd, 0);
        cr_assert_eq(metrics_http_new(event, &(MetricsHttpConfig) { .listen_fd = fd }, &h), -EINVAL);
        cr_assert_null(h);
        cr_assert_eq(fcntl(fd, F_GETFD), -1);

        fd = eventfd(0, EFD_CLOEXEC);
        cr_assert_geq(fd, 0);
        cr_assert_lt(metrics_http_new(event, &(MetricsHttpConfig) { .listen_fd = fd, .scrape = no_body }, &h), 0);
        cr_assert_null(h);
        cr_assert_eq(fcntl(fd, F_GETFD), -1);

        cr_assert_eq(metrics_http_new(event, &(MetricsHttpConfig) { .listen_fd = -EBADF, .scrape = no_body }, &h),
                     -EBADF);
        cr_assert_eq(net_check_count_fds(), n_fds);
}

/* libmicrohttpd itself fails (no descriptor left for its epoll instance):
 * neither the socket nor the duplicate it was given stays open. */
Test(metrics_http, new_fails_in_libmicrohttpd) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        struct rlimit saved, rl;
        MetricsHttp *h = NULL;
        unsigned n_fds;
        int fd, free_fd, r;

        cr_assert_eq(sd_event_new(&event), 0);
        n_fds = net_check_count_fds();
        fd = metrics_http_listen("127.0.0.1:0");
        cr_assert_geq(fd, 0);

        /* Room for exactly one more descriptor, the duplicate: the lowest
         * free number is allowed, the next one is not. */
        free_fd = fcntl(fd, F_DUPFD, 0);
        cr_assert_geq(free_fd, 0);
        safe_close(free_fd);
        for (int i = free_fd + 1;; i++)
                if (fcntl(i, F_GETFD) < 0) {
                        cr_assert_eq(errno, EBADF);
                        rl = (struct rlimit) { .rlim_cur = (rlim_t) i };
                        break;
                }
        cr_assert_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
        rl.rlim_max = saved.rlim_max;
        cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);

        r = metrics_http_new(event, &(MetricsHttpConfig) { .listen_fd = fd, .scrape = no_body }, &h);

        cr_assert_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
        cr_assert_lt(r, 0);
        cr_assert_null(h);
        cr_assert_eq(net_check_count_fds(), n_fds);
}

Test(metrics_http, free_null) {
        cr_assert_null(metrics_http_free(NULL));
}

/* ---- metrics_http_listen() ---------------------------------------------------- */

static int sockopt(int fd, int level, int name) {
        int v = -1;
        socklen_t len = sizeof(v);

        cr_assert_eq(getsockopt(fd, level, name, &v, &len), 0);
        return v;
}

static void assert_listening(int fd, int family) {
        cr_assert_geq(fd, 0, "%s", strerror(-fd));
        cr_assert_eq(sockopt(fd, SOL_SOCKET, SO_DOMAIN), family);
        cr_assert_eq(sockopt(fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
        cr_assert_eq(sockopt(fd, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
        cr_assert_eq(sockopt(fd, SOL_SOCKET, SO_ACCEPTCONN), 1);
        cr_assert_neq(sockopt(fd, SOL_SOCKET, SO_REUSEADDR), 0);
        cr_assert_eq(fcntl(fd, F_GETFD), FD_CLOEXEC);
}

static uint16_t bound_port(int fd) {
        struct sockaddr_in6 sa;
        socklen_t len = sizeof(sa);

        cr_assert_eq(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        /* sin_port and sin6_port are at the same place. */
        return ntohs(sa.sin6_port);
}

Test(metrics_http, listen_ipv4) {
        _cleanup_close_ int fd = -EBADF, fd2 = -EBADF, c = -EBADF;
        struct sockaddr_in sa;
        socklen_t len = sizeof(sa);
        char address[32];

        fd = metrics_http_listen("127.0.0.1:0");
        assert_listening(fd, AF_INET);
        cr_assert_eq(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        cr_assert_eq(sa.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
        cr_assert_neq(sa.sin_port, 0);
        c = net_check_connect(ntohs(sa.sin_port));
        cr_assert_geq(c, 0);

        /* A given port, and the same again while it is taken. */
        fd = safe_close(fd);
        c = safe_close(c);
        snprintf(address, sizeof(address), "127.0.0.1:%u", (unsigned) ntohs(sa.sin_port));
        fd = metrics_http_listen(address);
        if (fd == -EADDRINUSE)
                cr_skip_test("port %u was taken in between", (unsigned) ntohs(sa.sin_port));
        assert_listening(fd, AF_INET);
        cr_assert_eq(bound_port(fd), ntohs(sa.sin_port));
        fd2 = metrics_http_listen(address);
        cr_assert_eq(fd2, -EADDRINUSE);

        fd2 = metrics_http_listen("0.0.0.0:0");
        assert_listening(fd2, AF_INET);
}

Test(metrics_http, listen_ipv6) {
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_in6 sa;
        socklen_t len = sizeof(sa);

        fd = metrics_http_listen("[::1]:0");
        if (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL)
                cr_skip_test("no IPv6 loopback here: %s", strerror(-fd));
        assert_listening(fd, AF_INET6);
        cr_assert_eq(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        cr_assert(IN6_IS_ADDR_LOOPBACK(&sa.sin6_addr));
        cr_assert_neq(sa.sin6_port, 0);

        /* A scope, by the interface's name. */
        fd = safe_close(fd);
        fd = metrics_http_listen("[::1%lo]:0");
        assert_listening(fd, AF_INET6);
        fd = safe_close(fd);
        cr_assert_eq(metrics_http_listen("[::1%no-such-if0]:0"), -ENODEV);
}

Test(metrics_http, listen_any) {
        _cleanup_close_ int fd = -EBADF, c = -EBADF;

        /* IPv6 and IPv4 on one socket, or IPv4 alone without IPv6. */
        fd = metrics_http_listen(":0");
        cr_assert_geq(fd, 0, "%s", strerror(-fd));
        if (sockopt(fd, SOL_SOCKET, SO_DOMAIN) == AF_INET6) {
                assert_listening(fd, AF_INET6);
                cr_assert_eq(sockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY), 0);
        } else
                assert_listening(fd, AF_INET);
        cr_assert_neq(bound_port(fd), 0);

        c = net_check_connect(bound_port(fd));
        cr_assert_geq(c, 0, "connect over IPv4: %s", strerror(-c));
}

Test(metrics_http, listen_malformed) {
        static const char *const bad[] = {
                "",
                ":",
                "127.0.0.1",
                "127.0.0.1:",
                "1.2.3.4:",
                "127.0.0.1:65536",
                "127.0.0.1:99999999999999999999",
                "127.0.0.1:-1",
                "127.0.0.1:+80",
                "127.0.0.1: 80",
                "127.0.0.1:80 ",
                "127.0.0.1:80x",
                "127.0.0.1:0x50",
                " 127.0.0.1:80",
                "127.1:80",
                "0x7f.0.0.1:80",
                "127.0.0.256:80",
                "127.0.0.1:80:80",
                "host.example:80",
                "localhost:80",
                "::1:80",
                "::1",
                "[::1",
                "[::1]",
                "[::1]:",
                "[::1]80",
                "[::1]:x",
                "[]:80",
                "[127.0.0.1]:80",
                "[::1%]:80",
                "[[::1]]:80",
                "[::1]:80]",
        };

        cr_assert_eq(metrics_http_listen(NULL), -EINVAL);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                cr_assert_eq(metrics_http_listen(bad[i]), -EINVAL, "\"%s\" was taken", bad[i]);
}
