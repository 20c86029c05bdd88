/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stop: SIGTERM, SIGKILL after the grace period; answer once it ended. */

#include <errno.h>

#include "rpc.h"

void rpc_stop(Call *call, const ProtobufCMessage *request, void *userdata) {
        const Jobrunner__V1__StopRequest *req = (const Jobrunner__V1__StopRequest *) request;
        jr_error e = {};
        jr_job *j;
        int r;

        j = rpc_find_job(call, userdata, req->id, AUTHZ_METHOD_STOP);
        if (!j)
                return;
        if ((uint64_t) req->grace_period_ms * 1000 > JR_GRACE_MAX_USEC) {
                call_finish(call, NULL, JR_CODE_INVALID_ARGUMENT, "grace_period_ms is above the maximum, 300000");
                return;
        }
        r = jr_job_stop(j, (uint64_t) req->grace_period_ms * 1000, call_identity(call)->name, &e);
        if (r == -EALREADY) {
                call_finish(call, NULL, JR_CODE_FAILED_PRECONDITION, "the job has already ended");
                return;
        }
        if (r < 0) {
                call_finish_errno(call, r, e.message);
                return;
        }
        rpc_reply_when(call, &jobrunner__v1__stop_response__descriptor, j, jr_state_is_final);
}
