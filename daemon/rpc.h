/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The handlers of the v1 methods (one file each: rpc-start.c, ...) and of
 * the health check (rpc-health.c), and what they share.  They see calls through call.h and jobs through libjobrunner;
 * no gRPC here. */

#include "call.h"
#include "daemon.h"
#include "jobrunner.pb-c.h"

extern const RpcMethod rpc_methods[];
extern const size_t rpc_n_methods;

void rpc_start(Call *call, const ProtobufCMessage *request, void *userdata);
void rpc_stop(Call *call, const ProtobufCMessage *request, void *userdata);
void rpc_get_status(Call *call, const ProtobufCMessage *request, void *userdata);
void rpc_list(Call *call, const ProtobufCMessage *request, void *userdata);
void rpc_wait(Call *call, const ProtobufCMessage *request, void *userdata);
void rpc_logs(Call *call, const ProtobufCMessage *request, void *userdata);
void rpc_attach(Call *call, const ProtobufCMessage *request, void *userdata);
void rpc_health_check(Call *call, const ProtobufCMessage *request, void *userdata);

/* Finds the job a request names, as the caller may see it for method: an
 * invalid id is -EINVAL, a job that does not exist or that the caller may
 * not see -ENOENT (the same answer, by design), a method the caller's role
 * may not use at all -EPERM.  On failure the call is finished. */
jr_job *rpc_find_job(Call *call, Daemon *d, const char *id, AuthzMethod method);

/* The job's status as the API's message, its usage read from its cgroup if
 * sample_usage and it runs; NULL if out of memory. */
Jobrunner__V1__JobStatus *rpc_job_status(jr_job *j, bool sample_usage);

/* Finishes a unary call whose response is { JobStatus job = 1; } (Start,
 * Stop, GetStatus, Wait) with the job's current status. */
void rpc_finish_with_job(Call *call, const ProtobufCMessageDescriptor *response_type, jr_job *j,
                         bool sample_usage);

/* Finishes the call with the job's status once the job's state satisfies
 * until() (at once if it does now); the call may be cancelled meanwhile.
 * The answer is about the state change, not the usage: the cgroup is not
 * read (a job that has just started has used next to nothing, and one
 * that ended has its final figures), which keeps Start's answer off the
 * cgroup file system. */
typedef bool (*rpc_until_t)(jr_state state);
void rpc_reply_when(Call *call, const ProtobufCMessageDescriptor *response_type, jr_job *j, rpc_until_t until);
