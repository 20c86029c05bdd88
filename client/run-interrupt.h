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
        /* The job was attached to: "-i", "-it" or "" for the attach
         * command that goes on from here; NULL: logs -f. */
        const char *attach;
        /* With attach: the job has a terminal, where re-attaching replays
         * all output (redrawing the screen) rather than going on from the
         * offsets. */
        bool replay;
} RunInterrupt;

/* Tells that the job keeps running without us, and the commands to
 * follow (or attach to) it again from where the output stopped, and to
 * stop it. */
void run_tell_detached(RunInterrupt *run);

/* A LogsFollowOptions.on_interrupt, userdata a RunInterrupt. */
int run_interrupt(void *userdata, CliError *e);

/* interrupt_install() for following job id, whose last words tell that
 * the job may still be running. */
int run_interrupt_install(const char *id, CliError *e);
