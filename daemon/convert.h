/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "jobrunner.h"
#include "jobrunner.pb-c.h"

/* Conversions between the v1 API's protobuf-c messages and libjobrunner's
 * types.  Pure: no gRPC, no sd-bus, no I/O, so that unit tests link it
 * alone.  The rpc handlers call these and nothing else touches both
 * worlds. */

/* Builds *ret from a request's JobSpec; the caller frees it with
 * jr_spec_done().  Every string is checked with jr_check_string() first, and
 * each error message names the field as the API spells it ("argv[2]",
 * "limits.io_device_limits[1].device", "isolation.network").  Empty
 * working_directory and user become NULL, no env entries a NULL env; unset
 * limits and isolation mean the defaults.  Semantic checks are left to
 * jr_spec_validate(), which the caller runs with its options.
 *
 * Returns 0, or a negative errno with e filled (-EINVAL: a bad string or
 * enum value; -E2BIG: too long or too many entries; -ENOMEM) and *ret
 * untouched. */
int convert_spec_from_proto(const Jobrunner__V1__JobSpec *in, jr_spec *ret, jr_error *e);

/* The spec as a JobSpec that convert_spec_from_proto() turns back into the
 * same spec: what jobrunnerd sends jobrunner-starter.  Freed with
 * convert_spec_proto_free().  Returns 0, -ENOMEM, or -EINVAL for an enum
 * value the API has no name for (a bug). */
int convert_spec_to_proto(const jr_spec *spec, Jobrunner__V1__JobSpec **ret);
void convert_spec_proto_free(Jobrunner__V1__JobSpec *s);

/* Builds a complete JobStatus from st, echoing st->spec.  Every string and
 * message of the tree is a separate malloc() block, so that one call to
 * convert_status_free() releases all of it.  Returns 0, -ENOMEM, or -EINVAL
 * for a state or spec enum value the API has no name for (a bug). */
int convert_status_to_proto(const jr_status *st, Jobrunner__V1__JobStatus **ret);
void convert_status_free(Jobrunner__V1__JobStatus *s);

/* The proto JobState of s, or -EINVAL if it has none. */
int convert_state_to_proto(jr_state s);
/* For ListRequest.states: -EINVAL for JOB_STATE_UNSPECIFIED and values the
 * API does not define. */
int convert_state_from_proto(int v, jr_state *ret);

/* "SIGKILL", "SIGRTMIN+3"; "" for 0 and numbers that name no signal.  Never
 * NULL; the result is static or in buf. */
#define CONVERT_SIGNAL_NAME_MAX 32
const char *convert_signal_name(int sig, char buf[static CONVERT_SIGNAL_NAME_MAX]);

/* A job id as the API spells it: exactly 32 lowercase hex digits. */
bool convert_job_id_is_valid(const char *id);

/* For Logs: the proto LogGapReason and OutputStream, or -EINVAL for a value
 * the API has no name for. */
int convert_gap_reason_to_proto(jr_gap_reason r);
int convert_stream_to_proto(jr_stream s);
