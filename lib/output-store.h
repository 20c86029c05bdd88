/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The on-disk record log of one job's output (internal).
 *
 * One file, normally "output.log" in the job's directory, holds a sequence
 * of records, each a fixed 24-byte little-endian header and its data:
 *
 *   u8  type         OUTPUT_RECORD_DATA (1) or OUTPUT_RECORD_GAP (2)
 *   u8  stream       OUTPUT_STREAM_STDOUT (1) or OUTPUT_STREAM_STDERR (2)
 *   u8  gap_reason   0 for DATA; OutputGapReason for GAP
 *   u8  reserved     0
 *   u32 length       DATA: 1..65536 bytes of data follow; GAP: 0
 *   u64 offset       stream offset of the record's first byte
 *   u64 gap_length   GAP: bytes missing (0 only for DAEMON_DOWN); DATA: 0
 *
 * Each stream has its own offsets from 0, contiguous across its records,
 * up to OUTPUT_OFFSET_MAX.
 * Records are appended with one pwritev() each, and readers never look past
 * the committed size, so a record is never seen half-written.  In memory the
 * store keeps only counters, never anything per record, so memory stays flat
 * however much a job prints. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#define OUTPUT_FILE_NAME "output.log"
#define OUTPUT_RECORD_HEADER_SIZE 24u
#define OUTPUT_RECORD_DATA_MAX (64u * 1024u)
/* Stream offsets stay at most this: no job prints 2^63 bytes (292 years at
 * 1 GB/s), so a record that claims more is corrupt, and offset arithmetic
 * never overflows. */
#define OUTPUT_OFFSET_MAX ((uint64_t) INT64_MAX)
/* Bytes dropped in a row are recorded as one gap at least this often, so a
 * follower sees a truncated stream progress without one record per read. */
#define OUTPUT_GAP_FLUSH_BYTES (UINT64_C(64) * 1024 * 1024)

typedef enum OutputStream {
        OUTPUT_STREAM_STDOUT = 1,
        OUTPUT_STREAM_STDERR = 2,
} OutputStream;

/* Stream masks use the same bits as the public jr_stream masks. */
#define OUTPUT_STREAM_BIT(s) (1u << (s))
#define OUTPUT_STREAMS_ALL (OUTPUT_STREAM_BIT(OUTPUT_STREAM_STDOUT) | OUTPUT_STREAM_BIT(OUTPUT_STREAM_STDERR))

typedef enum OutputRecordType {
        OUTPUT_RECORD_DATA = 1,
        OUTPUT_RECORD_GAP = 2,
} OutputRecordType;

typedef enum OutputGapReason {
        OUTPUT_GAP_NONE = 0,
        OUTPUT_GAP_TRUNCATED = 1,       /* past the job's output cap */
        OUTPUT_GAP_DAEMON_DOWN = 2,     /* lost while the daemon was not running */
        OUTPUT_GAP_IO_ERROR = 3,        /* read, but writing it to the file failed */
} OutputGapReason;

typedef struct OutputRecordHeader {
        OutputRecordType type;
        OutputStream stream;
        OutputGapReason gap_reason;
        uint32_t length;                /* data bytes following the header */
        uint64_t offset;
        uint64_t gap_length;
} OutputRecordHeader;

static inline bool output_stream_is_valid(int s) {
        return s == OUTPUT_STREAM_STDOUT || s == OUTPUT_STREAM_STDERR;
}

/* Stream offsets a record covers: its data, or the bytes of its gap. */
static inline uint64_t output_record_span(const OutputRecordHeader *h) {
        return h->type == OUTPUT_RECORD_DATA ? h->length : h->gap_length;
}

void output_record_header_pack(const OutputRecordHeader *h, uint8_t raw[static OUTPUT_RECORD_HEADER_SIZE]);
/* -EBADMSG if raw is not a well-formed header. */
int output_record_header_parse(const uint8_t raw[static OUTPUT_RECORD_HEADER_SIZE], OutputRecordHeader *ret);

typedef struct OutputStore OutputStore;

typedef enum OutputStoreMode {
        OUTPUT_STORE_CREATE,            /* a new file; -EEXIST if there is one */
        OUTPUT_STORE_APPEND,            /* an existing file: recover, then append */
} OutputStoreMode;

/* Opens path relative to dir_fd (or AT_FDCWD).  APPEND scans the headers,
 * truncates a torn or corrupt tail and rebuilds the counters.  event (may be
 * NULL, then followers cannot be woken) is where follower wake-ups run. */
int output_store_open(int dir_fd, const char *path, OutputStoreMode mode, sd_event *event, OutputStore **ret);
/* The same as APPEND for a file already open read-write (a memfd in tests
 * and fuzzing), which the store takes over, even on failure. */
int output_store_open_fd(int fd, sd_event *event, OutputStore **ret);
OutputStore *output_store_ref(OutputStore *s);
OutputStore *output_store_unref(OutputStore *s);
static inline void output_store_unrefp(OutputStore **s) {
        if (*s)
                output_store_unref(*s);
}

/* Appends one DATA record of 1..OUTPUT_RECORD_DATA_MAX bytes, after the
 * stream's pending gap if there is one, in one write.  On a write error
 * nothing is committed, neither the data nor the gap, and the error is
 * returned (logged once per store). */
int output_store_append_data(OutputStore *s, OutputStream stream, const void *data, size_t size);
/* Appends a GAP record at once.  length 0 only for OUTPUT_GAP_DAEMON_DOWN (a
 * loss of unknown size). */
int output_store_append_gap(OutputStore *s, OutputStream stream, OutputGapReason reason, uint64_t length);
/* Counts dropped bytes into the stream's pending gap, which is written every
 * OUTPUT_GAP_FLUSH_BYTES, before the stream's next data, on a change of
 * reason, at EOF and by output_store_flush().  Cannot fail: if the gap
 * cannot be written it stays pending (merged as OUTPUT_GAP_IO_ERROR). */
void output_store_drop(OutputStore *s, OutputStream stream, OutputGapReason reason, uint64_t length);
int output_store_flush(OutputStore *s, OutputStream stream);

/* The stream reached EOF: flushes its pending gap.  Idempotent. */
void output_store_set_eof(OutputStore *s, OutputStream stream);
/* The job has ended (called by the job code once the unit is gone). */
void output_store_set_finished(OutputStore *s);
bool output_store_get_eof(const OutputStore *s, OutputStream stream);
bool output_store_get_finished(const OutputStore *s);
/* Finished and both streams at EOF: nothing will ever be appended. */
bool output_store_is_complete(const OutputStore *s);

/* Bytes read from the stream so far, stored or dropped (pending included). */
uint64_t output_store_get_end(const OutputStore *s, OutputStream stream);
/* Data bytes stored, both streams (what the output cap counts). */
uint64_t output_store_get_data_bytes(const OutputStore *s);
/* Committed file size: readers read below it only. */
uint64_t output_store_get_size(const OutputStore *s);
/* Some output was dropped because of the cap (now or in a past run). */
bool output_store_get_truncated(const OutputStore *s);
unsigned output_store_n_followers(const OutputStore *s);
sd_event *output_store_get_event(const OutputStore *s);

/* ---- for output-follower.c ---- */

/* A small read-ahead buffer, on the reader's stack for one call: many small
 * records cost one pread() per window instead of two each. */
typedef struct OutputReadWindow {
        uint64_t start;
        size_t len;
        uint8_t buf[4096];
} OutputReadWindow;

/* Reads n bytes at pos, all below limit.  -EIO on a short file. */
int output_store_read(OutputStore *s, OutputReadWindow *w, uint64_t pos, uint64_t limit, void *dst, size_t n);
/* Reads and parses the header at pos; the record must end below limit. */
int output_store_read_header(OutputStore *s, OutputReadWindow *w, uint64_t pos, uint64_t limit,
                             OutputRecordHeader *ret);

/* A follower registered with the store: counted, and notified (armed ones
 * only, then disarmed) when a record of a stream in stream_mask is committed
 * or the store becomes complete.  notify must not call back into the store. */
typedef struct OutputWaiter OutputWaiter;
struct OutputWaiter {
        OutputWaiter *prev, *next;
        unsigned stream_mask;
        bool armed;
        void (*notify)(void *userdata);
        void *userdata;
};

void output_store_add_waiter(OutputStore *s, OutputWaiter *w);
void output_store_remove_waiter(OutputStore *s, OutputWaiter *w);
