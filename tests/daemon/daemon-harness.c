/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon-harness.h"
#include "macro.h"

void dh_install(void) {
        const char *script = getenv("JOBRUNNER_INSTALL_DAEMON"), *build = getenv("JOBRUNNER_BUILD_ROOT");
        char command[1024];

        cr_assert(script && build, "JOBRUNNER_INSTALL_DAEMON and JOBRUNNER_BUILD_ROOT must be set (meson does)");
        snprintf(command, sizeof(command), "'%s' '%s'", script, build);
        dh_shell(command);
}

void dh_shell(const char *command) {
        int r = system(command);

        cr_assert(r == 0, "'%s' failed with status %d", command, r);
}

TcConn *dh_connect_from(const char *dir, const char *user) {
        char cert[512], key[512], ca[512];
        TcConn *c = NULL;
        int r;

        snprintf(cert, sizeof(cert), "%s/users/%s/client.crt", dir, user ? user : "");
        snprintf(key, sizeof(key), "%s/users/%s/client.key", dir, user ? user : "");
        /* The server is always verified against our CA. */
        snprintf(ca, sizeof(ca), "%s/ca.crt", DH_TLS_DIR);
        r = tc_connect(DH_TARGET, user ? cert : NULL, user ? key : NULL, ca, &c);
        cr_assert(r >= 0, "cannot connect as %s: %s", user ? user : "(no certificate)", strerror(-r));
        return c;
}

TcConn *dh_connect(const char *user) {
        return dh_connect_from(DH_TLS_DIR, user);
}

Jobrunner__V1__JobStatus *dh_start(TcConn *c, const char *const *argv) {
        Jobrunner__V1__JobSpec spec = JOBRUNNER__V1__JOB_SPEC__INIT;
        Jobrunner__V1__StartRequest req = JOBRUNNER__V1__START_REQUEST__INIT;
        Jobrunner__V1__StartResponse *resp = NULL;
        Jobrunner__V1__JobStatus *job;
        _cleanup_free_ char *details = NULL;
        int status, r;

        while (argv[spec.n_argv])
                spec.n_argv++;
        spec.argv = (char **) argv;
        req.spec = &spec;
        r = tc_call(c, "Start", &req.base, &jobrunner__v1__start_response__descriptor, 0, &status, &details,
                    (ProtobufCMessage **) &resp);
        cr_assert(r >= 0 && status == 0, "Start %s: %s: %s", argv[0], tc_status_name(status),
                  details ? details : strerror(-r));
        job = TAKE_PTR(resp->job);
        jobrunner__v1__start_response__free_unpacked(resp, NULL);
        return job;
}

int dh_call_on_job(TcConn *c, const char *method, const char *id) {
        /* GetStatus, Wait, Stop and Logs requests all start with "string id
         * = 1": one GetStatusRequest encodes the id for each of them. */
        Jobrunner__V1__GetStatusRequest req = JOBRUNNER__V1__GET_STATUS_REQUEST__INIT;
        uint8_t buf[64];
        TcResult result;
        size_t n;
        int r, status;

        req.id = (char *) id;
        n = jobrunner__v1__get_status_request__pack(&req, buf);
        r = tc_unary(c, method, buf, n, 0, &result);
        cr_assert(r >= 0, "%s %s: %s", method, id, strerror(-r));
        status = result.status;
        tc_result_done(&result);
        return status;
}

char *dh_shell_output(const char *command, int *ret_exit) {
        char *out = NULL;
        size_t len = 0, size = 0;
        FILE *f;
        int r;

        f = popen(command, "re");
        cr_assert_not_null(f, "popen %s: %m", command);
        for (;;) {
                size_t n;

                if (size - len < 4096) {
                        size = size ? size * 2 : 8192;
                        out = realloc(out, size);
                        cr_assert_not_null(out);
                }
                n = fread(out + len, 1, size - len - 1, f);
                if (n == 0)
                        break;
                len += n;
        }
        out[len] = 0;
        r = pclose(f);
        r = r >= 0 && WIFEXITED(r) ? WEXITSTATUS(r) : -1;
        if (ret_exit)
                *ret_exit = r;
        else
                cr_assert_eq(r, 0, "'%s' failed with status %d", command, r);
        return out;
}

char *dh_shell_line(const char *command, int *ret_exit) {
        char *out = dh_shell_output(command, ret_exit);
        size_t len = strlen(out);

        if (len > 0 && out[len - 1] == '\n')
                out[len - 1] = 0;
        return out;
}

void dh_random_id(char ret[static 33]) {
        uint8_t b[16];

        cr_assert_eq(getrandom(b, sizeof(b), 0), (ssize_t) sizeof(b));
        for (size_t i = 0; i < sizeof(b); i++)
                snprintf(ret + 2 * i, 3, "%02x", b[i]);
}

void dh_job_status_freep(Jobrunner__V1__JobStatus **j) {
        if (*j)
                jobrunner__v1__job_status__free_unpacked(*j, NULL);
}

/* The audit records' MESSAGE_ID, as daemon/audit.h defines it. */
#define AUDIT_MESSAGE_ID "e0d3799482fa4fccb8fa3ca373fdf1e1"

char *dh_audit_records(time_t since, const char *matches) {
        char command[1024];

        snprintf(command, sizeof(command),
                 "journalctl --sync && journalctl -q --no-pager -o cat --since=@%lld MESSAGE_ID=%s %s",
                 (long long) since, AUDIT_MESSAGE_ID, matches);
        return dh_shell_output(command, NULL);
}

char *dh_wait_audit_record(time_t since, const char *matches) {
        for (unsigned i = 0; i < 100; i++) {
                char *out = dh_audit_records(since, matches);

                if (out[0])
                        return out;
                free(out);
                usleep(200 * 1000);
        }
        cr_assert_fail("no audit record with %s", matches);
        return NULL;
}
