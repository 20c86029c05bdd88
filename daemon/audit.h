/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "authz.h"
#include "status.h"

/* The audit trail: one structured journal record per rpc call, whatever its
 * outcome.  Find them with
 *     journalctl MESSAGE_ID=e0d3799482fa4fccb8fa3ca373fdf1e1
 * and filter on the JOBRUNNER_* fields (USER, ROLE, PEER, METHOD, JOB_ID,
 * ARGV, INPUT_BYTES, CODE, STATUS_MESSAGE). */

#define AUDIT_MESSAGE_ID "e0d3799482fa4fccb8fa3ca373fdf1e1"

/* Bytes of the argv rendering in MESSAGE and in JOBRUNNER_ARGV. */
#define AUDIT_ARGV_MESSAGE_MAX 4096u
#define AUDIT_ARGV_FIELD_MAX (64u * 1024u)

/* who: NULL if the caller was not authenticated.  peer: gRPC's spelling,
 * e.g. "ipv4:192.0.2.1:40000" (may be NULL).  method: the rpc name, e.g.
 * "Start".  job_id, argv (Start only) and message may be NULL.
 * input_bytes (Attach only, NULL otherwise): how many bytes the call wrote
 * into the job's input; what they were is never recorded.  Never
 * fails the call: if the record cannot be built or sent it is lost (and
 * the former logged). */
void audit_log_call(const AuthzIdentity *who, const char *peer, const char *method, const char *job_id,
                    char *const *argv, const uint64_t *input_bytes, JrCode code, const char *message);

/* The record audit_log_call() sends, as a NULL-terminated array of
 * "FIELD=value" strings the caller frees, entry by entry and then the
 * array.  Returns 0 or -ENOMEM. */
int audit_build_record(const AuthzIdentity *who, const char *peer, const char *method, const char *job_id,
                       char *const *argv, const uint64_t *input_bytes, JrCode code, const char *message,
                       char ***ret);

/* argv as a JSON array of strings, e.g. ["/bin/echo", "hi"]: '"' and '\'
 * escaped, control characters (C0, DEL and C1) as \u00XX, everything
 * else, including UTF-8 sequences, as is.  NULL renders as [].  If the rendering
 * is longer than max bytes (without the NUL) it is cut at a character
 * boundary, never inside an escape or a UTF-8 sequence, and ends in "…"
 * instead of "]": deliberately not valid JSON, so that nobody mistakes it
 * for the whole argv.  Returns 0, -EINVAL if max cannot even hold "…", or
 * -ENOMEM. */
int audit_format_argv(char *const *argv, size_t max, char **ret);
