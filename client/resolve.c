/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "macro.h"
#include "resolve.h"

static void freeaddrinfop(struct addrinfo **ai) {
        if (*ai)
                freeaddrinfo(*ai);
}

/* One "[ADDRESS]:PORT" or "ADDRESS:PORT"; mapped: an IPv4 address as
 * ::ffff:a.b.c.d. */
static int format_address(FILE *f, const struct sockaddr *sa, bool mapped) {
        char buf[INET6_ADDRSTRLEN];

        if (sa->sa_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *) sa;

                if (!inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf)))
                        return -errno;
                return fprintf(f, mapped ? "[::ffff:%s]:%u" : "%s:%u", buf, ntohs(in->sin_port)) < 0 ? -EIO : 0;
        }
        if (sa->sa_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;

                if (!inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf)))
                        return -errno;
                /* A link-local address needs its interface. */
                if (in6->sin6_scope_id != 0)
                        return fprintf(f, "[%s%%25%u]:%u", buf, in6->sin6_scope_id, ntohs(in6->sin6_port)) < 0
                                       ? -EIO : 0;
                return fprintf(f, "[%s]:%u", buf, ntohs(in6->sin6_port)) < 0 ? -EIO : 0;
        }
        return -EAFNOSUPPORT;
}

int resolve_target_from_addrinfo(const struct addrinfo *ai, char **ret) {
        bool v4 = false, v6 = false, first = true;
        char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int r = 0;

        for (const struct addrinfo *p = ai; p; p = p->ai_next) {
                v4 |= p->ai_family == AF_INET;
                v6 |= p->ai_family == AF_INET6;
        }
        if (!v4 && !v6)
                return -EADDRNOTAVAIL;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fputs(v6 ? "ipv6:" : "ipv4:", f);
        for (const struct addrinfo *p = ai; p && r >= 0; p = p->ai_next) {
                if (p->ai_family != AF_INET && p->ai_family != AF_INET6)
                        continue;
                if (!first)
                        fputc(',', f);
                first = false;
                r = format_address(f, p->ai_addr, v6);
        }
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0) {
                free(buf);
                return r;
        }
        *ret = buf;
        return 0;
}

int resolve_server(const char *server, ResolvedServer *ret, CliError *e) {
        _cleanup_(freeaddrinfop) struct addrinfo *ai = NULL;
        const struct addrinfo hints = {
                .ai_socktype = SOCK_STREAM,
                .ai_protocol = IPPROTO_TCP,
                .ai_flags = AI_NUMERICSERV,
        };
        _cleanup_free_ char *host = NULL, *target = NULL;
        const char *colon = strrchr(server, ':');
        int r;

        if (!colon || colon == server)
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL, "invalid server address '%s'", server);
        if (server[0] == '[' && colon[-1] == ']')
                host = strndup(server + 1, (size_t) (colon - server - 2));
        else
                host = strndup(server, (size_t) (colon - server));
        if (!host)
                return cli_error_oom(e);

        r = getaddrinfo(host, colon + 1, &hints, &ai);
        if (r == EAI_MEMORY)
                return cli_error_oom(e);
        if (r != 0)
                return cli_error(e, CLI_EXIT_UNAVAILABLE, -EHOSTUNREACH,
                                 "cannot connect to %s: the host name does not resolve (%s)", server,
                                 r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
        r = resolve_target_from_addrinfo(ai, &target);
        if (r == -ENOMEM)
                return cli_error_oom(e);
        if (r < 0)
                return cli_error(e, CLI_EXIT_UNAVAILABLE, -EHOSTUNREACH,
                                 "cannot connect to %s: the host name has no IPv4 or IPv6 address", server);

        *ret = (ResolvedServer) { .target = TAKE_PTR(target), .host = TAKE_PTR(host) };
        return 0;
}

void resolved_server_done(ResolvedServer *r) {
        free(r->target);
        free(r->host);
        *r = (ResolvedServer) {};
}
