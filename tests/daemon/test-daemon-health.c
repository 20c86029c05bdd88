/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The standard gRPC health check (grpc.health.v1.Health/Check) through the
 * installed, socket-activated daemon, on the API's socket with the API's
 * mutual TLS: SERVING for the server ("") and for jobrunner.v1.JobRunner,
 * NOT_FOUND for any other service, to every role; no answer without a
 * certificate of our CA; Watch UNIMPLEMENTED at once; successful checks
 * leave no audit record, failed ones do; jr-test-client health for
 * scripts.  (NOT_SERVING during a shutdown is the unit test's: the window
 * in which the stopping daemon still takes a call cannot be hit at will.)
 *
 * Other test binaries use the same daemon at the same time; none of them
 * calls Check, and nothing here stops or restarts the daemon.  Users
 * (tests/daemon/install-daemon): root = admin, alice = operator, victor =
 * viewer, old = expired, mallory = another CA's. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon-harness.h"
#include "health.pb-c.h"
#include "macro.h"
#include "status.h"
#include "time-util.h"

#define API_SERVICE "jobrunner.v1.JobRunner"
#define SERVING GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
/* Generous, the VM is slow (TCG), but nothing may hang. */
#define CALL_DEADLINE_MS INT64_C(60000)

static void setup(void) {
        dh_install();
}

TestSuite(daemon_health, .init = setup, .timeout = 600);

/* ---- helpers ------------------------------------------------------------- */

static const char *code_name(int status) {
        return tc_status_name(status) ?: "(unknown code)";
}

/* Check of service: the status code; *ret_serving the ServingStatus if OK. */
static int check(TcConn *c, const char *who, const char *service, int *ret_serving) {
        _cleanup_free_ char *details = NULL;
        int status = -1, serving = -1, r;

        r = tc_health_check(c, service, CALL_DEADLINE_MS, &status, &details, &serving);
        cr_assert(r >= 0, "Check: the client failed: %s", strerror(-r));
        cr_log_info("%s: Check \"%s\": %s: %s, %s", who, service, code_name(status), details,
                    tc_serving_status_name(serving) ?: "-");
        if (ret_serving)
                *ret_serving = serving;
        return status;
}

static void assert_serving(TcConn *c, const char *who, const char *service) {
        int serving, status = check(c, who, service, &serving);

        cr_assert_eq(status, JR_CODE_OK, "%s: Check \"%s\": %s", who, service, code_name(status));
        cr_assert_eq(serving, SERVING, "%s: Check \"%s\": %s", who, service,
                     tc_serving_status_name(serving) ?: "?");
}

/* ---- the answers ----------------------------------------------------------- */

Test(daemon_health, serving_for_the_server_and_the_api_not_found_for_others) {
        _cleanup_(tc_disconnectp) TcConn *c = dh_connect("alice");
        static const char *const unknown[] = {
                "nope", "grpc.health.v1.Health", API_SERVICE "/Start", "JOBRUNNER.V1.JOBRUNNER", "jobrunner.v1",
        };
        char id[33];

        assert_serving(c, "alice", "");
        assert_serving(c, "alice", API_SERVICE);
        for (size_t i = 0; i < ELEMENTSOF(unknown); i++) {
                int status = check(c, "alice", unknown[i], NULL);

                cr_assert_eq(status, JR_CODE_NOT_FOUND, "Check \"%s\": %s", unknown[i], code_name(status));
        }

        /* The same connection still serves the API. */
        dh_random_id(id);
        cr_assert_eq(dh_call_on_job(c, "GetStatus", id), JR_CODE_NOT_FOUND);
        assert_serving(c, "alice", "");
}

Test(daemon_health, every_role_may_check) {
        static const char *const users[] = { "root", "alice", "victor" };

        for (size_t i = 0; i < ELEMENTSOF(users); i++) {
                _cleanup_(tc_disconnectp) TcConn *c = dh_connect(users[i]);

                assert_serving(c, users[i], "");
                assert_serving(c, users[i], API_SERVICE);
        }
}

Test(daemon_health, no_certificate_of_our_ca_no_answer) {
        _cleanup_(tc_disconnectp) TcConn *none = dh_connect_from(DH_TLS_DIR, NULL);
        _cleanup_(tc_disconnectp) TcConn *mallory = dh_connect_from(DH_OTHER_CA_DIR, "mallory");
        _cleanup_(tc_disconnectp) TcConn *old = dh_connect("old");
        _cleanup_(tc_disconnectp) TcConn *victor = dh_connect("victor");
        int status;

        /* The same mutual TLS as the API: the handshake fails. */
        status = check(none, "no certificate", "", NULL);
        cr_assert_eq(status, JR_CODE_UNAVAILABLE, "no certificate: %s", code_name(status));
        status = check(mallory, "mallory", "", NULL);
        cr_assert_eq(status, JR_CODE_UNAVAILABLE, "mallory (another CA): %s", code_name(status));
        status = check(old, "old", "", NULL);
        cr_assert_eq(status, JR_CODE_UNAVAILABLE, "old (expired): %s", code_name(status));

        assert_serving(victor, "victor", "");
}

/* Watch is not served: the catch-all answers it at once, never holding the
 * stream open until the deadline. */
Test(daemon_health, watch_is_unimplemented_at_once) {
        _cleanup_(tc_disconnectp) TcConn *c = dh_connect("victor");
        Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
        uint8_t buf[64];
        size_t len;
        TcResult result = {};
        uint64_t begin, ms;
        int r;

        req.service = (char *) "";
        len = grpc__health__v1__health_check_request__pack(&req, buf);
        assert_serving(c, "victor", "");        /* the handshake, out of the timing */

        begin = now_usec(CLOCK_MONOTONIC);
        r = tc_unary(c, "/grpc.health.v1.Health/Watch", buf, len, CALL_DEADLINE_MS, &result);
        ms = (now_usec(CLOCK_MONOTONIC) - begin) / 1000;
        cr_assert(r >= 0, "Watch: the client failed: %s", strerror(-r));
        cr_log_info("Watch: %s: %s, after %llu ms", code_name(result.status), result.details,
                    (unsigned long long) ms);
        cr_assert_eq(result.status, JR_CODE_UNIMPLEMENTED, "Watch: %s: %s", code_name(result.status),
                     result.details);
        cr_assert_null(result.response, "Watch sent a message");
        cr_assert_lt(ms, (uint64_t) CALL_DEADLINE_MS / 2, "Watch took %llu ms to answer", (unsigned long long) ms);
        tc_result_done(&result);

        assert_serving(c, "victor", "");
}

/* ---- the audit trail ----------------------------------------------------------- */

Test(daemon_health, successful_checks_are_not_audited_failed_ones_are) {
        _cleanup_(tc_disconnectp) TcConn *c = dh_connect("victor");
        _cleanup_free_ char *failed = NULL, *marker_record = NULL, *ok_records = NULL;
        time_t since = time(NULL) - 1;
        char marker[33], matches[160];

        for (unsigned i = 0; i < 5; i++)
                assert_serving(c, "victor", i % 2 ? API_SERVICE : "");
        cr_assert_eq(check(c, "victor", "nope", NULL), JR_CODE_NOT_FOUND);

        /* A call after all of them whose record is in the journal shows the
         * journal has caught up with everything before it. */
        dh_random_id(marker);
        cr_assert_eq(dh_call_on_job(c, "GetStatus", marker), JR_CODE_NOT_FOUND);
        snprintf(matches, sizeof(matches), "JOBRUNNER_USER=victor JOBRUNNER_JOB_ID=%s", marker);
        marker_record = dh_wait_audit_record(since, matches);

        failed = dh_wait_audit_record(since, "JOBRUNNER_USER=victor JOBRUNNER_METHOD=Check JOBRUNNER_CODE=NOT_FOUND");
        cr_log_info("audit: %s", failed);
        cr_assert(strstr(failed, "victor (viewer)"), "audit record: %s", failed);
        cr_assert(strstr(failed, "unknown service"), "audit record: %s", failed);

        ok_records = dh_audit_records(since, "JOBRUNNER_METHOD=Check JOBRUNNER_CODE=OK");
        cr_assert_str_empty(ok_records, "successful checks were audited:\n%s", ok_records);
}

/* ---- the scripted check ---------------------------------------------------------- */

Test(daemon_health, jr_test_client_health) {
        const char *exe = getenv("JR_TEST_CLIENT");
        _cleanup_free_ char *out = NULL, *unknown = NULL;
        char command[1024];
        int exit_status;

        cr_assert_not_null(exe, "$JR_TEST_CLIENT is not set");
        snprintf(command, sizeof(command),
                 "'%s' --target %s --ca %s/ca.crt --cert %s/users/victor/client.crt --key %s/users/victor/client.key "
                 "health %s 2>/dev/null",
                 exe, DH_TARGET, DH_TLS_DIR, DH_TLS_DIR, DH_TLS_DIR, API_SERVICE);
        out = dh_shell_output(command, NULL);
        cr_assert_str_eq(out, "serving_status=SERVING\n");

        snprintf(command, sizeof(command),
                 "'%s' --target %s --ca %s/ca.crt --cert %s/users/victor/client.crt --key %s/users/victor/client.key "
                 "health nope 2>/dev/null",
                 exe, DH_TARGET, DH_TLS_DIR, DH_TLS_DIR, DH_TLS_DIR);
        unknown = dh_shell_output(command, &exit_status);
        cr_assert_str_eq(unknown, "");
        cr_assert_eq(exit_status, JR_CODE_NOT_FOUND, "jr-test-client health nope exited %d", exit_status);
}
