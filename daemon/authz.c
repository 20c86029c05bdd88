/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "macro.h"
#include "rfc2253.h"

/* ---- the rules ------------------------------------------------------------ */

typedef enum Access {
        ACCESS_NONE,    /* PERMISSION_DENIED, whatever the job */
        ACCESS_OWN,     /* only the caller's own jobs; others are NOT_FOUND */
        ACCESS_ALL,     /* every job (for Start: allowed) */
} Access;

/* The whole policy, as proto/jobrunner.proto states it.  A viewer's Stop is
 * PERMISSION_DENIED even for a job it does not own: it may see every job, so
 * there is nothing to hide.  The health check (Check) is every role's: it
 * tells only whether the daemon serves, and probes are monitoring, which
 * the read-only viewer is the natural role for.  Attach can write to a job:
 * never a viewer's, although it is Logs to whoever only reads. */
static const Access rules[_AUTHZ_ROLE_MAX][_AUTHZ_METHOD_MAX] = {
        /*                        Start        Stop         GetStatus    List         Wait         Logs         Check        Attach */
        [AUTHZ_ROLE_ADMIN]    = { ACCESS_ALL,  ACCESS_ALL,  ACCESS_ALL,  ACCESS_ALL,  ACCESS_ALL,  ACCESS_ALL,  ACCESS_ALL,  ACCESS_ALL },
        [AUTHZ_ROLE_OPERATOR] = { ACCESS_ALL,  ACCESS_OWN,  ACCESS_OWN,  ACCESS_OWN,  ACCESS_OWN,  ACCESS_OWN,  ACCESS_ALL,  ACCESS_OWN },
        [AUTHZ_ROLE_VIEWER]   = { ACCESS_NONE, ACCESS_NONE, ACCESS_ALL,  ACCESS_ALL,  ACCESS_ALL,  ACCESS_ALL,  ACCESS_ALL,  ACCESS_NONE },
};

/* Only admins may run a job as a named user (JobSpec.user). */
static const bool may_name_user[_AUTHZ_ROLE_MAX] = {
        [AUTHZ_ROLE_ADMIN] = true,
};

static const char *const role_names[_AUTHZ_ROLE_MAX] = {
        [AUTHZ_ROLE_ADMIN]    = "admin",
        [AUTHZ_ROLE_OPERATOR] = "operator",
        [AUTHZ_ROLE_VIEWER]   = "viewer",
};

static const struct {
        const char *name;
        bool has_job;   /* acts on one job, so job_owner NULL means "no such job" */
} methods[_AUTHZ_METHOD_MAX] = {
        [AUTHZ_METHOD_START]  = { "Start",     false },
        [AUTHZ_METHOD_STOP]   = { "Stop",      true },
        [AUTHZ_METHOD_STATUS] = { "GetStatus", true },
        [AUTHZ_METHOD_LIST]   = { "List",      false },
        [AUTHZ_METHOD_WAIT]   = { "Wait",      true },
        [AUTHZ_METHOD_LOGS]   = { "Logs",      true },
        [AUTHZ_METHOD_HEALTH] = { "Check",     false },
        [AUTHZ_METHOD_ATTACH] = { "Attach",    true },
};

const char *authz_role_to_string(AuthzRole role) {
        return (unsigned) role < _AUTHZ_ROLE_MAX ? role_names[role] : NULL;
}

const char *authz_method_to_string(AuthzMethod method) {
        return (unsigned) method < _AUTHZ_METHOD_MAX ? methods[method].name : NULL;
}

/* An identity we did not build (out-of-range role) gets nothing. */
static Access access_of(const AuthzIdentity *who, AuthzMethod method) {
        if (!who || (unsigned) who->role >= _AUTHZ_ROLE_MAX || (unsigned) method >= _AUTHZ_METHOD_MAX)
                return ACCESS_NONE;
        return rules[who->role][method];
}

AuthzDecision authz_check(const AuthzIdentity *who, AuthzMethod method, const char *job_owner,
                          bool requests_named_user) {
        Access a = access_of(who, method);

        /* Both PERMISSION_DENIED cases come first and ignore the job. */
        if (a == ACCESS_NONE)
                return AUTHZ_DENY_PERMISSION;
        if (requests_named_user && !may_name_user[who->role])
                return AUTHZ_DENY_PERMISSION;
        if (a == ACCESS_ALL)
                return AUTHZ_ALLOW;

        if (!job_owner)
                return methods[method].has_job ? AUTHZ_DENY_NOT_FOUND : AUTHZ_ALLOW;
        return strcmp(job_owner, who->name) == 0 ? AUTHZ_ALLOW : AUTHZ_DENY_NOT_FOUND;
}

bool authz_list_sees_all(const AuthzIdentity *who) {
        return access_of(who, AUTHZ_METHOD_LIST) == ACCESS_ALL;
}

AuthzDecision authz_check_list_owner(const AuthzIdentity *who, const char *owner_filter) {
        Access a = access_of(who, AUTHZ_METHOD_LIST);

        if (a == ACCESS_NONE)
                return AUTHZ_DENY_PERMISSION;
        if (a == ACCESS_ALL || !owner_filter || !*owner_filter)
                return AUTHZ_ALLOW;
        return strcmp(owner_filter, who->name) == 0 ? AUTHZ_ALLOW : AUTHZ_DENY_PERMISSION;
}

int authz_decision_to_errno(AuthzDecision d) {
        switch (d) {
        case AUTHZ_ALLOW:
                return 0;
        case AUTHZ_DENY_NOT_FOUND:
                return -ENOENT;
        case AUTHZ_DENY_PERMISSION:
        default:
                return -EPERM;
        }
}

/* ---- identity -------------------------------------------------------------- */

/* Room for ESCAPE_INPUT_MAX input bytes as \xNN each, "..." and the NUL. */
#define ESCAPE_INPUT_MAX 64
#define ESCAPED_MAX (ESCAPE_INPUT_MAX * 4 + 4)

/* Certificate text goes into messages only like this: printable ASCII as is,
 * everything else \xNN, cut at ESCAPE_INPUT_MAX bytes, so that a subject
 * cannot forge or flood log lines. */
static const char *escape(const char *s, size_t n, char buf[static ESCAPED_MAX]) {
        char *p = buf;

        for (size_t i = 0; i < n && i < ESCAPE_INPUT_MAX; i++) {
                unsigned char c = (unsigned char) s[i];

                if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
                        *p++ = (char) c;
                else
                        p += sprintf(p, "\\x%02x", c);
        }
        strcpy(p, n > ESCAPE_INPUT_MAX ? "..." : "");
        return buf;
}

static int fail(char **ret_error, int error, const char *format, ...) _printf_(3, 4);
static int fail(char **ret_error, int error, const char *format, ...) {
        va_list ap;

        if (ret_error) {
                va_start(ap, format);
                if (vasprintf(ret_error, format, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return error;
}

/* One UTF-8 sequence at s (n bytes left): its length, or 0 if malformed
 * (truncated, overlong, a surrogate, beyond U+10FFFF). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *ret) {
        static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
        size_t len;
        uint32_t c;

        if (s[0] < 0x80)
                len = 1, c = s[0];
        else if ((s[0] & 0xe0) == 0xc0)
                len = 2, c = s[0] & 0x1f;
        else if ((s[0] & 0xf0) == 0xe0)
                len = 3, c = s[0] & 0x0f;
        else if ((s[0] & 0xf8) == 0xf0)
                len = 4, c = s[0] & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (s[i] & 0x3f);
        }
        if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *ret = c;
        return len;
}

/* Characters a name must not contain: controls (C0, DEL, C1), and what makes
 * two different names look alike or rearranges the text around them: line
 * separators, zero-width and bidi controls, the BOM.  Noncharacters are
 * refused as sd-bus refuses them. */
static bool forbidden_char(uint32_t c) {
        static const struct { uint32_t first, last; } ranges[] = {
                { 0x0000, 0x001f }, { 0x007f, 0x009f },
                { 0x061c, 0x061c }, { 0x200b, 0x200f }, { 0x2028, 0x202e },
                { 0x2066, 0x2069 }, { 0xfdd0, 0xfdef }, { 0xfeff, 0xfeff },
        };

        if ((c & 0xfffe) == 0xfffe)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(ranges); i++)
                if (c >= ranges[i].first && c <= ranges[i].last)
                        return true;
        return false;
}

static int check_name(const char *s, size_t n, char **ret_error) {
        char e[ESCAPED_MAX];

        if (n > AUTHZ_NAME_MAX)
                return fail(ret_error, -EKEYREJECTED, "client certificate CN \"%s\" is longer than %d bytes",
                            escape(s, n, e), AUTHZ_NAME_MAX);
        for (size_t i = 0; i < n;) {
                uint32_t c;
                size_t len = utf8_decode((const unsigned char *) s + i, n - i, &c);

                if (len == 0)
                        return fail(ret_error, -EKEYREJECTED, "client certificate CN \"%s\" is not valid UTF-8 at byte %zu",
                                    escape(s, n, e), i);
                if (forbidden_char(c))
                        return fail(ret_error, -EKEYREJECTED,
                                    "client certificate CN \"%s\" contains a control or invisible character (U+%04X) at byte %zu",
                                    escape(s, n, e), (unsigned) c, i);
                i += len;
        }
        return 0;
}

/* Takes the string of the subject's only attribute of one type.  *count
 * counts them all, so that a second one is refused rather than ignored. */
static int take_attribute(const Rfc2253Attribute *a, const char *what, char **value, size_t *size,
                          size_t *count, char **ret_error) {
        char e[ESCAPED_MAX];
        int r;

        if ((*count)++ > 0)
                return 0;
        r = rfc2253_attribute_string(a, value, size);
        if (r == -ENOMEM)
                return fail(ret_error, r, "out of memory");
        if (r < 0)
                return fail(ret_error, -EKEYREJECTED, "client certificate subject %s \"#%s\" is no usable string",
                            what, escape(a->value, a->value_size, e));
        return 0;
}

int authz_identity_from_subject(const char *common_name, const char *subject,
                                AuthzIdentity *ret, char **ret_error) {
        _cleanup_(rfc2253_name_done) Rfc2253Name name = {};
        _cleanup_free_ char *cn = NULL, *ou = NULL;
        size_t cn_size = 0, ou_size = 0, n_cn = 0, n_ou = 0, len;
        char e[ESCAPED_MAX], e2[ESCAPED_MAX];
        int r;

        if (!common_name || !*common_name)
                return fail(ret_error, -ENOKEY, "client certificate has no subject CN");
        len = strnlen(common_name, AUTHZ_NAME_MAX + 1);
        r = check_name(common_name, len, ret_error);
        if (r < 0)
                return r;

        subject = subject ?: "";
        r = rfc2253_parse(subject, &name);
        if (r == -ENOMEM)
                return fail(ret_error, r, "out of memory");
        if (r < 0)
                return fail(ret_error, -EKEYREJECTED, "client certificate subject \"%s\" is not an RFC 2253 name",
                            escape(subject, strlen(subject), e));

        for (size_t i = 0; i < name.n_attributes; i++) {
                const Rfc2253Attribute *a = &name.attributes[i];

                r = 0;
                if (rfc2253_type_is(a->type, "CN", "2.5.4.3"))
                        r = take_attribute(a, "CN", &cn, &cn_size, &n_cn, ret_error);
                else if (rfc2253_type_is(a->type, "OU", "2.5.4.11"))
                        r = take_attribute(a, "OU", &ou, &ou_size, &n_ou, ret_error);
                if (r < 0)
                        return r;
        }

        if (n_cn > 1)
                return fail(ret_error, -EKEYREJECTED, "client certificate subject has %zu CNs", n_cn);
        if (n_cn == 1 && (cn_size != len || memcmp(cn, common_name, len) != 0))
                return fail(ret_error, -EKEYREJECTED, "client certificate CN \"%s\" differs from the subject's CN \"%s\"",
                            escape(common_name, len, e), escape(cn, cn_size, e2));
        if (n_ou == 0)
                return fail(ret_error, -ENOKEY, "client certificate subject has no OU (the role)");
        if (n_ou > 1)
                return fail(ret_error, -EKEYREJECTED, "client certificate subject has %zu OUs, a role needs exactly one", n_ou);

        /* Exact bytes: "Admin" or "admin\0x" is no role, rather than a guess. */
        for (AuthzRole role = 0; role < _AUTHZ_ROLE_MAX; role++)
                if (ou_size == strlen(role_names[role]) && memcmp(ou, role_names[role], ou_size) == 0) {
                        *ret = (AuthzIdentity) { .role = role };
                        memcpy(ret->name, common_name, len);
                        return 0;
                }

        return fail(ret_error, -EPERM, "client certificate OU \"%s\" is not a role (admin, operator, viewer)",
                    escape(ou, ou_size, e));
}
