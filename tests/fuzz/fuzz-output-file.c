/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A job's output record file (<state>/jobs/<id>/output.log,
 * lib/output-store.c) as a new daemon recovers it after a crash: torn,
 * truncated, garbage.  The input is the file, in a memfd.
 *
 * Recovery must keep exactly the longest prefix of well-formed records
 * whose offsets continue their stream (checked against a reading of the
 * format as output-store.h documents it), cut the rest off the file, and
 * then serve consistent offsets: per stream contiguous from 0, its end the
 * sum of its records' spans, and every byte read back through followers
 * (from 0, and from offsets inside the output, with small and large
 * buffers) as it is in the file, then END.  Output appended after the
 * recovery continues the streams. */

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "macro.h"
#include "output-follower.h"
#include "output-store.h"

/* One record as the format describes it. */
typedef struct Record {
        OutputRecordType type;
        OutputStream stream;
        OutputGapReason reason;
        uint64_t offset, span;
        const uint8_t *data;            /* DATA: span bytes */
} Record;

typedef struct Reference {
        Record *records;
        size_t n_records;
        uint64_t size;                  /* of the valid prefix */
        uint64_t end[2];
        uint64_t data_bytes;
        bool truncated;
} Reference;

static void reference_done(Reference *ref) {
        free(ref->records);
}

static uint64_t le(const uint8_t *p, size_t n) {
        uint64_t v = 0;

        for (size_t i = n; i > 0; i--)
                v = v << 8 | p[i - 1];
        return v;
}

/* The record at p (avail bytes), or false where recovery must stop. */
static bool record_decode(const uint8_t *p, uint64_t avail, const uint64_t end[2], Record *ret) {
        uint8_t type, stream, reason;
        uint64_t length, offset, gap;

        if (avail < OUTPUT_RECORD_HEADER_SIZE)
                return false;
        type = p[0];
        stream = p[1];
        reason = p[2];
        if (p[3] != 0 || (stream != 1 && stream != 2))
                return false;
        length = le(p + 4, 4);
        offset = le(p + 8, 8);
        gap = le(p + 16, 8);
        if (type == OUTPUT_RECORD_DATA) {
                if (reason != 0 || length == 0 || length > OUTPUT_RECORD_DATA_MAX || gap != 0)
                        return false;
        } else if (type == OUTPUT_RECORD_GAP) {
                if (reason < 1 || reason > 3 || length != 0 || (gap == 0 && reason != OUTPUT_GAP_DAEMON_DOWN))
                        return false;
        } else
                return false;
        if (avail - OUTPUT_RECORD_HEADER_SIZE < length || offset != end[stream - 1] ||
            (type == OUTPUT_RECORD_DATA ? length : gap) > OUTPUT_OFFSET_MAX - offset)
                return false;
        *ret = (Record) {
                .type = type,
                .stream = stream,
                .reason = reason,
                .offset = offset,
                .span = type == OUTPUT_RECORD_DATA ? length : gap,
                .data = p + OUTPUT_RECORD_HEADER_SIZE,
        };
        return true;
}

static void reference_add(Reference *ref, const Record *r) {
        Record *grown = realloc(ref->records, (ref->n_records + 1) * sizeof(Record));

        FUZZ_CHECK(grown, "out of memory");
        ref->records = grown;
        ref->records[ref->n_records++] = *r;
        ref->end[r->stream - 1] += r->span;
        if (r->type == OUTPUT_RECORD_DATA)
                ref->data_bytes += r->span;
        else if (r->reason == OUTPUT_GAP_TRUNCATED)
                ref->truncated = true;
}

static void reference_build(const uint8_t *data, size_t size, Reference *ref) {
        uint64_t pos = 0;
        Record r;

        while (record_decode(data + pos, size - pos, ref->end, &r)) {
                reference_add(ref, &r);
                pos += OUTPUT_RECORD_HEADER_SIZE + (r.type == OUTPUT_RECORD_DATA ? r.span : 0);
        }
        ref->size = pos;
}

/* An event must be what the records say about those stream offsets. */
static void check_event(const Reference *ref, const OutputEvent *ev, const uint8_t *buf) {
        uint64_t from = ev->offset, to = ev->offset + ev->length;
        bool zero_gap_found = false;

        for (size_t i = 0; i < ref->n_records; i++) {
                const Record *r = &ref->records[i];
                uint64_t a, b;

                if (r->stream != ev->stream)
                        continue;
                if (ev->type == OUTPUT_EVENT_GAP && ev->length == 0) {
                        zero_gap_found |= r->type == OUTPUT_RECORD_GAP && r->span == 0 && r->offset == from &&
                                          r->reason == ev->reason;
                        continue;
                }
                a = r->offset > from ? r->offset : from;
                b = r->offset + r->span < to ? r->offset + r->span : to;
                if (a >= b)
                        continue;       /* no overlap */
                if (ev->type == OUTPUT_EVENT_GAP) {
                        FUZZ_CHECK(r->type == OUTPUT_RECORD_GAP && r->reason == ev->reason && a == from && b == to,
                                   "gap %" PRIu64 "+%" PRIu64 " of stream %d is not one gap record", ev->offset,
                                   ev->length, ev->stream);
                        return;
                }
                FUZZ_CHECK(r->type == OUTPUT_RECORD_DATA, "data %" PRIu64 "+%" PRIu64 " of stream %d overlaps a gap",
                           ev->offset, ev->length, ev->stream);
                FUZZ_CHECK(memcmp(buf + (a - from), r->data + (a - r->offset), (size_t) (b - a)) == 0,
                           "data at %" PRIu64 " of stream %d differs from the file", a, ev->stream);
        }
        if (ev->type == OUTPUT_EVENT_GAP)
                FUZZ_CHECK(ev->length > 0 || zero_gap_found, "a gap at %" PRIu64 " of stream %d that is not in the file",
                           ev->offset, ev->stream);
}

/* Reads everything from the offsets given through one follower and checks
 * each event and the whole. */
static void follow(OutputStore *store, const Reference *ref, uint64_t stdout_offset, uint64_t stderr_offset,
                   unsigned mask, size_t bufsize) {
        _cleanup_(output_follower_freep) OutputFollower *f = NULL;
        _cleanup_free_ uint8_t *buf = malloc(bufsize);
        uint64_t want[2] = { stdout_offset, stderr_offset };
        size_t limit = 4 * (ref->size + ref->n_records + 16);
        int r;

        FUZZ_CHECK(buf, "out of memory");
        r = output_follower_new(store, stdout_offset, stderr_offset, mask, NULL, NULL, &f);
        FUZZ_CHECK(r == 0, "follower from %" PRIu64 "/%" PRIu64 ": %d", stdout_offset, stderr_offset, r);

        for (size_t n = 0;; n++) {
                OutputEvent ev;

                FUZZ_CHECK(n < limit, "no END after %zu events", n);
                r = output_follower_next(f, &ev, buf, bufsize);
                FUZZ_CHECK(r == 1, "output_follower_next: %d", r);
                if (ev.type == OUTPUT_EVENT_END)
                        break;
                FUZZ_CHECK(output_stream_is_valid(ev.stream) && (mask & OUTPUT_STREAM_BIT(ev.stream)),
                           "an event of stream %d, not followed", ev.stream);
                FUZZ_CHECK(fuzz_event_continues(&want[ev.stream - 1], ev.offset, ev.length, ev.type == OUTPUT_EVENT_GAP),
                           "stream %d continues at %" PRIu64 ", not %" PRIu64, ev.stream, ev.offset,
                           want[ev.stream - 1]);
                FUZZ_CHECK(ev.type == OUTPUT_EVENT_GAP || (ev.length >= 1 && ev.length <= bufsize),
                           "data event of %" PRIu64 " bytes", ev.length);
                check_event(ref, &ev, buf);
        }
        for (OutputStream s = OUTPUT_STREAM_STDOUT; s <= OUTPUT_STREAM_STDERR; s++)
                if (mask & OUTPUT_STREAM_BIT(s))
                        FUZZ_CHECK(want[s - 1] == ref->end[s - 1], "stream %d read up to %" PRIu64 ", its end is %" PRIu64,
                                   s, want[s - 1], ref->end[s - 1]);
}

static void check_store(OutputStore *store, const Reference *ref) {
        for (OutputStream s = OUTPUT_STREAM_STDOUT; s <= OUTPUT_STREAM_STDERR; s++)
                FUZZ_CHECK(output_store_get_end(store, s) == ref->end[s - 1], "stream %d ends at %" PRIu64 ", not %" PRIu64,
                           s, output_store_get_end(store, s), ref->end[s - 1]);
        FUZZ_CHECK(output_store_get_data_bytes(store) == ref->data_bytes, "%" PRIu64 " data bytes, not %" PRIu64,
                   output_store_get_data_bytes(store), ref->data_bytes);
        FUZZ_CHECK(output_store_get_truncated(store) == ref->truncated, "truncated flag wrong");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(output_store_unrefp) OutputStore *store = NULL;
        _cleanup_(reference_done) Reference ref = {};
        static const uint8_t appended[] = "appended";
        struct stat st;
        int fd, r;

        fd = memfd_create("output.log", MFD_CLOEXEC);
        FUZZ_CHECK(fd >= 0, "memfd_create: %m");
        FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t) size, "write: %m");

        reference_build(data, size, &ref);

        r = output_store_open_fd(fd, NULL, &store);
        FUZZ_CHECK(r == 0, "recovery failed: %d", r);
        FUZZ_CHECK(output_store_get_size(store) == ref.size, "kept %" PRIu64 " bytes, the valid records are %" PRIu64,
                   output_store_get_size(store), ref.size);
        FUZZ_CHECK(fstat(fd, &st) == 0 && (uint64_t) st.st_size == ref.size, "the file is %jd bytes, not %" PRIu64,
                   (intmax_t) st.st_size, ref.size);
        check_store(store, &ref);

        /* Output written after the recovery continues the stream, up to
         * the offset limit. */
        r = output_store_append_data(store, OUTPUT_STREAM_STDOUT, appended, sizeof(appended) - 1);
        if (ref.end[0] > OUTPUT_OFFSET_MAX - (sizeof(appended) - 1))
                FUZZ_CHECK(r == -EOVERFLOW, "appended past the offset limit: %d", r);
        else {
                FUZZ_CHECK(r == 0, "cannot append: %d", r);
                reference_add(&ref, &(Record) {
                        .type = OUTPUT_RECORD_DATA,
                        .stream = OUTPUT_STREAM_STDOUT,
                        .offset = ref.end[0],
                        .span = sizeof(appended) - 1,
                        .data = appended,
                });
                ref.size += OUTPUT_RECORD_HEADER_SIZE + sizeof(appended) - 1;
        }
        check_store(store, &ref);

        output_store_set_eof(store, OUTPUT_STREAM_STDOUT);
        output_store_set_eof(store, OUTPUT_STREAM_STDERR);
        output_store_set_finished(store);

        /* From the start, with a large buffer and with a tiny one. */
        follow(store, &ref, 0, 0, OUTPUT_STREAMS_ALL, OUTPUT_RECORD_DATA_MAX);
        follow(store, &ref, 0, 0, OUTPUT_STREAMS_ALL, 1 + size % 7);
        /* From offsets inside the output, one stream or both. */
        for (unsigned k = 1; k <= 3; k++) {
                uint64_t o1 = ref.end[0] / 4 * k + size % 3, o2 = ref.end[1] / 4 * k + size % 5;

                follow(store, &ref, o1 > ref.end[0] ? ref.end[0] : o1, o2 > ref.end[1] ? ref.end[1] : o2,
                       k == 3 ? OUTPUT_STREAMS_ALL : OUTPUT_STREAM_BIT(k), 1 + size % 61);
        }
        /* Past the end: refused. */
        {
                OutputFollower *f = NULL;

                r = output_follower_new(store, ref.end[0] + 1, 0, OUTPUT_STREAMS_ALL, NULL, NULL, &f);
                FUZZ_CHECK(r == -ERANGE, "an offset past the end: %d", r);
                output_follower_free(f);
        }
        return 0;
}
