/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* How the CLI handles a job's output (client/logs-cursor.c,
 * client/logs-output.c): per-stream offsets that drop repeats and notice
 * holes, gaps cut to what was not told yet, --tail's line counting, and the
 * raw and JSON writers, binary-safe, which join contiguous gaps into one
 * notice. */

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "jobrunner.pb-c.h"
#include "logs-cursor.h"
#include "logs-output.h"
#include "macro.h"

#define OUT JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT
#define ERR JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR
#define TRUNCATED JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_OUTPUT_TRUNCATED
#define DOWN JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_DAEMON_DOWN
#define IO_ERROR JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_IO_ERROR

static void expect_chunk(LogsCursor *c, int stream, uint64_t offset, size_t len, size_t skip, uint64_t missing) {
        size_t s = 99;
        uint64_t m = 99;

        cr_assert(logs_cursor_chunk(c, stream, offset, len, &s, &m));
        cr_assert_eq(s, skip, "chunk %" PRIu64 "+%zu: skip %zu, expected %zu", offset, len, s, skip);
        cr_assert_eq(m, missing, "chunk %" PRIu64 "+%zu: missing %" PRIu64 ", expected %" PRIu64, offset, len, m,
                     missing);
}

Test(logs, chunks_in_order_and_again) {
        LogsCursor c;

        logs_cursor_init(&c, 0, 0);
        expect_chunk(&c, OUT, 0, 10, 0, 0);
        expect_chunk(&c, OUT, 10, 5, 0, 0);
        cr_assert_eq(c.next[OUT], 15);
        cr_assert_eq(c.next[ERR], 0);

        /* Sent again after a reconnection: dropped, in whole or in part. */
        expect_chunk(&c, OUT, 0, 10, 10, 0);
        expect_chunk(&c, OUT, 5, 10, 10, 0);
        expect_chunk(&c, OUT, 12, 8, 3, 0);
        cr_assert_eq(c.next[OUT], 20);

        /* A hole the server did not announce. */
        expect_chunk(&c, OUT, 25, 5, 0, 5);
        cr_assert_eq(c.next[OUT], 30);

        /* Streams are independent. */
        expect_chunk(&c, ERR, 0, 3, 0, 0);
        cr_assert_eq(c.next[ERR], 3);
        cr_assert_eq(c.next[OUT], 30);
}

Test(logs, resuming_from_offsets) {
        LogsCursor c;
        size_t s;
        uint64_t m;

        logs_cursor_init(&c, 100, 7);
        expect_chunk(&c, OUT, 100, 1, 0, 0);
        expect_chunk(&c, ERR, 5, 4, 2, 0);
        cr_assert_eq(c.next[ERR], 9);

        cr_assert_not(logs_cursor_chunk(&c, 0, 0, 1, &s, &m));
        cr_assert_not(logs_cursor_chunk(&c, 3, 0, 1, &s, &m));
        cr_assert_not(logs_cursor_chunk(&c, OUT, UINT64_MAX, 2, &s, &m));
}

/* Whether a gap is told, and which part of it. */
static void expect_gap(LogsCursor *c, int stream, uint64_t offset, uint64_t length, bool told, uint64_t told_offset,
                       uint64_t told_length) {
        uint64_t o = offset, l = length;

        cr_assert_eq(logs_cursor_gap(c, stream, &o, &l), told, "gap %" PRIu64 "+%" PRIu64, offset, length);
        if (told) {
                cr_assert_eq(o, told_offset, "gap %" PRIu64 "+%" PRIu64 ": told from %" PRIu64, offset, length, o);
                cr_assert_eq(l, told_length, "gap %" PRIu64 "+%" PRIu64 ": told %" PRIu64, offset, length, l);
        }
}

Test(logs, gaps) {
        LogsCursor c;

        logs_cursor_init(&c, 0, 0);
        expect_gap(&c, OUT, 0, 100, true, 0, 100);
        expect_gap(&c, OUT, 100, 50, true, 100, 50);
        cr_assert_eq(c.next[OUT], 150);
        /* Passed already, in whole or in part (a gap is sent whole when
         * asked from inside it, e.g. after a reconnection). */
        expect_gap(&c, OUT, 0, 150, false, 0, 0);
        expect_gap(&c, OUT, 0, 160, true, 150, 10);
        cr_assert_eq(c.next[OUT], 160);
        expect_chunk(&c, OUT, 160, 1, 0, 0);
        expect_gap(&c, OUT, 161, 10, true, 161, 10);

        /* Losses of unknown size occupy no offsets: once per offset. */
        expect_gap(&c, ERR, 0, 0, true, 0, 0);
        expect_gap(&c, ERR, 0, 0, false, 0, 0);
        cr_assert_eq(c.next[ERR], 0);
        expect_chunk(&c, ERR, 0, 4, 0, 0);
        expect_gap(&c, ERR, 2, 0, false, 0, 0);
        expect_gap(&c, ERR, 4, 0, true, 4, 0);

        expect_gap(&c, 7, 0, 1, false, 0, 0);
        expect_gap(&c, OUT, UINT64_MAX, 2, false, 0, 0);
}

Test(logs, gap_notices) {
        static const struct {
                int stream;
                uint64_t offset, length;
                int reason;
                const char *text;
        } table[] = {
                { OUT, 1048576, 4096, TRUNCATED, "job stdout: 4096 bytes missing at offset 1048576 (the job's output "
                                                 "cap was reached: later output is counted but not kept)" },
                { ERR, 7, 1, DOWN, "job stderr: 1 byte missing at offset 7 (jobrunnerd was not running when the job "
                                   "wrote it)" },
                { ERR, 7, 0, DOWN, "job stderr: output of unknown size missing at offset 7 (jobrunnerd was not "
                                   "running when the job wrote it)" },
                { OUT, 0, 10, IO_ERROR, "job stdout: 10 bytes missing at offset 0 (the server could not store it: a "
                                        "disk error)" },
                { OUT, 0, 10, 0, "job stdout: 10 bytes missing at offset 0 (for an unknown reason)" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *s = format_gap_notice(table[i].stream, table[i].offset, table[i].length,
                                                           table[i].reason);

                cr_assert_str_eq(s, table[i].text);
        }
}

Test(logs, tail_lines) {
        static const struct {
                const char *data;
                uint64_t n;
                size_t start;
                bool complete;
        } table[] = {
                { "a\nb\nc\n", 1, 4, true },
                { "a\nb\nc\n", 2, 2, true },
                { "a\nb\nc\n", 3, 0, false },   /* the start of "a" is not in the data */
                { "a\nb\nc\n", 4, 0, false },
                { "a\nb\nc", 1, 4, true },       /* a last line without newline counts */
                { "a\nb\nc", 2, 2, true },
                { "\n\n\n", 1, 2, true },
                { "\n\n\n", 2, 1, true },
                { "", 1, 0, false },
                { "abc", 1, 0, false },
                { "abc\n", 0, 4, true },
                { "", 0, 0, true },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                bool complete;
                size_t start = tail_start((const uint8_t *) table[i].data, strlen(table[i].data), table[i].n,
                                          &complete);

                cr_assert_eq(start, table[i].start, "entry %zu: %zu", i, start);
                cr_assert_eq(complete, table[i].complete, "entry %zu", i);
        }
}

/* ---- the writers ----------------------------------------------------------- */

static int memfd(void) {
        int fd = memfd_create("out", MFD_CLOEXEC);

        cr_assert_geq(fd, 0);
        return fd;
}

static char *contents(int fd, size_t *ret_len) {
        off_t n = lseek(fd, 0, SEEK_END);
        char *buf = calloc(1, (size_t) n + 1);

        cr_assert_not_null(buf);
        cr_assert_eq(pread(fd, buf, (size_t) n, 0), n);
        if (ret_len)
                *ret_len = (size_t) n;
        return buf;
}

Test(logs, raw_output_is_byte_exact) {
        _cleanup_close_ int out = memfd(), err = memfd();
        _cleanup_free_ char *o = NULL, *e = NULL;
        uint8_t all[256];
        LogsOutput w;
        size_t n;

        for (size_t i = 0; i < sizeof(all); i++)
                all[i] = (uint8_t) i;
        logs_output_init(&w, out, err, false);
        cr_assert_eq(logs_output_chunk(&w, OUT, 0, all, sizeof(all)), 0);
        cr_assert_eq(logs_output_chunk(&w, ERR, 0, (const uint8_t *) "partial", 7), 0);
        /* The notice starts on a line of its own. */
        cr_assert_eq(logs_output_gap(&w, ERR, 7, 3, TRUNCATED), 0);
        cr_assert_eq(logs_output_chunk(&w, ERR, 10, (const uint8_t *) "line\n", 5), 0);
        cr_assert_eq(logs_output_notice(&w, "reconnected after %d s", 2), 0);
        cr_assert_eq(logs_output_chunk(&w, OUT, 256, (const uint8_t *) "", 0), 0);
        cr_assert_eq(logs_output_end(&w, &(JobStatus) JOBRUNNER__V1__JOB_STATUS__INIT), 0);

        o = contents(out, &n);
        cr_assert_eq(n, sizeof(all));
        cr_assert(memcmp(o, all, sizeof(all)) == 0);
        e = contents(err, NULL);
        cr_assert_str_eq(e, "partial\njobrunner: job stderr: 3 bytes missing at offset 7 (the job's output cap was "
                            "reached: later output is counted but not kept)\nline\njobrunner: reconnected after 2 s\n");
}

Test(logs, json_output) {
        _cleanup_close_ int out = memfd(), err = memfd();
        _cleanup_free_ char *o = NULL, *e = NULL;
        JobStatus j = JOBRUNNER__V1__JOB_STATUS__INIT;
        LogsOutput w;

        j.id = (char *) "0123456789abcdef0123456789abcdef";
        j.state = JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED;
        logs_output_init(&w, out, err, true);
        cr_assert_eq(logs_output_chunk(&w, OUT, 5, (const uint8_t *) "\x00\xff\n", 3), 0);
        cr_assert_eq(logs_output_gap(&w, ERR, 7, 0, DOWN), 0);
        cr_assert_eq(logs_output_end(&w, &j), 0);

        o = contents(out, NULL);
        cr_assert(strncmp(o,
                          "{\"type\":\"chunk\",\"stream\":\"stdout\",\"offset\":5,\"data\":\"AP8K\"}\n"
                          "{\"type\":\"gap\",\"stream\":\"stderr\",\"offset\":7,\"length\":0,\"reason\":\"daemon-down\"}\n"
                          "{\"type\":\"end\",\"job\":{\"id\":\"0123456789abcdef0123456789abcdef\",", 190) == 0,
                  "%s", o);
        cr_assert_eq(o[strlen(o) - 1], '\n');
        e = contents(err, NULL);
        cr_assert_str_eq(e, "");
}

/* Contiguous gaps of one stream and reason, as a follower of a job past its
 * cap gets them live, or as a full disk leaves them: one notice with the
 * whole range, told when the stream goes on or the output ends. */
Test(logs, contiguous_gaps_are_one_notice) {
        _cleanup_close_ int out = memfd(), err = memfd();
        _cleanup_free_ char *o = NULL, *e = NULL;
        LogsOutput w;

        logs_output_init(&w, out, err, false);
        cr_assert_eq(logs_output_chunk(&w, OUT, 0, (const uint8_t *) "0123456789", 10), 0);
        cr_assert_eq(logs_output_gap(&w, OUT, 10, 65536, IO_ERROR), 0);
        cr_assert_eq(logs_output_gap(&w, ERR, 0, 5, IO_ERROR), 0);
        /* The other stream's output does not end the range. */
        cr_assert_eq(logs_output_chunk(&w, ERR, 5, (const uint8_t *) "err\n", 4), 0);
        for (int i = 1; i < 100; i++)
                cr_assert_eq(logs_output_gap(&w, OUT, 10 + (uint64_t) i * 65536, 65536, IO_ERROR), 0);
        e = contents(err, NULL);
        cr_assert_str_eq(e, "jobrunner: job stderr: 5 bytes missing at offset 0 (the server could not store it: a "
                            "disk error)\nerr\n");
        free(TAKE_PTR(e));

        /* Its own stream's next chunk tells it, first. */
        cr_assert_eq(logs_output_chunk(&w, OUT, 10 + 100 * 65536, (const uint8_t *) "!", 1), 0);
        /* Another reason is another notice; so is a loss of unknown size,
         * told at once; the output's end tells the rest. */
        cr_assert_eq(logs_output_gap(&w, OUT, 11 + 100 * 65536, 100, IO_ERROR), 0);
        cr_assert_eq(logs_output_gap(&w, OUT, 111 + 100 * 65536, 100, TRUNCATED), 0);
        cr_assert_eq(logs_output_gap(&w, OUT, 211 + 100 * 65536, 200, TRUNCATED), 0);
        cr_assert_eq(logs_output_gap(&w, ERR, 9, 0, DOWN), 0);
        cr_assert_eq(logs_output_gap(&w, ERR, 9, 3, DOWN), 0);
        cr_assert_eq(logs_output_end(&w, &(JobStatus) JOBRUNNER__V1__JOB_STATUS__INIT), 0);

        o = contents(out, NULL);
        cr_assert_str_eq(o, "0123456789!");
        e = contents(err, NULL);
        cr_assert_str_eq(e, "jobrunner: job stderr: 5 bytes missing at offset 0 (the server could not store it: a "
                            "disk error)\nerr\n"
                            "jobrunner: job stdout: 6553600 bytes missing at offset 10 (the server could not store "
                            "it: a disk error)\n"
                            "jobrunner: job stdout: 100 bytes missing at offset 6553611 (the server could not store "
                            "it: a disk error)\n"
                            "jobrunner: job stderr: output of unknown size missing at offset 9 (jobrunnerd was not "
                            "running when the job wrote it)\n"
                            "jobrunner: job stdout: 300 bytes missing at offset 6553711 (the job's output cap was "
                            "reached: later output is counted but not kept)\n"
                            "jobrunner: job stderr: 3 bytes missing at offset 9 (jobrunnerd was not running when the "
                            "job wrote it)\n");
}

Test(logs, contiguous_gaps_are_one_json_event) {
        _cleanup_close_ int out = memfd(), err = memfd();
        _cleanup_free_ char *o = NULL;
        LogsOutput w;

        logs_output_init(&w, out, err, true);
        cr_assert_eq(logs_output_gap(&w, ERR, 0, 100, TRUNCATED), 0);
        cr_assert_eq(logs_output_gap(&w, OUT, 7, 1, TRUNCATED), 0);
        cr_assert_eq(logs_output_gap(&w, ERR, 100, 50, TRUNCATED), 0);
        cr_assert_eq(logs_output_flush(&w), 0);
        cr_assert_eq(logs_output_flush(&w), 0);

        o = contents(out, NULL);
        cr_assert_str_eq(o, "{\"type\":\"gap\",\"stream\":\"stderr\",\"offset\":0,\"length\":150,"
                            "\"reason\":\"output-truncated\"}\n"
                            "{\"type\":\"gap\",\"stream\":\"stdout\",\"offset\":7,\"length\":1,"
                            "\"reason\":\"output-truncated\"}\n");
}

Test(logs, a_closed_pipe_is_epipe) {
        int p[2];
        LogsOutput w;

        signal(SIGPIPE, SIG_IGN);
        cr_assert_eq(pipe(p), 0);
        close(p[0]);
        logs_output_init(&w, p[1], p[1], false);
        cr_assert_eq(logs_output_chunk(&w, OUT, 0, (const uint8_t *) "x", 1), -EPIPE);
        close(p[1]);
}
