/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "jobrunner.h"

/* The jobs' output pipes in systemd's file descriptor store
 * (FileDescriptorStoreMax= in jobrunner.service): kept there, a pipe
 * survives a restart or a crash of the daemon, so a running job never
 * writes into a closed pipe and the next daemon reads on where the last one
 * stopped.  systemd 252 empties the store when the service stops for good
 * (FileDescriptorStorePreserve= came with 254): then a job's later writes
 * fail with EPIPE, and its output shows a DAEMON_DOWN gap.
 *
 * The pipes are stored with FDPOLL=0: a job that ends while no daemon runs
 * leaves its last output in the pipe, and the next daemon reads it to EOF.
 *
 * Each pipe is stored as "job-<id>-stdout" or "job-<id>-stderr", and the
 * write end of a job's input pipe as "job-<id>-stdin": without it the job
 * would read end of file when the daemon restarts. */

/* libjobrunner's jr_pipe_handler_t: stores a new read end, or removes one
 * that reached EOF.  Without a service manager (NOTIFY_SOCKET unset) it does
 * nothing. */
void fd_store_on_pipe(const char *job_id, jr_stream stream, int fd, void *userdata);

/* The pipes among what systemd passed back (see socket-activation.h):
 * fills *ret with those whose names are ours, takes their fds, and closes
 * the others.  names and fds as socket_activation_take_stored() returns
 * them.  Returns the number in *ret (free it), or -ENOMEM. */
int fd_store_pipes_from(char **names, int *fds, size_t n, jr_pipe **ret);
