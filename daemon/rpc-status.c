/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GetStatus and Wait: one job's status, now or once it has ended. */

#include "rpc.h"

void rpc_get_status(Call *call, const ProtobufCMessage *request, void *userdata) {
        const Jobrunner__V1__GetStatusRequest *req = (const Jobrunner__V1__GetStatusRequest *) request;
        jr_job *j = rpc_find_job(call, userdata, req->id, AUTHZ_METHOD_STATUS);

        if (j)
                rpc_finish_with_job(call, &jobrunner__v1__get_status_response__descriptor, j, true);
}

void rpc_wait(Call *call, const ProtobufCMessage *request, void *userdata) {
        const Jobrunner__V1__WaitRequest *req = (const Jobrunner__V1__WaitRequest *) request;
        jr_job *j = rpc_find_job(call, userdata, req->id, AUTHZ_METHOD_WAIT);

        if (j)
                rpc_reply_when(call, &jobrunner__v1__wait_response__descriptor, j, jr_state_is_final);
}
