/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* TLS set-up shared by the daemon and the CLI (no gRPC here). */

/* Makes every SSL_CTX this process creates TLS 1.3 only, by loading an
 * OpenSSL configuration ("Protocol = -ALL, TLSv1.3") as the process's
 * default.  gRPC 1.51 has no minimum-version setter and asks for TLS >= 1.2
 * itself, but leaves the configured protocol options in place.  Must run
 * before anything initialises OpenSSL, i.e. before grpc_init(). */
int tls_restrict_to_tls13(void);

/* Reads a PEM file (at most 1 MiB) into a NUL-terminated string, as gRPC's
 * credential constructors want them. */
int tls_read_pem(const char *path, char **ret);

/* Erases a string read by tls_read_pem() (a private key, say) and frees
 * it; for _cleanup_().  NULL is fine. */
void tls_erase_and_freep(char **p);
