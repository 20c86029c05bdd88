/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The gRPC target the CLI builds from what getaddrinfo() gave
 * (client/resolve.h). */

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "resolve.h"

static struct sockaddr_in v4(const char *a, unsigned port) {
        struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };

        cr_assert_eq(inet_pton(AF_INET, a, &in.sin_addr), 1);
        return in;
}

static struct sockaddr_in6 v6(const char *a, unsigned port, uint32_t scope) {
        struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t) port), .sin6_scope_id = scope };

        cr_assert_eq(inet_pton(AF_INET6, a, &in6.sin6_addr), 1);
        return in6;
}

static struct addrinfo entry(void *sa, struct addrinfo *next) {
        int family = ((struct sockaddr *) sa)->sa_family;

        return (struct addrinfo) {
                .ai_family = family,
                .ai_socktype = SOCK_STREAM,
                .ai_addr = sa,
                .ai_addrlen = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6),
                .ai_next = next,
        };
}

Test(resolve, ipv4_only) {
        struct sockaddr_in a = v4("192.0.2.1", 50051), b = v4("192.0.2.2", 50051);
        struct addrinfo second = entry(&b, NULL), first = entry(&a, &second);
        char *t = NULL;

        cr_assert_eq(resolve_target_from_addrinfo(&first, &t), 0);
        cr_assert_str_eq(t, "ipv4:192.0.2.1:50051,192.0.2.2:50051");
        free(t);
}

Test(resolve, ipv6_only_with_a_zone) {
        struct sockaddr_in6 a = v6("2001:db8::1", 443, 0), b = v6("fe80::1", 443, 3);
        struct addrinfo second = entry(&b, NULL), first = entry(&a, &second);
        char *t = NULL;

        cr_assert_eq(resolve_target_from_addrinfo(&first, &t), 0);
        cr_assert_str_eq(t, "ipv6:[2001:db8::1]:443,[fe80::1%253]:443");
        free(t);
}

/* Both families in one target, in getaddrinfo()'s order. */
Test(resolve, both_families_keep_their_order) {
        struct sockaddr_in6 a = v6("::1", 50051, 0);
        struct sockaddr_in b = v4("127.0.0.1", 50051);
        struct addrinfo second = entry(&b, NULL), first = entry(&a, &second);
        char *t = NULL;

        cr_assert_eq(resolve_target_from_addrinfo(&first, &t), 0);
        cr_assert_str_eq(t, "ipv6:[::1]:50051,[::ffff:127.0.0.1]:50051");
        free(t);
}

Test(resolve, literals_resolve_without_a_lookup) {
        ResolvedServer r = {};

        cr_assert_eq(resolve_server("[::1]:7", &r, NULL), 0);
        cr_assert_str_eq(r.target, "ipv6:[::1]:7");
        cr_assert_str_eq(r.host, "::1");
        resolved_server_done(&r);

        cr_assert_eq(resolve_server("127.0.0.1:50051", &r, NULL), 0);
        cr_assert_str_eq(r.target, "ipv4:127.0.0.1:50051");
        cr_assert_str_eq(r.host, "127.0.0.1");
        resolved_server_done(&r);
}
