/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Readers of a job's output (internal): from any per-stream offset through
 * the stored records, then live as records are committed.
 *
 * A follower holds no buffer and no copy of the output: it is a file
 * position and one offset per stream, and reads with pread() from the
 * store's file into the caller's buffer.  A slow or idle follower therefore
 * costs nothing and slows neither the job nor other followers. */

#include <stddef.h>
#include <stdint.h>

#include "output-store.h"

typedef enum OutputEventType {
        OUTPUT_EVENT_DATA = 1,          /* `length` bytes of `stream` at `offset` are in the buffer */
        OUTPUT_EVENT_GAP,               /* `length` bytes of `stream` at `offset` are missing, for `reason` */
        OUTPUT_EVENT_END,               /* the job finished and both streams reached EOF; all was read */
} OutputEventType;

typedef struct OutputEvent {
        OutputEventType type;
        OutputStream stream;
        uint64_t offset;
        uint64_t length;
        OutputGapReason reason;
} OutputEvent;

typedef struct OutputFollower OutputFollower;

/* Runs from its own sd-event dispatch, never from inside a call into the
 * output code; it may free the follower. */
typedef void (*OutputFollowerWake)(OutputFollower *f, void *userdata);

/* stream_mask: OUTPUT_STREAM_BIT()s; records of other streams are skipped.
 * An offset past its (selected) stream's current end: -ERANGE.  An offset
 * inside a record starts with the rest of it; one inside a gap with the
 * whole gap (see output_follower_next()).  wake may be NULL
 * (poll-only); otherwise the store needs an sd-event loop.  Takes a
 * reference on the store. */
int output_follower_new(OutputStore *store, uint64_t stdout_offset, uint64_t stderr_offset, unsigned stream_mask,
                        OutputFollowerWake wake, void *userdata, OutputFollower **ret);
OutputFollower *output_follower_free(OutputFollower *f);
static inline void output_follower_freep(OutputFollower **f) {
        if (*f)
                output_follower_free(*f);
}

/* 1: *ev is filled.  DATA copies 1..bufsize bytes into buf; consecutive
 * records of one stream are merged up to bufsize, and a record larger than
 * what is left is split.  A GAP is every contiguous gap record of one stream
 * and reason committed so far, joined (the other stream's records in between
 * come after it), from its first missing byte even if the follower's offset
 * was inside it; gaps committed later continue it in another GAP.  A loss of
 * unknown size (length 0) stands alone.  END comes once everything was read
 * and the store is complete, and is then returned on every call.
 * 0: nothing now; wake then fires exactly once, later, when there is
 * something (a record of a selected stream, or the store became complete).
 * Negative errno on error (-EBADMSG: the file is corrupt). */
int output_follower_next(OutputFollower *f, OutputEvent *ev, void *buf, size_t bufsize);

/* The offset of the next byte of stream this follower will return. */
uint64_t output_follower_get_offset(const OutputFollower *f, OutputStream stream);
