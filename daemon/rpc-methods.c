/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The methods the daemon serves: the v1 API, and the standard health check
 * (grpc.health.v1.Health/Check; Watch is not served: the catch-all request
 * answers it UNIMPLEMENTED at once, as it does any unknown method, which
 * the protocol tells clients to take as "not supported, do not retry"). */

#include "health.pb-c.h"
#include "rpc.h"

#define API &jobrunner__v1__job_runner__descriptor

const RpcMethod rpc_methods[] = {
        { .service = API, .name = "Start", .authz = AUTHZ_METHOD_START,
          .request_type = &jobrunner__v1__start_request__descriptor, .handle = rpc_start },
        { .service = API, .name = "Stop", .authz = AUTHZ_METHOD_STOP,
          .request_type = &jobrunner__v1__stop_request__descriptor, .handle = rpc_stop },
        { .service = API, .name = "GetStatus", .authz = AUTHZ_METHOD_STATUS,
          .request_type = &jobrunner__v1__get_status_request__descriptor, .handle = rpc_get_status },
        { .service = API, .name = "List", .authz = AUTHZ_METHOD_LIST,
          .request_type = &jobrunner__v1__list_request__descriptor, .handle = rpc_list },
        { .service = API, .name = "Wait", .authz = AUTHZ_METHOD_WAIT,
          .request_type = &jobrunner__v1__wait_request__descriptor, .open_ended = true, .handle = rpc_wait },
        { .service = API, .name = "Logs", .authz = AUTHZ_METHOD_LOGS,
          .request_type = &jobrunner__v1__logs_request__descriptor, .server_streaming = true,
          .open_ended = true, .handle = rpc_logs },
        { .service = API, .name = "Attach", .authz = AUTHZ_METHOD_ATTACH,
          .request_type = &jobrunner__v1__attach_request__descriptor, .server_streaming = true,
          .client_streaming = true, .open_ended = true, .handle = rpc_attach },

        { .service = &grpc__health__v1__health__descriptor, .name = "Check", .authz = AUTHZ_METHOD_HEALTH,
          .request_type = &grpc__health__v1__health_check_request__descriptor,
          .serves_while_stopping = true, .audit_failures_only = true, .handle = rpc_health_check },
};

const size_t rpc_n_methods = sizeof(rpc_methods) / sizeof(rpc_methods[0]);
