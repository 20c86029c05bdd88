/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "macro.h"
#include "socket-activation.h"
#include "strv.h"

/* An IP socket address reduced to what decides a match: a v4-mapped IPv6
 * address is folded into AF_INET, because gRPC binds IPv4 addresses as
 * v4-mapped ones on an AF_INET6 socket while systemd passes an AF_INET one. */
typedef struct IpAddress {
        int family;             /* AF_INET or AF_INET6 */
        uint8_t bytes[16];      /* the first 4 for AF_INET */
        uint16_t port;          /* host order */
        uint32_t scope_id;      /* AF_INET6 only */
} IpAddress;

typedef struct Inherited {
        int fd;                 /* -EBADF once claimed: gRPC owns the socket then */
        IpAddress address;
        dev_t dev;              /* the socket's identity, whichever fd refers to it */
        ino_t ino;
        bool claimed;
} Inherited;

/* gRPC may bind from any of its threads, and init runs on the main one. */
static pthread_mutex_t table_mutex = PTHREAD_MUTEX_INITIALIZER;
static Inherited *table;
static size_t n_table;
static bool initialized;

/* The metrics endpoint's listening socket, told apart by its name. */
static int metrics_fd = -EBADF;

/* What else systemd passed: the service's file descriptor store. */
static char **stored_names;
static int *stored_fds;
static size_t n_stored;

static pthread_mutex_t *lock_table(void) {
        (void) pthread_mutex_lock(&table_mutex);
        return &table_mutex;
}

static void unlockp(pthread_mutex_t **m) {
        if (*m)
                (void) pthread_mutex_unlock(*m);
}
#define _cleanup_unlock_ _cleanup_(unlockp)

/* Copies rather than casts: the caller's buffer need not be aligned for
 * struct sockaddr_in6. */
static bool ip_address_from_sockaddr(const struct sockaddr *sa, socklen_t len, IpAddress *ret) {
        sa_family_t family;

        if (!sa || len < (socklen_t) sizeof(family))
                return false;
        memcpy(&family, (const uint8_t *) sa + offsetof(struct sockaddr, sa_family), sizeof(family));

        if (family == AF_INET) {
                struct sockaddr_in in;

                if (len < (socklen_t) sizeof(in))
                        return false;
                memcpy(&in, sa, sizeof(in));
                *ret = (IpAddress) { .family = AF_INET, .port = ntohs(in.sin_port) };
                memcpy(ret->bytes, &in.sin_addr, sizeof(in.sin_addr));
                return true;
        }

        if (family == AF_INET6) {
                struct sockaddr_in6 in6;

                if (len < (socklen_t) sizeof(in6))
                        return false;
                memcpy(&in6, sa, sizeof(in6));
                if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
                        *ret = (IpAddress) { .family = AF_INET, .port = ntohs(in6.sin6_port) };
                        memcpy(ret->bytes, in6.sin6_addr.s6_addr + 12, 4);
                } else {
                        *ret = (IpAddress) {
                                .family = AF_INET6,
                                .port = ntohs(in6.sin6_port),
                                .scope_id = in6.sin6_scope_id,
                        };
                        memcpy(ret->bytes, &in6.sin6_addr, sizeof(in6.sin6_addr));
                }
                return true;
        }

        return false;
}

static bool ip_address_equal(const IpAddress *a, const IpAddress *b) {
        if (a->family != b->family || a->port != b->port)
                return false;
        if (a->family == AF_INET)
                return memcmp(a->bytes, b->bytes, 4) == 0;
        return memcmp(a->bytes, b->bytes, 16) == 0 && a->scope_id == b->scope_id;
}

bool socket_activation_address_matches(
                const struct sockaddr *requested, socklen_t requested_len,
                const struct sockaddr *inherited, socklen_t inherited_len) {

        IpAddress a, b;

        if (!ip_address_from_sockaddr(requested, requested_len, &a) ||
            !ip_address_from_sockaddr(inherited, inherited_len, &b))
                return false;

        /* Port 0 asks the kernel for a fresh port (gRPC probes with it), which
         * is never a socket systemd holds. */
        if (a.port == 0)
                return false;

        return ip_address_equal(&a, &b);
}

/* "ip:port", brackets around IPv6, a numeric scope, which gRPC's address
 * parser accepts. */
static char *ip_address_format(const IpAddress *a) {
        char host[INET6_ADDRSTRLEN];
        char *s = NULL;
        int r;

        if (!inet_ntop(a->family, a->bytes, host, sizeof(host)))
                return NULL;

        if (a->family == AF_INET)
                r = asprintf(&s, "%s:%u", host, (unsigned) a->port);
        else if (a->scope_id != 0)
                r = asprintf(&s, "[%s%%%u]:%u", host, (unsigned) a->scope_id, (unsigned) a->port);
        else
                r = asprintf(&s, "[%s]:%u", host, (unsigned) a->port);

        return r < 0 ? NULL : s;
}

/* > 0 with *ret filled if fd is a listening TCP socket on an IP address,
 * 0 if it is something else, < 0 on error. */
static int inherited_socket_address(int fd, IpAddress *ret) {
        struct sockaddr_storage ss = {};
        socklen_t len = sizeof(ss);
        int protocol, r;
        socklen_t plen = sizeof(protocol);

        r = sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1);
        if (r <= 0)
                return r;

        /* SOCK_STREAM alone would also admit AF_UNIX and SCTP. */
        if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &plen) < 0)
                return -errno;
        if (protocol != IPPROTO_TCP)
                return 0;

        if (getsockname(fd, (struct sockaddr *) &ss, &len) < 0)
                return -errno;
        if (!ip_address_from_sockaddr((struct sockaddr *) &ss, len, ret))
                return 0;

        return 1;
}

int socket_activation_init(void) {
        _cleanup_unlock_ _unused_ pthread_mutex_t *lock = lock_table();
        _cleanup_free_ Inherited *t = NULL;
        _cleanup_free_ int *sfds = NULL;
        _cleanup_(strv_freep) char **names = NULL, **snames = NULL;
        size_t n = 0, ns = 0;
        int n_fds, r;

        if (initialized)
                return -EALREADY;

        /* unset_environment: a process we might start must not believe the
         * sockets are its own.  sd_listen_fds() also sets FD_CLOEXEC. */
        n_fds = sd_listen_fds_with_names(true, &names);
        if (n_fds < 0)
                return log_error_errno(n_fds, "Failed to read the sockets passed by systemd");

        if (n_fds > 0) {
                t = calloc((size_t) n_fds, sizeof(Inherited));
                sfds = calloc((size_t) n_fds, sizeof(int));
                snames = calloc((size_t) n_fds + 1, sizeof(char *));
                if (!t || !sfds || !snames)
                        return log_error_errno(ENOMEM, "Failed to take over the sockets passed by systemd");
        }

        for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n_fds; fd++) {
                const char *name = names ? names[fd - SD_LISTEN_FDS_START] : NULL;
                struct stat st;
                IpAddress a;
                _cleanup_free_ char *s = NULL;

                r = inherited_socket_address(fd, &a);
                if (r == 0 && name && strcmp(name, "unknown") != 0 && (snames[ns] = strdup(name))) {
                        /* Not a socket of ours: something the service put
                         * into systemd's fd store, for its owner to take. */
                        sfds[ns++] = fd;
                        continue;
                }
                if (r <= 0) {
                        /* Closed rather than kept: nothing here would ever
                         * accept on it, and it must not leak into anything we
                         * start. */
                        if (r < 0)
                                log_warning_errno(r, "Closing fd %d passed by systemd, cannot inspect it", fd);
                        else
                                log_warning("Closing fd %d passed by systemd: not a listening TCP socket", fd);
                        safe_close(fd);
                        continue;
                }

                if (name && strcmp(name, SOCKET_ACTIVATION_METRICS_NAME) == 0) {
                        if (metrics_fd >= 0) {
                                log_warning("Closing fd %d passed by systemd: a second metrics socket", fd);
                                safe_close(fd);
                        } else
                                metrics_fd = fd;
                        continue;
                }

                if (fstat(fd, &st) < 0) {
                        log_warning_errno(errno, "Closing fd %d passed by systemd, cannot inspect it", fd);
                        safe_close(fd);
                        continue;
                }
                s = ip_address_format(&a);
                log_debug("Socket %s (fd %d) passed by systemd", s ?: "?", fd);
                t[n++] = (Inherited) { .fd = fd, .address = a, .dev = st.st_dev, .ino = st.st_ino };
        }

        table = TAKE_PTR(t);
        n_table = n;
        stored_names = TAKE_PTR(snames);
        stored_fds = TAKE_PTR(sfds);
        n_stored = ns;
        initialized = true;
        return (int) n;
}

int socket_activation_take_metrics(void) {
        _cleanup_unlock_ _unused_ pthread_mutex_t *lock = lock_table();

        return metrics_fd >= 0 ? TAKE_FD(metrics_fd) : -ENOENT;
}

int socket_activation_take_stored(char ***ret_names, int **ret_fds) {
        _cleanup_unlock_ _unused_ pthread_mutex_t *lock = lock_table();
        size_t n = n_stored;

        *ret_names = TAKE_PTR(stored_names);
        *ret_fds = TAKE_PTR(stored_fds);
        n_stored = 0;
        return (int) n;
}

int socket_activation_check_claimed(void) {
        _cleanup_unlock_ _unused_ pthread_mutex_t *lock = lock_table();
        int r = 0;

        for (size_t i = 0; i < n_table; i++) {
                _cleanup_free_ char *s = NULL;

                if (table[i].claimed)
                        continue;

                s = ip_address_format(&table[i].address);
                log_error("Socket %s passed by systemd was not taken by the gRPC server", s ?: "?");
                r = -EADDRNOTAVAIL;
        }

        return r;
}

char **socket_activation_addresses_free(char **l) {
        if (!l)
                return NULL;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
        return NULL;
}

int socket_activation_addresses(char ***ret) {
        _cleanup_unlock_ _unused_ pthread_mutex_t *lock = lock_table();
        char **l;

        l = calloc(n_table + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;

        for (size_t i = 0; i < n_table; i++) {
                l[i] = ip_address_format(&table[i].address);
                if (!l[i]) {
                        socket_activation_addresses_free(l);
                        return -ENOMEM;
                }
        }

        *ret = l;
        return (int) n_table;
}

/* What gRPC set on its own socket must hold on the one it gets instead:
 * O_NONBLOCK above all, its accept loop relies on EAGAIN; TCP_NODELAY is
 * inherited by the accepted connections. */
static int copy_socket_options(int from, int to) {
        int from_flags, to_flags, nodelay;
        socklen_t len = sizeof(nodelay);

        from_flags = fcntl(from, F_GETFL);
        if (from_flags < 0)
                return -errno;
        to_flags = fcntl(to, F_GETFL);
        if (to_flags < 0)
                return -errno;
        if (fcntl(to, F_SETFL, (to_flags & ~O_NONBLOCK) | (from_flags & O_NONBLOCK)) < 0)
                return -errno;

        if (getsockopt(from, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len) < 0)
                return -errno;
        if (setsockopt(to, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof(nodelay)) < 0)
                return -errno;

        return 0;
}

/* 1 if fd now is an inherited socket, 0 if the kernel should bind it, or a
 * negative errno for bind() to fail with. */
static int claim(int fd, const struct sockaddr *addr, socklen_t len, IpAddress *ret_address) {
        _cleanup_unlock_ pthread_mutex_t *lock = NULL;
        Inherited *match = NULL;
        bool port_taken = false;
        struct sockaddr_storage bound = {};
        socklen_t blen = sizeof(bound);
        int protocol, r;
        socklen_t plen = sizeof(protocol);
        IpAddress want, have;

        if (!ip_address_from_sockaddr(addr, len, &want) || want.port == 0)
                return 0;

        /* Only TCP: a UDP socket on the same port is not in the way.  A
         * failure (not a socket) is for the kernel to report. */
        if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &plen) < 0 || protocol != IPPROTO_TCP)
                return 0;

        /* Only a fresh socket is replaced; binding one that is bound already
         * is the kernel's EINVAL. */
        if (getsockname(fd, (struct sockaddr *) &bound, &blen) < 0 ||
            (ip_address_from_sockaddr((struct sockaddr *) &bound, blen, &have) && have.port != 0))
                return 0;

        lock = lock_table();

        for (size_t i = 0; i < n_table; i++) {
                if (table[i].address.port != want.port)
                        continue;
                port_taken = true;

                if (!ip_address_equal(&table[i].address, &want))
                        continue;
                if (table[i].claimed)
                        continue;
                match = &table[i];
                break;
        }

        if (!match)
                /* A port systemd passed belongs to systemd's sockets alone.
                 * gRPC must not get a socket of its own next to them, which
                 * systemd would know nothing of: for "[::]:port" it tries a
                 * dual-stack socket first, and when systemd passed
                 * 0.0.0.0:port only this failure makes it fall back to an
                 * IPv4 bind, which then matches.  A socket already claimed
                 * is in use, as the kernel would say. */
                return port_taken ? -EADDRINUSE : 0;

        r = copy_socket_options(fd, match->fd);
        if (r < 0)
                return r;

        /* fd becomes the inherited listening socket; gRPC's fresh one is
         * closed by this.  gRPC's listen() then only updates the backlog. */
        if (dup3(match->fd, fd, O_CLOEXEC) < 0)
                return -errno;

        /* One descriptor, gRPC's: when it closes it, only systemd's copy keeps
         * the socket open. */
        match->fd = safe_close(match->fd);
        match->claimed = true;
        *ret_address = want;
        return 1;
}

/* glibc declares bind() with a transparent union of the sockaddr pointer
 * types in GNU mode; the definition must use the same type. */
#if defined(__USE_GNU) && !defined(__cplusplus)
#  define SOCKADDR_ARG_PTR(a) ((a).__sockaddr__)
#else
#  define SOCKADDR_ARG_PTR(a) (a)
#endif

/* Interposes libc's bind() for the whole process.  Not found: the raw
 * system call, which is all libc's bind() is; no dlsym(RTLD_NEXT) needed. */
int bind(int fd, __CONST_SOCKADDR_ARG addr_arg, socklen_t len) {
        const struct sockaddr *addr = SOCKADDR_ARG_PTR(addr_arg);
        IpAddress claimed;
        int r;

        r = claim(fd, addr, len, &claimed);
        if (r < 0) {
                errno = -r;
                return -1;
        }
        if (r > 0) {
                if (log_get_max_level() >= LOG_DEBUG) {
                        _cleanup_free_ char *s = ip_address_format(&claimed);

                        log_debug("bind(%d, %s): took over the socket passed by systemd", fd, s ?: "?");
                }
                return 0;
        }

        return (int) syscall(SYS_bind, fd, addr, len);
}

/* Is fd one of the inherited sockets, under whatever number? */
static bool is_inherited(int fd) {
        _cleanup_unlock_ pthread_mutex_t *lock = NULL;
        struct stat st;

        if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
                return false;
        lock = lock_table();
        for (size_t i = 0; i < n_table; i++)
                if (table[i].claimed && table[i].dev == st.st_dev && table[i].ino == st.st_ino)
                        return true;
        return false;
}

/* Interposes libc's shutdown() too.  gRPC shuts its listening sockets down
 * when the server stops, and on Linux that stops the socket listening, for
 * every holder: systemd's copy would then refuse connections instead of
 * queueing them and starting the next jobrunnerd.  So a shutdown of an
 * inherited socket is skipped; gRPC's own bookkeeping does not need it (its
 * pollers learn of the shutdown from gRPC, not from the kernel), and the
 * connections queued meanwhile wait for the next daemon. */
int shutdown(int fd, int how) {
        if (is_inherited(fd)) {
                log_debug("shutdown(%d): left alone, systemd's socket must keep listening", fd);
                return 0;
        }
        return (int) syscall(SYS_shutdown, fd, how);
}
