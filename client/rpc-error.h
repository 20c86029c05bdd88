/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Turns a gRPC status into an error for the user: an exit status from the
 * documented table and a message that names the cause.  gRPC reports every
 * transport failure as UNAVAILABLE with its own wording in the details, so
 * those are told apart here by the words gRPC 1.51 uses. */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef struct RpcErrorContext {
        const char *server;             /* "host:port" */
        const char *cert, *ca;          /* paths, for TLS failures */
        const char *tls_server_name;    /* what the server's certificate must name; NULL: the host */
        const char *who;                /* "alice (role operator)"; NULL if unknown */
        const char *cert_diagnosis;     /* identity_diagnose()'s findings; NULL or "" if none */
        bool reached_server;            /* an earlier call on this connection got the server's answer */
        uint64_t timeout_usec;          /* the deadline the call had; 0 if none */
} RpcErrorContext;

typedef enum Unavailable {
        UNAVAILABLE_DNS,                /* the host name does not resolve */
        UNAVAILABLE_CONNECT,            /* no TCP connection: refused, unreachable */
        UNAVAILABLE_SERVER_CERT,        /* we refused the server's certificate */
        UNAVAILABLE_CLOSED,             /* the server closed the connection */
        UNAVAILABLE_NOT_TLS,            /* whatever answered does not speak our TLS */
        UNAVAILABLE_OTHER,              /* e.g. the server is shutting down */
} Unavailable;

Unavailable classify_unavailable(const char *details);

/* The cause at the end of gRPC's long details, e.g. "Connection refused"
 * of "failed to connect to all addresses; last error: ...: Connection
 * refused"; details itself if there is no ": ". */
const char *rpc_details_cause(const char *details);

/* The exit status for a status code (never 0). */
int rpc_exit_status(int code);

/* Sets e for the non-OK status code with the server's details; what names
 * the object of the call ("job 0123...") for NOT_FOUND and the like, or
 * NULL.  Returns a negative errno. */
int rpc_error(const RpcErrorContext *ctx, int code, const char *details, const char *what, CliError *e);
