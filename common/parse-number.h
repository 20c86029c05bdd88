/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Numbers as operators type them, in systemd's spelling.  No messages:
 * -EINVAL for the syntax, -ERANGE for the range; the callers word them. */

#include <stdbool.h>
#include <stdint.h>

static inline bool ascii_isdigit(char c) {
        return c >= '0' && c <= '9';
}

/* Reads the decimal digits at *p into *ret and moves *p past them.  Returns
 * how many there were, or -ERANGE on overflow. */
int read_decimal(const char **p, uint64_t *ret);

/* Digits only, nothing else, in [min, max]. */
int parse_uint64_range(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* A number with an optional fraction and an optional unit suffix: K, M, G
 * or T, each a factor of base (1024 for sizes, 1000 for rates, as systemd
 * does), or B for bytes.  No suffix: bytes, and no fraction then.
 * -EINVAL (syntax), -ERANGE (overflow). */
int parse_scaled(const char *s, uint64_t base, uint64_t *ret);

/* A time span in microseconds: "10s", "500ms", "1.5h", "1h 30min"; units
 * us, ms, s, min (or m), h, d with their long forms; a bare number alone is
 * seconds. */
int parse_timespan(const char *s, uint64_t *ret_usec);
