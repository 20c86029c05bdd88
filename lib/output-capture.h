/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Capture of a job's stdout and stderr pipes into its OutputStore
 * (internal).
 *
 * The read ends are non-blocking and watched with sd-event; every read of up
 * to 64 KiB becomes one DATA record.  Nothing ever makes the capture stop
 * reading: past the output cap, and when the disk fails, bytes are read and
 * counted into gap records instead, so the job is never blocked on its
 * pipes.  A wake-up reads a bounded number of times, so a chatty job cannot
 * starve the rest of the event loop.
 *
 * The pipes can outlive the capture (for systemd's fd store):
 * output_capture_take_fds() hands them back, and a new capture over them and
 * a store reopened with OUTPUT_STORE_APPEND continues where this one left. */

#include <stdint.h>

#include <systemd/sd-event.h>

#include "output-store.h"

#define OUTPUT_CAP_DEFAULT (UINT64_C(1) << 30)
#define OUTPUT_CAPTURE_READS_PER_WAKEUP 16u

typedef struct OutputCapture OutputCapture;

/* All optional.  They run from the capture's event source; none but on_done
 * may free the capture, and on_done is the last thing the capture does. */
typedef struct OutputCaptureCallbacks {
        void (*on_data)(OutputCapture *c, OutputStream stream, void *userdata);  /* once per wake-up that appended */
        void (*on_eof)(OutputCapture *c, OutputStream stream, void *userdata);
        void (*on_done)(OutputCapture *c, void *userdata);                     /* both streams at EOF */
} OutputCaptureCallbacks;

/* Takes ownership of the fds on success only (and sets O_NONBLOCK on them).
 * A negative fd is a stream that is already at EOF; at least one must be
 * valid.  cap: data bytes (both streams) to store, 0 = OUTPUT_CAP_DEFAULT,
 * counted with what the store already holds.  Takes a reference on store. */
int output_capture_new(sd_event *event, int stdout_fd, int stderr_fd, OutputStore *store, uint64_t cap,
                       const OutputCaptureCallbacks *callbacks, void *userdata, OutputCapture **ret);
/* Stops reading, records pending gaps, closes the fds that were not taken. */
OutputCapture *output_capture_free(OutputCapture *c);
static inline void output_capture_freep(OutputCapture **c) {
        if (*c)
                output_capture_free(*c);
}

/* Stops reading, records pending gaps, and hands the read ends to the
 * caller (-EBADF for a stream already at EOF).  The capture is inert after
 * that and only waits to be freed; no callback fires any more. */
void output_capture_take_fds(OutputCapture *c, int *ret_stdout_fd, int *ret_stderr_fd);

/* Byte counts that outlive captures (a manager's, for monitoring). */
typedef struct OutputCaptureTotals {
        uint64_t stored;
        uint64_t dropped_cap;
        uint64_t dropped_io;
} OutputCaptureTotals;

/* From now on every byte read is added to *totals (which must outlive the
 * capture); NULL stops it. */
void output_capture_set_totals(OutputCapture *c, OutputCaptureTotals *totals);

/* Both streams reached EOF. */
bool output_capture_is_done(const OutputCapture *c);
OutputStore *output_capture_get_store(const OutputCapture *c);
