/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The caller's identity: the RFC 2253 subject parser and the authorization
 * that follows it (daemon/rfc2253.c, daemon/authz.c).
 *
 * The first byte chooses how the rest is read:
 *   even: raw bytes, "CN\0SUBJECT", as a peer's certificate could make gRPC
 *         hand them to us;
 *   odd:  a distinguished name built with OpenSSL from (attribute, string
 *         type, value) triples, which OpenSSL then prints as gRPC does
 *         (X509_NAME_print_ex() with XN_FLAG_RFC2253) and names the first CN
 *         as gRPC does (ASN1_STRING_to_UTF8()).  Our parser must then read
 *         back exactly what OpenSSL wrote: every attribute, in its RDN, with
 *         its type and value.
 * Either way, an accepted identity must be the certificate's only CN and
 * only OU, and authz_check() must keep the policy's promise that a
 * permission denial never depends on the job. */

#include <errno.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <string.h>

#include "authz.h"
#include "fuzz.h"
#include "macro.h"
#include "rfc2253.h"

/* ---- what every identity must satisfy ------------------------------------ */

static void check_policy(const AuthzIdentity *who) {
        const char *owners[] = { NULL, who->name, "somebody-else" };

        for (AuthzMethod m = 0; m < _AUTHZ_METHOD_MAX; m++)
                for (int named = 0; named <= 1; named++) {
                        bool any_permission = false, all_permission = true;

                        for (size_t i = 0; i < ELEMENTSOF(owners); i++) {
                                AuthzDecision d = authz_check(who, m, owners[i], named);

                                any_permission |= d == AUTHZ_DENY_PERMISSION;
                                all_permission &= d == AUTHZ_DENY_PERMISSION;
                        }
                        FUZZ_CHECK(any_permission == all_permission,
                                   "%s: PERMISSION_DENIED for %s depends on the job's owner",
                                   authz_role_to_string(who->role), authz_method_to_string(m));
                }
        FUZZ_CHECK(authz_check_list_owner(who, who->name) == AUTHZ_ALLOW, "may not list own jobs");
}

/* Runs the daemon's check; returns its result after checking what holds for
 * any input. */
static int identify(const char *cn, const char *subject, AuthzIdentity *ret) {
        _cleanup_free_ char *error = NULL;
        AuthzIdentity who = {};
        int r;

        r = authz_identity_from_subject(cn, subject, &who, &error);
        if (r < 0) {
                FUZZ_CHECK(r == -ENOKEY || r == -EKEYREJECTED || r == -EPERM || r == -ENOMEM,
                           "unexpected error %d", r);
                FUZZ_CHECK(error || r == -ENOMEM, "error %d without a message", r);
                return r;
        }
        FUZZ_CHECK(!error, "a message although it succeeded");
        FUZZ_CHECK(cn && strcmp(who.name, cn) == 0, "identity \"%s\" is not the CN", who.name);
        FUZZ_CHECK(strlen(who.name) >= 1 && strlen(who.name) <= AUTHZ_NAME_MAX, "name of %zu bytes",
                   strlen(who.name));
        FUZZ_CHECK(authz_role_to_string(who.role), "role %d out of range", (int) who.role);
        check_policy(&who);
        *ret = who;
        return 0;
}

/* Every attribute's string, as the authorization would take it: must not
 * crash, whatever the value. */
static void parse_raw(const char *subject) {
        _cleanup_(rfc2253_name_done) Rfc2253Name name = {};

        if (rfc2253_parse(subject, &name) < 0)
                return;
        for (size_t i = 0; i < name.n_attributes; i++) {
                char *s = NULL;
                size_t n = 0;

                FUZZ_CHECK(name.attributes[i].rdn < name.n_rdns, "RDN index out of range");
                if (rfc2253_attribute_string(&name.attributes[i], &s, &n) >= 0) {
                        FUZZ_CHECK(s[n] == 0, "string not terminated");
                        free(s);
                }
        }
}

static void fuzz_raw(FuzzInput *in) {
        _cleanup_free_ char *cn = fuzz_string(in, NULL), *subject = fuzz_string(in, NULL);
        AuthzIdentity who;

        if (!cn || !subject)
                return;
        parse_raw(subject);
        /* Also without a CN property, as gRPC may leave it out. */
        (void) identify(cn[0] ? cn : NULL, subject, &who);
}

/* ---- names as OpenSSL prints them ----------------------------------------- */

static const int attribute_nids[] = {
        NID_commonName, NID_organizationalUnitName, NID_organizationName, NID_localityName,
        NID_countryName, NID_domainComponent, NID_pkcs9_emailAddress, NID_userId,
        NID_serialNumber, NID_title,
        NID_undef,      /* an OID OpenSSL has no name for */
};
#define UNKNOWN_OID "1.3.6.1.4.1.32473.1"

static const int string_types[] = {
        V_ASN1_UTF8STRING, V_ASN1_PRINTABLESTRING, V_ASN1_IA5STRING, V_ASN1_T61STRING,
        V_ASN1_BMPSTRING, V_ASN1_UNIVERSALSTRING, V_ASN1_VISIBLESTRING, V_ASN1_NUMERICSTRING,
        V_ASN1_OCTET_STRING, MBSTRING_UTF8, MBSTRING_ASC,
};

static void bio_freep(BIO **b) {
        BIO_free(*b);
}

static void x509_name_freep(X509_NAME **n) {
        X509_NAME_free(*n);
}

static void asn1_object_freep(ASN1_OBJECT **o) {
        ASN1_OBJECT_free(*o);
}

/* The attribute's value as gRPC's CN property has it: UTF-8. */
static int entry_utf8(const X509_NAME_ENTRY *e, char **ret, size_t *ret_size) {
        unsigned char *utf8 = NULL;
        int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));

        if (n < 0)
                return -EINVAL;
        *ret = malloc((size_t) n + 1);
        if (*ret) {
                if (n > 0)
                        memcpy(*ret, utf8, (size_t) n);
                (*ret)[n] = 0;
        }
        OPENSSL_free(utf8);
        *ret_size = (size_t) n;
        return *ret ? 0 : -ENOMEM;
}

/* The attribute's value as X509_NAME_print_ex() renders it before escaping
 * (which is not always what ASN1_STRING_to_UTF8() makes of it): what our
 * parser must read back. */
static int entry_text(const X509_NAME_ENTRY *e, char **ret, size_t *ret_size) {
        _cleanup_(bio_freep) BIO *bio = BIO_new(BIO_s_mem());
        char *contents;
        long len;

        if (!bio || ASN1_STRING_print_ex(bio, X509_NAME_ENTRY_get_data(e), ASN1_STRFLGS_UTF8_CONVERT) < 0)
                return -EINVAL;
        len = BIO_get_mem_data(bio, &contents);
        *ret = malloc((size_t) len + 1);
        if (!*ret)
                return -ENOMEM;
        if (len > 0)
                memcpy(*ret, contents, (size_t) len);
        (*ret)[len] = 0;
        *ret_size = (size_t) len;
        return 0;
}

static X509_NAME *build_name(FuzzInput *in) {
        _cleanup_(x509_name_freep) X509_NAME *name = X509_NAME_new();
        _cleanup_(asn1_object_freep) ASN1_OBJECT *unknown = OBJ_txt2obj(UNKNOWN_OID, 1);

        if (!name || !unknown)
                return NULL;
        while (in->size >= 3) {
                int nid = attribute_nids[fuzz_byte(in) % ELEMENTSOF(attribute_nids)];
                uint8_t t = fuzz_byte(in);
                int type = string_types[(t & 0x7f) % ELEMENTSOF(string_types)];
                size_t len = fuzz_byte(in) % 80;
                /* High bit: the same RDN as the attribute before. */
                int set = (t & 0x80) && X509_NAME_entry_count(name) > 0 ? -1 : 0;

                if (len > in->size)
                        len = in->size;
                if (nid == NID_undef)
                        (void) X509_NAME_add_entry_by_OBJ(name, unknown, type, in->data, (int) len, -1, set);
                else
                        (void) X509_NAME_add_entry_by_NID(name, nid, type, in->data, (int) len, -1, set);
                in->data += len;
                in->size -= len;
        }
        return TAKE_PTR(name);
}

/* Compares our reading of OpenSSL's rendering with the name itself. */
static void check_parse(X509_NAME *name, const char *subject) {
        _cleanup_(rfc2253_name_done) Rfc2253Name parsed = {};
        int n = X509_NAME_entry_count(name), r, prev_set = -1;
        size_t rdn = 0;

        r = rfc2253_parse(subject, &parsed);
        FUZZ_CHECK(r == 0, "OpenSSL's \"%s\" does not parse: %d", subject, r);
        FUZZ_CHECK(parsed.n_attributes == (size_t) n, "\"%s\": %zu attributes, OpenSSL has %d", subject,
                   parsed.n_attributes, n);

        /* XN_FLAG_RFC2253 prints the last attribute first. */
        for (int k = 0; k < n; k++) {
                const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, n - 1 - k);
                const Rfc2253Attribute *a = &parsed.attributes[k];
                const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
                const ASN1_STRING *data = X509_NAME_ENTRY_get_data(e);
                int nid = OBJ_obj2nid(obj), set = X509_NAME_ENTRY_set(e);
                char oid[80];
                const char *sn;

                if (k > 0 && set != prev_set)
                        rdn++;
                prev_set = set;
                FUZZ_CHECK(a->rdn == rdn, "\"%s\": attribute %d in RDN %zu, not %zu", subject, k, a->rdn, rdn);

                OBJ_obj2txt(oid, sizeof(oid), obj, 1);
                sn = nid != NID_undef ? OBJ_nid2sn(nid) : oid;
                FUZZ_CHECK(rfc2253_type_is(a->type, sn, oid), "\"%s\": attribute %d is \"%s\", not %s",
                           subject, k, a->type, sn);

                if (!a->value_is_ber) {
                        _cleanup_free_ char *utf8 = NULL;
                        size_t size = 0;

                        FUZZ_CHECK(entry_text(e, &utf8, &size) == 0, "\"%s\": printed, but not alone", subject);
                        FUZZ_CHECK(a->value_size == size && memcmp(a->value, utf8, size) == 0,
                                   "\"%s\": attribute %d reads back as other bytes", subject, k);
                } else if (ASN1_STRING_type(data) == V_ASN1_UTF8STRING) {
                        _cleanup_free_ char *s = NULL;
                        size_t size = 0;

                        r = rfc2253_attribute_string(a, &s, &size);
                        FUZZ_CHECK(r == 0, "\"%s\": attribute %d: DER UTF8String refused: %d", subject, k, r);
                        FUZZ_CHECK(size == (size_t) ASN1_STRING_length(data) &&
                                   memcmp(s, ASN1_STRING_get0_data(data), size) == 0,
                                   "\"%s\": attribute %d: DER UTF8String reads back as other bytes", subject, k);
                }
        }
}

/* The only entry of a type; NULL if there is none or more than one. */
static const X509_NAME_ENTRY *only_entry(X509_NAME *name, int nid) {
        int i = X509_NAME_get_index_by_NID(name, nid, -1);

        if (i < 0 || X509_NAME_get_index_by_NID(name, nid, i) >= 0)
                return NULL;
        return X509_NAME_get_entry(name, i);
}

static bool is_plain_name(const char *s, size_t n) {
        if (n < 1 || n > AUTHZ_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
                        return false;
        return true;
}

static void check_identity(X509_NAME *name, const char *cn, const char *subject) {
        const X509_NAME_ENTRY *cn_entry = only_entry(name, NID_commonName),
                              *ou_entry = only_entry(name, NID_organizationalUnitName);
        _cleanup_free_ char *cn_utf8 = NULL, *ou_utf8 = NULL;
        size_t cn_size = 0, ou_size = 0;
        bool plain = false;
        AuthzIdentity who;
        int r;

        if (cn_entry && ou_entry && entry_utf8(cn_entry, &cn_utf8, &cn_size) == 0 &&
            entry_text(ou_entry, &ou_utf8, &ou_size) == 0)
                for (AuthzRole role = 0; role < _AUTHZ_ROLE_MAX; role++)
                        plain |= ou_size == strlen(authz_role_to_string(role)) &&
                                 memcmp(ou_utf8, authz_role_to_string(role), ou_size) == 0 &&
                                 is_plain_name(cn_utf8, cn_size);

        r = identify(cn, subject, &who);
        if (r < 0) {
                FUZZ_CHECK(!plain, "\"%s\" with CN \"%s\" refused: %d", subject, cn, r);
                return;
        }
        FUZZ_CHECK(cn_entry && ou_entry, "\"%s\" accepted without exactly one CN and one OU", subject);
        FUZZ_CHECK(cn_utf8 && cn_size == strlen(who.name) && memcmp(cn_utf8, who.name, cn_size) == 0,
                   "\"%s\": identity \"%s\" is not the certificate's CN", subject, who.name);
        FUZZ_CHECK(ou_utf8 && ou_size == strlen(authz_role_to_string(who.role)) &&
                   memcmp(ou_utf8, authz_role_to_string(who.role), ou_size) == 0,
                   "\"%s\": role %s is not the certificate's OU", subject, authz_role_to_string(who.role));
}

static void fuzz_openssl(FuzzInput *in) {
        _cleanup_(x509_name_freep) X509_NAME *name = build_name(in);
        _cleanup_(bio_freep) BIO *bio = BIO_new(BIO_s_mem());
        _cleanup_free_ char *subject = NULL, *cn = NULL;
        char *contents;
        long len;
        int i;

        if (!name || !bio)
                return;
        /* What gRPC does; a name OpenSSL cannot print never reaches us. */
        if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0)
                return;
        len = BIO_get_mem_data(bio, &contents);
        subject = len > 0 ? strndup(contents, (size_t) len) : strdup("");
        if (!subject)
                return;

        /* gRPC's CN property: the first CN, as UTF-8, which the daemon
         * reads up to a NUL; none at all if there is no CN. */
        i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
        if (i >= 0) {
                _cleanup_free_ char *utf8 = NULL;
                size_t size;

                if (entry_utf8(X509_NAME_get_entry(name, i), &utf8, &size) < 0)
                        return;         /* gRPC fails the handshake */
                cn = strndup(utf8, size);
                if (!cn)
                        return;
        }

        check_parse(name, subject);
        check_identity(name, cn, subject);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        FuzzInput in = { data, size };

        if (fuzz_byte(&in) & 1)
                fuzz_openssl(&in);
        else
                fuzz_raw(&in);
        return 0;
}
