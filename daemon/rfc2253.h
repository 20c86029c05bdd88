/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* A parser for the string form of X.509 distinguished names (RFC 2253, with
 * RFC 4514's clarifications), as gRPC hands us a client certificate's
 * subject: OpenSSL's X509_NAME_print_ex(XN_FLAG_RFC2253), e.g.
 * "CN=j\C3\BCrgen,OU=operator+L=x,O=jobrunner".
 *
 * It is strict: no spaces around separators or '=', no ';' as a separator,
 * leading and trailing spaces in a value must be escaped.  OpenSSL never
 * produces anything else, and with an identity at stake a second reading of
 * the same string must be impossible. */

typedef struct Rfc2253Attribute {
        char *type;             /* as written: "CN", "ou", "2.5.4.11" */
        char *value;            /* unescaped bytes, NUL-terminated; see value_size */
        size_t value_size;      /* may contain NULs (from "\00") */
        bool value_is_ber;      /* written as "#hex": value is the BER encoding */
        size_t rdn;             /* index of its RDN: equal for '+'-joined attributes */
} Rfc2253Attribute;

typedef struct Rfc2253Name {
        Rfc2253Attribute *attributes;   /* in string order */
        size_t n_attributes;
        size_t n_rdns;
} Rfc2253Name;

/* "" is the empty name.  -EINVAL on a syntax error, -ENOMEM.  On error *ret is
 * left untouched. */
int rfc2253_parse(const char *s, Rfc2253Name *ret);
void rfc2253_name_done(Rfc2253Name *name);

/* RFC 2253 attribute types are case-insensitive, and the registered ones may
 * also be written as an OID: true if type is short_name or oid. */
bool rfc2253_type_is(const char *type, const char *short_name, const char *oid);

/* The string an attribute holds: its value, or for a "#hex" value the content
 * of a DER UTF8String, PrintableString or IA5String, in a new NUL-terminated
 * buffer (which may contain NULs: see *ret_size).  -EBADMSG for malformed
 * DER, -EOPNOTSUPP for other string types, -ENOMEM. */
int rfc2253_attribute_string(const Rfc2253Attribute *a, char **ret, size_t *ret_size);
