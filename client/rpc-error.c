/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "format.h"
#include "rpc-error.h"
#include "status.h"

static bool contains(const char *haystack, const char *const *needles) {
        for (; *needles; needles++)
                if (strcasestr(haystack, *needles))
                        return true;
        return false;
}

Unavailable classify_unavailable(const char *details) {
        static const char *const dns[] = {
                "DNS resolution failed", "Domain name not found", "name resolution", "Could not resolve", NULL,
        };
        static const char *const connect[] = {
                "Failed to connect to remote host", "Connection refused", "No route to host",
                "Network is unreachable", "Host is unreachable", NULL,
        };
        /* The server closed the connection in the handshake: with TLS 1.3
         * that is how a refused client certificate looks (gRPC's server
         * does not send the alert OpenSSL prepared); the alerts are there
         * for servers that do send them. */
        static const char *const closed[] = {
                "Socket closed", "Handshaker shutdown", "TSI handshake shutdown", "Handshake read failed",
                "Handshake write failed", "Connection reset", "Broken pipe", "End of TCP stream",
                "unexpected eof", "alert certificate required", "alert bad certificate", "alert unknown ca",
                "alert certificate expired", "alert unsupported certificate", "alert certificate revoked",
                "alert access denied", NULL,
        };
        /* Something that does not speak TLS, or not our TLS, answered. */
        static const char *const not_tls[] = {
                "wrong version number", "packet length too long", "Handshake timed out", "http request",
                "no application protocol", NULL,
        };
        /* Our side of the handshake refused the server's certificate. */
        static const char *const server_cert[] = {
                "certificate verify failed", "CERTIFICATE_VERIFY_FAILED", "Peer name", "not in peer certificate",
                "Cert verification failed", "Ssl handshake failed", "Handshake failed", NULL,
        };

        if (!details)
                return UNAVAILABLE_OTHER;
        if (contains(details, dns))
                return UNAVAILABLE_DNS;
        /* Before "connect": gRPC wraps every failure in "failed to connect
         * to all addresses". */
        if (contains(details, closed))
                return UNAVAILABLE_CLOSED;
        if (contains(details, not_tls))
                return UNAVAILABLE_NOT_TLS;
        if (contains(details, server_cert))
                return UNAVAILABLE_SERVER_CERT;
        if (contains(details, connect))
                return UNAVAILABLE_CONNECT;
        return UNAVAILABLE_OTHER;
}

int rpc_exit_status(int code) {
        switch (code) {
        case JR_CODE_OK:
                return CLI_EXIT_OK;
        case JR_CODE_INVALID_ARGUMENT:
                return CLI_EXIT_USAGE;
        case JR_CODE_NOT_FOUND:
                return CLI_EXIT_NOT_FOUND;
        case JR_CODE_PERMISSION_DENIED:
        case JR_CODE_UNAUTHENTICATED:
                return CLI_EXIT_PERMISSION;
        case JR_CODE_DEADLINE_EXCEEDED:
                return CLI_EXIT_TIMEOUT;
        case JR_CODE_UNAVAILABLE:
                return CLI_EXIT_UNAVAILABLE;
        default:
                return CLI_EXIT_API;
        }
}

const char *rpc_details_cause(const char *details) {
        const char *p = details, *q;

        while ((q = strstr(p, ": ")))
                p = q + 2;
        return *p ? p : details;
}

/* details without a leading "prefix: " the server may have put in
 * already. */
static const char *without_prefix(const char *details, const char *prefix) {
        size_t n = strlen(prefix);

        if (strncasecmp(details, prefix, n) == 0 && details[n] == ':' && details[n + 1] == ' ')
                return details + n + 2;
        return details;
}

static int unavailable(const RpcErrorContext *ctx, const char *details, CliError *e) {
        const char *server = ctx->server ?: "the server";

        switch (classify_unavailable(details)) {
        case UNAVAILABLE_DNS:
                return cli_error(e, CLI_EXIT_UNAVAILABLE, -EHOSTUNREACH,
                                 "cannot connect to %s: the host name does not resolve (%s)", server, details);
        case UNAVAILABLE_CONNECT:
                return cli_error(e, CLI_EXIT_UNAVAILABLE, -ECONNREFUSED,
                                 "cannot connect to %s: %s (is jobrunner.socket listening there? see --server)",
                                 server, rpc_details_cause(details));
        case UNAVAILABLE_NOT_TLS:
                return cli_error(e, CLI_EXIT_UNAVAILABLE, -EPROTO,
                                 "no TLS handshake with %s: is it a jobrunner server, and the port right? (%s)",
                                 server, details);
        case UNAVAILABLE_SERVER_CERT:
                if (ctx->tls_server_name)
                        return cli_error(e, CLI_EXIT_UNAVAILABLE, -EPROTO,
                                         "TLS handshake with %s failed: the server's certificate was not accepted: "
                                         "it must be signed by the CA in %s and be issued for %s, the TLS server "
                                         "name (%s)", server, ctx->ca ?: "--ca", ctx->tls_server_name, details);
                return cli_error(e, CLI_EXIT_UNAVAILABLE, -EPROTO,
                                 "TLS handshake with %s failed: the server's certificate was not accepted: it must "
                                 "be signed by the CA in %s and be issued for the name you connect to (%s)",
                                 server, ctx->ca ?: "--ca", details);
        case UNAVAILABLE_CLOSED:
                if (ctx->reached_server)
                        break;
                /* TLS 1.3 ends the client's side of the handshake before
                 * the server has looked at the client certificate: a
                 * refusal comes as a closed connection, with no reason. */
                if (ctx->cert_diagnosis && ctx->cert_diagnosis[0])
                        return cli_error(e, CLI_EXIT_UNAVAILABLE, -EKEYREJECTED,
                                         "%s closed the connection during the TLS handshake: it refused the client "
                                         "certificate %s%s%s%s.%s", server, ctx->cert ?: "",
                                         ctx->who ? " (" : "", ctx->who ?: "", ctx->who ? ")" : "",
                                         ctx->cert_diagnosis);
                return cli_error(e, CLI_EXIT_UNAVAILABLE, -EKEYREJECTED,
                                 "%s closed the connection during the TLS handshake (%s): it most likely refused "
                                 "the client certificate %s%s%s%s. Likely causes: the certificate is not signed by "
                                 "the server's CA, has expired, or is not a client certificate; or %s is not a "
                                 "jobrunner server", server, details, ctx->cert ?: "",
                                 ctx->who ? " (" : "", ctx->who ?: "", ctx->who ? ")" : "", server);
        default:
                break;
        }
        return cli_error(e, CLI_EXIT_UNAVAILABLE, -ESHUTDOWN,
                         "%s is unavailable: %s (if it is restarting, retry)", server, details);
}

int rpc_error(const RpcErrorContext *ctx, int code, const char *details, const char *what, CliError *e) {
        const RpcErrorContext empty = {};
        const char *name = jr_code_to_string((JrCode) code) ?: "UNKNOWN";
        char t[FORMAT_TIMESPAN_MAX];
        int x = rpc_exit_status(code);

        if (!ctx)
                ctx = &empty;
        if (!details || !details[0])
                details = name;

        switch (code) {
        case JR_CODE_UNAVAILABLE:
                return unavailable(ctx, details, e);
        case JR_CODE_NOT_FOUND:
                if (what)
                        return cli_error(e, x, -ENOENT, "%s: no such job, or not visible to you%s%s", what,
                                         ctx->who ? ", " : "", ctx->who ?: "");
                return cli_error(e, x, -ENOENT, "not found: %s", details);
        case JR_CODE_PERMISSION_DENIED:
                if (!ctx->who)
                        return cli_error(e, x, -EACCES, "permission denied%s%s: %s", what ? " for " : "", what ?: "",
                                         without_prefix(details, "permission denied"));
                return cli_error(e, x, -EACCES, "permission denied%s%s: %s (you are %s, according to %s)",
                                 what ? " for " : "", what ?: "", without_prefix(details, "permission denied"),
                                 ctx->who, ctx->cert ?: "your certificate");
        case JR_CODE_UNAUTHENTICATED:
                return cli_error(e, x, -EKEYREJECTED,
                                 "the server does not accept the identity of the certificate %s: %s (it needs a "
                                 "subject with CN = user name and OU = role)", ctx->cert ?: "", details);
        case JR_CODE_DEADLINE_EXCEEDED:
                if (ctx->timeout_usec > 0)
                        return cli_error(e, x, -ETIMEDOUT, "no answer from %s within %s (see --timeout)",
                                         ctx->server ?: "the server", format_timespan(ctx->timeout_usec, t));
                return cli_error(e, x, -ETIMEDOUT, "no answer from %s in time: %s", ctx->server ?: "the server",
                                 details);
        case JR_CODE_INVALID_ARGUMENT:
                return cli_error(e, x, -EINVAL, "the server refused the request: %s", details);
        case JR_CODE_RESOURCE_EXHAUSTED:
                return cli_error(e, x, -EBUSY, "the server is at a limit: %s", details);
        default:
                if (what)
                        return cli_error(e, x, -EREMOTEIO, "%s: %s", what, details);
                return cli_error(e, x, -EREMOTEIO, "%s: %s", name, details);
        }
}
