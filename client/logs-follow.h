/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Reading a job's output with Logs, for logs and run: resumes after the
 * daemon went away (UNAVAILABLE once the server had answered) from the
 * offsets delivered so far, so that nothing is lost or written twice; and
 * --tail, which the API has no notion of. */

#include <stdbool.h>
#include <stdint.h>

#include "backoff.h"
#include "conn.h"
#include "format.h"
#include "logs-cursor.h"
#include "logs-output.h"

typedef struct LogsFollowOptions {
        int stream;                     /* OutputStream; 0 (UNSPECIFIED): both */
        bool follow;
        /* Ctrl-C (see interrupt.h) while waiting for output calls
         * on_interrupt: 0 to go on reading, 1 to stop (logs_follow() then
         * returns -EINTR), or a negative errno with e set. */
        bool interruptible;
        int (*on_interrupt)(void *userdata, CliError *e);
        void *userdata;
} LogsFollowOptions;

/* Streams output from cursor's offsets on into out, and before returning
 * writes the gaps out holds back (logs_output_flush()).  Returns 1 and
 * *ret_end (free with jobrunner__v1__job_status__free_unpacked()) when the
 * output is complete and the job has ended; 0 when the call ended without
 * that (not following a job that still runs); -EINTR (see on_interrupt);
 * or a negative errno with e set. */
int logs_follow(Conn *c, const char *id, const LogsFollowOptions *o, LogsCursor *cursor, LogsOutput *out,
                JobStatus **ret_end, CliError *e);

/* Writes the last n lines stored of one stream (STDOUT or STDERR) into
 * out and moves cursor past them; a gap after them is held back in out
 * (what follows may continue it).  If the stream ends inside a gap, the
 * lines are those stored before it.  end: the stream's end offset from a
 * recent GetStatus.  *ret_end as above if the job had ended (may be
 * NULL). */
int logs_tail(Conn *c, const char *id, int stream, uint64_t end, uint64_t n, LogsCursor *cursor, LogsOutput *out,
              JobStatus **ret_end, CliError *e);

/* One chunk or gap of a Logs or Attach call into cursor and out, as
 * logs_follow() writes them: what was delivered already is skipped, a
 * hole the server did not announce is told as a gap.  0, or a negative
 * errno with e set (output_error()). */
int logs_deliver_chunk(const Jobrunner__V1__LogChunk *ch, LogsCursor *cursor, LogsOutput *out, CliError *e);
int logs_deliver_gap(const Jobrunner__V1__LogGap *g, LogsCursor *cursor, LogsOutput *out, CliError *e);

/* After a call of job id ended with UNAVAILABLE although the server had
 * answered before (lost: that status): tells the user, then waits with
 * b until GetStatus answers again.  0 when it does, -EINTR
 * (interruptible) on Ctrl-C, a negative errno with e set when the
 * retries are over or it answered with an error (what names the job). */
int logs_await_server(Conn *c, const char *id, const char *what, Backoff *b, bool interruptible,
                      LogsOutput *out, const RpcStatus *lost, CliError *e);

/* An error for a failed write of the output: quiet for EPIPE (the reader
 * went away, e.g. "| head"). */
int output_error(int r, CliError *e);
