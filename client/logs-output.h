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

typedef struct LogsOutput {
        int out_fd, err_fd;
        bool json;
        /* The job's stderr to out_fd too (--merge); notices stay on err_fd. */
        bool merge;
        /* Whether the last byte written to err_fd ended a line. */
        bool err_at_line_start;
} LogsOutput;

void logs_output_init(LogsOutput *o, int out_fd, int err_fd, bool json);

/* Each returns 0 or a negative errno of write(2) (-EPIPE when the reader
 * went away). */
int logs_output_chunk(LogsOutput *o, int stream, uint64_t offset, const uint8_t *data, size_t len);
int logs_output_gap(LogsOutput *o, int stream, uint64_t offset, uint64_t length, int reason);
/* The end of the output with the job's final status: a JSON line, nothing
 * when raw. */
int logs_output_end(LogsOutput *o, const JobStatus *j);
/* "jobrunner: ..." on a line of its own on err_fd. */
int logs_output_notice(LogsOutput *o, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* write(2) all of it, on EINTR again. */
int write_all(int fd, const void *data, size_t len);
