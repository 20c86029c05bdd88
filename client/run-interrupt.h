/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What run does on Ctrl-C while it follows a job's output, on one host or
 * on each host of a fan-out: detach, telling how to follow the job again
 * from where the output stopped or to stop it; or with
 * --stop-on-interrupt, stop the job and read on until its end. */

#include <stdbool.h>

#include "conn.h"
#include "logs-cursor.h"
#include "logs-output.h"

typedef struct RunInterrupt {
        Conn *conn;
        const char *id;
        const char *context;            /* named in the commands told (-c NAME); NULL: none */
        bool stop_on_interrupt;
        bool stopping;
        LogsOutput *out;
        const LogsCursor *cursor;
} RunInterrupt;

/* A LogsFollowOptions.on_interrupt, userdata a RunInterrupt. */
int run_interrupt(void *userdata, CliError *e);
