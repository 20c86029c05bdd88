/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The server's address resolved the way every other tool on the host
 * resolves it (getaddrinfo(): /etc/hosts, then DNS, through NSS as
 * nsswitch.conf says), once, before gRPC is asked to connect.  gRPC's own
 * "dns:" resolver (c-ares) never asks NSS, so names that systemd-resolved,
 * myhostname or mDNS resolve fail for it alone, and it retries a name
 * that does not resolve until the call's deadline instead of saying so. */

#include <netdb.h>

#include "error.h"

typedef struct ResolvedServer {
        char *target;   /* for grpc_channel_create(): "ipv4:A:P,B:P" or "ipv6:[A]:P,..." */
        char *host;     /* the host as given, without brackets: the name the certificate must carry */
} ResolvedServer;

/* server is normalized "HOST:PORT" or "[IPV6]:PORT" (normalize_server()).
 * A failure to resolve is CLI_EXIT_UNAVAILABLE with getaddrinfo()'s reason. */
int resolve_server(const char *server, ResolvedServer *ret, CliError *e);

/* The target for a list of addresses, as resolve_server() builds it; pure,
 * for the tests.  With both families, IPv4 addresses are written as
 * IPv4-mapped IPv6 addresses, so that one target keeps getaddrinfo()'s
 * order. */
int resolve_target_from_addrinfo(const struct addrinfo *ai, char **ret);

void resolved_server_done(ResolvedServer *r);
