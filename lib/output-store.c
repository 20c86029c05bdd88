/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <endian.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "log.h"
#include "macro.h"
#include "output-store.h"

typedef struct StoreStream {
        uint64_t next;                  /* offset after the last committed record */
        uint64_t pending;               /* dropped bytes not yet recorded as a gap */
        OutputGapReason pending_reason;
        uint64_t flush_at;              /* write the pending gap once it reaches this */
        bool eof;
} StoreStream;

struct OutputStore {
        unsigned n_ref;
        int fd;
        sd_event *event;

        uint64_t size;                  /* committed file size */
        uint64_t data_bytes;
        StoreStream streams[2];
        bool finished;
        bool truncated;
        bool write_error_logged;

        OutputWaiter *waiters;
        unsigned n_waiters;
};

static StoreStream *store_stream(OutputStore *s, OutputStream stream) {
        assert(output_stream_is_valid(stream));
        return &s->streams[stream - 1];
}

void output_record_header_pack(const OutputRecordHeader *h, uint8_t raw[static OUTPUT_RECORD_HEADER_SIZE]) {
        uint32_t length = htole32(h->length);
        uint64_t offset = htole64(h->offset), gap_length = htole64(h->gap_length);

        raw[0] = (uint8_t) h->type;
        raw[1] = (uint8_t) h->stream;
        raw[2] = (uint8_t) h->gap_reason;
        raw[3] = 0;
        memcpy(raw + 4, &length, sizeof(length));
        memcpy(raw + 8, &offset, sizeof(offset));
        memcpy(raw + 16, &gap_length, sizeof(gap_length));
}

int output_record_header_parse(const uint8_t raw[static OUTPUT_RECORD_HEADER_SIZE], OutputRecordHeader *ret) {
        OutputRecordHeader h = {
                .type = raw[0],
                .stream = raw[1],
                .gap_reason = raw[2],
        };
        uint32_t length;
        uint64_t offset, gap_length;

        memcpy(&length, raw + 4, sizeof(length));
        memcpy(&offset, raw + 8, sizeof(offset));
        memcpy(&gap_length, raw + 16, sizeof(gap_length));
        h.length = le32toh(length);
        h.offset = le64toh(offset);
        h.gap_length = le64toh(gap_length);

        if (raw[3] != 0 || !output_stream_is_valid(h.stream))
                return -EBADMSG;
        if (h.type == OUTPUT_RECORD_DATA) {
                if (h.gap_reason != OUTPUT_GAP_NONE || h.length == 0 || h.length > OUTPUT_RECORD_DATA_MAX ||
                    h.gap_length != 0)
                        return -EBADMSG;
        } else if (h.type == OUTPUT_RECORD_GAP) {
                if (h.gap_reason < OUTPUT_GAP_TRUNCATED || h.gap_reason > OUTPUT_GAP_IO_ERROR || h.length != 0 ||
                    (h.gap_length == 0 && h.gap_reason != OUTPUT_GAP_DAEMON_DOWN))
                        return -EBADMSG;
        } else
                return -EBADMSG;
        if (output_record_span(&h) > OUTPUT_OFFSET_MAX || h.offset > OUTPUT_OFFSET_MAX - output_record_span(&h))
                return -EBADMSG;

        *ret = h;
        return 0;
}

static int pread_full(int fd, void *buf, size_t n, uint64_t pos) {
        uint8_t *p = buf;

        while (n > 0) {
                ssize_t k = pread(fd, p, n, (off_t) pos);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;    /* the file is shorter than its committed size */
                p += k;
                pos += (uint64_t) k;
                n -= (size_t) k;
        }
        return 0;
}

int output_store_read(OutputStore *s, OutputReadWindow *w, uint64_t pos, uint64_t limit, void *dst, size_t n) {
        int r;

        if (pos > limit || n > limit - pos)
                return -EIO;

        if (pos >= w->start && pos - w->start <= w->len && n <= w->len - (pos - w->start)) {
                memcpy(dst, w->buf + (pos - w->start), n);
                return 0;
        }

        /* Large reads go straight to the caller; small ones refill the window
         * so that the next headers and small records come from memory. */
        if (n > sizeof(w->buf) / 2)
                return pread_full(s->fd, dst, n, pos);

        w->start = pos;
        w->len = limit - pos < sizeof(w->buf) ? (size_t) (limit - pos) : sizeof(w->buf);
        r = pread_full(s->fd, w->buf, w->len, pos);
        if (r < 0) {
                w->len = 0;
                return r;
        }
        memcpy(dst, w->buf, n);
        return 0;
}

int output_store_read_header(OutputStore *s, OutputReadWindow *w, uint64_t pos, uint64_t limit,
                             OutputRecordHeader *ret) {
        uint8_t raw[OUTPUT_RECORD_HEADER_SIZE];
        OutputRecordHeader h;
        int r;

        if (pos > limit || limit - pos < OUTPUT_RECORD_HEADER_SIZE)
                return -EBADMSG;
        r = output_store_read(s, w, pos, limit, raw, sizeof(raw));
        if (r < 0)
                return r;
        r = output_record_header_parse(raw, &h);
        if (r < 0)
                return r;
        if (limit - pos - OUTPUT_RECORD_HEADER_SIZE < h.length)
                return -EBADMSG;

        *ret = h;
        return 0;
}

/* Rebuilds the counters from the headers; a record that is torn, malformed
 * or does not continue its stream ends the log and is cut off. */
static int store_recover(OutputStore *s) {
        OutputReadWindow w = {};
        uint64_t pos = 0, file_size;
        struct stat st;

        if (fstat(s->fd, &st) < 0)
                return log_debug_errno(errno, "Failed to stat output file");
        if (!S_ISREG(st.st_mode))
                return log_debug_errno(EBADFD, "Output file is not a regular file");
        file_size = (uint64_t) st.st_size;

        while (pos < file_size) {
                OutputRecordHeader h;
                StoreStream *ss;
                int r;

                r = output_store_read_header(s, &w, pos, file_size, &h);
                if (r == -EBADMSG)
                        break;
                if (r < 0)
                        return log_debug_errno(r, "Failed to read output file");
                ss = store_stream(s, h.stream);
                if (h.offset != ss->next)
                        break;

                ss->next += output_record_span(&h);
                if (h.type == OUTPUT_RECORD_DATA)
                        s->data_bytes += h.length;
                else if (h.gap_reason == OUTPUT_GAP_TRUNCATED)
                        s->truncated = true;
                pos += OUTPUT_RECORD_HEADER_SIZE + h.length;
        }

        if (pos < file_size) {
                log_warning("Output file: discarding a torn or corrupt tail of %" PRIu64 " bytes at %" PRIu64,
                            file_size - pos, pos);
                if (ftruncate(s->fd, (off_t) pos) < 0)
                        return log_debug_errno(errno, "Failed to truncate output file");
        }
        s->size = pos;
        return 0;
}

static int store_new(int fd, OutputStoreMode mode, sd_event *event, OutputStore **ret) {
        _cleanup_(output_store_unrefp) OutputStore *s = NULL;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s) {
                safe_close(fd);
                return -ENOMEM;
        }
        s->n_ref = 1;
        s->fd = fd;
        s->event = event ? sd_event_ref(event) : NULL;

        if (mode == OUTPUT_STORE_APPEND) {
                r = store_recover(s);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(s);
        return 0;
}

int output_store_open(int dir_fd, const char *path, OutputStoreMode mode, sd_event *event, OutputStore **ret) {
        int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW, fd;

        assert(path);
        assert(ret);

        if (mode == OUTPUT_STORE_CREATE)
                flags |= O_CREAT | O_EXCL;
        else if (mode != OUTPUT_STORE_APPEND)
                return -EINVAL;

        fd = openat(dir_fd, path, flags, 0600);
        if (fd < 0)
                return log_debug_errno(errno, "Failed to open output file %s", path);
        return store_new(fd, mode, event, ret);
}

int output_store_open_fd(int fd, sd_event *event, OutputStore **ret) {
        assert(fd >= 0);
        assert(ret);

        return store_new(fd, OUTPUT_STORE_APPEND, event, ret);
}

OutputStore *output_store_ref(OutputStore *s) {
        assert(s);
        s->n_ref++;
        return s;
}

OutputStore *output_store_unref(OutputStore *s) {
        if (!s)
                return NULL;
        assert(s->n_ref > 0);
        if (--s->n_ref > 0)
                return NULL;

        assert(!s->waiters);            /* every follower holds a reference */
        safe_close(s->fd);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

/* Wakes the armed waiters that care; only a flag and a deferred event
 * source are touched, so this is safe in the middle of an append. */
static void store_notify(OutputStore *s, unsigned stream_mask) {
        bool complete = output_store_is_complete(s);

        for (OutputWaiter *w = s->waiters; w; w = w->next) {
                if (!w->armed || (!complete && !(w->stream_mask & stream_mask)))
                        continue;
                w->armed = false;
                w->notify(w->userdata);
        }
}

/* Appends n records (1 or 2) in one pwritev(): their headers, and data
 * after the last one's header.  All of them are committed, or none. */
static int store_write_records(OutputStore *s, const OutputRecordHeader *h, size_t n, const void *data) {
        uint8_t raw[2][OUTPUT_RECORD_HEADER_SIZE];
        struct iovec iov[3], *v = iov;
        int n_iov = 0;
        uint64_t done = 0;

        assert(n >= 1 && n <= ELEMENTSOF(raw));
        for (size_t i = 0; i < n; i++) {
                /* Only a stream recovered from a file that claims nearly
                 * 2^63 bytes gets here; a record past the limit could not
                 * be read. */
                if (output_record_span(&h[i]) > OUTPUT_OFFSET_MAX - h[i].offset)
                        return -EOVERFLOW;
                output_record_header_pack(&h[i], raw[i]);
                iov[n_iov++] = (struct iovec) { .iov_base = raw[i], .iov_len = sizeof(raw[i]) };
        }
        if (h[n - 1].length > 0)
                iov[n_iov++] = (struct iovec) { .iov_base = (void *) data, .iov_len = h[n - 1].length };

        /* pwritev() at the committed size rather than O_APPEND: a failed
         * attempt leaves nothing that the next one does not overwrite. */
        while (n_iov > 0) {
                ssize_t k = pwritev(s->fd, v, n_iov, (off_t) (s->size + done));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        int r = k < 0 ? -errno : -ENOSPC;

                        discard_result(ftruncate(s->fd, (off_t) s->size));
                        if (s->write_error_logged)
                                return r;
                        s->write_error_logged = true;
                        return log_error_errno(r, "Failed to write job output; dropping output until writes succeed");
                }
                done += (uint64_t) k;
                while (n_iov > 0 && (size_t) k >= v->iov_len) {
                        k -= (ssize_t) v->iov_len;
                        v++;
                        n_iov--;
                }
                if (n_iov > 0) {
                        v->iov_base = (uint8_t *) v->iov_base + k;
                        v->iov_len -= (size_t) k;
                }
        }

        s->size += done;
        for (size_t i = 0; i < n; i++)
                store_stream(s, h[i].stream)->next += output_record_span(&h[i]);
        return 0;
}

static int store_write_record(OutputStore *s, const OutputRecordHeader *h, const void *data) {
        return store_write_records(s, h, 1, data);
}

static int store_write_gap(OutputStore *s, OutputStream stream, OutputGapReason reason, uint64_t length) {
        OutputRecordHeader h = {
                .type = OUTPUT_RECORD_GAP,
                .stream = stream,
                .gap_reason = reason,
                .offset = store_stream(s, stream)->next,
                .gap_length = length,
        };
        int r;

        r = store_write_record(s, &h, NULL);
        if (r < 0)
                return r;
        if (reason == OUTPUT_GAP_TRUNCATED)
                s->truncated = true;
        return 0;
}

int output_store_flush(OutputStore *s, OutputStream stream) {
        StoreStream *ss = store_stream(s, stream);
        int r;

        if (ss->pending == 0)
                return 0;
        r = store_write_gap(s, stream, ss->pending_reason, ss->pending);
        if (r < 0)
                return r;
        ss->pending = 0;
        store_notify(s, OUTPUT_STREAM_BIT(stream));
        return 0;
}

int output_store_append_data(OutputStore *s, OutputStream stream, const void *data, size_t size) {
        OutputRecordHeader h[2];
        StoreStream *ss;
        size_t n = 0;
        int r;

        if (!output_stream_is_valid(stream) || size == 0 || size > OUTPUT_RECORD_DATA_MAX)
                return -EINVAL;
        ss = store_stream(s, stream);
        if (ss->eof)
                return -ESHUTDOWN;

        /* Offsets are contiguous: a pending gap goes before later data, in
         * the same write.  While the disk is full every attempt fails as a
         * whole, and the loss stays one pending gap instead of a gap record
         * per attempt. */
        if (ss->pending > 0)
                h[n++] = (OutputRecordHeader) {
                        .type = OUTPUT_RECORD_GAP,
                        .stream = stream,
                        .gap_reason = ss->pending_reason,
                        .offset = ss->next,
                        .gap_length = ss->pending,
                };
        h[n++] = (OutputRecordHeader) {
                .type = OUTPUT_RECORD_DATA,
                .stream = stream,
                .length = (uint32_t) size,
                .offset = ss->next + ss->pending,
        };
        r = store_write_records(s, h, n, data);
        if (r < 0)
                return r;
        ss->pending = 0;
        s->data_bytes += size;
        store_notify(s, OUTPUT_STREAM_BIT(stream));
        return 0;
}

int output_store_append_gap(OutputStore *s, OutputStream stream, OutputGapReason reason, uint64_t length) {
        int r;

        if (!output_stream_is_valid(stream) || reason < OUTPUT_GAP_TRUNCATED || reason > OUTPUT_GAP_IO_ERROR ||
            (length == 0 && reason != OUTPUT_GAP_DAEMON_DOWN) ||
            length > UINT64_MAX - output_store_get_end(s, stream))
                return -EINVAL;
        if (store_stream(s, stream)->eof)
                return -ESHUTDOWN;

        r = output_store_flush(s, stream);
        if (r < 0)
                return r;
        r = store_write_gap(s, stream, reason, length);
        if (r < 0)
                return r;
        store_notify(s, OUTPUT_STREAM_BIT(stream));
        return 0;
}

void output_store_drop(OutputStore *s, OutputStream stream, OutputGapReason reason, uint64_t length) {
        StoreStream *ss = store_stream(s, stream);

        assert(reason >= OUTPUT_GAP_TRUNCATED && reason <= OUTPUT_GAP_IO_ERROR);
        if (length == 0 || ss->eof)
                return;
        if (reason == OUTPUT_GAP_TRUNCATED)
                s->truncated = true;

        /* A gap has one reason; if the older one cannot be written out, the
         * write error is the reason for the whole range. */
        if (ss->pending > 0 && ss->pending_reason != reason && output_store_flush(s, stream) < 0)
                reason = OUTPUT_GAP_IO_ERROR;
        if (ss->pending == 0)
                ss->flush_at = OUTPUT_GAP_FLUSH_BYTES;
        ss->pending += length;
        ss->pending_reason = reason;

        /* After a failed flush, retry only once another FLUSH_BYTES were
         * dropped, not on every read. */
        while (ss->pending >= ss->flush_at && output_store_flush(s, stream) < 0)
                ss->flush_at += OUTPUT_GAP_FLUSH_BYTES;
}

void output_store_set_eof(OutputStore *s, OutputStream stream) {
        StoreStream *ss = store_stream(s, stream);

        if (ss->eof)
                return;
        (void) output_store_flush(s, stream);
        ss->eof = true;
        store_notify(s, 0);
}

void output_store_set_finished(OutputStore *s) {
        if (s->finished)
                return;
        s->finished = true;
        store_notify(s, 0);
}

bool output_store_get_eof(const OutputStore *s, OutputStream stream) {
        assert(output_stream_is_valid(stream));
        return s->streams[stream - 1].eof;
}

bool output_store_get_finished(const OutputStore *s) {
        return s->finished;
}

bool output_store_is_complete(const OutputStore *s) {
        return s->finished && s->streams[0].eof && s->streams[1].eof;
}

uint64_t output_store_get_end(const OutputStore *s, OutputStream stream) {
        assert(output_stream_is_valid(stream));
        return s->streams[stream - 1].next + s->streams[stream - 1].pending;
}

uint64_t output_store_get_data_bytes(const OutputStore *s) {
        return s->data_bytes;
}

uint64_t output_store_get_size(const OutputStore *s) {
        return s->size;
}

bool output_store_get_truncated(const OutputStore *s) {
        return s->truncated;
}

unsigned output_store_n_followers(const OutputStore *s) {
        return s->n_waiters;
}

sd_event *output_store_get_event(const OutputStore *s) {
        return s->event;
}

void output_store_add_waiter(OutputStore *s, OutputWaiter *w) {
        w->prev = NULL;
        w->next = s->waiters;
        if (s->waiters)
                s->waiters->prev = w;
        s->waiters = w;
        s->n_waiters++;
}

void output_store_remove_waiter(OutputStore *s, OutputWaiter *w) {
        if (w->prev)
                w->prev->next = w->next;
        else
                s->waiters = w->next;
        if (w->next)
                w->next->prev = w->prev;
        w->prev = w->next = NULL;
        s->n_waiters--;
}
