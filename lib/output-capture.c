/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "output-capture.h"

typedef struct CaptureStream {
        OutputCapture *capture;
        OutputStream stream;
        int fd;
        sd_event_source *source;
        bool eof;
} CaptureStream;

struct OutputCapture {
        sd_event *event;
        OutputStore *store;
        uint64_t cap;
        OutputCaptureCallbacks callbacks;
        void *userdata;
        CaptureStream streams[2];
        OutputCaptureTotals *totals;
        uint8_t buffer[OUTPUT_RECORD_DATA_MAX];   /* the only output that is ever in memory */
};

/* Stores what the cap allows and counts the rest as dropped.  A failed
 * write also becomes dropped bytes: the job must not wait for the disk. */
static void capture_consume(OutputCapture *c, OutputStream stream, size_t n) {
        uint64_t stored = output_store_get_data_bytes(c->store);
        size_t keep = 0;

        if (stored < c->cap)
                keep = c->cap - stored < n ? (size_t) (c->cap - stored) : n;

        if (keep > 0 && output_store_append_data(c->store, stream, c->buffer, keep) < 0) {
                output_store_drop(c->store, stream, OUTPUT_GAP_IO_ERROR, keep);
                if (c->totals)
                        c->totals->dropped_io += keep;
        } else if (c->totals)
                c->totals->stored += keep;
        if (n > keep) {
                output_store_drop(c->store, stream, OUTPUT_GAP_TRUNCATED, n - keep);
                if (c->totals)
                        c->totals->dropped_cap += n - keep;
        }
}

/* Marks the stream ended in the store first, so that followers woken from
 * here already see it complete. */
static void capture_stream_eof(CaptureStream *cs) {
        OutputCapture *c = cs->capture;

        output_store_set_eof(c->store, cs->stream);
        cs->source = sd_event_source_disable_unref(cs->source);
        cs->fd = safe_close(cs->fd);
        cs->eof = true;

        if (c->callbacks.on_eof)
                c->callbacks.on_eof(c, cs->stream, c->userdata);
        if (output_capture_is_done(c) && c->callbacks.on_done)
                c->callbacks.on_done(c, c->userdata);   /* may free c: nothing may follow */
}

static int capture_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        CaptureStream *cs = userdata;
        OutputCapture *c = cs->capture;
        bool appended = false;

        (void) s;
        (void) revents;

        /* Level-triggered: what is left after this many reads makes the
         * source fire again once the other sources had their turn. */
        for (unsigned i = 0; i < OUTPUT_CAPTURE_READS_PER_WAKEUP; i++) {
                ssize_t n = read(fd, c->buffer, sizeof(c->buffer));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        /* A terminal's master once every slave closed: its
                         * EOF (what was written before comes first). */
                        if (errno != EIO)
                                log_warning_errno(errno, "Failed to read job output, treating as EOF");
                        n = 0;
                }
                if (n == 0) {
                        if (appended && c->callbacks.on_data)
                                c->callbacks.on_data(c, cs->stream, c->userdata);
                        capture_stream_eof(cs);
                        return 0;
                }
                capture_consume(c, cs->stream, (size_t) n);
                appended = true;
        }

        if (appended && c->callbacks.on_data)
                c->callbacks.on_data(c, cs->stream, c->userdata);
        return 0;
}

static int capture_stream_init(OutputCapture *c, OutputStream stream, int fd) {
        CaptureStream *cs = &c->streams[stream - 1];
        int flags, r;

        cs->capture = c;
        cs->stream = stream;
        cs->fd = -EBADF;
        if (fd < 0) {
                cs->eof = true;
                return 0;
        }

        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return log_debug_errno(errno, "Failed to make output pipe non-blocking");

        r = sd_event_add_io(c->event, &cs->source, fd, EPOLLIN, capture_on_io, cs);
        if (r < 0)
                return log_debug_errno(r, "Failed to watch output pipe");
        (void) sd_event_source_set_description(cs->source,
                                               stream == OUTPUT_STREAM_STDOUT ? "output-stdout" : "output-stderr");
        cs->fd = fd;
        return 0;
}

int output_capture_new(sd_event *event, int stdout_fd, int stderr_fd, OutputStore *store, uint64_t cap,
                       const OutputCaptureCallbacks *callbacks, void *userdata, OutputCapture **ret) {
        OutputCapture *c;
        int r;

        assert(event);
        assert(store);
        assert(ret);

        if (stdout_fd < 0 && stderr_fd < 0)
                return -EINVAL;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(event);
        c->store = output_store_ref(store);
        c->cap = cap > 0 ? cap : OUTPUT_CAP_DEFAULT;
        if (callbacks)
                c->callbacks = *callbacks;
        c->userdata = userdata;

        r = capture_stream_init(c, OUTPUT_STREAM_STDOUT, stdout_fd);
        if (r >= 0)
                r = capture_stream_init(c, OUTPUT_STREAM_STDERR, stderr_fd);
        if (r < 0) {
                /* The fds stay the caller's on failure. */
                for (size_t i = 0; i < ELEMENTSOF(c->streams); i++)
                        c->streams[i].fd = -EBADF;
                output_capture_free(c);
                return r;
        }

        /* A stream passed as already ended is at EOF in the store, too. */
        for (size_t i = 0; i < ELEMENTSOF(c->streams); i++)
                if (c->streams[i].eof)
                        output_store_set_eof(store, c->streams[i].stream);

        *ret = c;
        return 0;
}

void output_capture_set_totals(OutputCapture *c, OutputCaptureTotals *totals) {
        c->totals = totals;
}

void output_capture_take_fds(OutputCapture *c, int *ret_stdout_fd, int *ret_stderr_fd) {
        int *ret[2] = { ret_stdout_fd, ret_stderr_fd };

        for (size_t i = 0; i < ELEMENTSOF(c->streams); i++) {
                CaptureStream *cs = &c->streams[i];

                /* Dropped bytes are in the offsets a successor continues from. */
                if (cs->source)
                        (void) output_store_flush(c->store, cs->stream);
                cs->source = sd_event_source_disable_unref(cs->source);
                if (ret[i])
                        *ret[i] = TAKE_FD(cs->fd);
                else
                        cs->fd = safe_close(cs->fd);
        }
}

OutputCapture *output_capture_free(OutputCapture *c) {
        if (!c)
                return NULL;

        for (size_t i = 0; i < ELEMENTSOF(c->streams); i++) {
                CaptureStream *cs = &c->streams[i];

                if (cs->source)
                        (void) output_store_flush(c->store, cs->stream);
                cs->source = sd_event_source_disable_unref(cs->source);
                cs->fd = safe_close(cs->fd);
        }
        output_store_unref(c->store);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

bool output_capture_is_done(const OutputCapture *c) {
        return c->streams[0].eof && c->streams[1].eof;
}

OutputStore *output_capture_get_store(const OutputCapture *c) {
        return c->store;
}
