/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The v1 methods the daemon serves. */

#include "rpc.h"

const RpcMethod rpc_methods[] = {
        { "Start",     AUTHZ_METHOD_START,  &jobrunner__v1__start_request__descriptor,      false, rpc_start },
        { "Stop",      AUTHZ_METHOD_STOP,   &jobrunner__v1__stop_request__descriptor,       false, rpc_stop },
        { "GetStatus", AUTHZ_METHOD_STATUS, &jobrunner__v1__get_status_request__descriptor, false, rpc_get_status },
        { "List",      AUTHZ_METHOD_LIST,   &jobrunner__v1__list_request__descriptor,       false, rpc_list },
        { "Wait",      AUTHZ_METHOD_WAIT,   &jobrunner__v1__wait_request__descriptor,       false, rpc_wait },
        { "Logs",      AUTHZ_METHOD_LOGS,   &jobrunner__v1__logs_request__descriptor,       true,  rpc_logs },
};

const size_t rpc_n_methods = sizeof(rpc_methods) / sizeof(rpc_methods[0]);
