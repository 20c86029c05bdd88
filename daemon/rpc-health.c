/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* grpc.health.v1.Health/Check: whether the daemon serves, for probes and
 * load balancers.  There is one server and one API service, and neither
 * can be up while the other is down: both answer SERVING until the
 * shutdown begins, NOT_SERVING after. */

#include <string.h>

#include "health.pb-c.h"
#include "rpc.h"

/* "" is the server as a whole, as the protocol defines it. */
static bool service_is_known(const char *service) {
        return !service || !*service || strcmp(service, jobrunner__v1__job_runner__descriptor.name) == 0;
}

void rpc_health_check(Call *call, const ProtobufCMessage *request, void *userdata) {
        const Grpc__Health__V1__HealthCheckRequest *req = (const Grpc__Health__V1__HealthCheckRequest *) request;
        Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
        int r;

        (void) userdata;
        r = authz_decision_to_errno(authz_check(call_identity(call), AUTHZ_METHOD_HEALTH, NULL, false));
        if (r < 0) {
                call_finish_errno(call, r, "this role may not check the server's health");
                return;
        }
        /* The protocol's answer for a service the server does not know. */
        if (!service_is_known(req->service)) {
                call_finish(call, NULL, JR_CODE_NOT_FOUND, "unknown service");
                return;
        }

        /* Calls the server still hands over while it drains see this: a
         * probe then learns the daemon is going away rather than getting a
         * transport error. */
        resp.status = call_server_stopping(call) ?
                GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING :
                GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
        call_finish(call, &resp.base, JR_CODE_OK, NULL);
}
