/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where a job's output goes: raw, the job's stdout to our stdout and its
 * stderr to our stderr, byte for byte; or with --json, one JSON object per
 * line and event on stdout.  Notices (gaps, reconnections) go to stderr,
 * each on a line of its own even amid the job's stderr. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "io-util.h"
#include "json.h"

typedef struct LogsGap {
        bool set;
        uint64_t offset, length;
        int reason;
        unsigned order;                 /* which of the pending gaps came first */
} LogsGap;

typedef struct LogsOutput {
        int out_fd, err_fd;
        bool json;
        /* The job's stderr to out_fd too (--merge); notices stay on err_fd. */
        bool merge;
        /* Notices on a terminal in raw mode (attach -t): lines end with
         * CR LF. */
        bool crlf;
        /* Whether the last byte written to err_fd ended a line. */
        bool err_at_line_start;
        /* Per stream (1 stdout, 2 stderr): its last gap, held back until
         * it is known not to go on, so that contiguous gaps of one stream
         * and reason are one notice stating the whole range, also when
         * they arrive one by one (live, or across a reconnection). */
        LogsGap pending[3];
        unsigned order;
        /* Where the bytes go instead of write_all() to the fd, e.g. a
         * host's prefixed lines when a command fans out; NULL: the fds. */
        int (*write)(void *userdata, int fd, const void *data, size_t len);
        void *write_userdata;
} LogsOutput;

void logs_output_init(LogsOutput *o, int out_fd, int err_fd, bool json);

/* Each returns 0 or a negative errno of write(2) (-EPIPE when the reader
 * went away). */
int logs_output_chunk(LogsOutput *o, int stream, uint64_t offset, const uint8_t *data, size_t len);
/* Held back while the next gap of the stream may continue it: told when
 * the stream's next chunk or a gap that does not continue it comes, or by
 * logs_output_flush().  A loss of unknown size (length 0) is told at once. */
int logs_output_gap(LogsOutput *o, int stream, uint64_t offset, uint64_t length, int reason);
/* Tells the gaps held back, in the order they came: when no more output
 * comes, or before telling the user where the output stands. */
int logs_output_flush(LogsOutput *o);
/* The end of the output with the job's final status: the gaps held back,
 * then a JSON line (nothing more when raw). */
int logs_output_end(LogsOutput *o, const JobStatus *j);
/* One more JSON line on out_fd, built by build(w, arg). */
int logs_output_json(LogsOutput *o, void (*build)(JsonWriter *w, const void *arg), const void *arg);
/* "jobrunner: ..." on a line of its own on err_fd. */
int logs_output_notice(LogsOutput *o, const char *format, ...) __attribute__((format(printf, 2, 3)));

