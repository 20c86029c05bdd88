/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "macro.h"
#include "socket-activation.h"

#define streq(a, b) (strcmp((a), (b)) == 0)

static void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

/* ---- addresses ------------------------------------------------------------ */

typedef union Addr {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
        struct sockaddr_storage ss;
} Addr;

static socklen_t addr_make(Addr *a, const char *ip, uint16_t port) {
        *a = (Addr) {};
        if (inet_pton(AF_INET, ip, &a->in.sin_addr) == 1) {
                a->in.sin_family = AF_INET;
                a->in.sin_port = htons(port);
                return sizeof(a->in);
        }
        cr_assert_eq(inet_pton(AF_INET6, ip, &a->in6.sin6_addr), 1, "bad address %s", ip);
        a->in6.sin6_family = AF_INET6;
        a->in6.sin6_port = htons(port);
        return sizeof(a->in6);
}

static bool matches(const char *requested, uint16_t rport, const char *inherited, uint16_t iport) {
        Addr r, i;
        socklen_t rl = addr_make(&r, requested, rport), il = addr_make(&i, inherited, iport);

        return socket_activation_address_matches(&r.sa, rl, &i.sa, il);
}

Test(match, ipv4) {
        cr_assert(matches("127.0.0.1", 50051, "127.0.0.1", 50051));
        cr_assert(matches("192.0.2.7", 1, "192.0.2.7", 1));
        cr_assert_not(matches("127.0.0.1", 50051, "127.0.0.1", 50052));
        cr_assert_not(matches("127.0.0.2", 50051, "127.0.0.1", 50051));
        cr_assert_not(matches("127.0.0.1", 50051, "0.0.0.0", 50051));
}

Test(match, v4_mapped) {
        /* What gRPC binds for "127.0.0.1:port" against what systemd passes. */
        cr_assert(matches("::ffff:127.0.0.1", 50051, "127.0.0.1", 50051));
        cr_assert(matches("127.0.0.1", 50051, "::ffff:127.0.0.1", 50051));
        cr_assert(matches("::ffff:0.0.0.0", 50051, "0.0.0.0", 50051));
        cr_assert_not(matches("::ffff:127.0.0.1", 50051, "::1", 50051));
        cr_assert_not(matches("::ffff:127.0.0.2", 50051, "127.0.0.1", 50051));
}

Test(match, ipv6) {
        Addr r, i;
        socklen_t rl, il;

        cr_assert(matches("::1", 50051, "::1", 50051));
        cr_assert(matches("2001:db8::1", 443, "2001:db8::1", 443));
        cr_assert_not(matches("2001:db8::1", 443, "2001:db8::2", 443));
        cr_assert_not(matches("::1", 50051, "127.0.0.1", 50051));

        /* A link-local address is only the same with the same scope. */
        rl = addr_make(&r, "fe80::1", 80);
        il = addr_make(&i, "fe80::1", 80);
        r.in6.sin6_scope_id = 2;
        i.in6.sin6_scope_id = 2;
        cr_assert(socket_activation_address_matches(&r.sa, rl, &i.sa, il));
        i.in6.sin6_scope_id = 3;
        cr_assert_not(socket_activation_address_matches(&r.sa, rl, &i.sa, il));
}

Test(match, any) {
        cr_assert(matches("::", 50051, "::", 50051));
        cr_assert(matches("0.0.0.0", 50051, "0.0.0.0", 50051));
        /* gRPC's dual-stack "::" is not systemd's IPv4-only socket: that one
         * is claimed by gRPC's IPv4 fallback bind instead. */
        cr_assert_not(matches("::", 50051, "0.0.0.0", 50051));
        cr_assert_not(matches("0.0.0.0", 50051, "::", 50051));
        cr_assert_not(matches("::", 50051, "::1", 50051));
}

Test(match, port_zero) {
        cr_assert_not(matches("127.0.0.1", 0, "127.0.0.1", 0));
        cr_assert_not(matches("::", 0, "::", 0));
        cr_assert_not(matches("::1", 0, "::1", 0));
}

Test(match, not_ip) {
        Addr a;
        socklen_t l = addr_make(&a, "127.0.0.1", 80);
        struct sockaddr_un { sa_family_t family; char path[108]; } un = { .family = AF_UNIX, .path = "/x" };

        cr_assert_not(socket_activation_address_matches((struct sockaddr *) &un, sizeof(un), &a.sa, l));
        cr_assert_not(socket_activation_address_matches(&a.sa, l, (struct sockaddr *) &un, sizeof(un)));
        cr_assert_not(socket_activation_address_matches(&a.sa, l - 1, &a.sa, l));
        cr_assert_not(socket_activation_address_matches(NULL, 0, &a.sa, l));
}

/* The executable's bind() is the one the dynamic linker hands out, to
 * libgrpc.so as to anyone: no -rdynamic needed, the linker exports it
 * because libgrpc.so (linked here) references bind. */
Test(interposer, exported) {
        cr_assert_eq(dlsym(RTLD_DEFAULT, "bind"), (void *) bind);
}

Test(interposer, not_activated) {
        _cleanup_close_ int fd = -EBADF;
        Addr a;
        socklen_t l = addr_make(&a, "127.0.0.1", 0);
        char **addresses = NULL;

        cr_assert_eq(unsetenv("LISTEN_FDS"), 0);
        cr_assert_eq(socket_activation_init(), 0);
        cr_assert_eq(socket_activation_init(), -EALREADY);
        cr_assert_eq(socket_activation_check_claimed(), 0);
        cr_assert_eq(socket_activation_addresses(&addresses), 0);
        cr_assert_null(addresses[0]);
        socket_activation_addresses_free(addresses);

        /* Nothing inherited: bind() is the kernel's. */
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert_geq(fd, 0);
        cr_assert_eq(bind(fd, &a.sa, l), 0);
}

/* ---- sockets passed like systemd does ----------------------------------------
 *
 * systemd's protocol puts the first socket at fd 3, and in a Criterion worker
 * fd 3 is Criterion's own (an eventfd of its IPC).  So each scenario runs in
 * a child of the test, which is free to take fds 3 and up, and reports
 * through its exit status: 0 passed, 77 skipped, else the failed CHECK is on
 * stderr. */

#define CHECK(expr)                                                             \
        do {                                                                    \
                if (!(expr)) {                                                  \
                        fprintf(stderr, "%s:%d: CHECK(%s) failed (errno: %s)\n", \
                                __FILE__, __LINE__, #expr, strerror(errno));    \
                        _exit(1);                                               \
                }                                                               \
        } while (0)

static void run_in_child(int (*scenario)(void)) {
        int status;
        pid_t pid;

        fflush(stdout);
        fflush(stderr);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                alarm(60);
                _exit(scenario());
        }

        cr_assert_eq(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
                cr_skip_test("no IPv6 here");
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "scenario failed, wait status 0x%x (see stderr)", (unsigned) status);
}

/* A listening TCP socket on ip:port (0: any free port); *ret_port gets the
 * port.  v6only < 0 leaves IPV6_V6ONLY alone.  -errno on failure. */
static int listener(const char *ip, uint16_t port, int v6only, uint16_t *ret_port) {
        _cleanup_close_ int fd = -EBADF;
        Addr a;
        socklen_t l = addr_make(&a, ip, port);
        int one = 1;

        fd = socket(a.sa.sa_family, SOCK_STREAM, 0);
        if (fd < 0)
                return -errno;
        /* As systemd does by default (ReusePort=no). */
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                return -errno;
        if (v6only >= 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0)
                return -errno;
        if (syscall(SYS_bind, fd, &a.sa, l) < 0)
                return -errno;
        if (listen(fd, 16) < 0)
                return -errno;
        l = sizeof(a);
        if (getsockname(fd, &a.sa, &l) < 0)
                return -errno;
        *ret_port = ntohs(a.sa.sa_family == AF_INET ? a.in.sin_port : a.in6.sin6_port);
        return TAKE_FD(fd);
}

/* Moves fds[] to 3, 4, ... and sets $LISTEN_FDS/$LISTEN_PID for us. */
static void pass_fds(const int *fds, int n) {
        int high[8];
        char buf[32];

        CHECK(n <= (int) ELEMENTSOF(high));
        /* Out of the way first, so that no fds[i] is overwritten early. */
        for (int i = 0; i < n; i++) {
                high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 100);
                CHECK(high[i] >= 0);
                close(fds[i]);
        }
        for (int i = 0; i < n; i++) {
                CHECK(dup2(high[i], SD_LISTEN_FDS_START + i) == SD_LISTEN_FDS_START + i);
                close(high[i]);
        }

        snprintf(buf, sizeof(buf), "%d", n);
        CHECK(setenv("LISTEN_FDS", buf, 1) == 0);
        snprintf(buf, sizeof(buf), "%d", (int) getpid());
        CHECK(setenv("LISTEN_PID", buf, 1) == 0);
        CHECK(unsetenv("LISTEN_FDNAMES") == 0);
}

static ino_t socket_inode(int fd) {
        struct stat st;

        CHECK(fstat(fd, &st) == 0);
        return st.st_ino;
}

/* The fd of this process that is the socket with inode ino, or -1. */
static int find_socket(ino_t ino) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;

        d = opendir("/proc/self/fd");
        CHECK(d);
        while ((de = readdir(d))) {
                struct stat st;
                int fd = atoi(de->d_name);

                if (de->d_name[0] == '.' || fd == dirfd(d))
                        continue;
                if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == ino)
                        return fd;
        }
        return -1;
}

/* bind() straight to the kernel, past the interposer: 0 or -errno. */
static int kernel_bind(const char *ip, uint16_t port, int v6only) {
        _cleanup_close_ int fd = -EBADF;
        Addr a;
        socklen_t l = addr_make(&a, ip, port);
        int one = 1;

        fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0);
        /* Not blocked by a TIME_WAIT, only by a socket bound there. */
        CHECK(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0);
        if (v6only >= 0)
                CHECK(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) == 0);
        return syscall(SYS_bind, fd, &a.sa, l) < 0 ? -errno : 0;
}

/* The gRPC server answers an HTTP/2 client preface with its SETTINGS: proof
 * that gRPC accepted the connection, not just the kernel's backlog. */
static bool grpc_answers(const char *ip, uint16_t port) {
        static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                                      "\0\0\0\4\0\0\0\0\0"; /* empty SETTINGS */
        _cleanup_close_ int fd = -EBADF;
        uint8_t header[9];
        size_t got = 0;
        Addr a;
        socklen_t l = addr_make(&a, ip, port);

        fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0);
        CHECK(connect(fd, &a.sa, l) == 0);
        CHECK(write(fd, preface, sizeof(preface) - 1) == (ssize_t) sizeof(preface) - 1);

        while (got < sizeof(header)) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t n;

                CHECK(poll(&p, 1, 10000) == 1);
                n = read(fd, header + got, sizeof(header) - got);
                CHECK(n > 0);
                got += (size_t) n;
        }

        /* Frame type 0x4 SETTINGS, on stream 0, not an ACK. */
        return header[3] == 0x4 && (header[4] & 0x1) == 0 &&
               header[5] == 0 && header[6] == 0 && header[7] == 0 && header[8] == 0;
}

static void wait_port_free(const char *ip, uint16_t port, int v6only) {
        /* gRPC closes its listeners asynchronously during shutdown. */
        for (int i = 0; i < 200; i++) {
                if (kernel_bind(ip, port, v6only) == 0)
                        return;
                usleep(50 * 1000);
        }
        CHECK(!"port still bound after the server was shut down");
}

typedef struct Server {
        grpc_server *server;
        grpc_completion_queue *cq;
        pthread_t poller;
} Server;

static int shutdown_tag;

static gpr_timespec deadline(int seconds) {
        return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_seconds(seconds, GPR_TIMESPAN));
}

/* The C core makes progress, accepting included, only while some thread
 * polls a completion queue of the server: this one does until the shutdown
 * notification arrives. */
static void *poll_cq(void *userdata) {
        Server *s = userdata;

        for (;;) {
                grpc_event ev = grpc_completion_queue_next(s->cq, deadline(1), NULL);

                if (ev.type == GRPC_OP_COMPLETE && ev.tag == &shutdown_tag)
                        return NULL;
                if (ev.type == GRPC_QUEUE_SHUTDOWN)
                        return NULL;
        }
}

/* A real gRPC server on addresses[], insecure (TLS is not the point here);
 * ports[] gets what grpc_server_add_http2_port() returned. */
static void server_start(Server *s, char **addresses, int *ports) {
        grpc_arg arg = {
                .type = GRPC_ARG_INTEGER,
                .key = (char *) GRPC_ARG_ALLOW_REUSEPORT,
                .value.integer = 0,
        };
        grpc_channel_args args = { .num_args = 1, .args = &arg };
        sigset_t mask;

        /* Our stack requires these blocked before gRPC starts its threads. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        CHECK(pthread_sigmask(SIG_BLOCK, &mask, NULL) == 0);

        grpc_init();
        s->cq = grpc_completion_queue_create_for_next(NULL);
        s->server = grpc_server_create(&args, NULL);
        grpc_server_register_completion_queue(s->server, s->cq, NULL);
        for (size_t i = 0; addresses[i]; i++) {
                grpc_server_credentials *creds = grpc_insecure_server_credentials_create();

                ports[i] = grpc_server_add_http2_port(s->server, addresses[i], creds);
                grpc_server_credentials_release(creds);
        }
        grpc_server_start(s->server);
        CHECK(pthread_create(&s->poller, NULL, poll_cq, s) == 0);
}

static void server_stop(Server *s) {
        grpc_event ev;

        grpc_server_shutdown_and_notify(s->server, s->cq, &shutdown_tag);
        grpc_server_cancel_all_calls(s->server);
        CHECK(pthread_join(s->poller, NULL) == 0);
        grpc_server_destroy(s->server);

        grpc_completion_queue_shutdown(s->cq);
        do
                ev = grpc_completion_queue_next(s->cq, deadline(10), NULL);
        while (ev.type != GRPC_QUEUE_SHUTDOWN && ev.type != GRPC_QUEUE_TIMEOUT);
        CHECK(ev.type == GRPC_QUEUE_SHUTDOWN);
        grpc_completion_queue_destroy(s->cq);
        grpc_shutdown();
}

static char **addresses_of_init(int expected) {
        char **addresses = NULL;

        CHECK(socket_activation_init() == expected);
        CHECK(!getenv("LISTEN_FDS"));
        CHECK(socket_activation_addresses(&addresses) == expected);
        return addresses;
}

/* ---- the scenarios --------------------------------------------------------- */

/* systemd passed 127.0.0.1:port; the daemon asks gRPC for exactly that. */
static int scenario_loopback(void) {
        Server srv = {};
        char **addresses, expect[64];
        int fd, ports[1];
        uint16_t port;
        ino_t ino;

        fd = listener("127.0.0.1", 0, -1, &port);
        CHECK(fd >= 0);
        ino = socket_inode(fd);
        pass_fds(&fd, 1);

        addresses = addresses_of_init(1);
        snprintf(expect, sizeof(expect), "127.0.0.1:%u", (unsigned) port);
        CHECK(streq(addresses[0], expect));
        CHECK(socket_activation_check_claimed() == -EADDRNOTAVAIL);

        server_start(&srv, addresses, ports);
        CHECK(ports[0] == port);
        CHECK(socket_activation_check_claimed() == 0);

        /* Our own descriptor is gone; gRPC holds the very socket under
         * another number.  The kernel still sees the address taken, and,
         * since neither side has SO_REUSEPORT, by that one socket only. */
        CHECK(fcntl(SD_LISTEN_FDS_START, F_GETFD) < 0 && errno == EBADF);
        fd = find_socket(ino);
        CHECK(fd >= 0 && fd != SD_LISTEN_FDS_START);
        CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
        CHECK(kernel_bind("127.0.0.1", port, -1) == -EADDRINUSE);

        CHECK(grpc_answers("127.0.0.1", port));
        CHECK(grpc_answers("127.0.0.1", port));

        server_stop(&srv);
        /* gRPC closed the only descriptor: under systemd its copy would keep
         * the socket open for the next start. */
        wait_port_free("127.0.0.1", port, -1);
        socket_activation_addresses_free(addresses);
        return 0;
}

Test(grpc, loopback, .timeout = 90) {
        run_in_child(scenario_loopback);
}

/* systemd keeps its copy of the socket while the daemon stops: gRPC's
 * shutdown of its listener must not stop that copy listening, or the next
 * connection would be refused instead of starting the next daemon. */
static int scenario_stop_keeps_listening(void) {
        Server srv = {};
        char **addresses;
        int fd, systemd_copy, ports[1], accepting = 0, client;
        socklen_t len = sizeof(accepting);
        struct sockaddr_in sa = { .sin_family = AF_INET };
        uint16_t port;

        fd = listener("127.0.0.1", 0, -1, &port);
        CHECK(fd >= 0);
        systemd_copy = fcntl(fd, F_DUPFD_CLOEXEC, 100);
        CHECK(systemd_copy >= 0);
        pass_fds(&fd, 1);

        addresses = addresses_of_init(1);
        server_start(&srv, addresses, ports);
        CHECK(grpc_answers("127.0.0.1", port));
        server_stop(&srv);

        CHECK(getsockopt(systemd_copy, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0);
        CHECK(accepting == 1);
        /* And it still queues connections, for the next daemon. */
        client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(client >= 0);
        sa.sin_port = htons(port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        CHECK(connect(client, (struct sockaddr *) &sa, sizeof(sa)) == 0);
        close(client);
        close(systemd_copy);
        socket_activation_addresses_free(addresses);
        return 0;
}

Test(grpc, stop_keeps_systemd_socket_listening, .timeout = 90) {
        run_in_child(scenario_stop_keeps_listening);
}

/* systemd's default for ListenStream=PORT with BindIPv6Only=both. */
static int scenario_dual_stack(void) {
        Server srv = {};
        char **addresses, expect[64];
        int fd, ports[1];
        uint16_t port;

        fd = listener("::", 0, 0, &port);
        if (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL)
                return 77;
        CHECK(fd >= 0);
        pass_fds(&fd, 1);

        addresses = addresses_of_init(1);
        snprintf(expect, sizeof(expect), "[::]:%u", (unsigned) port);
        CHECK(streq(addresses[0], expect));

        server_start(&srv, addresses, ports);
        CHECK(ports[0] == port);
        CHECK(socket_activation_check_claimed() == 0);
        CHECK(kernel_bind("::", port, 0) == -EADDRINUSE);
        CHECK(kernel_bind("0.0.0.0", port, -1) == -EADDRINUSE);

        /* One socket, both families. */
        CHECK(grpc_answers("127.0.0.1", port));
        CHECK(grpc_answers("::1", port));

        server_stop(&srv);
        wait_port_free("::", port, 0);
        socket_activation_addresses_free(addresses);
        return 0;
}

Test(grpc, dual_stack, .timeout = 90) {
        run_in_child(scenario_dual_stack);
}

/* ListenStream=0.0.0.0:PORT: gRPC's wildcard handling tries a dual-stack
 * "::" first, which must fail so that its IPv4 fallback takes the socket. */
static int scenario_ipv4_any(void) {
        Server srv = {};
        char **addresses, expect[64];
        int fd, ports[1];
        uint16_t port;

        fd = listener("0.0.0.0", 0, -1, &port);
        CHECK(fd >= 0);
        pass_fds(&fd, 1);

        addresses = addresses_of_init(1);
        snprintf(expect, sizeof(expect), "0.0.0.0:%u", (unsigned) port);
        CHECK(streq(addresses[0], expect));

        server_start(&srv, addresses, ports);
        CHECK(ports[0] == port);
        CHECK(socket_activation_check_claimed() == 0);
        CHECK(grpc_answers("127.0.0.1", port));

        /* gRPC got no IPv6 socket of its own on that port. */
        if (kernel_bind("::1", 0, 1) == 0)
                CHECK(kernel_bind("::", port, 1) == 0);

        server_stop(&srv);
        socket_activation_addresses_free(addresses);
        return 0;
}

Test(grpc, ipv4_any, .timeout = 90) {
        run_in_child(scenario_ipv4_any);
}

/* A socket nobody binds is an error; what is no listening TCP socket is
 * dropped at init; the port of a passed socket is reserved. */
static int scenario_unclaimed(void) {
        _cleanup_close_ int tcp = -EBADF, tcp2 = -EBADF, tcp3 = -EBADF, udp = -EBADF;
        char **addresses, expect[64];
        int fds[2], listening;
        uint16_t port;
        socklen_t len;
        Addr a, other;
        socklen_t l;

        fds[0] = listener("127.0.0.1", 0, -1, &port);
        CHECK(fds[0] >= 0);
        fds[1] = socket(AF_INET, SOCK_STREAM, 0); /* not listening */
        CHECK(fds[1] >= 0);
        pass_fds(fds, 2);

        addresses = addresses_of_init(1);
        snprintf(expect, sizeof(expect), "127.0.0.1:%u", (unsigned) port);
        CHECK(streq(addresses[0], expect) && !addresses[1]);
        CHECK(fcntl(SD_LISTEN_FDS_START + 1, F_GETFD) < 0 && errno == EBADF);
        CHECK(socket_activation_check_claimed() == -EADDRNOTAVAIL);

        /* Another address on that port: refused, the port is systemd's. */
        tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(tcp >= 0);
        l = addr_make(&other, "127.0.0.2", port);
        CHECK(bind(tcp, &other.sa, l) < 0 && errno == EADDRINUSE);

        /* UDP and port 0 go to the kernel. */
        udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        CHECK(udp >= 0);
        l = addr_make(&a, "127.0.0.1", port);
        CHECK(bind(udp, &a.sa, l) == 0);
        tcp2 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(tcp2 >= 0);
        l = addr_make(&other, "127.0.0.1", 0);
        CHECK(bind(tcp2, &other.sa, l) == 0);
        CHECK(socket_activation_check_claimed() == -EADDRNOTAVAIL);

        /* The address itself: tcp2 is bound, the kernel says no... */
        l = addr_make(&a, "127.0.0.1", port);
        CHECK(bind(tcp2, &a.sa, l) < 0 && errno == EINVAL);

        /* ...a fresh socket claims it, already listening, once. */
        tcp3 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        CHECK(tcp3 >= 0);
        CHECK(bind(tcp3, &a.sa, l) == 0);
        len = sizeof(listening);
        CHECK(getsockopt(tcp3, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening == 1);
        CHECK(fcntl(tcp3, F_GETFL) & O_NONBLOCK);
        CHECK(socket_activation_check_claimed() == 0);

        safe_close(tcp);
        tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(tcp >= 0);
        CHECK(bind(tcp, &a.sa, l) < 0 && errno == EADDRINUSE);

        socket_activation_addresses_free(addresses);
        return 0;
}

Test(interposer, unclaimed, .timeout = 60) {
        run_in_child(scenario_unclaimed);
}

/* A socket named "metrics" is the metrics endpoint's: not one of the API's
 * addresses, not one gRPC must claim, and handed out once. */
static int scenario_metrics_socket(void) {
        char **addresses = NULL;
        uint16_t api_port, metrics_port;
        int fds[2], metrics;
        ino_t metrics_ino;

        fds[0] = listener("127.0.0.1", 0, -1, &api_port);
        fds[1] = listener("127.0.0.1", 0, -1, &metrics_port);
        CHECK(fds[0] >= 0 && fds[1] >= 0);
        metrics_ino = socket_inode(fds[1]);
        pass_fds(fds, 2);
        CHECK(setenv("LISTEN_FDNAMES", "jobrunner.socket:" SOCKET_ACTIVATION_METRICS_NAME, 1) == 0);

        CHECK(socket_activation_init() == 1);
        CHECK(socket_activation_addresses(&addresses) == 1);
        CHECK(addresses[1] == NULL);
        CHECK(strstr(addresses[0], ":") && atoi(strrchr(addresses[0], ':') + 1) == api_port);
        socket_activation_addresses_free(addresses);

        metrics = socket_activation_take_metrics();
        CHECK(metrics >= 0);
        CHECK(socket_inode(metrics) == metrics_ino);
        CHECK(socket_activation_take_metrics() == -ENOENT);
        safe_close(metrics);
        return 0;
}

Test(interposer, metrics_socket_kept_apart, .timeout = 60) {
        run_in_child(scenario_metrics_socket);
}
