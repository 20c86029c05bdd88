/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the local certificate says about us, read with OpenSSL: the server
 * takes the subject's CN as the user name and its OU as the role, so error
 * messages and list's default owner come from here.  Also the local checks
 * that explain a refused handshake, which the server cannot tell us (with
 * TLS 1.3 the client only sees the connection close). */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef struct Identity {
        char *cn;                       /* NULL if the subject has none */
        char *ou;
        int64_t not_before, not_after;  /* seconds since the epoch */
} Identity;

/* CLI_EXIT_CONFIG errors: unreadable file, not a PEM certificate. */
int identity_load(const char *cert_path, Identity *ret, CliError *e);
void identity_done(Identity *id);

/* "alice (role operator)", "alice (no role: the certificate has no OU)";
 * malloc'd, NULL on OOM. */
char *identity_describe(const Identity *id);

/* Checks that the key file holds the private key of the certificate:
 * CLI_EXIT_CONFIG errors otherwise. */
int identity_check_key_pair(const char *cert_path, const char *key_path, CliError *e);

/* What is wrong with the certificate for a TLS client of a server trusting
 * the CA in ca_path (the CA this client trusts, normally the same):
 * expired, not yet valid, not for client authentication, not signed by
 * that CA.  *ret is "" if nothing was found, else one sentence per
 * finding, each starting with a space.  now: seconds since the epoch.
 * Returns 0 or -ENOMEM. */
int identity_diagnose(const char *cert_path, const char *ca_path, int64_t now, char **ret);
