/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <criterion/criterion.h>
#include <errno.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tls.h"

/* Criterion forks per test, so each test starts with a fresh OpenSSL. */

Test(tls, the_default_context_is_tls13_only) {
        SSL_CTX *ctx;

        cr_assert_eq(tls_restrict_to_tls13(), 0);
        ctx = SSL_CTX_new(TLS_server_method());
        cr_assert_not_null(ctx);
        /* What gRPC does: ask for TLS >= 1.2.  The configuration must win. */
        cr_assert_eq(SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION), 1);
        cr_assert(SSL_CTX_get_options(ctx) & SSL_OP_NO_TLSv1_2, "TLS 1.2 is still allowed");
        cr_assert_not(SSL_CTX_get_options(ctx) & SSL_OP_NO_TLSv1_3, "TLS 1.3 is not allowed");
        SSL_CTX_free(ctx);
}

Test(tls, without_it_tls12_is_allowed) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

        cr_assert_not_null(ctx);
        cr_assert_not(SSL_CTX_get_options(ctx) & SSL_OP_NO_TLSv1_2);
        SSL_CTX_free(ctx);
}

Test(tls, pem_files_are_read_and_checked) {
        char path[] = "/tmp/jobrunner-tls-test.XXXXXX";
        char *pem = NULL;
        int fd = mkstemp(path);
        FILE *f;

        cr_assert_geq(fd, 0);
        f = fdopen(fd, "w");
        fputs("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", f);
        fclose(f);
        cr_assert_eq(tls_read_pem(path, &pem), 0);
        cr_assert(strstr(pem, "BEGIN CERTIFICATE"));
        free(pem);

        f = fopen(path, "we");
        fputs("not a pem file\n", f);
        fclose(f);
        cr_assert_eq(tls_read_pem(path, &pem), -EBADMSG);
        unlink(path);
        cr_assert_eq(tls_read_pem(path, &pem), -ENOENT);
        cr_assert_eq(tls_read_pem("/dev/null", &pem), -EBADFD);
}
