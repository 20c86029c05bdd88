/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The health check's handler (daemon/rpc-health.c) as the daemon runs it,
 * on a call without gRPC (tests/fuzz/fake-call.c), and its row in the
 * method table: what it answers for which service, before and once the
 * shutdown began, to every role. */
#include <criterion/criterion.h>
#include <string.h>

#include "fake-call.h"
#include "health.pb-c.h"
#include "macro.h"
#include "rpc.h"

#define SERVING GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
#define NOT_SERVING GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING

static const RpcMethod *find_method(const char *service, const char *name) {
        for (size_t i = 0; i < rpc_n_methods; i++)
                if (strcmp(rpc_methods[i].service->name, service) == 0 && strcmp(rpc_methods[i].name, name) == 0)
                        return &rpc_methods[i];
        return NULL;
}

/* Check of service by a caller of role; the code, and the serving status
 * if OK (else -1). */
static JrCode check(AuthzRole role, const char *service, bool stopping, int *ret_status) {
        Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
        const RpcMethod *method = find_method("grpc.health.v1.Health", "Check");
        AuthzIdentity who = { .name = "probe", .role = role };
        const Grpc__Health__V1__HealthCheckResponse *resp;
        Call *c;
        JrCode code;

        cr_assert_not_null(method);
        req.service = (char *) service;
        c = fake_call_new(method, &who);
        fake_call_set_server_stopping(c, stopping);
        method->handle(c, &req.base, NULL);

        /* Unary and immediate: finished before the handler returned. */
        code = fake_call_code(c);
        resp = (const Grpc__Health__V1__HealthCheckResponse *) fake_call_response(c);
        cr_assert_eq(resp != NULL, code == JR_CODE_OK, "Check of \"%s\": code %d, response %p", service, code,
                     (const void *) resp);
        *ret_status = resp ? (int) resp->status : -1;
        fake_call_free(c);
        return code;
}

Test(rpc_health, the_method_table_serves_check_and_not_watch) {
        const RpcMethod *m = find_method("grpc.health.v1.Health", "Check");

        cr_assert_not_null(m);
        cr_expect_eq(m->request_type, &grpc__health__v1__health_check_request__descriptor);
        cr_expect_not(m->server_streaming);
        cr_expect_eq(m->authz, AUTHZ_METHOD_HEALTH);
        cr_expect(m->serves_while_stopping, "Check must answer NOT_SERVING while the server drains");
        cr_expect(m->audit_failures_only, "a probe every second would flood the audit trail");
        /* Watch goes to the catch-all request: UNIMPLEMENTED at once. */
        cr_expect_null(find_method("grpc.health.v1.Health", "Watch"));

        /* The API's methods keep the defaults: every call audited, and none
         * served once the shutdown began. */
        for (size_t i = 0; i < rpc_n_methods; i++) {
                if (&rpc_methods[i] == m)
                        continue;
                cr_expect_str_eq(rpc_methods[i].service->name, "jobrunner.v1.JobRunner");
                cr_expect_not(rpc_methods[i].serves_while_stopping, "%s", rpc_methods[i].name);
                cr_expect_not(rpc_methods[i].audit_failures_only, "%s", rpc_methods[i].name);
        }
}

Test(rpc_health, every_method_is_one_its_service_declares) {
        for (size_t i = 0; i < rpc_n_methods; i++) {
                const ProtobufCMethodDescriptor *d =
                        protobuf_c_service_descriptor_get_method_by_name(rpc_methods[i].service, rpc_methods[i].name);

                cr_assert_not_null(d, "%s/%s", rpc_methods[i].service->name, rpc_methods[i].name);
                cr_expect_eq(d->input, rpc_methods[i].request_type, "%s", rpc_methods[i].name);
        }
}

Test(rpc_health, serving_for_the_server_and_the_api_to_every_role) {
        static const char *const services[] = { "", "jobrunner.v1.JobRunner" };

        for (AuthzRole role = 0; role < _AUTHZ_ROLE_MAX; role++)
                for (size_t i = 0; i < ELEMENTSOF(services); i++) {
                        int status;
                        JrCode code = check(role, services[i], false, &status);

                        cr_expect_eq(code, JR_CODE_OK, "%s, \"%s\": code %d", authz_role_to_string(role),
                                     services[i], code);
                        cr_expect_eq(status, SERVING, "%s, \"%s\": status %d", authz_role_to_string(role),
                                     services[i], status);
                }
}

Test(rpc_health, not_found_for_any_other_service) {
        static const char *const services[] = {
                "grpc.health.v1.Health", "jobrunner.v1.JobRunne", "jobrunner.v1.JobRunnerX",
                "JOBRUNNER.V1.JOBRUNNER", "jobrunner.v1.JobRunner/Start", "/jobrunner.v1.JobRunner",
                " ", "jobrunner.v2.JobRunner",
        };

        for (size_t i = 0; i < ELEMENTSOF(services); i++) {
                int status;

                cr_expect_eq(check(AUTHZ_ROLE_VIEWER, services[i], false, &status), JR_CODE_NOT_FOUND, "\"%s\"",
                             services[i]);
                /* The answer does not change with the shutdown. */
                cr_expect_eq(check(AUTHZ_ROLE_VIEWER, services[i], true, &status), JR_CODE_NOT_FOUND, "\"%s\"",
                             services[i]);
        }
}

Test(rpc_health, not_serving_once_the_shutdown_began) {
        int status;

        cr_expect_eq(check(AUTHZ_ROLE_ADMIN, "", true, &status), JR_CODE_OK);
        cr_expect_eq(status, NOT_SERVING);
        cr_expect_eq(check(AUTHZ_ROLE_VIEWER, "jobrunner.v1.JobRunner", true, &status), JR_CODE_OK);
        cr_expect_eq(status, NOT_SERVING);
}
