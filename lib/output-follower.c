/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>

#include "log.h"
#include "macro.h"
#include "output-follower.h"

/* Contiguous gaps of one stream with one reason: the follower returns them
 * as one, and one that starts inside them from their first missing byte. */
typedef struct GapRun {
        uint64_t start, end;
        OutputGapReason reason;         /* OUTPUT_GAP_NONE: no run */
} GapRun;

struct OutputFollower {
        OutputStore *store;
        OutputWaiter waiter;
        sd_event_source *wake_source;   /* a disabled defer source, enabled one-shot to wake */
        OutputFollowerWake wake;
        void *userdata;

        unsigned stream_mask;
        uint64_t pos;                   /* file position of the next record to look at */
        uint64_t want[2];               /* per stream: the next offset to return */
        GapRun skipped[2];              /* per stream: the gaps passed over just before want */
};

static uint64_t *follower_want(OutputFollower *f, OutputStream stream) {
        assert(output_stream_is_valid(stream));
        return &f->want[stream - 1];
}

/* Called by the store in the middle of an append: only schedule the wake,
 * so the callback runs from its own dispatch and may do anything. */
static void follower_notify(void *userdata) {
        OutputFollower *f = userdata;

        (void) sd_event_source_set_enabled(f->wake_source, SD_EVENT_ONESHOT);
}

static int follower_dispatch_wake(sd_event_source *s, void *userdata) {
        OutputFollower *f = userdata;

        (void) s;
        f->wake(f, f->userdata);
        return 0;
}

int output_follower_new(OutputStore *store, uint64_t stdout_offset, uint64_t stderr_offset, unsigned stream_mask,
                        OutputFollowerWake wake, void *userdata, OutputFollower **ret) {
        OutputFollower *f;
        int r;

        assert(store);
        assert(ret);

        if (stream_mask == 0 || (stream_mask & ~OUTPUT_STREAMS_ALL) != 0)
                return -EINVAL;
        if (wake && !output_store_get_event(store))
                return -EINVAL;
        if (((stream_mask & OUTPUT_STREAM_BIT(OUTPUT_STREAM_STDOUT)) &&
             stdout_offset > output_store_get_end(store, OUTPUT_STREAM_STDOUT)) ||
            ((stream_mask & OUTPUT_STREAM_BIT(OUTPUT_STREAM_STDERR)) &&
             stderr_offset > output_store_get_end(store, OUTPUT_STREAM_STDERR)))
                return -ERANGE;

        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;

        if (wake) {
                r = sd_event_add_defer(output_store_get_event(store), &f->wake_source, follower_dispatch_wake, f);
                if (r < 0) {
                        free(f);
                        return r;
                }
                (void) sd_event_source_set_enabled(f->wake_source, SD_EVENT_OFF);
                (void) sd_event_source_set_description(f->wake_source, "output-follower-wake");
        }

        f->store = output_store_ref(store);
        f->wake = wake;
        f->userdata = userdata;
        f->stream_mask = stream_mask;
        /* Positioning is lazy: next() walks the headers from the start of
         * the file and skips what lies before the wanted offsets. */
        f->want[OUTPUT_STREAM_STDOUT - 1] = stdout_offset;
        f->want[OUTPUT_STREAM_STDERR - 1] = stderr_offset;
        f->waiter = (OutputWaiter) {
                .stream_mask = stream_mask,
                .notify = follower_notify,
                .userdata = f,
        };
        output_store_add_waiter(store, &f->waiter);

        *ret = f;
        return 0;
}

OutputFollower *output_follower_free(OutputFollower *f) {
        if (!f)
                return NULL;

        output_store_remove_waiter(f->store, &f->waiter);
        sd_event_source_disable_unref(f->wake_source);
        output_store_unref(f->store);
        free(f);
        return NULL;
}

uint64_t output_follower_get_offset(const OutputFollower *f, OutputStream stream) {
        assert(output_stream_is_valid(stream));
        return f->want[stream - 1];
}

/* Whether the follower has no use for the record: another stream, or bytes
 * before its offset.  A zero-length gap sits at its offset and is returned
 * unless the follower is past it. */
static bool follower_skips(OutputFollower *f, const OutputRecordHeader *h) {
        uint64_t want, span = output_record_span(h);

        if (!(f->stream_mask & OUTPUT_STREAM_BIT(h->stream)))
                return true;
        want = *follower_want(f, h->stream);
        return span > 0 ? h->offset + span <= want : h->offset < want;
}

static GapRun *follower_skipped(OutputFollower *f, OutputStream stream) {
        assert(output_stream_is_valid(stream));
        return &f->skipped[stream - 1];
}

/* Whether h continues the gaps in run: the same reason, where they end.  A
 * loss of unknown size stands alone. */
static bool gap_continues(const GapRun *run, const OutputRecordHeader *h) {
        return h->type == OUTPUT_RECORD_GAP && h->gap_length > 0 && run->reason != OUTPUT_GAP_NONE &&
               h->gap_reason == run->reason && h->offset == run->end;
}

/* A record of a selected stream that lies wholly before the follower's
 * offset: remembered if it is a gap, so that a gap the offset falls into is
 * returned from its start. */
static void follower_note_skipped(OutputFollower *f, const OutputRecordHeader *h) {
        GapRun *run;

        if (!(f->stream_mask & OUTPUT_STREAM_BIT(h->stream)))
                return;
        run = follower_skipped(f, h->stream);
        if (gap_continues(run, h))
                run->end += h->gap_length;
        else if (h->type == OUTPUT_RECORD_GAP && h->gap_length > 0)
                *run = (GapRun) { h->offset, h->offset + h->gap_length, h->gap_reason };
        else
                *run = (GapRun) {};
}

/* Returns the gap at f->pos, from its first missing byte (also if the
 * follower's offset is inside it), joined with the gaps that continue it
 * in the records committed so far.  Records of the other stream in between
 * are passed over but not consumed: the follower's position stays at the
 * first of them, and what was joined is behind the stream's offset when it
 * comes to them again.  So every record is looked at a bounded number of
 * times. */
static void follower_take_gap(OutputFollower *f, OutputReadWindow *w, const OutputRecordHeader *h,
                              uint64_t record_end, uint64_t size, OutputEvent *ev) {
        uint64_t *want = follower_want(f, h->stream);
        GapRun *skipped = follower_skipped(f, h->stream);
        GapRun run = { h->offset, h->offset + h->gap_length, h->gap_reason };
        bool consumed = true;

        if (gap_continues(skipped, h))
                run.start = skipped->start;
        *skipped = (GapRun) {};
        f->pos = record_end;

        for (uint64_t pos = record_end; h->gap_length > 0 && pos < size;) {
                OutputRecordHeader next;

                if (output_store_read_header(f->store, w, pos, size, &next) < 0)
                        break;          /* the next call finds the error */
                pos += OUTPUT_RECORD_HEADER_SIZE + next.length;

                if (next.stream == h->stream) {
                        if (!gap_continues(&run, &next))
                                break;
                        run.end += next.gap_length;
                } else if (!follower_skips(f, &next))
                        consumed = false;
                else if (consumed)
                        follower_note_skipped(f, &next);
                if (consumed)
                        f->pos = pos;
        }

        *ev = (OutputEvent) {
                .type = OUTPUT_EVENT_GAP,
                .stream = h->stream,
                .offset = run.start,
                .length = run.end - run.start,
                .reason = h->gap_reason,
        };
        *want = run.end;
}

/* Copies the wanted part of a DATA record, as much as fits, to the end of
 * the event being built.  The position moves past the record only once all
 * of it was returned. */
static int follower_take_data(OutputFollower *f, OutputReadWindow *w, const OutputRecordHeader *h,
                              uint64_t record_end, OutputEvent *ev, uint8_t *buf, size_t bufsize) {
        uint64_t *want = follower_want(f, h->stream);
        uint64_t skip, n;
        int r;

        if (*want < h->offset)
                return -EBADMSG;        /* a hole in the stream: the file is corrupt */
        skip = *want - h->offset;
        n = h->length - skip;
        if (n > bufsize - ev->length)
                n = bufsize - ev->length;

        r = output_store_read(f->store, w, f->pos + OUTPUT_RECORD_HEADER_SIZE + skip, record_end,
                              buf + ev->length, (size_t) n);
        if (r < 0)
                return r;

        *follower_skipped(f, h->stream) = (GapRun) {};
        if (ev->length == 0) {
                ev->type = OUTPUT_EVENT_DATA;
                ev->stream = h->stream;
                ev->offset = *want;
        }
        ev->length += n;
        *want += n;
        if (*want == h->offset + h->length)
                f->pos = record_end;
        return 0;
}

int output_follower_next(OutputFollower *f, OutputEvent *ev, void *buf, size_t bufsize) {
        uint64_t size = output_store_get_size(f->store);
        OutputReadWindow w;
        int r;

        assert(f);
        assert(ev);
        if (!buf || bufsize == 0)
                return -EINVAL;

        /* Whoever calls has been woken, or does not need to be. */
        f->waiter.armed = false;
        if (f->wake_source)
                (void) sd_event_source_set_enabled(f->wake_source, SD_EVENT_OFF);

        w.start = 0;
        w.len = 0;
        *ev = (OutputEvent) {};

        while (f->pos < size) {
                OutputRecordHeader h;
                uint64_t record_end;

                r = output_store_read_header(f->store, &w, f->pos, size, &h);
                if (r < 0)
                        return log_debug_errno(r, "Failed to read output record at %" PRIu64, f->pos);
                record_end = f->pos + OUTPUT_RECORD_HEADER_SIZE + h.length;

                if (follower_skips(f, &h)) {
                        follower_note_skipped(f, &h);
                        f->pos = record_end;
                        continue;
                }

                if (h.type == OUTPUT_RECORD_GAP) {
                        if (ev->length > 0)
                                break;
                        follower_take_gap(f, &w, &h, record_end, size, ev);
                        return 1;
                }

                /* Merge only the continuation of the stream being returned. */
                if (ev->length > 0 && h.stream != ev->stream)
                        break;
                r = follower_take_data(f, &w, &h, record_end, ev, buf, bufsize);
                if (r < 0)
                        return log_debug_errno(r, "Failed to read output data at %" PRIu64, f->pos);
                if (ev->length == bufsize)
                        break;
        }

        if (ev->length > 0)
                return 1;
        if (output_store_is_complete(f->store)) {
                *ev = (OutputEvent) { .type = OUTPUT_EVENT_END };
                return 1;
        }
        if (f->wake)
                f->waiter.armed = true;
        return 0;
}
