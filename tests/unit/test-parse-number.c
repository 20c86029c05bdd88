/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* common/parse-number.c: sizes, plain ranged numbers and time spans, as the
 * CLI and jobrunnerd read them.  Tables of good and bad inputs. */

#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>

#include "parse-number.h"
#include "time-util.h"

#define MiB (UINT64_C(1024) * 1024)

Test(parse_number, scaled) {
        static const struct {
                const char *s;
                uint64_t base, value;
                int r;
        } table[] = {
                { "0", 1024, 0, 0 },
                { "1", 1024, 1, 0 },
                { "1B", 1024, 1, 0 },
                { "1K", 1024, 1024, 0 },
                { "1.5K", 1024, 1536, 0 },
                { "0.5M", 1024, 512 * 1024, 0 },
                { "256M", 1024, 256 * MiB, 0 },
                { "1G", 1024, 1024 * MiB, 0 },
                { "2T", 1024, UINT64_C(2) << 40, 0 },
                { "10M", 1000, 10000000, 0 },
                { "1.5K", 1000, 1500, 0 },
                { "1.0", 1024, 1, 0 },
                { "007", 1024, 7, 0 },
                { "18446744073709551615", 1024, UINT64_MAX, 0 },
                { "18446744073709551616", 1024, 0, -ERANGE },
                { "16777216T", 1024, 0, -ERANGE },
                { "16777215.99999999999T", 1024, UINT64_MAX - 10, 0 },
                { "1.5", 1024, 0, -EINVAL },
                { "1.", 1024, 0, -EINVAL },
                { ".5K", 1024, 0, -EINVAL },
                { "1k", 1024, 0, -EINVAL },
                { "1KB", 1024, 0, -EINVAL },
                { "1KiB", 1024, 0, -EINVAL },
                { "1P", 1024, 0, -EINVAL },
                { "", 1024, 0, -EINVAL },
                { "-1", 1024, 0, -EINVAL },
                { "+1", 1024, 0, -EINVAL },
                { " 1", 1024, 0, -EINVAL },
                { "1 ", 1024, 0, -EINVAL },
                { "1 K", 1024, 0, -EINVAL },
                { "0x10", 1024, 0, -EINVAL },
                { "1e3", 1024, 0, -EINVAL },
        };

        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                uint64_t v = 12345;
                int r = parse_scaled(table[i].s, table[i].base, &v);

                cr_assert_eq(r, table[i].r, "'%s': %d, expected %d", table[i].s, r, table[i].r);
                if (r == 0)
                        cr_assert_eq(v, table[i].value, "'%s': %" PRIu64 ", expected %" PRIu64, table[i].s, v,
                                     table[i].value);
        }
        cr_assert_eq(parse_scaled(NULL, 1024, &(uint64_t) { 0 }), -EINVAL);
}

Test(parse_number, uint64_range) {
        static const struct {
                const char *s;
                uint64_t min, max, value;
                int r;
        } table[] = {
                { "1", 1, 10, 1, 0 },
                { "10", 1, 10, 10, 0 },
                { "0010", 1, 10, 10, 0 },
                { "0", 0, 0, 0, 0 },
                { "18446744073709551615", 0, UINT64_MAX, UINT64_MAX, 0 },
                { "0", 1, 10, 0, -ERANGE },
                { "11", 1, 10, 0, -ERANGE },
                { "18446744073709551616", 0, UINT64_MAX, 0, -ERANGE },
                { "", 0, 10, 0, -EINVAL },
                { "-1", 0, 10, 0, -EINVAL },
                { "+1", 0, 10, 0, -EINVAL },
                { " 1", 0, 10, 0, -EINVAL },
                { "1 ", 0, 10, 0, -EINVAL },
                { "1K", 0, 10000, 0, -EINVAL },
                { "0x1", 0, 10, 0, -EINVAL },
        };

        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                uint64_t v = 12345;
                int r = parse_uint64_range(table[i].s, table[i].min, table[i].max, &v);

                cr_assert_eq(r, table[i].r, "'%s': %d, expected %d", table[i].s, r, table[i].r);
                if (r == 0)
                        cr_assert_eq(v, table[i].value, "'%s': %" PRIu64, table[i].s, v);
        }
        cr_assert_eq(parse_uint64_range(NULL, 0, 10, &(uint64_t) { 0 }), -EINVAL);
}

Test(parse_number, timespan) {
        static const struct {
                const char *s;
                uint64_t usec;
                int r;
        } table[] = {
                { "10", 10 * USEC_PER_SEC, 0 },
                { "10s", 10 * USEC_PER_SEC, 0 },
                { "500ms", 500 * USEC_PER_MSEC, 0 },
                { "1.5s", 1500 * USEC_PER_MSEC, 0 },
                { "2min", 120 * USEC_PER_SEC, 0 },
                { "2m", 120 * USEC_PER_SEC, 0 },
                { "1h 30min", 5400 * USEC_PER_SEC, 0 },
                { "7d", 7 * 86400 * USEC_PER_SEC, 0 },
                { "7days", 7 * 86400 * USEC_PER_SEC, 0 },
                { "1us", 1, 0 },
                { "0", 0, 0 },
                { "", 0, -EINVAL },
                { "1h 30", 0, -EINVAL },
                { "1w", 0, -EINVAL },
                { "s", 0, -EINVAL },
                { "-1s", 0, -EINVAL },
                { "1.s", 0, -EINVAL },
                { "10 S", 0, -EINVAL },
                { "infinity", 0, -EINVAL },
                { "300000000000d", 0, -ERANGE },
        };

        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                uint64_t v = 12345;
                int r = parse_timespan(table[i].s, &v);

                cr_assert_eq(r, table[i].r, "'%s': %d, expected %d", table[i].s, r, table[i].r);
                if (r == 0)
                        cr_assert_eq(v, table[i].usec, "'%s': %" PRIu64 " us", table[i].s, v);
        }
        cr_assert_eq(parse_timespan(NULL, &(uint64_t) { 0 }), -EINVAL);
}
