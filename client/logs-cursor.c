/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "jobrunner.pb-c.h"
#include "logs-cursor.h"

static bool valid_stream(int stream) {
        return stream == JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT ||
               stream == JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR;
}

void logs_cursor_init(LogsCursor *c, uint64_t stdout_offset, uint64_t stderr_offset) {
        *c = (LogsCursor) {};
        c->next[JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT] = stdout_offset;
        c->next[JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR] = stderr_offset;
}

bool logs_cursor_chunk(LogsCursor *c, int stream, uint64_t offset, size_t len, size_t *ret_skip,
                       uint64_t *ret_missing) {
        uint64_t next, end = offset + len;

        *ret_skip = 0;
        *ret_missing = 0;
        if (!valid_stream(stream) || end < offset)
                return false;
        next = c->next[stream];

        if (end <= next)
                *ret_skip = len;
        else if (offset < next)
                *ret_skip = (size_t) (next - offset);
        else
                *ret_missing = offset - next;

        if (end > next)
                c->next[stream] = end;
        return true;
}

bool logs_cursor_gap(LogsCursor *c, int stream, uint64_t *offset, uint64_t *length) {
        uint64_t next, end = *offset + *length;

        if (!valid_stream(stream) || end < *offset)
                return false;
        next = c->next[stream];

        if (*length == 0) {
                /* A loss of unknown size at offset: told once per offset. */
                if (*offset < next || c->last_unknown_loss[stream] == *offset + 1)
                        return false;
                c->last_unknown_loss[stream] = *offset + 1;
                return true;
        }

        if (end <= next)
                return false;           /* passed already */
        if (*offset < next) {
                *offset = next;
                *length = end - next;
        }
        c->next[stream] = end;
        return true;
}

char *format_gap_notice(int stream, uint64_t offset, uint64_t length, int reason) {
        const char *why;
        char *s;
        int r;

        switch (reason) {
        case JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_OUTPUT_TRUNCATED:
                why = "the job's output cap was reached: later output is counted but not kept";
                break;
        case JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_DAEMON_DOWN:
                why = "jobrunnerd was not running when the job wrote it";
                break;
        case JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_IO_ERROR:
                why = "the server could not store it: a disk error";
                break;
        default:
                why = "for an unknown reason";
        }

        if (length == 0)
                r = asprintf(&s, "job %s: output of unknown size missing at offset %" PRIu64 " (%s)",
                             stream_name(stream), offset, why);
        else
                r = asprintf(&s, "job %s: %" PRIu64 " byte%s missing at offset %" PRIu64 " (%s)",
                             stream_name(stream), length, length == 1 ? "" : "s", offset, why);
        return r < 0 ? NULL : s;
}

size_t tail_start(const uint8_t *data, size_t len, uint64_t n, bool *ret_complete) {
        size_t i = len;

        *ret_complete = true;
        if (n == 0)
                return len;
        /* A final newline ends the last line; it does not start another. */
        if (i > 0 && data[i - 1] == '\n')
                i--;
        while (i > 0) {
                if (data[i - 1] == '\n' && --n == 0)
                        return i;
                i--;
        }
        *ret_complete = false;
        return 0;
}
