/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the handlers of the methods that act on one job share: finding it
 * as the caller may see it, answering with its status, and waiting for a
 * state. */

#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "macro.h"
#include "rpc.h"

jr_job *rpc_find_job(Call *call, Daemon *d, const char *id, AuthzMethod method) {
        const AuthzIdentity *who = call_identity(call);
        AuthzDecision decision;
        jr_job *j;

        if (!convert_job_id_is_valid(id)) {
                call_finish(call, NULL, JR_CODE_INVALID_ARGUMENT, "invalid job id: expected 32 lowercase hex digits");
                return NULL;
        }
        call_set_audit_job(call, id);

        j = jr_manager_get_job(d->manager, id);
        decision = authz_check(who, method, j ? jr_job_get_owner(j) : NULL, false);
        if (decision == AUTHZ_ALLOW && !j)
                decision = AUTHZ_DENY_NOT_FOUND;
        switch (decision) {
        case AUTHZ_ALLOW:
                return j;
        case AUTHZ_DENY_NOT_FOUND:
                call_finish(call, NULL, JR_CODE_NOT_FOUND, "no such job");
                return NULL;
        case AUTHZ_DENY_PERMISSION:
        default:
                call_finish(call, NULL, JR_CODE_PERMISSION_DENIED, "permission denied: your role may not do this");
                return NULL;
        }
}

Jobrunner__V1__JobStatus *rpc_job_status(jr_job *j, bool sample_usage) {
        Jobrunner__V1__JobStatus *s;
        jr_status status;
        int r;

        r = sample_usage ? jr_job_get_status(j, &status) : jr_job_get_known_status(j, &status);
        if (r < 0 || convert_status_to_proto(&status, &s) < 0)
                return NULL;
        return s;
}

void rpc_finish_with_job(Call *call, const ProtobufCMessageDescriptor *response_type, jr_job *j,
                         bool sample_usage) {
        /* Start, Stop, GetStatus and Wait answer { JobStatus job = 1; }: set
         * that field through the descriptor rather than four copies. */
        const ProtobufCFieldDescriptor *field = protobuf_c_message_descriptor_get_field_by_name(response_type, "job");
        _cleanup_free_ ProtobufCMessage *response = NULL;
        Jobrunner__V1__JobStatus *status;

        status = rpc_job_status(j, sample_usage);
        response = calloc(1, response_type->sizeof_message);
        if (!status || !response || !field) {
                if (status)
                        convert_status_free(status);
                call_finish(call, NULL, JR_CODE_INTERNAL, "cannot read the job's status");
                return;
        }
        response_type->message_init(response);
        *(Jobrunner__V1__JobStatus **) ((char *) response + field->offset) = status;
        call_finish(call, response, JR_CODE_OK, NULL);
        convert_status_free(status);
}

/* ---- waiting for a state ------------------------------------------------- */

typedef struct StateWait {
        Call *call;
        const ProtobufCMessageDescriptor *response_type;
        rpc_until_t until;
        jr_watch *watch;
} StateWait;

static void state_wait_free(StateWait *w) {
        jr_watch_free(w->watch);
        free(w);
}

static void on_state_change(jr_job *j, void *userdata) {
        StateWait *w = userdata;

        if (!w->until(jr_job_get_state(j)))
                return;
        rpc_finish_with_job(w->call, w->response_type, j, false);
        state_wait_free(w);
}

static void on_abort(Call *call, void *userdata) {
        (void) call;
        state_wait_free(userdata);
}

void rpc_reply_when(Call *call, const ProtobufCMessageDescriptor *response_type, jr_job *j, rpc_until_t until) {
        StateWait *w;
        int r;

        if (until(jr_job_get_state(j))) {
                rpc_finish_with_job(call, response_type, j, false);
                return;
        }
        w = calloc(1, sizeof(StateWait));
        if (!w) {
                call_finish_errno(call, -ENOMEM, NULL);
                return;
        }
        *w = (StateWait) { .call = call, .response_type = response_type, .until = until };
        r = jr_job_add_watch(j, on_state_change, w, &w->watch);
        if (r < 0) {
                free(w);
                call_finish_errno(call, r, "cannot watch the job");
                return;
        }
        call_set_handlers(call, NULL, on_abort, w);
}
