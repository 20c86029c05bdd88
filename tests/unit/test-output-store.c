/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The output record log: format, offsets, gaps, recovery. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "output-store.h"

#define MiB (UINT64_C(1024) * 1024)

static char dir[] = "/tmp/test-output-store-XXXXXX";
static int dir_fd = -EBADF;

static void setup(void) {
        cr_assert_not_null(mkdtemp(dir));
        dir_fd = open(dir, O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(dir_fd, 0);
}

static void teardown(void) {
        (void) unlinkat(dir_fd, OUTPUT_FILE_NAME, 0);
        dir_fd = safe_close(dir_fd);
        (void) rmdir(dir);
}

TestSuite(output_store, .init = setup, .fini = teardown);

static OutputStore *open_store(OutputStoreMode mode) {
        OutputStore *s = NULL;

        cr_assert_eq(output_store_open(dir_fd, OUTPUT_FILE_NAME, mode, NULL, &s), 0);
        return s;
}

static uint64_t file_size(void) {
        struct stat st;

        cr_assert_eq(fstatat(dir_fd, OUTPUT_FILE_NAME, &st, 0), 0);
        return (uint64_t) st.st_size;
}

/* Reads every record of the file, checking data where expected. */
typedef struct Rec {
        OutputRecordHeader h;
        char data[64];
} Rec;

static size_t read_records(OutputStore *s, Rec *recs, size_t max) {
        OutputReadWindow w = {};
        uint64_t pos = 0, size = output_store_get_size(s);
        size_t n = 0;

        while (pos < size) {
                cr_assert_lt(n, max);
                cr_assert_eq(output_store_read_header(s, &w, pos, size, &recs[n].h), 0);
                memset(recs[n].data, 0, sizeof(recs[n].data));
                if (recs[n].h.length > 0 && recs[n].h.length < sizeof(recs[n].data))
                        cr_assert_eq(output_store_read(s, &w, pos + OUTPUT_RECORD_HEADER_SIZE, size,
                                                       recs[n].data, recs[n].h.length), 0);
                pos += OUTPUT_RECORD_HEADER_SIZE + recs[n].h.length;
                n++;
        }
        cr_assert_eq(pos, size);
        return n;
}

/* A full disk, as far as the store can tell: writes fail (EFBIG) past size
 * bytes of the file, half-way where they straddle it.  RLIM_INFINITY lifts
 * the limit again. */
static void limit_file_size(rlim_t size) {
        struct rlimit rl;

        cr_assert_neq(signal(SIGXFSZ, SIG_IGN), SIG_ERR);
        cr_assert_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
        rl.rlim_cur = size == RLIM_INFINITY ? rl.rlim_max : size;
        cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

static void append(OutputStore *s, OutputStream stream, const char *text) {
        cr_assert_eq(output_store_append_data(s, stream, text, strlen(text)), 0);
}

/* A store holding "ok" on stdout, on a disk with room for `room` bytes
 * more; *ret_size is its size. */
static OutputStore *store_on_a_full_disk(rlim_t room, uint64_t *ret_size) {
        OutputStore *s = open_store(OUTPUT_STORE_CREATE);

        append(s, OUTPUT_STREAM_STDOUT, "ok");
        *ret_size = output_store_get_size(s);
        limit_file_size(*ret_size + room);
        return s;
}

Test(output_store, header_is_24_bytes_little_endian) {
        OutputRecordHeader h = { .type = OUTPUT_RECORD_GAP, .stream = OUTPUT_STREAM_STDERR,
                                 .gap_reason = OUTPUT_GAP_TRUNCATED, .offset = 0x0102030405060708,
                                 .gap_length = 0x1112131415161718 }, back;
        uint8_t raw[OUTPUT_RECORD_HEADER_SIZE];
        static const uint8_t expected[OUTPUT_RECORD_HEADER_SIZE] = {
                2, 2, 1, 0, 0, 0, 0, 0,
                0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
                0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,
        };

        output_record_header_pack(&h, raw);
        cr_assert_arr_eq(raw, expected, sizeof(raw));
        cr_assert_eq(output_record_header_parse(raw, &back), 0);
        cr_assert_eq(memcmp(&h, &back, sizeof(h)), 0);
}

Test(output_store, malformed_headers_are_rejected) {
        OutputRecordHeader h = { .type = OUTPUT_RECORD_DATA, .stream = OUTPUT_STREAM_STDOUT, .length = 10 }, back;
        uint8_t raw[OUTPUT_RECORD_HEADER_SIZE];

        output_record_header_pack(&h, raw);
        cr_assert_eq(output_record_header_parse(raw, &back), 0);
        raw[0] = 3;
        cr_assert_eq(output_record_header_parse(raw, &back), -EBADMSG);
        raw[0] = 1, raw[1] = 0;
        cr_assert_eq(output_record_header_parse(raw, &back), -EBADMSG);
        raw[1] = 1, raw[3] = 1;
        cr_assert_eq(output_record_header_parse(raw, &back), -EBADMSG);

        h.length = OUTPUT_RECORD_DATA_MAX + 1;          /* records hold at most 64 KiB */
        output_record_header_pack(&h, raw);
        cr_assert_eq(output_record_header_parse(raw, &back), -EBADMSG);
        h.length = 0;                                   /* and at least one byte */
        output_record_header_pack(&h, raw);
        cr_assert_eq(output_record_header_parse(raw, &back), -EBADMSG);

        h = (OutputRecordHeader) { .type = OUTPUT_RECORD_GAP, .stream = OUTPUT_STREAM_STDOUT,
                                   .gap_reason = OUTPUT_GAP_TRUNCATED };
        output_record_header_pack(&h, raw);             /* only DAEMON_DOWN may have no length */
        cr_assert_eq(output_record_header_parse(raw, &back), -EBADMSG);
        h.gap_reason = OUTPUT_GAP_DAEMON_DOWN;
        output_record_header_pack(&h, raw);
        cr_assert_eq(output_record_header_parse(raw, &back), 0);
}

Test(output_store, records_round_trip_with_per_stream_offsets) {
        _cleanup_(output_store_unrefp) OutputStore *s = open_store(OUTPUT_STORE_CREATE);
        Rec recs[8];

        append(s, OUTPUT_STREAM_STDOUT, "hello ");
        append(s, OUTPUT_STREAM_STDERR, "oops\n");
        append(s, OUTPUT_STREAM_STDOUT, "world\n");
        cr_assert_eq(output_store_append_gap(s, OUTPUT_STREAM_STDERR, OUTPUT_GAP_DAEMON_DOWN, 0), 0);
        cr_assert_eq(output_store_append_gap(s, OUTPUT_STREAM_STDERR, OUTPUT_GAP_TRUNCATED, 1000), 0);
        append(s, OUTPUT_STREAM_STDERR, "x");

        cr_assert_eq(output_store_get_end(s, OUTPUT_STREAM_STDOUT), 12);
        cr_assert_eq(output_store_get_end(s, OUTPUT_STREAM_STDERR), 1006);
        cr_assert_eq(output_store_get_data_bytes(s), 18);
        cr_assert(output_store_get_truncated(s));
        cr_assert_eq(output_store_get_size(s), 6 * OUTPUT_RECORD_HEADER_SIZE + 18);
        cr_assert_eq(file_size(), output_store_get_size(s));

        cr_assert_eq(read_records(s, recs, ELEMENTSOF(recs)), 6);
        cr_assert_eq(recs[0].h.offset, 0);
        cr_assert_str_eq(recs[0].data, "hello ");
        cr_assert_eq(recs[1].h.stream, OUTPUT_STREAM_STDERR);
        cr_assert_eq(recs[1].h.offset, 0);
        cr_assert_str_eq(recs[1].data, "oops\n");
        cr_assert_eq(recs[2].h.offset, 6);
        cr_assert_str_eq(recs[2].data, "world\n");
        cr_assert_eq(recs[3].h.type, OUTPUT_RECORD_GAP);
        cr_assert_eq(recs[3].h.gap_reason, OUTPUT_GAP_DAEMON_DOWN);
        cr_assert_eq(recs[3].h.offset, 5);
        cr_assert_eq(recs[3].h.gap_length, 0);
        cr_assert_eq(recs[4].h.gap_reason, OUTPUT_GAP_TRUNCATED);
        cr_assert_eq(recs[4].h.offset, 5);
        cr_assert_eq(recs[4].h.gap_length, 1000);
        cr_assert_eq(recs[5].h.offset, 1005);
}

Test(output_store, reopen_rebuilds_counters) {
        OutputStore *s = open_store(OUTPUT_STORE_CREATE);
        uint64_t size;

        append(s, OUTPUT_STREAM_STDOUT, "abc");
        append(s, OUTPUT_STREAM_STDERR, "defg");
        cr_assert_eq(output_store_append_gap(s, OUTPUT_STREAM_STDOUT, OUTPUT_GAP_TRUNCATED, 77), 0);
        size = output_store_get_size(s);
        output_store_unref(s);

        s = open_store(OUTPUT_STORE_APPEND);
        cr_assert_eq(output_store_get_size(s), size);
        cr_assert_eq(output_store_get_end(s, OUTPUT_STREAM_STDOUT), 80);
        cr_assert_eq(output_store_get_end(s, OUTPUT_STREAM_STDERR), 4);
        cr_assert_eq(output_store_get_data_bytes(s), 7);
        cr_assert(output_store_get_truncated(s));
        cr_assert_not(output_store_get_eof(s, OUTPUT_STREAM_STDOUT));
        output_store_unref(s);

        cr_assert_eq(output_store_open(dir_fd, OUTPUT_FILE_NAME, OUTPUT_STORE_CREATE, NULL, &s), -EEXIST);
}

static void recover_after_tail(const void *tail, size_t tail_size) {
        OutputStore *s = open_store(OUTPUT_STORE_CREATE);
        _cleanup_close_ int fd = -EBADF;
        Rec recs[8];
        uint64_t size;

        append(s, OUTPUT_STREAM_STDOUT, "first");
        append(s, OUTPUT_STREAM_STDERR, "second");
        size = output_store_get_size(s);
        output_store_unref(s);

        fd = openat(dir_fd, OUTPUT_FILE_NAME, O_WRONLY | O_APPEND | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        cr_assert_eq(write(fd, tail, tail_size), (ssize_t) tail_size);

        s = open_store(OUTPUT_STORE_APPEND);
        cr_assert_eq(output_store_get_size(s), size);
        cr_assert_eq(file_size(), size);
        cr_assert_eq(output_store_get_end(s, OUTPUT_STREAM_STDOUT), 5);
        cr_assert_eq(output_store_get_end(s, OUTPUT_STREAM_STDERR), 6);

        /* Appending continues where the intact log ended. */
        append(s, OUTPUT_STREAM_STDOUT, "third");
        cr_assert_eq(read_records(s, recs, ELEMENTSOF(recs)), 3);
        cr_assert_eq(recs[2].h.offset, 5);
        cr_assert_str_eq(recs[2].data, "third");
        output_store_unref(s);
}

Test(output_store, recovery_cuts_a_torn_header) {
        static const uint8_t tail[10] = { 1, 1, 0, 0, 5 };

        recover_after_tail(tail, sizeof(tail));
}

Test(output_store, recovery_cuts_a_record_with_missing_data) {
        OutputRecordHeader h = { .type = OUTPUT_RECORD_DATA, .stream = OUTPUT_STREAM_STDOUT, .length = 100, .offset = 5 };
        uint8_t tail[OUTPUT_RECORD_HEADER_SIZE + 40] = {};

        output_record_header_pack(&h, tail);
        recover_after_tail(tail, sizeof(tail));
}

Test(output_store, recovery_cuts_zeroes) {
        static const uint8_t zeroes[4096];               /* a crash with delayed allocation leaves these */

        recover_after_tail(zeroes, sizeof(zeroes));
}

Test(output_store, recovery_cuts_a_discontinuous_record) {
        OutputRecordHeader h = { .type = OUTPUT_RECORD_DATA, .stream = OUTPUT_STREAM_STDOUT, .length = 1, .offset = 9 };
        uint8_t tail[OUTPUT_RECORD_HEADER_SIZE + 1] = {};

        output_record_header_pack(&h, tail);            /* stdout is at 5, not 9 */
        recover_after_tail(tail, sizeof(tail));
}

/* Found by fuzzing: a gap that ends the stream at 2^64 - 1 passed, and
 * the next append wrapped the offset into a record nobody could read. */
static void recover_after_gap(uint64_t length) {
        OutputRecordHeader h = { .type = OUTPUT_RECORD_GAP, .stream = OUTPUT_STREAM_STDOUT,
                                 .gap_reason = OUTPUT_GAP_IO_ERROR, .offset = 5, .gap_length = length };
        uint8_t tail[OUTPUT_RECORD_HEADER_SIZE];

        output_record_header_pack(&h, tail);
        recover_after_tail(tail, sizeof(tail));
}

Test(output_store, recovery_cuts_a_record_up_to_2_64) {
        recover_after_gap(UINT64_MAX - 5);
}

Test(output_store, recovery_cuts_a_record_past_the_offset_limit) {
        recover_after_gap(OUTPUT_OFFSET_MAX - 4);       /* one byte too many */
}

Test(output_store, appends_stop_at_the_offset_limit) {
        OutputStore *s = open_store(OUTPUT_STORE_CREATE);
        Rec recs[8];

        cr_assert_eq(output_store_append_gap(s, OUTPUT_STREAM_STDOUT, OUTPUT_GAP_IO_ERROR, OUTPUT_OFFSET_MAX - 2), 0);
        cr_assert_eq(output_store_append_data(s, OUTPUT_STREAM_STDOUT, "abc", 3), -EOVERFLOW);
        append(s, OUTPUT_STREAM_STDOUT, "ab");
        cr_assert_eq(output_store_get_end(s, OUTPUT_STREAM_STDOUT), OUTPUT_OFFSET_MAX);
        output_store_unref(s);

        s = open_store(OUTPUT_STORE_APPEND);
        cr_assert_eq(read_records(s, recs, ELEMENTSOF(recs)), 2);
        cr_assert_eq(output_store_get_end(s, OUTPUT_STREAM_STDOUT), OUTPUT_OFFSET_MAX);
        output_store_unref(s);
}

Test(output_store, dropped_bytes_are_coalesced_into_few_gaps) {
        _cleanup_(output_store_unrefp) OutputStore *s = open_store(OUTPUT_STORE_CREATE);
        Rec recs[8];

        append(s, OUTPUT_STREAM_STDOUT, "kept");
        for (unsigned i = 0; i < 150 * 16; i++)         /* 150 MiB in 64 KiB reads */
                output_store_drop(s, OUTPUT_STREAM_STDOUT, OUTPUT_GAP_TRUNCATED, 64 * 1024);

        /* Every 64 MiB a gap is written; the rest is pending until EOF. */
        cr_assert_eq(read_records(s, recs, ELEMENTSOF(recs)), 3);
        cr_assert_eq(output_store_get_end(s, OUTPUT_STREAM_STDOUT), 4 + 150 * MiB);
        cr_assert(output_store_get_truncated(s));

        output_store_set_eof(s, OUTPUT_STREAM_STDOUT);
        cr_assert_eq(read_records(s, recs, ELEMENTSOF(recs)), 4);
        cr_assert_eq(recs[1].h.offset, 4);
        cr_assert_eq(recs[1].h.gap_length, 64 * MiB);
        cr_assert_eq(recs[2].h.offset, 4 + 64 * MiB);
        cr_assert_eq(recs[2].h.gap_length, 64 * MiB);
        cr_assert_eq(recs[3].h.offset, 4 + 128 * MiB);
        cr_assert_eq(recs[3].h.gap_length, 22 * MiB);
        for (size_t i = 1; i < 4; i++)
                cr_assert_eq(recs[i].h.gap_reason, OUTPUT_GAP_TRUNCATED);
        cr_assert_eq(output_store_get_end(s, OUTPUT_STREAM_STDOUT), 4 + 150 * MiB);

        /* Nothing is appended after EOF. */
        cr_assert_eq(output_store_append_data(s, OUTPUT_STREAM_STDOUT, "x", 1), -ESHUTDOWN);
}

Test(output_store, pending_gap_goes_before_later_data_and_on_reason_change) {
        _cleanup_(output_store_unrefp) OutputStore *s = open_store(OUTPUT_STORE_CREATE);
        Rec recs[8];

        output_store_drop(s, OUTPUT_STREAM_STDERR, OUTPUT_GAP_IO_ERROR, 10);
        output_store_drop(s, OUTPUT_STREAM_STDERR, OUTPUT_GAP_IO_ERROR, 5);
        output_store_drop(s, OUTPUT_STREAM_STDERR, OUTPUT_GAP_TRUNCATED, 7);
        append(s, OUTPUT_STREAM_STDERR, "after");

        cr_assert_eq(read_records(s, recs, ELEMENTSOF(recs)), 3);
        cr_assert_eq(recs[0].h.gap_reason, OUTPUT_GAP_IO_ERROR);
        cr_assert_eq(recs[0].h.gap_length, 15);
        cr_assert_eq(recs[1].h.gap_reason, OUTPUT_GAP_TRUNCATED);
        cr_assert_eq(recs[1].h.offset, 15);
        cr_assert_eq(recs[1].h.gap_length, 7);
        cr_assert_eq(recs[2].h.offset, 22);
        cr_assert_str_eq(recs[2].data, "after");
}

Test(output_store, invalid_appends_are_refused) {
        _cleanup_(output_store_unrefp) OutputStore *s = open_store(OUTPUT_STORE_CREATE);
        static char big[OUTPUT_RECORD_DATA_MAX + 1];

        cr_assert_eq(output_store_append_data(s, OUTPUT_STREAM_STDOUT, big, 0), -EINVAL);
        cr_assert_eq(output_store_append_data(s, OUTPUT_STREAM_STDOUT, big, sizeof(big)), -EINVAL);
        cr_assert_eq(output_store_append_data(s, OUTPUT_STREAM_STDOUT, big, sizeof(big) - 1), 0);
        cr_assert_eq(output_store_append_data(s, 3, big, 1), -EINVAL);
        cr_assert_eq(output_store_append_gap(s, OUTPUT_STREAM_STDOUT, OUTPUT_GAP_TRUNCATED, 0), -EINVAL);
        cr_assert_eq(output_store_append_gap(s, OUTPUT_STREAM_STDOUT, OUTPUT_GAP_NONE, 1), -EINVAL);
        cr_assert_eq(output_store_get_size(s), OUTPUT_RECORD_HEADER_SIZE + OUTPUT_RECORD_DATA_MAX);
}

/* A disk that stays full while a job goes on writing: room for a gap
 * header or two, never for the data.  The loss is one gap, written once
 * the stream ends, not a gap record per failed read. */
Test(output_store, a_full_disk_leaves_one_gap) {
        uint64_t size;
        _cleanup_(output_store_unrefp) OutputStore *s = store_on_a_full_disk(2 * OUTPUT_RECORD_HEADER_SIZE + 10, &size);
        static char data[1000];
        Rec recs[8];

        for (int i = 0; i < 100; i++) {
                cr_assert_lt(output_store_append_data(s, OUTPUT_STREAM_STDOUT, data, sizeof(data)), 0);
                output_store_drop(s, OUTPUT_STREAM_STDOUT, OUTPUT_GAP_IO_ERROR, sizeof(data));
        }
        cr_assert_eq(output_store_get_size(s), size);
        cr_assert_eq(file_size(), size);
        output_store_set_eof(s, OUTPUT_STREAM_STDOUT);
        limit_file_size(RLIM_INFINITY);

        cr_assert_eq(read_records(s, recs, ELEMENTSOF(recs)), 2);
        cr_assert_eq(recs[1].h.type, OUTPUT_RECORD_GAP);
        cr_assert_eq(recs[1].h.gap_reason, OUTPUT_GAP_IO_ERROR);
        cr_assert_eq(recs[1].h.offset, 2);
        cr_assert_eq(recs[1].h.gap_length, 100 * sizeof(data));
}

Test(output_store, write_errors_leave_no_partial_record_and_become_gaps) {
        uint64_t size;
        /* Not even a gap header fits. */
        _cleanup_(output_store_unrefp) OutputStore *s = store_on_a_full_disk(10, &size);
        static char data[1000];
        Rec recs[8];

        cr_assert_lt(output_store_append_data(s, OUTPUT_STREAM_STDOUT, data, sizeof(data)), 0);
        cr_assert_eq(output_store_get_size(s), size);
        cr_assert_eq(file_size(), size);
        output_store_drop(s, OUTPUT_STREAM_STDOUT, OUTPUT_GAP_IO_ERROR, sizeof(data));
        cr_assert_lt(output_store_append_data(s, OUTPUT_STREAM_STDOUT, data, 200), 0);
        output_store_drop(s, OUTPUT_STREAM_STDOUT, OUTPUT_GAP_IO_ERROR, 200);
        cr_assert_eq(output_store_get_end(s, OUTPUT_STREAM_STDOUT), 1202);

        /* Once the disk takes writes again, the loss is one gap. */
        limit_file_size(RLIM_INFINITY);
        append(s, OUTPUT_STREAM_STDOUT, "back");
        cr_assert_eq(read_records(s, recs, ELEMENTSOF(recs)), 3);
        cr_assert_eq(recs[1].h.gap_reason, OUTPUT_GAP_IO_ERROR);
        cr_assert_eq(recs[1].h.offset, 2);
        cr_assert_eq(recs[1].h.gap_length, 1200);
        cr_assert_eq(recs[2].h.offset, 1202);
        cr_assert_str_eq(recs[2].data, "back");
}
