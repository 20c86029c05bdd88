/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The methods the daemon serves. */

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
          .request_type = &jobrunner__v1__wait_request__descriptor, .handle = rpc_wait },
        { .service = API, .name = "Logs", .authz = AUTHZ_METHOD_LOGS,
          .request_type = &jobrunner__v1__logs_request__descriptor, .server_streaming = true,
          .handle = rpc_logs },
};

const size_t rpc_n_methods = sizeof(rpc_methods) / sizeof(rpc_methods[0]);
