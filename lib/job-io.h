/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The descriptors of a job's standard streams, made before its unit is
 * started (internal): pipes for stdout and stderr, a pipe for a stdin pipe,
 * or one pseudo-terminal for all three. */

#include "jobrunner.h"

/* out[1], err[1] and in[0] go to the unit as its stdout, stderr and stdin
 * pipe (in[0] only for a stdin pipe; for a terminal out[1] and err[1] are
 * its slave); the library reads out[0] and err[0] (err[0] none for a
 * terminal) and writes in[1] (a terminal's master again; none without an
 * input). */
typedef struct JobIo {
        int out[2], err[2], in[2];
} JobIo;

/* Fills io (whose fds are -EBADF) for spec, or returns -errno; io is
 * released with job_io_done() either way. */
int job_io_open(const jr_spec *spec, JobIo *io);
void job_io_done(JobIo *io);
