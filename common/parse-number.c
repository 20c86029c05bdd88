/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "parse-number.h"
#include "time-util.h"

int read_decimal(const char **p, uint64_t *v) {
        int n = 0;

        *v = 0;
        for (; ascii_isdigit(**p); (*p)++, n++) {
                unsigned d = (unsigned) (**p - '0');

                if (*v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                *v = *v * 10 + d;
        }
        return n;
}

/* A fraction ".ddd": *num / *den, digits beyond the 18th ignored (they
 * cannot matter for a 64-bit result of any factor used here). */
static void read_fraction(const char **p, uint64_t *num, uint64_t *den) {
        *num = 0;
        *den = 1;
        if (**p != '.')
                return;
        for ((*p)++; ascii_isdigit(**p); (*p)++)
                if (*den < UINT64_C(1000000000000000000)) {
                        *num = *num * 10 + (uint64_t) (**p - '0');
                        *den *= 10;
                }
}

/* value + num/den, times factor, without overflow; -ERANGE. */
static int scale(uint64_t value, uint64_t num, uint64_t den, uint64_t factor, uint64_t *ret) {
        uint64_t whole, part;

        if (factor != 0 && value > UINT64_MAX / factor)
                return -ERANGE;
        whole = value * factor;
        /* num < den, so this is below factor: no overflow in 128 bits. */
        part = (uint64_t) ((unsigned __int128) num * factor / den);
        if (whole > UINT64_MAX - part)
                return -ERANGE;
        *ret = whole + part;
        return 0;
}

int parse_scaled(const char *s, uint64_t base, uint64_t *ret) {
        static const char suffixes[] = "KMGT";
        uint64_t value, num, den, factor = 1;
        const char *p = s, *q;
        int r;

        if (!s || !ascii_isdigit(s[0]))
                return -EINVAL;
        r = read_decimal(&p, &value);
        if (r < 0)
                return r;
        read_fraction(&p, &num, &den);
        if (p[-1] == '.')               /* "1." */
                return -EINVAL;

        if (*p == '\0' || (p[0] == 'B' && p[1] == '\0')) {
                if (num != 0)           /* no fractions of a byte */
                        return -EINVAL;
        } else if (p[1] == '\0' && (q = strchr(suffixes, *p))) {
                for (const char *i = suffixes; i <= q; i++)
                        factor *= base;
        } else
                return -EINVAL;

        return scale(value, num, den, factor, ret);
}

int parse_uint64_range(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        const char *p = s;
        uint64_t v;
        int r;

        if (!s || !ascii_isdigit(s[0]))
                return -EINVAL;
        r = read_decimal(&p, &v);
        if (r >= 0 && *p != '\0')
                return -EINVAL;
        if (r < 0 || v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

static const struct {
        const char *name;
        uint64_t usec;
} time_units[] = {
        { "us", 1 }, { "usec", 1 },
        { "ms", USEC_PER_MSEC }, { "msec", USEC_PER_MSEC },
        { "s", USEC_PER_SEC }, { "sec", USEC_PER_SEC }, { "second", USEC_PER_SEC }, { "seconds", USEC_PER_SEC },
        { "m", 60 * USEC_PER_SEC }, { "min", 60 * USEC_PER_SEC }, { "minute", 60 * USEC_PER_SEC },
        { "minutes", 60 * USEC_PER_SEC },
        { "h", 3600 * USEC_PER_SEC }, { "hr", 3600 * USEC_PER_SEC }, { "hour", 3600 * USEC_PER_SEC },
        { "hours", 3600 * USEC_PER_SEC },
        { "d", 86400 * USEC_PER_SEC }, { "day", 86400 * USEC_PER_SEC }, { "days", 86400 * USEC_PER_SEC },
};

int parse_timespan(const char *s, uint64_t *ret) {
        const char *p = s;
        uint64_t total = 0;
        int components = 0;

        if (!s)
                return -EINVAL;
        for (;;) {
                uint64_t value, num, den, unit = 0, v;
                const char *start;
                size_t len;
                int r;

                while (*p == ' ')
                        p++;
                if (*p == '\0')
                        break;
                if (!ascii_isdigit(*p))
                        return -EINVAL;
                r = read_decimal(&p, &value);
                if (r < 0)
                        return r;
                read_fraction(&p, &num, &den);
                if (p[-1] == '.')
                        return -EINVAL;

                start = p;
                while (*p >= 'a' && *p <= 'z')
                        p++;
                len = (size_t) (p - start);
                if (len == 0) {
                        /* A bare number is seconds, but only on its own:
                         * "1min 30" is more likely a mistake. */
                        if (components > 0 || *p != '\0')
                                return -EINVAL;
                        unit = USEC_PER_SEC;
                } else
                        for (size_t i = 0; i < ELEMENTSOF(time_units); i++)
                                if (strlen(time_units[i].name) == len && strncmp(time_units[i].name, start, len) == 0)
                                        unit = time_units[i].usec;
                if (unit == 0)
                        return -EINVAL;

                r = scale(value, num, den, unit, &v);
                if (r < 0 || total > UINT64_MAX - v)
                        return -ERANGE;
                total += v;
                components++;
        }
        if (components == 0)
                return -EINVAL;
        *ret = total;
        return 0;
}
