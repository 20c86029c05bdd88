/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>

/* gRPC accepts on the listening sockets that systemd passed in.
 *
 * Debian's libgrpc has no systemd support of its own, and
 * grpc_server_add_channel_from_fd() takes only insecure credentials, so
 * gRPC must bind "its own" sockets for mutual TLS.  It binds them through
 * libc's bind(), and this module defines bind() in the executable, which
 * interposes libc's for every caller, libgrpc.so included (ordinary ELF
 * symbol interposition: the executable comes first in the global scope, and
 * the linker exports the symbol because libgrpc.so references it).  When the
 * requested address is one systemd passed, the inherited listening socket is
 * dup3()ed over gRPC's fresh one: gRPC then listens on, accepts on and later
 * closes the very socket systemd holds, with its own TLS stack, and nothing
 * is proxied.  shutdown() is interposed as well: gRPC shuts its listening
 * sockets down when it stops, which would stop systemd's socket listening;
 * for the inherited sockets it is skipped.
 *
 * Use: socket_activation_init() early in main, before grpc_init(); then
 * grpc_server_add_http2_port() with each of socket_activation_addresses(),
 * with the channel argument GRPC_ARG_ALLOW_REUSEPORT set to 0; after
 * grpc_server_start(), socket_activation_check_claimed() must return 0. */

/* Takes over the sockets systemd passed ($LISTEN_FDS, which are unset).
 * Keeps the listening TCP sockets, the metrics socket and the named
 * descriptors of the fd store (socket_activation_take_stored()); anything
 * else is logged and closed.  Returns how many of the API's listening
 * sockets were kept (0 when not socket activated), or a negative errno.
 * Once per process. */
int socket_activation_init(void);

/* A listening TCP socket passed with this FileDescriptorName= is the metrics
 * endpoint's (jobrunner-metrics.socket), not the API's: it is kept apart
 * from the sockets above, for socket_activation_take_metrics(). */
#define SOCKET_ACTIVATION_METRICS_NAME "metrics"

/* The metrics socket systemd passed, or -ENOENT; the caller owns it.  Once. */
int socket_activation_take_metrics(void);

/* The other descriptors systemd passed, those of the service's file
 * descriptor store, each with its FDNAME=: *ret_names is NULL-terminated
 * (free each and the array), *ret_fds the descriptors, both NULL when there
 * are none.  Returns their number; the caller owns them.  Once. */
int socket_activation_take_stored(char ***ret_names, int **ret_fds);

/* -EADDRNOTAVAIL, with each unclaimed address logged, if any inherited
 * socket was not taken by a bind() yet; else 0.  The daemon must exit with
 * an error then: systemd would queue connections that nobody accepts. */
int socket_activation_check_claimed(void);

/* The inherited sockets' addresses, for grpc_server_add_http2_port():
 * "192.0.2.1:50051", "[2001:db8::1]:50051", "[::]:50051" (a scope as a
 * numeric "%index"); v4-mapped IPv6 addresses are written as IPv4.  *ret is
 * a NULL-terminated array, freed with socket_activation_addresses_free().
 * Returns the count, or a negative errno. */
int socket_activation_addresses(char ***ret);
char **socket_activation_addresses_free(char **l);

/* Whether a bind() to "requested" claims the socket bound to "inherited":
 * both IPv4 or IPv6 and the same non-zero port and address, where a
 * v4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address a.b.c.d and
 * the IPv6 scope must agree.  So 127.0.0.1 matches ::ffff:127.0.0.1,
 * 0.0.0.0 matches 0.0.0.0 and :: matches :: (dual-stack or not), but ::
 * never matches 0.0.0.0 and port 0 never matches anything.  Pure. */
bool socket_activation_address_matches(
                const struct sockaddr *requested, socklen_t requested_len,
                const struct sockaddr *inherited, socklen_t inherited_len);
