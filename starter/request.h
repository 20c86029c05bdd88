/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A StartUnitRequest (proto/starter.proto) as jobrunner-starter receives it
 * from jobrunnerd: the packet's bytes and the file descriptors that came
 * with it.  Pure: no sockets, no D-Bus, nothing but fstat() and fcntl() on
 * the descriptors, so that the fuzz target runs it as the starter does.
 *
 * jobrunnerd is not trusted here: whatever it checked is checked again,
 * and the administrator's policy is applied on top. */

#include <stddef.h>

#include "daemon-config.h"
#include "jobrunner.h"
#include "policy.h"

/* The largest request that can be valid: the daemon's largest StartRequest
 * (see DAEMON_MAX_REQUEST_BYTES_DEFAULT), whose spec field is framed the
 * same way here, plus the job id field (a tag, a length, 32 digits).  A
 * larger packet is refused before it is unpacked. */
#define STARTER_REQUEST_MAX_BYTES (DAEMON_MAX_REQUEST_BYTES_DEFAULT + 64u)

typedef struct StarterRequest {
        char job_id[JR_ID_STRING_MAX];
        jr_spec spec;                   /* valid, and within the policy */
        int stdout_fd;                  /* write ends of the job's pipes, or its terminal, borrowed */
        int stderr_fd;
        int stdin_fd;                   /* the read end of its stdin pipe, borrowed; else -EBADF */
} StarterRequest;

/* Unpacks and checks one request, in this order: its size, the message
 * (protobuf-c; fields it does not know are skipped), the job id, the spec
 * as jobrunnerd's Start converts it (convert_spec_from_proto()), a named
 * user against the policy's RunAsUsers=, the spec as libjobrunner validates
 * it (jr_spec_validate(), allowing the named user only once listed), the
 * policy's caps and isolation, then the descriptors: stdout's and stderr's,
 * each a pipe opened write-only or, for a terminal job, both the same
 * pseudo-terminal slave opened read-write; then, exactly when the spec has
 * a stdin pipe, a pipe opened read-only.
 *
 * Returns 0 and fills *ret, which the caller releases with
 * starter_request_done().  ret->stdout_fd, ret->stderr_fd and ret->stdin_fd
 * are fds[0], fds[1] and fds[2] themselves, borrowed: the caller still owns and closes every
 * descriptor in fds, on success as on failure.
 *
 * On failure returns a negative errno with e filled for the end user, and
 * *ret untouched: -EMSGSIZE (larger than STARTER_REQUEST_MAX_BYTES),
 * -EBADMSG (not a StartUnitRequest), -EINVAL or -E2BIG (a bad job id or
 * spec), -EPERM (the policy refuses it), -ENODEV (an IO limit on something
 * that is not a block device), -EBADF (missing, extra or wrong
 * descriptors), -ENOMEM. */
int starter_request_parse(const void *data, size_t len, const int *fds, size_t n_fds, const StarterPolicy *policy,
                          StarterRequest *ret, jr_error *e);

/* Frees the spec; closes nothing. */
void starter_request_done(StarterRequest *r);
