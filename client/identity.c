/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "identity.h"
#include "macro.h"

static void X509_freep(X509 **x) {
        X509_free(*x);
}

static void EVP_PKEY_freep(EVP_PKEY **k) {
        EVP_PKEY_free(*k);
}

static int read_cert(const char *path, X509 **ret, CliError *e) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");

        if (!f)
                return cli_error(e, CLI_EXIT_CONFIG, -errno, "cannot read the client certificate %s: %m", path);
        *ret = PEM_read_X509(f, NULL, NULL, NULL);
        ERR_clear_error();
        if (!*ret)
                return cli_error(e, CLI_EXIT_CONFIG, -EBADMSG,
                                 "%s is not a PEM certificate (\"-----BEGIN CERTIFICATE-----\")", path);
        return 0;
}

static char *name_entry(X509_NAME *name, int nid) {
        unsigned char *utf8 = NULL;
        char *s;
        int i, n;

        i = X509_NAME_get_index_by_NID(name, nid, -1);
        if (i < 0)
                return NULL;
        n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
        if (n < 0)
                return NULL;
        s = strndup((const char *) utf8, (size_t) n);
        OPENSSL_free(utf8);
        return s;
}

static int64_t asn1_time_seconds(const ASN1_TIME *t) {
        struct tm tm = {};

        if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
                return 0;
        return (int64_t) timegm(&tm);
}

int identity_load(const char *cert_path, Identity *ret, CliError *e) {
        _cleanup_(X509_freep) X509 *x = NULL;
        X509_NAME *subject;
        int r;

        r = read_cert(cert_path, &x, e);
        if (r < 0)
                return r;
        subject = X509_get_subject_name(x);
        *ret = (Identity) {
                .cn = name_entry(subject, NID_commonName),
                .ou = name_entry(subject, NID_organizationalUnitName),
                .not_before = asn1_time_seconds(X509_get0_notBefore(x)),
                .not_after = asn1_time_seconds(X509_get0_notAfter(x)),
        };
        return 0;
}

void identity_done(Identity *id) {
        free(id->cn);
        free(id->ou);
        *id = (Identity) {};
}

char *identity_describe(const Identity *id) {
        char *s;
        int r;

        if (id->ou)
                r = asprintf(&s, "%s (role %s)", id->cn ?: "(no CN)", id->ou);
        else
                r = asprintf(&s, "%s (no role: the certificate has no OU)", id->cn ?: "(no CN)");
        if (r < 0)
                return NULL;
        return s;
}

int identity_check_key_pair(const char *cert_path, const char *key_path, CliError *e) {
        _cleanup_(X509_freep) X509 *x = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        int r;

        r = read_cert(cert_path, &x, e);
        if (r < 0)
                return r;
        f = fopen(key_path, "re");
        if (!f)
                return cli_error(e, CLI_EXIT_CONFIG, -errno, "cannot read the client key %s: %m", key_path);
        /* No passphrase prompt: gRPC could not use an encrypted key
         * anyway. */
        k = PEM_read_PrivateKey(f, NULL, NULL, (void *) "");
        ERR_clear_error();
        if (!k)
                return cli_error(e, CLI_EXIT_CONFIG, -EBADMSG,
                                 "the client key %s is not an unencrypted PEM private key", key_path);
        if (X509_check_private_key(x, k) != 1) {
                ERR_clear_error();
                return cli_error(e, CLI_EXIT_CONFIG, -EKEYREJECTED,
                                 "the key %s does not belong to the certificate %s", key_path, cert_path);
        }
        return 0;
}

static void X509_STORE_freep(X509_STORE **s) {
        X509_STORE_free(*s);
}

static void X509_STORE_CTX_freep(X509_STORE_CTX **c) {
        X509_STORE_CTX_free(*c);
}

/* Whether the CA file signed the certificate; NULL if it did, else why
 * not (a static string). */
static const char *verify_with(X509 *x, const char *ca_path) {
        _cleanup_(X509_STORE_freep) X509_STORE *store = X509_STORE_new();
        _cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        X509_VERIFY_PARAM *param;
        int err;

        if (!store || !ctx || X509_STORE_load_file(store, ca_path) != 1 ||
            X509_STORE_CTX_init(ctx, store, x, NULL) != 1) {
                ERR_clear_error();
                return "cannot be checked against it";
        }
        /* Expiry and usage are reported on their own. */
        param = X509_STORE_CTX_get0_param(ctx);
        X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
        if (X509_verify_cert(ctx) == 1)
                return NULL;
        err = X509_STORE_CTX_get_error(ctx);
        ERR_clear_error();
        return X509_verify_cert_error_string(err);
}

int identity_diagnose(const char *cert_path, const char *ca_path, int64_t now, char **ret) {
        _cleanup_(X509_freep) X509 *x = NULL;
        char *buf = NULL, date[64];
        size_t size = 0;
        const char *why;
        uint32_t xku;
        FILE *f;
        int64_t t;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        if (read_cert(cert_path, &x, NULL) < 0) {
                fprintf(f, " %s cannot be read as a certificate.", cert_path);
                goto finish;
        }

        t = asn1_time_seconds(X509_get0_notAfter(x));
        if (t > 0 && t < now) {
                time_t tt = (time_t) t;
                struct tm tm;

                strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&tt, &tm));
                fprintf(f, " It expired on %s.", date);
        }
        t = asn1_time_seconds(X509_get0_notBefore(x));
        if (t > now) {
                time_t tt = (time_t) t;
                struct tm tm;

                strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&tt, &tm));
                fprintf(f, " It is not valid before %s.", date);
        }

        /* No extendedKeyUsage at all allows every use. */
        xku = X509_get_extended_key_usage(x);
        if ((X509_get_extension_flags(x) & EXFLAG_XKUSAGE) && !(xku & XKU_SSL_CLIENT))
                fprintf(f, " It is not a client certificate (its extendedKeyUsage lacks clientAuth).");

        if (ca_path) {
                why = verify_with(x, ca_path);
                if (why)
                        fprintf(f, " It is not signed by the CA in %s, which this client trusts (%s).", ca_path,
                                why);
        }

finish:
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}
