/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "rfc2253.h"

/* ASCII only: <ctype.h> follows the locale, and a DN's syntax does not. */
static bool ascii_isdigit(char c) {
        return c >= '0' && c <= '9';
}

static bool ascii_isalpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char ascii_tolower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

static int unhex(char c) {
        if (ascii_isdigit(c))
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

/* A value ends at the end of the string, at the next RDN (',') or at the next
 * attribute of the same RDN ('+'). */
static bool value_ends(char c) {
        return c == 0 || c == ',' || c == '+';
}

/* attributeType = ALPHA *keychar / numericoid, followed by '='.  OIDs follow
 * RFC 4514 (no leading zeros), so that "2.5.4.011" cannot pass for an OU
 * that rfc2253_type_is() would not recognize. */
static int parse_type(const char **p, char **ret) {
        const char *s = *p, *e = s;

        if (ascii_isalpha(*e)) {
                while (ascii_isalpha(*e) || ascii_isdigit(*e) || *e == '-')
                        e++;
        } else if (ascii_isdigit(*e)) {
                for (;;) {
                        if (!ascii_isdigit(*e) || (e[0] == '0' && ascii_isdigit(e[1])))
                                return -EINVAL;
                        while (ascii_isdigit(*e))
                                e++;
                        if (*e != '.')
                                break;
                        e++;
                }
        } else
                return -EINVAL;

        if (*e != '=')
                return -EINVAL;
        *ret = strndup(s, (size_t) (e - s));
        if (!*ret)
                return -ENOMEM;
        *p = e + 1;
        return 0;
}

/* pair = '\' (special / '\' / '"' / ' ' / '=' / hexpair); *p points at the
 * backslash.  A hex pair is one byte, so a UTF-8 character that OpenSSL
 * escaped byte by byte ("\C3\BC") comes out as its UTF-8 bytes again. */
static int parse_pair(const char **p, char *ret) {
        const char *s = *p + 1;
        int hi, lo;

        hi = unhex(s[0]);
        if (hi >= 0) {
                lo = unhex(s[1]);
                if (lo < 0)
                        return -EINVAL;
                *ret = (char) (hi << 4 | lo);
                *p = s + 2;
                return 0;
        }
        if (s[0] == 0 || !strchr(",=+<>#;\\\" ", s[0]))
                return -EINVAL;
        *ret = s[0];
        *p = s + 1;
        return 0;
}

static int parse_hex_value(const char **p, char *buf, size_t *n) {
        const char *s = *p + 1;         /* past the '#' */

        do {
                int hi = unhex(s[0]), lo = hi >= 0 ? unhex(s[1]) : -EINVAL;

                if (lo < 0)
                        return -EINVAL;
                buf[(*n)++] = (char) (hi << 4 | lo);
                s += 2;
        } while (!value_ends(*s));
        *p = s;
        return 0;
}

static int parse_quoted_value(const char **p, char *buf, size_t *n) {
        const char *s = *p + 1;         /* past the opening quote */
        int r;

        for (;;) {
                if (*s == 0)
                        return -EINVAL;
                if (*s == '"')
                        break;
                if (*s == '\\') {
                        r = parse_pair(&s, buf + (*n)++);
                        if (r < 0)
                                return r;
                } else
                        buf[(*n)++] = *s++;
        }
        s++;
        if (!value_ends(*s))
                return -EINVAL;
        *p = s;
        return 0;
}

static int parse_string_value(const char **p, char *buf, size_t *n) {
        const char *s = *p;
        bool trailing_space = false;
        int r;

        /* An unescaped space at either end is one a lenient reader would
         * strip and a strict one keep: refuse it. */
        if (*s == ' ')
                return -EINVAL;
        while (!value_ends(*s)) {
                if (*s == '\\') {
                        r = parse_pair(&s, buf + (*n)++);
                        if (r < 0)
                                return r;
                        trailing_space = false;
                        continue;
                }
                if (strchr("\";<>", *s))
                        return -EINVAL;
                trailing_space = *s == ' ';
                buf[(*n)++] = *s++;
        }
        if (trailing_space)
                return -EINVAL;
        *p = s;
        return 0;
}

static int parse_value(const char **p, Rfc2253Attribute *a) {
        _cleanup_free_ char *buf = NULL;
        /* A lone "#" is the one-character string "#": OpenSSL prints it
         * unescaped (for a single character its last-character rule
         * replaces the first-character one), and as a hexstring, which has
         * at least one byte, it would mean nothing. */
        bool ber = **p == '#' && !value_ends((*p)[1]);
        size_t n = 0;
        int r;

        /* Unescaping only ever shrinks the text. */
        buf = malloc(strlen(*p) + 1);
        if (!buf)
                return -ENOMEM;

        if (ber)
                r = parse_hex_value(p, buf, &n);
        else if (**p == '"')
                r = parse_quoted_value(p, buf, &n);
        else
                r = parse_string_value(p, buf, &n);
        if (r < 0)
                return r;

        buf[n] = 0;
        a->value = TAKE_PTR(buf);
        a->value_size = n;
        a->value_is_ber = ber;
        return 0;
}

static void attribute_done(Rfc2253Attribute *a) {
        free(a->type);
        free(a->value);
}

void rfc2253_name_done(Rfc2253Name *name) {
        for (size_t i = 0; i < name->n_attributes; i++)
                attribute_done(&name->attributes[i]);
        free(name->attributes);
        *name = (Rfc2253Name) {};
}

int rfc2253_parse(const char *s, Rfc2253Name *ret) {
        _cleanup_(rfc2253_name_done) Rfc2253Name name = {};
        size_t allocated = 0;
        int r;

        while (*s) {
                Rfc2253Attribute a = { .rdn = name.n_rdns };

                if (name.n_attributes == allocated) {
                        size_t k = allocated ? allocated * 2 : 8;
                        Rfc2253Attribute *m = reallocarray(name.attributes, k, sizeof(Rfc2253Attribute));

                        if (!m)
                                return -ENOMEM;
                        name.attributes = m;
                        allocated = k;
                }

                r = parse_type(&s, &a.type);
                if (r < 0)
                        return r;
                r = parse_value(&s, &a);
                if (r < 0) {
                        attribute_done(&a);
                        return r;
                }
                name.attributes[name.n_attributes++] = a;

                if (*s == '+' || *s == ',') {
                        /* A separator must be followed by another attribute. */
                        if (s[1] == 0)
                                return -EINVAL;
                        if (*s == ',')
                                name.n_rdns++;
                        s++;
                } else
                        name.n_rdns++;          /* the end */
        }

        *ret = name;
        name = (Rfc2253Name) {};
        return 0;
}

bool rfc2253_type_is(const char *type, const char *short_name, const char *oid) {
        size_t i;

        if (oid && strcmp(type, oid) == 0)
                return true;
        for (i = 0; type[i] && ascii_tolower(type[i]) == ascii_tolower(short_name[i]); i++)
                ;
        return type[i] == 0 && short_name[i] == 0;
}

/* PrintableString's alphabet (X.680 41.4). */
static bool printable_string_char(char c) {
        return ascii_isalpha(c) || ascii_isdigit(c) || (c && strchr(" '()+,-./:=?", c));
}

int rfc2253_attribute_string(const Rfc2253Attribute *a, char **ret, size_t *ret_size) {
        const uint8_t *b = (const uint8_t *) a->value;
        size_t n = a->value_size, header, len;
        char *s;

        if (!a->value_is_ber) {
                header = 0;
                len = n;
        } else {
                /* tag, then a DER length: short form, or long form in one or
                 * two bytes, minimal as DER demands. */
                if (n < 2)
                        return -EBADMSG;
                if (b[1] < 0x80) {
                        header = 2;
                        len = b[1];
                } else if (b[1] == 0x81 && n >= 3 && b[2] >= 0x80) {
                        header = 3;
                        len = b[2];
                } else if (b[1] == 0x82 && n >= 4 && b[2] != 0) {
                        header = 4;
                        len = (size_t) b[2] << 8 | b[3];
                } else
                        return -EBADMSG;
                if (header + len != n)
                        return -EBADMSG;

                switch (b[0]) {
                case 0x0c:      /* UTF8String: checked by whoever uses the text */
                        break;
                case 0x13:      /* PrintableString */
                        for (size_t i = header; i < n; i++)
                                if (!printable_string_char((char) b[i]))
                                        return -EBADMSG;
                        break;
                case 0x16:      /* IA5String: ASCII */
                        for (size_t i = header; i < n; i++)
                                if (b[i] >= 0x80)
                                        return -EBADMSG;
                        break;
                default:        /* BMPString, UniversalString, T61String, not a string */
                        return -EOPNOTSUPP;
                }
        }

        s = malloc(len + 1);
        if (!s)
                return -ENOMEM;
        memcpy(s, a->value + header, len);
        s[len] = 0;
        *ret = s;
        if (ret_size)
                *ret_size = len;
        return 0;
}
