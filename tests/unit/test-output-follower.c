/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Followers: positioning, merging and splitting, gaps, END, wake-ups. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "output-follower.h"

#define OUT OUTPUT_STREAM_STDOUT
#define ERR OUTPUT_STREAM_STDERR
#define BOTH OUTPUT_STREAMS_ALL

static char dir[] = "/tmp/test-output-follower-XXXXXX";
static int dir_fd = -EBADF;
static sd_event *event;
static OutputStore *store;
static uint8_t buf[OUTPUT_RECORD_DATA_MAX];

static void setup(void) {
        cr_assert_not_null(mkdtemp(dir));
        dir_fd = open(dir, O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(dir_fd, 0);
        cr_assert_eq(sd_event_new(&event), 0);
        cr_assert_eq(output_store_open(dir_fd, OUTPUT_FILE_NAME, OUTPUT_STORE_CREATE, event, &store), 0);
}

static void teardown(void) {
        store = output_store_unref(store);
        event = sd_event_unref(event);
        (void) unlinkat(dir_fd, OUTPUT_FILE_NAME, 0);
        dir_fd = safe_close(dir_fd);
        (void) rmdir(dir);
}

TestSuite(output_follower, .init = setup, .fini = teardown, .timeout = 30);

/* The byte at `offset` of `stream` in every test: recognizable anywhere. */
static uint8_t pattern(OutputStream stream, uint64_t offset) {
        return (uint8_t) (offset * 7 + (offset >> 9) + stream * 101);
}

static void append_pattern(OutputStream stream, size_t n) {
        uint64_t from = output_store_get_end(store, stream);
        uint8_t data[OUTPUT_RECORD_DATA_MAX];

        cr_assert_leq(n, sizeof(data));
        for (size_t i = 0; i < n; i++)
                data[i] = pattern(stream, from + i);
        cr_assert_eq(output_store_append_data(store, stream, data, n), 0);
}

static void assert_pattern(const OutputEvent *ev, const uint8_t *data) {
        cr_assert_eq(ev->type, OUTPUT_EVENT_DATA);
        for (uint64_t i = 0; i < ev->length; i++)
                cr_assert_eq(data[i], pattern(ev->stream, ev->offset + i), "byte %" PRIu64 " of stream %d",
                             ev->offset + i, ev->stream);
}

static OutputFollower *follow(uint64_t out, uint64_t err, unsigned mask, OutputFollowerWake wake, void *userdata) {
        OutputFollower *f = NULL;

        cr_assert_eq(output_follower_new(store, out, err, mask, wake, userdata, &f), 0);
        return f;
}

static void expect_data(OutputFollower *f, size_t size, OutputStream stream, uint64_t offset, uint64_t length) {
        OutputEvent ev;

        cr_assert_eq(output_follower_next(f, &ev, buf, size), 1);
        cr_assert_eq(ev.type, OUTPUT_EVENT_DATA);
        cr_assert_eq(ev.stream, stream);
        cr_assert_eq(ev.offset, offset, "offset %" PRIu64 " != %" PRIu64, ev.offset, offset);
        cr_assert_eq(ev.length, length, "length %" PRIu64 " != %" PRIu64, ev.length, length);
        assert_pattern(&ev, buf);
}

static void expect_gap(OutputFollower *f, OutputStream stream, uint64_t offset, uint64_t length, OutputGapReason reason) {
        OutputEvent ev;

        cr_assert_eq(output_follower_next(f, &ev, buf, sizeof(buf)), 1);
        cr_assert_eq(ev.type, OUTPUT_EVENT_GAP);
        cr_assert_eq(ev.stream, stream);
        cr_assert_eq(ev.offset, offset);
        cr_assert_eq(ev.length, length);
        cr_assert_eq(ev.reason, reason);
}

static void expect_nothing(OutputFollower *f) {
        OutputEvent ev;

        cr_assert_eq(output_follower_next(f, &ev, buf, sizeof(buf)), 0);
}

static void expect_end(OutputFollower *f) {
        OutputEvent ev;

        cr_assert_eq(output_follower_next(f, &ev, buf, sizeof(buf)), 1);
        cr_assert_eq(ev.type, OUTPUT_EVENT_END);
}

static void complete_store(void) {
        output_store_set_eof(store, OUT);
        output_store_set_eof(store, ERR);
        output_store_set_finished(store);
}

Test(output_follower, starts_inside_a_record_and_merges_records_of_a_stream) {
        _cleanup_(output_follower_freep) OutputFollower *f = NULL;

        for (int i = 0; i < 10; i++)
                append_pattern(OUT, 100);
        append_pattern(ERR, 50);
        append_pattern(OUT, 100);

        f = follow(150, 0, BOTH, NULL, NULL);
        expect_data(f, sizeof(buf), OUT, 150, 850);    /* the rest of record 2, records 3..10 */
        expect_data(f, sizeof(buf), ERR, 0, 50);
        expect_data(f, sizeof(buf), OUT, 1000, 100);
        expect_nothing(f);
}

Test(output_follower, small_buffers_split_records) {
        _cleanup_(output_follower_freep) OutputFollower *f = NULL;

        append_pattern(OUT, 1000);
        append_pattern(OUT, 10);

        f = follow(3, 0, BOTH, NULL, NULL);
        expect_data(f, 400, OUT, 3, 400);
        expect_data(f, 400, OUT, 403, 400);
        expect_data(f, 400, OUT, 803, 207);
        expect_nothing(f);
        append_pattern(OUT, 5);
        expect_data(f, 1, OUT, 1010, 1);
        expect_data(f, 2, OUT, 1011, 2);
        cr_assert_eq(output_follower_get_offset(f, OUT), 1013);
}

Test(output_follower, offsets_past_the_end_are_out_of_range) {
        OutputFollower *f = NULL;

        append_pattern(OUT, 10);
        output_store_drop(store, ERR, OUTPUT_GAP_TRUNCATED, 20);      /* pending bytes count, too */

        cr_assert_eq(output_follower_new(store, 11, 0, BOTH, NULL, NULL, &f), -ERANGE);
        cr_assert_eq(output_follower_new(store, 0, 21, BOTH, NULL, NULL, &f), -ERANGE);
        cr_assert_eq(output_follower_new(store, 0, 0, 0, NULL, NULL, &f), -EINVAL);
        /* An offset of a stream that is not selected is ignored. */
        cr_assert_eq(output_follower_new(store, 0, 99, OUTPUT_STREAM_BIT(OUT), NULL, NULL, &f), 0);
        f = output_follower_free(f);

        cr_assert_eq(output_follower_new(store, 10, 15, BOTH, NULL, NULL, &f), 0);
        expect_nothing(f);
        output_store_set_eof(store, ERR);               /* writes the pending gap */
        expect_gap(f, ERR, 0, 20, OUTPUT_GAP_TRUNCATED);  /* all of it, though 15 is inside */
        expect_nothing(f);
        output_follower_free(f);
}

Test(output_follower, gaps_are_returned_whole_also_from_inside) {
        _cleanup_(output_follower_freep) OutputFollower *all = NULL, *inside = NULL, *after = NULL;

        append_pattern(OUT, 10);
        cr_assert_eq(output_store_append_gap(store, OUT, OUTPUT_GAP_DAEMON_DOWN, 0), 0);
        cr_assert_eq(output_store_append_gap(store, OUT, OUTPUT_GAP_TRUNCATED, 1000), 0);
        append_pattern(OUT, 10);

        all = follow(0, 0, BOTH, NULL, NULL);
        expect_data(all, sizeof(buf), OUT, 0, 10);     /* data does not merge across a gap */
        expect_gap(all, OUT, 10, 0, OUTPUT_GAP_DAEMON_DOWN);
        expect_gap(all, OUT, 10, 1000, OUTPUT_GAP_TRUNCATED);
        expect_data(all, sizeof(buf), OUT, 1010, 10);

        inside = follow(500, 0, BOTH, NULL, NULL);
        expect_gap(inside, OUT, 10, 1000, OUTPUT_GAP_TRUNCATED);
        expect_data(inside, sizeof(buf), OUT, 1010, 10);

        after = follow(1015, 0, BOTH, NULL, NULL);
        expect_data(after, sizeof(buf), OUT, 1015, 5);
        expect_nothing(after);
}

/* A full disk: every read of the pipe fails to be stored, each a gap record
 * of its own, with the other stream's records in between. */
Test(output_follower, contiguous_gaps_of_one_reason_are_one) {
        _cleanup_(output_follower_freep) OutputFollower *both = NULL, *out = NULL;

        append_pattern(OUT, 10);
        for (int i = 0; i < 300; i++) {
                cr_assert_eq(output_store_append_gap(store, OUT, OUTPUT_GAP_IO_ERROR, 65536), 0);
                if (i % 100 == 50)
                        append_pattern(ERR, 3);
                if (i % 100 == 70)
                        cr_assert_eq(output_store_append_gap(store, ERR, OUTPUT_GAP_IO_ERROR, 7), 0);
        }
        append_pattern(OUT, 10);

        both = follow(0, 0, BOTH, NULL, NULL);
        expect_data(both, sizeof(buf), OUT, 0, 10);
        /* The other stream's records are passed over and come after. */
        expect_gap(both, OUT, 10, 300 * 65536, OUTPUT_GAP_IO_ERROR);
        expect_data(both, sizeof(buf), ERR, 0, 3);
        expect_gap(both, ERR, 3, 7, OUTPUT_GAP_IO_ERROR);
        expect_data(both, sizeof(buf), ERR, 10, 3);
        expect_gap(both, ERR, 13, 7, OUTPUT_GAP_IO_ERROR);
        expect_data(both, sizeof(buf), ERR, 20, 3);
        expect_gap(both, ERR, 23, 7, OUTPUT_GAP_IO_ERROR);
        expect_data(both, sizeof(buf), OUT, 10 + 300 * 65536, 10);
        expect_nothing(both);

        out = follow(0, 0, OUTPUT_STREAM_BIT(OUT), NULL, NULL);
        expect_data(out, sizeof(buf), OUT, 0, 10);
        expect_gap(out, OUT, 10, 300 * 65536, OUTPUT_GAP_IO_ERROR);
        expect_data(out, sizeof(buf), OUT, 10 + 300 * 65536, 10);
        expect_nothing(out);
}

Test(output_follower, gaps_of_another_reason_or_unknown_size_stand_apart) {
        _cleanup_(output_follower_freep) OutputFollower *f = NULL;

        cr_assert_eq(output_store_append_gap(store, OUT, OUTPUT_GAP_TRUNCATED, 100), 0);
        cr_assert_eq(output_store_append_gap(store, OUT, OUTPUT_GAP_TRUNCATED, 100), 0);
        cr_assert_eq(output_store_append_gap(store, OUT, OUTPUT_GAP_DAEMON_DOWN, 0), 0);
        cr_assert_eq(output_store_append_gap(store, OUT, OUTPUT_GAP_DAEMON_DOWN, 50), 0);
        cr_assert_eq(output_store_append_gap(store, OUT, OUTPUT_GAP_TRUNCATED, 100), 0);
        cr_assert_eq(output_store_append_gap(store, ERR, OUTPUT_GAP_TRUNCATED, 5), 0);
        cr_assert_eq(output_store_append_gap(store, OUT, OUTPUT_GAP_TRUNCATED, 100), 0);

        f = follow(0, 0, BOTH, NULL, NULL);
        expect_gap(f, OUT, 0, 200, OUTPUT_GAP_TRUNCATED);
        expect_gap(f, OUT, 200, 0, OUTPUT_GAP_DAEMON_DOWN);
        expect_gap(f, OUT, 200, 50, OUTPUT_GAP_DAEMON_DOWN);
        expect_gap(f, OUT, 250, 200, OUTPUT_GAP_TRUNCATED);
        expect_gap(f, ERR, 0, 5, OUTPUT_GAP_TRUNCATED);
        expect_nothing(f);
}

/* Where logs --tail lands: an offset inside the gaps after the output cap
 * brings all of them, so that the caller learns where the stored output
 * ends. */
Test(output_follower, an_offset_inside_contiguous_gaps_brings_all_of_them) {
        _cleanup_(output_follower_freep) OutputFollower *at = NULL, *inside = NULL, *err = NULL;

        append_pattern(OUT, 10);
        for (int i = 0; i < 5; i++) {
                cr_assert_eq(output_store_append_gap(store, OUT, OUTPUT_GAP_TRUNCATED, 1000), 0);
                cr_assert_eq(output_store_append_gap(store, ERR, OUTPUT_GAP_TRUNCATED, 1), 0);
        }

        inside = follow(4500, 0, OUTPUT_STREAM_BIT(OUT), NULL, NULL);
        expect_gap(inside, OUT, 10, 5000, OUTPUT_GAP_TRUNCATED);
        expect_nothing(inside);

        /* At a boundary between two of them, too: it is inside the run. */
        at = follow(1010, 3, BOTH, NULL, NULL);
        expect_gap(at, OUT, 10, 5000, OUTPUT_GAP_TRUNCATED);
        expect_gap(at, ERR, 0, 5, OUTPUT_GAP_TRUNCATED);
        expect_nothing(at);

        /* The first byte after them is not. */
        err = follow(5010, 5, BOTH, NULL, NULL);
        expect_nothing(err);
}

/* What is committed later is returned later: a live follower of a job past
 * its cap gets the gap in contiguous pieces, which its caller joins. */
Test(output_follower, gaps_committed_later_continue_where_the_last_ended) {
        _cleanup_(output_follower_freep) OutputFollower *f = NULL;

        cr_assert_eq(output_store_append_gap(store, OUT, OUTPUT_GAP_TRUNCATED, 100), 0);
        f = follow(0, 0, BOTH, NULL, NULL);
        expect_gap(f, OUT, 0, 100, OUTPUT_GAP_TRUNCATED);
        expect_nothing(f);
        cr_assert_eq(output_store_append_gap(store, OUT, OUTPUT_GAP_TRUNCATED, 100), 0);
        cr_assert_eq(output_store_append_gap(store, OUT, OUTPUT_GAP_TRUNCATED, 100), 0);
        expect_gap(f, OUT, 100, 200, OUTPUT_GAP_TRUNCATED);
        expect_nothing(f);
}

Test(output_follower, streams_not_selected_are_skipped) {
        _cleanup_(output_follower_freep) OutputFollower *out = NULL, *err = NULL;

        for (int i = 0; i < 5; i++) {
                append_pattern(OUT, 10);
                append_pattern(ERR, 20);
        }
        out = follow(0, 0, OUTPUT_STREAM_BIT(OUT), NULL, NULL);
        err = follow(0, 30, OUTPUT_STREAM_BIT(ERR), NULL, NULL);

        expect_data(out, sizeof(buf), OUT, 0, 50);
        expect_nothing(out);
        expect_data(err, sizeof(buf), ERR, 30, 70);
        expect_nothing(err);
        cr_assert_eq(output_store_n_followers(store), 2);
}

Test(output_follower, many_small_records_are_found_quickly) {
        _cleanup_(output_follower_freep) OutputFollower *f = NULL;

        for (int i = 0; i < 100000; i++)
                append_pattern(i % 3 == 0 ? ERR : OUT, 1 + i % 5);

        f = follow(output_store_get_end(store, OUT) - 7, output_store_get_end(store, ERR), BOTH, NULL, NULL);
        expect_data(f, sizeof(buf), OUT, output_store_get_end(store, OUT) - 7, 7);
        expect_nothing(f);
}

Test(output_follower, end_only_after_finished_and_both_eofs) {
        _cleanup_(output_follower_freep) OutputFollower *f = NULL;
        OutputEvent ev;

        append_pattern(OUT, 10);
        f = follow(0, 0, OUTPUT_STREAM_BIT(OUT), NULL, NULL);
        expect_data(f, sizeof(buf), OUT, 0, 10);

        output_store_set_finished(store);
        expect_nothing(f);
        output_store_set_eof(store, OUT);
        expect_nothing(f);                               /* stderr is still open */
        output_store_set_eof(store, ERR);
        expect_end(f);
        expect_end(f);                                   /* and stays there */
        cr_assert_eq(output_follower_next(f, &ev, buf, 0), -EINVAL);
}

Test(output_follower, late_follower_gets_everything_then_end) {
        _cleanup_(output_follower_freep) OutputFollower *f = NULL;

        append_pattern(ERR, 3);
        append_pattern(OUT, 4);
        complete_store();

        f = follow(0, 0, BOTH, NULL, NULL);
        expect_data(f, sizeof(buf), ERR, 0, 3);
        expect_data(f, sizeof(buf), OUT, 0, 4);
        expect_end(f);
}

/* ---- wake-ups ---- */

typedef struct Waker {
        unsigned wakes;
        bool free_on_wake;
} Waker;

static void on_wake(OutputFollower *f, void *userdata) {
        Waker *w = userdata;

        w->wakes++;
        if (w->free_on_wake)
                output_follower_free(f);
}

/* Runs everything that is ready now, never blocking. */
static void run_ready(void) {
        while (sd_event_run(event, 0) > 0)
                ;
}

Test(output_follower, wake_is_deferred_edge_triggered_and_exactly_once) {
        _cleanup_(output_follower_freep) OutputFollower *f = NULL;
        Waker w = {};

        f = follow(0, 0, BOTH, on_wake, &w);
        run_ready();
        cr_assert_eq(w.wakes, 0);                       /* not armed before next() said 0 */

        expect_nothing(f);
        append_pattern(OUT, 10);
        cr_assert_eq(w.wakes, 0);                       /* never from inside the append */
        append_pattern(OUT, 10);
        run_ready();
        cr_assert_eq(w.wakes, 1);
        append_pattern(ERR, 10);
        run_ready();
        cr_assert_eq(w.wakes, 1);                       /* once until the next 0 */

        expect_data(f, sizeof(buf), OUT, 0, 20);
        expect_data(f, sizeof(buf), ERR, 0, 10);
        expect_nothing(f);
        append_pattern(ERR, 10);
        expect_data(f, sizeof(buf), ERR, 10, 10);       /* read before the wake ran: it is cancelled */
        run_ready();
        cr_assert_eq(w.wakes, 1);

        expect_nothing(f);
        complete_store();
        run_ready();
        cr_assert_eq(w.wakes, 2);
        expect_end(f);
}

Test(output_follower, wake_ignores_streams_not_selected) {
        _cleanup_(output_follower_freep) OutputFollower *f = NULL;
        Waker w = {};

        f = follow(0, 0, OUTPUT_STREAM_BIT(ERR), on_wake, &w);
        expect_nothing(f);
        append_pattern(OUT, 10);
        output_store_set_eof(store, OUT);
        run_ready();
        cr_assert_eq(w.wakes, 0);
        append_pattern(ERR, 1);
        run_ready();
        cr_assert_eq(w.wakes, 1);
        expect_data(f, sizeof(buf), ERR, 0, 1);
}

Test(output_follower, wake_may_free_the_follower) {
        Waker w[3] = { { .free_on_wake = true }, { .free_on_wake = true }, { .free_on_wake = true } };
        OutputFollower *f[3];

        for (int i = 0; i < 3; i++) {
                f[i] = follow(0, 0, BOTH, on_wake, &w[i]);
                expect_nothing(f[i]);
        }
        cr_assert_eq(output_store_n_followers(store), 3);
        append_pattern(OUT, 1);
        run_ready();
        for (int i = 0; i < 3; i++)
                cr_assert_eq(w[i].wakes, 1);
        cr_assert_eq(output_store_n_followers(store), 0);
}

Test(output_follower, followers_keep_the_store_alive) {
        OutputFollower *f;

        append_pattern(OUT, 10);
        f = follow(0, 0, BOTH, NULL, NULL);
        store = output_store_unref(store);
        expect_data(f, sizeof(buf), OUT, 0, 10);
        output_follower_free(f);
}
