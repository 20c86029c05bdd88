/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* An attach session (run -i/-t, attach): follows a job's output with an
 * Attach call, printed as logs -f prints it, and with the input taken,
 * sends the local input to the job from a second thread, one message of
 * up to 64 KiB in flight at a time.  With a raw terminal: its size, its
 * changes, and the detach keys (detach-keys.h).  After a daemon restart it
 * resumes from the offsets delivered and takes the input again. */

#include <stdbool.h>

#include "cli.h"
#include "conn.h"
#include "format.h"
#include "logs-cursor.h"
#include "logs-output.h"

/* attach_session(): the user typed the detach keys; the job runs on. */
#define ATTACH_DETACHED 2

/* The largest input message the server takes. */
#define ATTACH_INPUT_MAX (64 * 1024)

typedef struct AttachOptions {
        const char *id;
        /* Take the job's input and send in_fd to it. */
        bool input;
        /* The job's input is a pipe: the end of in_fd ends it. */
        bool pipe;
        /* in_fd is a terminal to put in raw mode (with input, for a job
         * with a terminal): its size, resizes and the detach keys. */
        bool raw;
        int in_fd;
        /* Ctrl-C (interrupt.h) calls on_interrupt, as in
         * LogsFollowOptions; never with raw, where Ctrl-C is the job's. */
        bool interruptible;
        int (*on_interrupt)(void *userdata, CliError *e);
        void *userdata;
} AttachOptions;

/* Returns 1 and *ret_end (free with job_status_freep()) once the job has
 * ended and its output is complete; ATTACH_DETACHED; 0 if the call ended
 * without the job's end; -EINTR when on_interrupt chose to stop; or a
 * negative errno with e set.  The terminal is back as it was on return,
 * whatever the outcome. */
/* With -it (raw): the usage error if stdin is no terminal to make raw;
 * 0 otherwise. */
int attach_check_tty(Cli *cli, bool raw, CliError *e);

int attach_session(Conn *c, const AttachOptions *o, LogsCursor *cursor, LogsOutput *out, JobStatus **ret_end,
                   CliError *e);
