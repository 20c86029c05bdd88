/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where each of a job's two output streams is: how far output has been
 * delivered to the user.  Every Logs message goes through here first, so
 * that after a reconnection (which resumes at these offsets) nothing is
 * written twice even if the server sent some of it again, and a hole the
 * server did not announce is noticed. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct LogsCursor {
        /* Indexed by the OutputStream enum (1 stdout, 2 stderr). */
        uint64_t next[3];
        /* The offset of the last loss of unknown size (a DAEMON_DOWN gap of
         * length 0) +1, 0 if none: it occupies no offsets, so resuming at
         * its offset may bring it again. */
        uint64_t last_unknown_loss[3];
} LogsCursor;

void logs_cursor_init(LogsCursor *c, uint64_t stdout_offset, uint64_t stderr_offset);

/* A chunk of len bytes at offset: *ret_skip leading bytes were delivered
 * already (len: all of them), *ret_missing bytes before it never arrived
 * (the server skipped them without a gap).  Returns false for a stream
 * that is neither stdout nor stderr (drop the chunk). */
bool logs_cursor_chunk(LogsCursor *c, int stream, uint64_t offset, size_t len, size_t *ret_skip,
                       uint64_t *ret_missing);

/* A gap: whether the user should be told of it, and if so *offset and
 * *length are cut to the part not told yet.  A gap passed already is not
 * told again; one that starts before the cursor (the server sends a gap
 * whole when asked from inside it) is told from the cursor on. */
bool logs_cursor_gap(LogsCursor *c, int stream, uint64_t *offset, uint64_t *length);

/* The one-line notice for a gap (without a program name or newline):
 * "stdout: 4096 bytes missing at offset 1048576 (the job's output cap was
 * reached: later output is not kept)".  malloc'd, NULL on OOM. */
char *format_gap_notice(int stream, uint64_t offset, uint64_t length, int reason);

/* tail: the index in data[0..len) where its last n lines begin; a final
 * line without a newline counts.  *ret_complete is false if data holds
 * fewer than n whole lines before its end, so that the start of the
 * first is not known (0 is returned then). */
size_t tail_start(const uint8_t *data, size_t len, uint64_t n, bool *ret_complete);
