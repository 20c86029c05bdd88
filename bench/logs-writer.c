/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The job of the Logs benchmark (bench/logs), the same for every path it
 * compares (jobrunner's Logs, journald, raw TLS):
 *
 *   logs-writer bulk BYTES LINE_LEN
 *           writes BYTES bytes to stdout as fast as it can: lines of
 *           LINE_LEN - 1 'x' and a newline (the last one may be short), in
 *           writes of 64 KiB or less;
 *   logs-writer stamp LINES INTERVAL_MS DELAY_MS
 *           sleeps DELAY_MS, then writes LINES lines, one every INTERVAL_MS
 *           (on an absolute CLOCK_MONOTONIC schedule), each the CLOCK_REALTIME
 *           time in nanoseconds at the moment of its write(2).
 *
 * No stdio on the output: every write(2) is what the reader gets. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io-util.h"

#define WRITE_MAX (64u * 1024u)

static int parse_u64(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
                return -EINVAL;
        *ret = v;
        return 0;
}

static int bulk(uint64_t bytes, uint64_t line_len) {
        static char buf[WRITE_MAX];
        size_t chunk;

        if (line_len < 1 || line_len > WRITE_MAX)
                return -EINVAL;

        /* A whole number of lines per write. */
        chunk = WRITE_MAX / line_len * line_len;
        memset(buf, 'x', chunk);
        for (size_t i = line_len - 1; i < chunk; i += line_len)
                buf[i] = '\n';

        while (bytes > 0) {
                size_t n = bytes < chunk ? (size_t) bytes : chunk;
                int r;

                r = write_all(STDOUT_FILENO, buf, n);
                if (r < 0)
                        return r;
                bytes -= n;
        }
        return 0;
}

static void timespec_add_ms(struct timespec *ts, uint64_t ms) {
        ts->tv_sec += (time_t) (ms / 1000);
        ts->tv_nsec += (long) (ms % 1000) * 1000000L;
        if (ts->tv_nsec >= 1000000000L) {
                ts->tv_sec++;
                ts->tv_nsec -= 1000000000L;
        }
}

static int stamp(uint64_t lines, uint64_t interval_ms, uint64_t delay_ms) {
        struct timespec next;

        clock_gettime(CLOCK_MONOTONIC, &next);
        timespec_add_ms(&next, delay_ms);

        for (uint64_t i = 0; i < lines; i++) {
                struct timespec now;
                char line[32];
                int n, r;

                while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
                        ;
                clock_gettime(CLOCK_REALTIME, &now);
                n = snprintf(line, sizeof(line), "%" PRIu64 "\n",
                             (uint64_t) now.tv_sec * UINT64_C(1000000000) + (uint64_t) now.tv_nsec);
                r = write_all(STDOUT_FILENO, line, (size_t) n);
                if (r < 0)
                        return r;
                timespec_add_ms(&next, interval_ms);
        }
        return 0;
}

int main(int argc, char *argv[]) {
        uint64_t a = 0, b = 0, c = 0;
        int r = -EINVAL;

        if (argc == 4 && strcmp(argv[1], "bulk") == 0 &&
            parse_u64(argv[2], &a) >= 0 && parse_u64(argv[3], &b) >= 0)
                r = bulk(a, b);
        else if (argc == 5 && strcmp(argv[1], "stamp") == 0 &&
                 parse_u64(argv[2], &a) >= 0 && parse_u64(argv[3], &b) >= 0 && parse_u64(argv[4], &c) >= 0)
                r = stamp(a, b, c);
        else {
                fprintf(stderr, "Usage: %s bulk BYTES LINE_LEN | stamp LINES INTERVAL_MS DELAY_MS\n",
                        argv[0]);
                return EXIT_FAILURE;
        }
        if (r < 0) {
                fprintf(stderr, "logs-writer: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
