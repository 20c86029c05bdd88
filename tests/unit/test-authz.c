/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "macro.h"
#include "rfc2253.h"

/* ---- the decision matrix ----------------------------------------------------- */

#define A AUTHZ_ALLOW
#define P AUTHZ_DENY_PERMISSION
#define N AUTHZ_DENY_NOT_FOUND

enum { OWN, FOREIGN, NO_JOB, _JOB_MAX };

/* role × method → decision for {own, foreign, no job} × {plain, named user}.
 * "No job" is Start and List as a whole, or a job that does not exist. */
static const struct {
        AuthzRole role;
        AuthzMethod method;
        AuthzDecision plain[_JOB_MAX], named[_JOB_MAX];
} matrix[] = {
        { AUTHZ_ROLE_ADMIN,    AUTHZ_METHOD_START,  { A, A, A }, { A, A, A } },
        { AUTHZ_ROLE_ADMIN,    AUTHZ_METHOD_STOP,   { A, A, A }, { A, A, A } },
        { AUTHZ_ROLE_ADMIN,    AUTHZ_METHOD_STATUS, { A, A, A }, { A, A, A } },
        { AUTHZ_ROLE_ADMIN,    AUTHZ_METHOD_LIST,   { A, A, A }, { A, A, A } },
        { AUTHZ_ROLE_ADMIN,    AUTHZ_METHOD_WAIT,   { A, A, A }, { A, A, A } },
        { AUTHZ_ROLE_ADMIN,    AUTHZ_METHOD_LOGS,   { A, A, A }, { A, A, A } },
        { AUTHZ_ROLE_ADMIN,    AUTHZ_METHOD_HEALTH, { A, A, A }, { A, A, A } },
        { AUTHZ_ROLE_ADMIN,    AUTHZ_METHOD_ATTACH, { A, A, A }, { A, A, A } },
        { AUTHZ_ROLE_OPERATOR, AUTHZ_METHOD_START,  { A, A, A }, { P, P, P } },
        { AUTHZ_ROLE_OPERATOR, AUTHZ_METHOD_STOP,   { A, N, N }, { P, P, P } },
        { AUTHZ_ROLE_OPERATOR, AUTHZ_METHOD_STATUS, { A, N, N }, { P, P, P } },
        { AUTHZ_ROLE_OPERATOR, AUTHZ_METHOD_LIST,   { A, N, A }, { P, P, P } },
        { AUTHZ_ROLE_OPERATOR, AUTHZ_METHOD_WAIT,   { A, N, N }, { P, P, P } },
        { AUTHZ_ROLE_OPERATOR, AUTHZ_METHOD_LOGS,   { A, N, N }, { P, P, P } },
        { AUTHZ_ROLE_OPERATOR, AUTHZ_METHOD_HEALTH, { A, A, A }, { P, P, P } },
        { AUTHZ_ROLE_OPERATOR, AUTHZ_METHOD_ATTACH, { A, N, N }, { P, P, P } },
        { AUTHZ_ROLE_VIEWER,   AUTHZ_METHOD_START,  { P, P, P }, { P, P, P } },
        { AUTHZ_ROLE_VIEWER,   AUTHZ_METHOD_STOP,   { P, P, P }, { P, P, P } },
        { AUTHZ_ROLE_VIEWER,   AUTHZ_METHOD_STATUS, { A, A, A }, { P, P, P } },
        { AUTHZ_ROLE_VIEWER,   AUTHZ_METHOD_LIST,   { A, A, A }, { P, P, P } },
        { AUTHZ_ROLE_VIEWER,   AUTHZ_METHOD_WAIT,   { A, A, A }, { P, P, P } },
        { AUTHZ_ROLE_VIEWER,   AUTHZ_METHOD_LOGS,   { A, A, A }, { P, P, P } },
        { AUTHZ_ROLE_VIEWER,   AUTHZ_METHOD_HEALTH, { A, A, A }, { P, P, P } },
        { AUTHZ_ROLE_VIEWER,   AUTHZ_METHOD_ATTACH, { P, P, P }, { P, P, P } },
};

Test(authz, full_matrix) {
        static const char *const owners[_JOB_MAX] = { [OWN] = "alice", [FOREIGN] = "bob", [NO_JOB] = NULL };
        size_t checked = 0;

        cr_assert_eq(ELEMENTSOF(matrix), (size_t) _AUTHZ_ROLE_MAX * _AUTHZ_METHOD_MAX);
        for (size_t i = 0; i < ELEMENTSOF(matrix); i++) {
                AuthzIdentity who = { .name = "alice", .role = matrix[i].role };

                for (int j = 0; j < _JOB_MAX; j++) {
                        const char *what = j == OWN ? "own" : j == FOREIGN ? "foreign" : "no";

                        cr_expect_eq(authz_check(&who, matrix[i].method, owners[j], false), matrix[i].plain[j],
                                     "%s %s, %s job", authz_role_to_string(matrix[i].role),
                                     authz_method_to_string(matrix[i].method), what);
                        cr_expect_eq(authz_check(&who, matrix[i].method, owners[j], true), matrix[i].named[j],
                                     "%s %s, %s job, named user", authz_role_to_string(matrix[i].role),
                                     authz_method_to_string(matrix[i].method), what);
                        checked += 2;
                }
        }
        cr_assert_eq(checked, 144);
}

Test(authz, every_role_and_method_is_in_the_matrix_once) {
        for (int r = 0; r < _AUTHZ_ROLE_MAX; r++)
                for (int m = 0; m < _AUTHZ_METHOD_MAX; m++) {
                        int n = 0;
                        for (size_t i = 0; i < ELEMENTSOF(matrix); i++)
                                n += (int) matrix[i].role == r && (int) matrix[i].method == m;
                        cr_expect_eq(n, 1, "role %d method %d", r, m);
                }
}

Test(authz, owner_comparison_is_exact) {
        AuthzIdentity who = { .name = "alice", .role = AUTHZ_ROLE_OPERATOR };

        cr_expect_eq(authz_check(&who, AUTHZ_METHOD_STATUS, "Alice", false), N);
        cr_expect_eq(authz_check(&who, AUTHZ_METHOD_STATUS, "alice2", false), N);
        cr_expect_eq(authz_check(&who, AUTHZ_METHOD_STATUS, "alic", false), N);
        cr_expect_eq(authz_check(&who, AUTHZ_METHOD_STATUS, "", false), N);
}

Test(authz, identities_not_built_by_us_get_nothing) {
        AuthzIdentity bad = { .name = "alice", .role = (AuthzRole) 7 };
        AuthzIdentity neg = { .name = "alice", .role = (AuthzRole) -1 };
        AuthzIdentity admin = { .name = "root", .role = AUTHZ_ROLE_ADMIN };

        cr_expect_eq(authz_check(&bad, AUTHZ_METHOD_STATUS, NULL, false), P);
        cr_expect_eq(authz_check(&neg, AUTHZ_METHOD_LIST, NULL, false), P);
        cr_expect_eq(authz_check(NULL, AUTHZ_METHOD_LIST, NULL, false), P);
        cr_expect_eq(authz_check(&admin, _AUTHZ_METHOD_MAX, NULL, false), P);
        cr_expect_not(authz_list_sees_all(&bad));
        cr_expect_eq(authz_check_list_owner(&bad, NULL), P);
}

Test(authz, list_visibility_and_owner_filter) {
        static const struct {
                AuthzRole role;
                bool sees_all;
                AuthzDecision none, empty, self, other;
        } t[] = {
                { AUTHZ_ROLE_ADMIN,    true,  A, A, A, A },
                { AUTHZ_ROLE_OPERATOR, false, A, A, A, P },
                { AUTHZ_ROLE_VIEWER,   true,  A, A, A, A },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                AuthzIdentity who = { .name = "alice", .role = t[i].role };
                const char *role = authz_role_to_string(t[i].role);

                cr_expect_eq(authz_list_sees_all(&who), t[i].sees_all, "%s", role);
                cr_expect_eq(authz_check_list_owner(&who, NULL), t[i].none, "%s", role);
                cr_expect_eq(authz_check_list_owner(&who, ""), t[i].empty, "%s", role);
                cr_expect_eq(authz_check_list_owner(&who, "alice"), t[i].self, "%s", role);
                cr_expect_eq(authz_check_list_owner(&who, "bob"), t[i].other, "%s", role);
        }
}

Test(authz, decisions_map_to_the_api_errnos) {
        cr_expect_eq(authz_decision_to_errno(A), 0);
        cr_expect_eq(authz_decision_to_errno(P), -EPERM);
        cr_expect_eq(authz_decision_to_errno(N), -ENOENT);
        cr_expect_eq(authz_decision_to_errno((AuthzDecision) 42), -EPERM);
}

Test(authz, names) {
        cr_expect_str_eq(authz_role_to_string(AUTHZ_ROLE_ADMIN), "admin");
        cr_expect_str_eq(authz_role_to_string(AUTHZ_ROLE_OPERATOR), "operator");
        cr_expect_str_eq(authz_role_to_string(AUTHZ_ROLE_VIEWER), "viewer");
        cr_expect_null(authz_role_to_string(_AUTHZ_ROLE_MAX));
        cr_expect_null(authz_role_to_string((AuthzRole) -1));

        cr_expect_str_eq(authz_method_to_string(AUTHZ_METHOD_START), "Start");
        cr_expect_str_eq(authz_method_to_string(AUTHZ_METHOD_STOP), "Stop");
        cr_expect_str_eq(authz_method_to_string(AUTHZ_METHOD_STATUS), "GetStatus");
        cr_expect_str_eq(authz_method_to_string(AUTHZ_METHOD_LIST), "List");
        cr_expect_str_eq(authz_method_to_string(AUTHZ_METHOD_WAIT), "Wait");
        cr_expect_str_eq(authz_method_to_string(AUTHZ_METHOD_LOGS), "Logs");
        cr_expect_str_eq(authz_method_to_string(AUTHZ_METHOD_HEALTH), "Check");
        cr_expect_str_eq(authz_method_to_string(AUTHZ_METHOD_ATTACH), "Attach");
        cr_expect_null(authz_method_to_string(_AUTHZ_METHOD_MAX));
        cr_expect_null(authz_method_to_string((AuthzMethod) -1));
}

#undef A
#undef P
#undef N

/* ---- identity from the certificate --------------------------------------------- */

#define LONG64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct {
        const char *cn, *subject;
        int r;
        AuthzRole role;         /* when r == 0 */
} identities[] = {
        /* Good subjects, as OpenSSL prints them (XN_FLAG_RFC2253: reversed). */
        { "alice", "CN=alice,OU=operator,O=jobrunner",                      0, AUTHZ_ROLE_OPERATOR },
        { "bob",   "CN=bob,OU=admin",                                       0, AUTHZ_ROLE_ADMIN },
        { "carol", "O=jobrunner,OU=viewer,CN=carol",                        0, AUTHZ_ROLE_VIEWER },
        { "bob",   "OU=admin,O=jobrunner",                                  0, AUTHZ_ROLE_ADMIN },     /* no CN in the subject */
        { "alice", "cn=alice,ou=viewer",                                    0, AUTHZ_ROLE_VIEWER },    /* types ignore case */
        { "alice", "2.5.4.3=alice,2.5.4.11=viewer",                         0, AUTHZ_ROLE_VIEWER },    /* types as OIDs */
        { LONG64,  "CN=" LONG64 ",OU=viewer",                               0, AUTHZ_ROLE_VIEWER },    /* 64 bytes is fine */
        { "Alice Smith", "CN=Alice Smith,OU=viewer",                        0, AUTHZ_ROLE_VIEWER },
        /* Escapes. */
        { "a,b",   "CN=a\\,b,OU=admin",                                     0, AUTHZ_ROLE_ADMIN },
        { "a+b",   "CN=a\\+b,OU=viewer",                                    0, AUTHZ_ROLE_VIEWER },
        { "a,b",   "CN=\"a,b\",OU=admin",                                   0, AUTHZ_ROLE_ADMIN },
        { " a ",   "CN=\\ a\\ ,OU=viewer",                                  0, AUTHZ_ROLE_VIEWER },
        { "#a",    "CN=\\#a,OU=viewer",                                     0, AUTHZ_ROLE_VIEWER },
        { "x,OU=admin", "CN=x\\,OU=admin,OU=viewer",                        0, AUTHZ_ROLE_VIEWER },    /* no OU injection via CN */
        { "x",     "CN=x,OU=ad\\,min",                                      -EPERM, 0 },
        { "x",     "CN=x,OU=viewer\\,OU=admin",                             -EPERM, 0 },               /* one OU, "viewer,OU=admin" */
        { "j\xc3\xbcrgen", "CN=j\\C3\\BCrgen,OU=operator",                  0, AUTHZ_ROLE_OPERATOR },  /* hex pairs: UTF-8 bytes */
        { "j\xc3\xbcrgen", "CN=j\\c3\\bcrgen,OU=operator",                  0, AUTHZ_ROLE_OPERATOR },
        { "j\xc3\xbcrgen", "CN=j\xc3\xbcrgen,OU=operator",                  0, AUTHZ_ROLE_OPERATOR },  /* unescaped UTF-8 */
        { "alice", "CN=\\61lice,OU=\\61dmin",                               0, AUTHZ_ROLE_ADMIN },
        /* "#hex": the BER encoding of the value. */
        { "alice", "CN=#0C05616C696365,OU=#0C0561646D696E",                 0, AUTHZ_ROLE_ADMIN },     /* UTF8String */
        { "alice", "CN=#1305616c696365,OU=#160561646d696e",                 0, AUTHZ_ROLE_ADMIN },     /* Printable, IA5 */
        { "alice", "CN=alice,OU=#1E0A00610064006D0069006E",                 -EKEYREJECTED, 0 },        /* BMPString: unsupported */
        { "alice", "CN=alice,OU=#0C0661646D696E",                           -EKEYREJECTED, 0 },        /* length mismatch */
        { "alice", "CN=#0C05616C69636565,OU=admin",                         -EKEYREJECTED, 0 },        /* trailing byte */
        { "alice", "CN=alice,1.2.840.113549.1.9.1=#160161,OU=viewer",       0, AUTHZ_ROLE_VIEWER },    /* other attributes ignored */
        /* Multi-valued RDNs. */
        { "alice", "CN=alice+UID=a1,OU=operator+L=x,O=jobrunner",           0, AUTHZ_ROLE_OPERATOR },
        { "alice", "UID=a1+CN=alice,L=x+OU=operator",                       0, AUTHZ_ROLE_OPERATOR },
        { "alice", "CN=alice,OU=admin+OU=viewer",                           -EKEYREJECTED, 0 },
        /* No role, or not exactly one. */
        { "alice", "CN=alice,O=jobrunner",                                  -ENOKEY, 0 },
        { "alice", "",                                                      -ENOKEY, 0 },
        { "alice", NULL,                                                    -ENOKEY, 0 },
        { "alice", "CN=alice,OU=admin,OU=viewer",                           -EKEYREJECTED, 0 },
        { "alice", "CN=alice,OU=admin,OU=admin",                            -EKEYREJECTED, 0 },
        { "alice", "CN=alice,ou=admin,2.5.4.11=admin",                      -EKEYREJECTED, 0 },
        { "alice", "CN=alice,2.5.4.011=admin",                              -EKEYREJECTED, 0 },        /* not an OID: syntax */
        /* Unknown roles: exact spelling only. */
        { "alice", "CN=alice,OU=root",                                      -EPERM, 0 },
        { "alice", "CN=alice,OU=Admin",                                     -EPERM, 0 },
        { "alice", "CN=alice,OU=admin\\ ",                                  -EPERM, 0 },
        { "alice", "CN=alice,OU=admin\\00",                                 -EPERM, 0 },
        { "alice", "CN=alice,OU=",                                          -EPERM, 0 },
        /* CN: missing, mismatched, unusable. */
        { "",      "CN=,OU=admin",                                          -ENOKEY, 0 },
        { NULL,    "CN=alice,OU=admin",                                     -ENOKEY, 0 },
        { "alice", "CN=mallory,OU=admin",                                   -EKEYREJECTED, 0 },
        { "alice", "CN=alice\\00,OU=admin",                                 -EKEYREJECTED, 0 },        /* NUL-truncated gRPC CN */
        { "alice", "CN=alic,OU=admin",                                      -EKEYREJECTED, 0 },
        { "alice", "CN=Alice,OU=admin",                                     -EKEYREJECTED, 0 },
        { "alice", "CN=alice,CN=bob,OU=admin",                              -EKEYREJECTED, 0 },
        { "alice", "CN=alice+CN=alice,OU=admin",                            -EKEYREJECTED, 0 },
        { LONG64 "a", "OU=admin",                                           -EKEYREJECTED, 0 },
        { "al\nice",  "CN=al\\0Aice,OU=admin",                              -EKEYREJECTED, 0 },
        { "al\tice",  "OU=admin",                                           -EKEYREJECTED, 0 },
        { "\x1b[31malice", "OU=admin",                                      -EKEYREJECTED, 0 },
        { "alice\x7f", "OU=admin",                                          -EKEYREJECTED, 0 },        /* DEL */
        { "alice\xc2\x85", "OU=admin",                                      -EKEYREJECTED, 0 },        /* C1: NEL */
        { "alice\xe2\x80\xae", "OU=admin",                                  -EKEYREJECTED, 0 },        /* RIGHT-TO-LEFT OVERRIDE */
        { "al\xe2\x80\x8bice", "OU=admin",                                  -EKEYREJECTED, 0 },        /* ZERO WIDTH SPACE */
        { "alice\xe2\x81\xa7", "OU=admin",                                  -EKEYREJECTED, 0 },        /* RIGHT-TO-LEFT ISOLATE */
        { "alice\xd8\x9c", "OU=admin",                                      -EKEYREJECTED, 0 },        /* ARABIC LETTER MARK */
        { "\xef\xbb\xbf" "alice", "OU=admin",                               -EKEYREJECTED, 0 },        /* BOM */
        { "alice\xef\xb7\x90", "OU=admin",                                  -EKEYREJECTED, 0 },        /* U+FDD0 */
        { "\xe2\x80\xaa\xe2\x80\xac", "OU=admin",                         -EKEYREJECTED, 0 },        /* LRE, PDF */
        { "\xe2\x81\xa5x", "OU=admin",                                       0, AUTHZ_ROLE_ADMIN },     /* U+2065 (unassigned) passes */
        { "alice\xe2\x80\xa8", "OU=admin",                                  -EKEYREJECTED, 0 },        /* LINE SEPARATOR */
        { "alice\xef\xbf\xbf", "OU=admin",                                  -EKEYREJECTED, 0 },        /* noncharacter */
        { "alice\xff", "OU=admin",                                          -EKEYREJECTED, 0 },        /* not UTF-8 */
        { "\xc0\xaf", "OU=admin",                                           -EKEYREJECTED, 0 },        /* overlong */
        { "\xed\xa0\x80", "OU=admin",                                       -EKEYREJECTED, 0 },        /* surrogate */
        { "\xf4\x90\x80\x80", "OU=admin",                                   -EKEYREJECTED, 0 },        /* > U+10FFFF */
        { "alice\xc3", "OU=admin",                                          -EKEYREJECTED, 0 },        /* truncated */
        /* Subjects that are no RFC 2253 name. */
        { "alice", "CN=alice,OU=admin,",                                    -EKEYREJECTED, 0 },
        { "alice", "CN=alice, OU=admin",                                    -EKEYREJECTED, 0 },
        { "alice", "CN=alice;OU=admin",                                     -EKEYREJECTED, 0 },
        { "alice", "CN=alice,OU=admin ",                                    -EKEYREJECTED, 0 },
        { "alice", "CN=alice,OU=\"admin",                                   -EKEYREJECTED, 0 },
};

Test(identity, table) {
        for (size_t i = 0; i < ELEMENTSOF(identities); i++) {
                AuthzIdentity id = { .name = "untouched", .role = (AuthzRole) 99 };
                _cleanup_free_ char *error = NULL;
                int r;

                r = authz_identity_from_subject(identities[i].cn, identities[i].subject, &id, &error);
                cr_expect_eq(r, identities[i].r, "#%zu subject %s: %d (%s), expected %d", i,
                             identities[i].subject ?: "(null)", r, error ?: "", identities[i].r);
                if (identities[i].r == 0) {
                        cr_expect_null(error, "#%zu", i);
                        if (r == 0) {
                                cr_expect_str_eq(id.name, identities[i].cn, "#%zu", i);
                                cr_expect_eq(id.role, identities[i].role, "#%zu", i);
                        }
                } else {
                        cr_expect_not_null(error, "#%zu: no message", i);
                        cr_expect_str_eq(id.name, "untouched", "#%zu", i);
                        cr_expect_eq((int) id.role, 99, "#%zu", i);
                }
        }
}

Test(identity, messages_escape_what_the_certificate_says) {
        AuthzIdentity id;
        _cleanup_free_ char *e1 = NULL, *e2 = NULL;

        cr_assert_eq(authz_identity_from_subject("alice", "CN=alice,OU=r\\0Aoot\\22", &id, &e1), -EPERM);
        cr_expect_str_eq(e1, "client certificate OU \"r\\x0aoot\\x22\" is not a role (admin, operator, viewer)");
        cr_assert_eq(authz_identity_from_subject("al\nice", "OU=admin", &id, &e2), -EKEYREJECTED);
        cr_expect(strstr(e2, "al\\x0aice"), "%s", e2);
        cr_expect(!strchr(e2, '\n'), "%s", e2);
}

Test(identity, error_message_is_optional) {
        AuthzIdentity id;

        cr_expect_eq(authz_identity_from_subject("alice", "CN=alice,OU=nope", &id, NULL), -EPERM);
        cr_expect_eq(authz_identity_from_subject("alice", "CN=alice,OU=viewer", &id, NULL), 0);
}

/* ---- the RFC 2253 parser ---------------------------------------------------------- */

/* The parse as text: "rdn:type=value" joined by spaces, value bytes outside
 * printable ASCII as \xNN, a BER value prefixed with '#'. */
static char *render(const Rfc2253Name *name) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        cr_assert_not_null(f);
        for (size_t i = 0; i < name->n_attributes; i++) {
                const Rfc2253Attribute *a = &name->attributes[i];

                fprintf(f, "%s%zu:%s=%s", i ? " " : "", a->rdn, a->type, a->value_is_ber ? "#" : "");
                for (size_t j = 0; j < a->value_size; j++) {
                        unsigned char c = (unsigned char) a->value[j];
                        if (c > 0x20 && c < 0x7f)
                                fputc(c, f);
                        else
                                fprintf(f, "\\x%02x", c);
                }
                cr_expect_eq(a->value[a->value_size], 0, "value not NUL-terminated");
        }
        fclose(f);
        return buf;
}

static const struct {
        const char *in, *out;   /* out NULL: -EINVAL */
        size_t n_rdns;
} parses[] = {
        { "",                                   "",                                     0 },
        { "CN=alice",                           "0:CN=alice",                           1 },
        { "CN=alice,OU=admin,O=x",              "0:CN=alice 1:OU=admin 2:O=x",          3 },
        { "CN=a+UID=b,OU=c+L=d+ST=e",           "0:CN=a 0:UID=b 1:OU=c 1:L=d 1:ST=e",   2 },
        { "CN=a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h\\=i", "0:CN=a,b+c\"d\\e<f>g;h=i",         1 },
        { "CN=\\#x",                            "0:CN=#x",                              1 },
        { "CN=a#b",                             "0:CN=a#b",                             1 },
        /* How OpenSSL prints the one-character value "#". */
        { "CN=#",                               "0:CN=#",                               1 },
        { "CN=#,O=x",                           "0:CN=# 1:O=x",                         2 },
        { "CN=#+O=x",                           "0:CN=# 0:O=x",                         1 },
        { "CN=a=b",                             "0:CN=a=b",                             1 },
        { "CN=\\ a b\\ ",                       "0:CN=\\x20a\\x20b\\x20",               1 },
        { "CN=j\\C3\\BCrgen",                   "0:CN=j\\xc3\\xbcrgen",                 1 },
        { "CN=\\00\\0a\\ff",                    "0:CN=\\x00\\x0a\\xff",                 1 },
        { "CN=#0C05616C696365",                 "0:CN=#\\x0c\\x05alice",                1 },
        { "CN=#0c05616c696365+O=x",             "0:CN=#\\x0c\\x05alice 0:O=x",          1 },
        { "CN=\"a,b+c;d\"",                     "0:CN=a,b+c;d",                         1 },
        { "CN=\"a\\\"b\\\\\",O=x",              "0:CN=a\"b\\ 1:O=x",                    2 },
        { "CN=\"\"",                            "0:CN=",                                1 },
        { "CN=",                                "0:CN=",                                1 },
        { "CN=,OU=",                            "0:CN= 1:OU=",                          2 },
        { "2.5.4.3=a,0.9=b",                    "0:2.5.4.3=a 1:0.9=b",                  2 },
        { "x-1=a",                              "0:x-1=a",                              1 },
        { "CN=\xc3\xbc",                        "0:CN=\\xc3\\xbc",                      1 },
        /* Syntax errors. */
        { "CN",                                 NULL, 0 },
        { "=a",                                 NULL, 0 },
        { "CN=a,",                              NULL, 0 },
        { "CN=a+",                              NULL, 0 },
        { ",CN=a",                              NULL, 0 },
        { "CN=a,,O=b",                          NULL, 0 },
        { "CN=a++O=b",                          NULL, 0 },
        { "CN=a, O=b",                          NULL, 0 },
        { "CN =a",                              NULL, 0 },
        { " CN=a",                              NULL, 0 },
        { "CN= a",                              NULL, 0 },
        { "CN=a ",                              NULL, 0 },
        { "CN=a;O=b",                           NULL, 0 },
        { "CN=a<b",                             NULL, 0 },
        { "CN=a>b",                             NULL, 0 },
        { "CN=a\"b",                            NULL, 0 },
        { "CN=\\",                              NULL, 0 },
        { "CN=\\x",                             NULL, 0 },
        { "CN=\\4",                             NULL, 0 },
        { "CN=\\4g",                            NULL, 0 },
        { "CN=#0",                              NULL, 0 },
        { "CN=#0g",                             NULL, 0 },
        { "CN=#00x",                            NULL, 0 },
        { "CN=#00 ",                            NULL, 0 },
        { "CN=\"abc",                           NULL, 0 },
        { "CN=\"a\"b",                          NULL, 0 },
        { "CN=\"a\\q\"",                        NULL, 0 },
        { "1CN=a",                              NULL, 0 },
        { "2.5.=a",                             NULL, 0 },
        { "2..5=a",                             NULL, 0 },
        { "02.5=a",                             NULL, 0 },
        { "2.05=a",                             NULL, 0 },
        { "-CN=a",                              NULL, 0 },
        { "C N=a",                              NULL, 0 },
        { "C\xc3\xbc=a",                        NULL, 0 },
};

Test(rfc2253, parse_table) {
        for (size_t i = 0; i < ELEMENTSOF(parses); i++) {
                _cleanup_(rfc2253_name_done) Rfc2253Name name = {};
                _cleanup_free_ char *text = NULL;
                int r = rfc2253_parse(parses[i].in, &name);

                if (!parses[i].out) {
                        cr_expect_eq(r, -EINVAL, "%s: %d", parses[i].in, r);
                        cr_expect_eq(name.n_attributes, 0, "%s: output touched", parses[i].in);
                        continue;
                }
                cr_expect_eq(r, 0, "%s: %d", parses[i].in, r);
                if (r < 0)
                        continue;
                text = render(&name);
                cr_expect_str_eq(text, parses[i].out, "%s", parses[i].in);
                cr_expect_eq(name.n_rdns, parses[i].n_rdns, "%s", parses[i].in);
        }
}

/* Found by fuzzing: OpenSSL writes the value "#" without an escape. */
Test(rfc2253, lone_hash_is_a_string) {
        _cleanup_(rfc2253_name_done) Rfc2253Name name = {};
        _cleanup_free_ char *s = NULL;
        size_t n = 0;

        cr_assert_eq(rfc2253_parse("OU=#,title=", &name), 0);
        cr_expect_not(name.attributes[0].value_is_ber);
        cr_assert_eq(rfc2253_attribute_string(&name.attributes[0], &s, &n), 0);
        cr_expect_eq(n, 1);
        cr_expect_str_eq(s, "#");
}

/* Many attributes: the array grows. */
Test(rfc2253, long_name) {
        _cleanup_(rfc2253_name_done) Rfc2253Name name = {};
        _cleanup_free_ char *s = NULL;
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        for (int i = 0; i < 100; i++)
                fprintf(f, "%sDC=d%d", i ? (i % 2 ? "+" : ",") : "", i);
        fclose(f);
        s = buf;
        cr_assert_eq(rfc2253_parse(s, &name), 0);
        cr_expect_eq(name.n_attributes, 100);
        cr_expect_eq(name.n_rdns, 50);
        cr_expect_str_eq(name.attributes[99].value, "d99");
        cr_expect_eq(name.attributes[99].rdn, 49);
}

Test(rfc2253, type_is) {
        cr_expect(rfc2253_type_is("CN", "CN", "2.5.4.3"));
        cr_expect(rfc2253_type_is("cN", "CN", "2.5.4.3"));
        cr_expect(rfc2253_type_is("2.5.4.3", "CN", "2.5.4.3"));
        cr_expect_not(rfc2253_type_is("CNX", "CN", "2.5.4.3"));
        cr_expect_not(rfc2253_type_is("C", "CN", "2.5.4.3"));
        cr_expect_not(rfc2253_type_is("2.5.4.30", "CN", "2.5.4.3"));
        cr_expect_not(rfc2253_type_is("2.5.4.3", "CN", NULL));
}

static int string_of(const char *subject, char **ret, size_t *size) {
        _cleanup_(rfc2253_name_done) Rfc2253Name name = {};

        cr_assert_eq(rfc2253_parse(subject, &name), 0, "%s", subject);
        cr_assert_eq(name.n_attributes, 1);
        return rfc2253_attribute_string(&name.attributes[0], ret, size);
}

Test(rfc2253, attribute_string) {
        static const struct {
                const char *subject;
                int r;
                const char *value;
                size_t size;
        } t[] = {
                { "CN=plain",                   0,              "plain",        5 },
                { "CN=a\\00b",                  0,              "a\0b",         3 },
                { "CN=#0C00",                   0,              "",             0 },
                { "CN=#0C0161",                 0,              "a",            1 },
                { "CN=#0C03C3BC21",             0,              "\xc3\xbc!",    3 },
                { "CN=#13094A2E20536D6974683F", 0,              "J. Smith?",    9 },
                { "CN=#13012A",                 -EBADMSG,       NULL,           0 },    /* '*' is not printable */
                { "CN=#1601FF",                 -EBADMSG,       NULL,           0 },    /* IA5 is 7-bit */
                { "CN=#0C",                     -EBADMSG,       NULL,           0 },
                { "CN=#0C02",                   -EBADMSG,       NULL,           0 },
                { "CN=#0C0161FF",               -EBADMSG,       NULL,           0 },
                { "CN=#0C810161",               -EBADMSG,       NULL,           0 },    /* long form for a short length */
                { "CN=#0C83000001FF",           -EBADMSG,       NULL,           0 },
                { "CN=#0C80",                   -EBADMSG,       NULL,           0 },    /* indefinite length */
                { "CN=#1E020061",               -EOPNOTSUPP,    NULL,           0 },    /* BMPString */
                { "CN=#020101",                 -EOPNOTSUPP,    NULL,           0 },    /* INTEGER */
                { "CN=#2C03",                   -EBADMSG,       NULL,           0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_free_ char *s = NULL;
                size_t size = 99;
                int r = string_of(t[i].subject, &s, &size);

                cr_expect_eq(r, t[i].r, "%s: %d", t[i].subject, r);
                if (r == 0 && t[i].r == 0) {
                        cr_expect_eq(size, t[i].size, "%s", t[i].subject);
                        cr_expect_eq(memcmp(s, t[i].value, size + 1), 0, "%s", t[i].subject);
                }
        }
}

/* DER lengths in one and two long-form bytes, at their smallest. */
Test(rfc2253, attribute_string_long_forms) {
        static const struct { const char *header; size_t len; } t[] = {
                { "0C8180", 0x80 },
                { "0C820100", 0x100 },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_free_ char *subject = NULL, *s = NULL;
                size_t size = 0, n = strlen(t[i].header);

                subject = malloc(4 + n + 2 * t[i].len + 1);
                cr_assert_not_null(subject);
                strcpy(subject, "CN=#");
                strcat(subject, t[i].header);
                for (size_t j = 0; j < t[i].len; j++)
                        strcat(subject, "41");
                cr_expect_eq(string_of(subject, &s, &size), 0, "%s", t[i].header);
                cr_expect_eq(size, t[i].len);
        }
        /* 0x0080 in two bytes is not minimal. */
        {
                _cleanup_free_ char *subject = malloc(4 + 8 + 2 * 0x80 + 1), *s = NULL;
                cr_assert_not_null(subject);
                strcpy(subject, "CN=#0C820080");
                for (size_t j = 0; j < 0x80; j++)
                        strcat(subject, "41");
                cr_expect_eq(string_of(subject, &s, NULL), -EBADMSG);
        }
}
