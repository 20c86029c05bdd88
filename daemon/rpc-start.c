/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Start: validate, check the caller's right and the limits, start the
 * job, answer once its main process ran or its start failed. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "convert.h"
#include "macro.h"
#include "rpc.h"

static bool is_started(jr_state state) {
        return state != JR_STATE_STARTING;
}

/* -E2BIG with a message when the server or the owner is at its limit. */
static int check_active_limits(Daemon *d, const char *owner, char *message, size_t size) {
        jr_list_filter filter = { .states = (1u << JR_STATE_STARTING) | (1u << JR_STATE_RUNNING) };
        _cleanup_free_ jr_job **jobs = NULL;
        unsigned mine = 0;
        int n;

        n = jr_manager_list(d->manager, &filter, &jobs);
        if (n < 0)
                return n;
        if ((unsigned) n >= d->limits.max_active_jobs) {
                snprintf(message, size, "the server runs %d jobs, its limit; retry when some have ended", n);
                return -E2BIG;
        }
        for (int i = 0; i < n; i++)
                mine += strcmp(jr_job_get_owner(jobs[i]), owner) == 0;
        if (mine >= d->limits.max_active_jobs_per_owner) {
                snprintf(message, size, "you run %u jobs, the limit per user; retry when some have ended", mine);
                return -E2BIG;
        }
        return 0;
}

/* A spec the library refuses is the request's fault, its size caps (-E2BIG)
 * included: INVALID_ARGUMENT, as the API says, not RESOURCE_EXHAUSTED. */
static JrCode spec_error_code(int r) {
        if (r == -ENOMEM)
                return JR_CODE_RESOURCE_EXHAUSTED;
        if (r == -EPERM)
                return JR_CODE_PERMISSION_DENIED;
        return JR_CODE_INVALID_ARGUMENT;
}

void rpc_start(Call *call, const ProtobufCMessage *request, void *userdata) {
        const Jobrunner__V1__StartRequest *req = (const Jobrunner__V1__StartRequest *) request;
        const AuthzIdentity *who = call_identity(call);
        Daemon *d = userdata;
        _cleanup_(jr_spec_done) jr_spec spec = {};
        jr_validate_options options = {};
        char message[256];
        jr_error e = {};
        jr_job *j;
        bool named_user;
        int r;

        named_user = req->spec && req->spec->user && req->spec->user[0];
        switch (authz_check(who, AUTHZ_METHOD_START, NULL, named_user)) {
        case AUTHZ_ALLOW:
                break;
        default:
                call_finish(call, NULL, JR_CODE_PERMISSION_DENIED,
                            named_user ? "permission denied: only admins may start a job as a named user"
                                       : "permission denied: your role may not start jobs");
                return;
        }
        if (!req->spec) {
                call_finish(call, NULL, JR_CODE_INVALID_ARGUMENT, "spec is missing");
                return;
        }
        options.allow_named_user = named_user;  /* authz_check() allowed it */
        r = convert_spec_from_proto(req->spec, &spec, &e);
        if (r >= 0)
                r = jr_spec_validate(&spec, &options, &e);
        if (r < 0) {
                call_finish(call, NULL, spec_error_code(r), e.message);
                return;
        }
        call_set_audit_argv(call, spec.argv);

        r = check_active_limits(d, who->name, message, sizeof(message));
        if (r < 0) {
                call_finish_errno(call, r, r == -E2BIG ? message : NULL);
                return;
        }

        r = jr_manager_start(d->manager, &spec, who->name, &options, &j, &e);
        if (r < 0) {
                call_finish_errno(call, r, e.message);
                return;
        }
        call_set_audit_job(call, jr_job_get_id(j));
        rpc_reply_when(call, &jobrunner__v1__start_response__descriptor, j, is_started);
}
