/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jobrunnerd's transport: mutual TLS 1.3 only, client certificates from our
 * CA that are valid today, a server certificate that clients can verify,
 * and one audit record per call that reaches the server.  After every
 * refused connection the daemon must still serve a valid client.
 *
 * The handshakes are checked from both sides: our gRPC test client, and
 * openssl s_client ($JOBRUNNER_OPENSSL) for what gRPC hides (the protocol
 * version, what exactly happens on the wire when the server refuses). */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon-harness.h"
#include "macro.h"
#include "status.h"
#include "time-util.h"

#define AUDIT_ID "e0d3799482fa4fccb8fa3ca373fdf1e1"
#define CALL_DEADLINE_MS INT64_C(30000)
/* How long the journal may take to show a record. */
#define JOURNAL_TIMEOUT_MS INT64_C(20000)

static void setup(void) {
        dh_install();
}

TestSuite(daemon_tls, .init = setup, .timeout = 600);

/* ---- helpers ------------------------------------------------------------- */

static const char *code_name(int status) {
        return tc_status_name(status) ?: "(unknown code)";
}

static const char *openssl(void) {
        const char *o = getenv("JOBRUNNER_OPENSSL");

        cr_assert(o && o[0], "JOBRUNNER_OPENSSL must be set (meson does)");
        return o;
}

/* Runs command with sh, stdout and stderr together; returns the output and
 * stores the exit status (-1 if it did not exit normally). */
static char *run(const char *command, int *ret_exit) {
        _cleanup_free_ char *cmd = NULL;

        cr_assert(asprintf(&cmd, "%s 2>&1", command) >= 0);
        return dh_shell_output(cmd, ret_exit);
}

static char *user_file(const char *dir, const char *user, const char *name) {
        char *p;

        cr_assert(asprintf(&p, "%s/users/%s/%s", dir, user, name) >= 0);
        return p;
}

/* openssl s_client against the daemon: TLS options, then the client key
 * pair of user in dir (NULL: none), verifying the server with our CA.
 * input: what to send once connected; -ign_eof keeps the client reading
 * until the server closes, so a refusal after the handshake is seen. */
static char *s_client(const char *tls, const char *dir, const char *user, const char *input, int *ret_exit) {
        _cleanup_free_ char *cert = NULL, *key = NULL, *keypair = NULL, *command = NULL;
        char *out;

        if (user) {
                cert = user_file(dir, user, "client.crt");
                key = user_file(dir, user, "client.key");
                cr_assert(asprintf(&keypair, "-cert '%s' -key '%s'", cert, key) >= 0);
        }
        cr_assert(asprintf(&command,
                           "%s | timeout 60 '%s' s_client -connect localhost:50051 %s %s "
                           "-CAfile " DH_TLS_DIR "/ca.crt -verify_return_error -brief %s",
                           input ? input : "true", openssl(), tls, keypair ?: "",
                           input ? "-ign_eof" : "") >= 0);
        out = run(command, ret_exit);
        cr_log_info("$ %s\n(exit status %d)\n%s", command, *ret_exit, out);
        cr_assert_neq(*ret_exit, 124, "s_client timed out: the server neither answered nor closed");
        return out;
}

/* List (page_size 1) over c: the status code. */
static int list_status(TcConn *c, char **ret_details) {
        Jobrunner__V1__ListRequest req = JOBRUNNER__V1__LIST_REQUEST__INIT;
        ProtobufCMessage *resp = NULL;
        int status = -1, r;

        req.page_size = 1;
        r = tc_call(c, "List", &req.base, &jobrunner__v1__list_response__descriptor, CALL_DEADLINE_MS, &status,
                    ret_details, &resp);
        cr_assert(r >= 0, "List: the client failed: %s", strerror(-r));
        if (resp)
                protobuf_c_message_free_unpacked(resp, NULL);
        return status;
}

/* A Start that would leave an audit record if it reached the server. */
static int start_status(TcConn *c, char **ret_details) {
        Jobrunner__V1__JobSpec spec = JOBRUNNER__V1__JOB_SPEC__INIT;
        Jobrunner__V1__StartRequest req = JOBRUNNER__V1__START_REQUEST__INIT;
        char *argv[] = { (char *) "/bin/true", NULL };
        ProtobufCMessage *resp = NULL;
        int status = -1, r;

        spec.argv = argv;
        spec.n_argv = 1;
        req.spec = &spec;
        r = tc_call(c, "Start", &req.base, &jobrunner__v1__start_response__descriptor, CALL_DEADLINE_MS, &status,
                    ret_details, &resp);
        cr_assert(r >= 0, "Start: the client failed: %s", strerror(-r));
        if (resp)
                protobuf_c_message_free_unpacked(resp, NULL);
        return status;
}

/* The daemon still serves a valid client: a new connection as alice. */
static void assert_serving(const char *after) {
        _cleanup_(tc_disconnectp) TcConn *c = dh_connect("alice");
        _cleanup_free_ char *details = NULL;
        int status = list_status(c, &details);

        cr_assert_eq(status, 0, "after %s, alice's List: %s: %s", after, code_name(status), details);
}

static void assert_refused(TcConn *c, const char *who) {
        _cleanup_free_ char *details = NULL, *details2 = NULL;
        int status;

        status = list_status(c, &details);
        cr_log_info("%s: List: %s: %s", who, code_name(status), details);
        cr_assert_eq(status, JR_CODE_UNAVAILABLE, "%s: List: %s: %s", who, code_name(status), details);
        status = start_status(c, &details2);
        cr_assert_eq(status, JR_CODE_UNAVAILABLE, "%s: Start: %s: %s", who, code_name(status), details2);
}

/* ---- the journal ---------------------------------------------------------- */

/* The audit records that match (journalctl match arguments), in export
 * format with the fields we look at only (all text). */
static char *journal_export(const char *matches) {
        _cleanup_free_ char *command = NULL;
        char *out;
        int status;

        cr_assert(asprintf(&command,
                           "journalctl MESSAGE_ID=" AUDIT_ID " %s -q -o export --no-pager "
                           "--output-fields=MESSAGE,JOBRUNNER_USER,JOBRUNNER_ROLE,JOBRUNNER_PEER,JOBRUNNER_METHOD,"
                           "JOBRUNNER_JOB_ID,JOBRUNNER_ARGV,JOBRUNNER_CODE,JOBRUNNER_STATUS_MESSAGE,_SYSTEMD_UNIT",
                           matches) >= 0);
        out = run(command, &status);
        cr_assert_eq(status, 0, "%s failed: %s", command, out);
        return out;
}

/* Records in export output are separated by an empty line; returns the
 * number of records. */
static size_t records_count(const char *export) {
        size_t n = 0;

        for (const char *p = export; *p;) {
                const char *end = strstr(p, "\n\n");

                n++;
                if (!end)
                        break;
                p = end + 2;
        }
        return n;
}

/* The value of field in the first record of export (a copy), NULL if it
 * is not there. */
static char *record_field(const char *export, const char *field) {
        const char *end = strstr(export, "\n\n") ?: export + strlen(export);
        size_t flen = strlen(field);

        for (const char *p = export; p < end;) {
                const char *eol = strchr(p, '\n') ?: end;

                if ((size_t) (eol - p) > flen && strncmp(p, field, flen) == 0 && p[flen] == '=')
                        return strndup(p + flen + 1, (size_t) (eol - p - flen - 1));
                p = eol + 1;
        }
        return NULL;
}

/* Polls until the matching records number at least want; returns them. */
static char *journal_wait(const char *matches, size_t want) {
        int64_t until = (int64_t) (now_usec(CLOCK_MONOTONIC) / USEC_PER_MSEC) + JOURNAL_TIMEOUT_MS;

        for (;;) {
                char *out = journal_export(matches);

                if (records_count(out) >= want)
                        return out;
                if ((int64_t) (now_usec(CLOCK_MONOTONIC) / USEC_PER_MSEC) > until) {
                        cr_assert_fail("journal: %zu records of %s, expected %zu", records_count(out), matches, want);
                        free(out);
                        return NULL;
                }
                free(out);
                usleep(300 * 1000);
        }
}

static void assert_field(const char *record, const char *field, const char *want) {
        _cleanup_free_ char *v = record_field(record, field);

        cr_assert_not_null(v, "no %s in the record:\n%s", field, record);
        cr_assert_str_eq(v, want, "%s", field);
}

static void random_hex(char *buf, size_t n_bytes) {
        uint8_t b[32];

        cr_assert_leq(n_bytes, sizeof(b));
        cr_assert_eq(getrandom(b, n_bytes, 0), (ssize_t) n_bytes);
        for (size_t i = 0; i < n_bytes; i++)
                snprintf(buf + 2 * i, 3, "%02x", b[i]);
}

/* ---- tests ----------------------------------------------------------------- */

Test(daemon_tls, the_protocol_is_tls13) {
        _cleanup_free_ char *out = NULL;
        int status;

        /* Our gRPC client restricted to TLS 1.3 (before anything in this
         * process initialised OpenSSL) talks to the daemon. */
        {
                _cleanup_free_ char *cert = user_file(DH_TLS_DIR, "alice", "client.crt");
                _cleanup_free_ char *key = user_file(DH_TLS_DIR, "alice", "client.key");
                _cleanup_free_ char *details = NULL;
                _cleanup_(tc_disconnectp) TcConn *c = NULL;
                const TcOptions options = { .tls13_only = true };
                int r;

                r = tc_connect_full(DH_TARGET, cert, key, DH_TLS_DIR "/ca.crt", &options, &c);
                cr_assert(r >= 0, "tc_connect_full: %s", strerror(-r));
                status = list_status(c, &details);
                cr_assert_eq(status, 0, "List over TLS 1.3 only: %s: %s", code_name(status), details);
        }

        /* And openssl says which version that is. */
        out = s_client("-tls1_3", DH_TLS_DIR, "alice", NULL, &status);
        /* Not its exit status: gRPC may close the idle connection without a
         * close_notify (it drops queued TLS records when it closes), which
         * s_client reports as "unexpected eof" and exit 1 (seen under load).
         * The handshake is what is tested. */
        cr_assert_not_null(strstr(out, "CONNECTION ESTABLISHED"), "s_client -tls1_3 failed (%d):\n%s", status, out);
        cr_assert_not_null(strstr(out, "Protocol version: TLSv1.3"), "%s", out);
        cr_assert_not_null(strstr(out, "Verification: OK"), "%s", out);
        cr_assert_not_null(strstr(out, "Peer certificate: CN = localhost"), "%s", out);

        assert_serving("a TLS 1.3 s_client");
}

Test(daemon_tls, a_tls12_client_is_refused_at_the_handshake) {
        _cleanup_free_ char *out = NULL;
        int status;

        /* With a valid client certificate: only the version is wrong.  The
         * server's OpenSSL is limited to TLS 1.3 and fails the ClientHello
         * ("unsupported protocol" in the daemon's log).  OpenSSL queues a
         * protocol_version alert for that, but gRPC's TLS handshaker
         * (ssl_transport_security.cc) does not send the bytes OpenSSL left
         * when a handshake fails: it closes the TCP connection, so the
         * client sees EOF instead of "alert protocol version".  Accept
         * either; what matters is that no TLS 1.2 session exists. */
        out = s_client("-tls1_2", DH_TLS_DIR, "alice", NULL, &status);
        cr_assert_neq(status, 0, "s_client -tls1_2 succeeded:\n%s", out);
        cr_assert_null(strstr(out, "Protocol version"), "a TLS 1.2 session was established:\n%s", out);
        cr_assert_null(strstr(out, "CONNECTION ESTABLISHED"), "%s", out);
        cr_assert(strstr(out, "alert protocol version") || strstr(out, "unexpected eof while reading"),
                  "neither an alert nor a closed connection:\n%s", out);

        assert_serving("a TLS 1.2 s_client");
}

Test(daemon_tls, no_client_certificate_is_refused) {
        _cleanup_(tc_disconnectp) TcConn *c = dh_connect_from(DH_TLS_DIR, NULL);
        _cleanup_free_ char *out = NULL;
        int status;

        assert_refused(c, "no client certificate");

        /* In TLS 1.3 the client sends its (here empty) Certificate in its
         * last flight, after it has seen the server's Finished: s_client
         * considers the handshake done ("CONNECTION ESTABLISHED").  The
         * server then fails the handshake ("peer did not return a
         * certificate") and, since gRPC's handshaker does not flush
         * OpenSSL's certificate_required alert, just closes the connection:
         * the byte we send is never answered and s_client reads EOF
         * ("unexpected eof while reading") instead of "alert certificate
         * required".  Either way the connection is dead before any data. */
        out = s_client("-tls1_3", DH_TLS_DIR, NULL, "printf x", &status);
        cr_assert_neq(status, 0, "s_client without a certificate kept its connection:\n%s", out);
        cr_assert(strstr(out, "certificate required") || strstr(out, "unexpected eof while reading"),
                  "the connection was not closed by the server:\n%s", out);

        assert_serving("clients without a certificate");
}

Test(daemon_tls, foreign_and_expired_certificates_never_reach_an_rpc) {
        _cleanup_(tc_disconnectp) TcConn *mallory = dh_connect_from(DH_OTHER_CA_DIR, "mallory");
        _cleanup_(tc_disconnectp) TcConn *old = dh_connect("old");
        _cleanup_free_ char *marker_records = NULL, *mallory_records = NULL, *old_records = NULL;
        char marker[33], matches[128];

        /* mallory is an admin, but of another CA; old is an operator whose
         * certificate expired in 2020.  Both fail the handshake. */
        assert_refused(mallory, "mallory (another CA)");
        assert_refused(old, "old (expired)");

        /* No call reached the server: no audit record names them.  A call
         * of alice's made after theirs, found in the journal first, shows
         * the journal has caught up with everything before it. */
        {
                _cleanup_(tc_disconnectp) TcConn *alice = dh_connect("alice");

                random_hex(marker, 16);
                cr_assert_eq(dh_call_on_job(alice, "GetStatus", marker), JR_CODE_NOT_FOUND);
        }
        snprintf(matches, sizeof(matches), "JOBRUNNER_JOB_ID=%s", marker);
        marker_records = journal_wait(matches, 1);
        assert_field(marker_records, "JOBRUNNER_USER", "alice");

        mallory_records = journal_export("JOBRUNNER_USER=mallory");
        cr_assert_str_empty(mallory_records, "audit records of mallory:\n%s", mallory_records);
        old_records = journal_export("JOBRUNNER_USER=old");
        cr_assert_str_empty(old_records, "audit records of old:\n%s", old_records);

        assert_serving("foreign and expired certificates");
}

Test(daemon_tls, the_server_certificate_is_verified) {
        _cleanup_free_ char *cert = user_file(DH_TLS_DIR, "alice", "client.crt");
        _cleanup_free_ char *key = user_file(DH_TLS_DIR, "alice", "client.key");
        _cleanup_free_ char *sans = NULL, *verify = NULL, *command = NULL, *command2 = NULL;
        int status;

        /* The names clients connect to. */
        cr_assert(asprintf(&command, "'%s' x509 -noout -ext subjectAltName -in " DH_TLS_DIR "/server.crt",
                           openssl()) >= 0);
        sans = run(command, &status);
        cr_log_info("%s", sans);
        cr_assert_eq(status, 0, "%s", sans);
        cr_assert_not_null(strstr(sans, "DNS:localhost"), "%s", sans);
        cr_assert_not_null(strstr(sans, "IP Address:127.0.0.1"), "%s", sans);
        /* Signed by our CA, for TLS servers. */
        cr_assert(asprintf(&command2, "'%s' verify -CAfile " DH_TLS_DIR "/ca.crt -purpose sslserver "
                           DH_TLS_DIR "/server.crt", openssl()) >= 0);
        verify = run(command2, &status);
        cr_assert_eq(status, 0, "%s", verify);

        /* The client checks the name: one the certificate does not carry
         * fails the handshake... */
        {
                const TcOptions options = { .target_name_override = "wrong.example" };
                _cleanup_(tc_disconnectp) TcConn *c = NULL;
                _cleanup_free_ char *details = NULL;
                int r = tc_connect_full(DH_TARGET, cert, key, DH_TLS_DIR "/ca.crt", &options, &c);

                cr_assert(r >= 0, "tc_connect_full: %s", strerror(-r));
                status = list_status(c, &details);
                cr_log_info("wrong.example: %s: %s", code_name(status), details);
                cr_assert_eq(status, JR_CODE_UNAVAILABLE, "a server name that is not in the certificate: %s: %s",
                             code_name(status), details);
        }
        /* ...and so does a server certificate from a CA the client does
         * not trust... */
        {
                _cleanup_(tc_disconnectp) TcConn *c = NULL;
                _cleanup_free_ char *details = NULL;
                int r = tc_connect(DH_TARGET, cert, key, DH_OTHER_CA_DIR "/ca.crt", &c);

                cr_assert(r >= 0, "tc_connect: %s", strerror(-r));
                status = list_status(c, &details);
                cr_log_info("other CA as trust root: %s: %s", code_name(status), details);
                cr_assert_eq(status, JR_CODE_UNAVAILABLE, "the server verified against another CA: %s: %s",
                             code_name(status), details);
        }
        /* ...while the IP address SAN works. */
        {
                _cleanup_(tc_disconnectp) TcConn *c = NULL;
                _cleanup_free_ char *details = NULL;
                int r = tc_connect("127.0.0.1:50051", cert, key, DH_TLS_DIR "/ca.crt", &c);

                cr_assert(r >= 0, "tc_connect: %s", strerror(-r));
                status = list_status(c, &details);
                cr_assert_eq(status, 0, "127.0.0.1: %s: %s", code_name(status), details);
        }

        assert_serving("wrong server names");
}

Test(daemon_tls, every_call_leaves_one_audit_record) {
        _cleanup_(tc_disconnectp) TcConn *c = dh_connect("alice");
        _cleanup_free_ char *start = NULL, *get = NULL, *missing = NULL, *argv_json = NULL, *peer = NULL;
        Jobrunner__V1__JobStatus *j;
        char token[17], unknown[33], arg[64], matches[256], job_id[33];

        random_hex(token, 8);
        snprintf(arg, sizeof(arg), "audit-%s", token);
        {
                const char *argv[] = { "/bin/echo", arg, NULL };

                j = dh_start(c, argv);
                snprintf(job_id, sizeof(job_id), "%s", j->id);
                jobrunner__v1__job_status__free_unpacked(j, NULL);
        }
        cr_assert_eq(dh_call_on_job(c, "GetStatus", job_id), 0);
        random_hex(unknown, 16);
        cr_assert_eq(dh_call_on_job(c, "GetStatus", unknown), JR_CODE_NOT_FOUND);

        /* The Start: user, role, method, code and argv, exactly once. */
        snprintf(matches, sizeof(matches),
                 "JOBRUNNER_USER=alice JOBRUNNER_METHOD=Start JOBRUNNER_CODE=OK JOBRUNNER_JOB_ID=%s", job_id);
        start = journal_wait(matches, 1);
        cr_log_info("the Start's record:\n%s", start);
        cr_assert_eq(records_count(start), 1, "%zu records of one Start:\n%s", records_count(start), start);
        assert_field(start, "JOBRUNNER_USER", "alice");
        assert_field(start, "JOBRUNNER_ROLE", "operator");
        assert_field(start, "JOBRUNNER_METHOD", "Start");
        assert_field(start, "JOBRUNNER_CODE", "OK");
        assert_field(start, "_SYSTEMD_UNIT", "jobrunner.service");
        cr_assert(asprintf(&argv_json, "[\"/bin/echo\", \"%s\"]", arg) >= 0);
        assert_field(start, "JOBRUNNER_ARGV", argv_json);
        peer = record_field(start, "JOBRUNNER_PEER");
        cr_assert(peer && (strncmp(peer, "ipv4:", 5) == 0 || strncmp(peer, "ipv6:", 5) == 0), "peer '%s'",
                  peer ?: "(none)");

        /* The GetStatus of the job: its own record, once. */
        snprintf(matches, sizeof(matches), "JOBRUNNER_METHOD=GetStatus JOBRUNNER_JOB_ID=%s", job_id);
        get = journal_wait(matches, 1);
        cr_assert_eq(records_count(get), 1, "%s", get);
        assert_field(get, "JOBRUNNER_USER", "alice");
        assert_field(get, "JOBRUNNER_ROLE", "operator");
        assert_field(get, "JOBRUNNER_CODE", "OK");
        cr_assert_null(record_field(get, "JOBRUNNER_ARGV"));

        /* A failed call is recorded too, with its code and message. */
        snprintf(matches, sizeof(matches), "JOBRUNNER_JOB_ID=%s", unknown);
        missing = journal_wait(matches, 1);
        cr_assert_eq(records_count(missing), 1, "%s", missing);
        assert_field(missing, "JOBRUNNER_USER", "alice");
        assert_field(missing, "JOBRUNNER_METHOD", "GetStatus");
        assert_field(missing, "JOBRUNNER_CODE", "NOT_FOUND");
        {
                _cleanup_free_ char *m = record_field(missing, "JOBRUNNER_STATUS_MESSAGE");

                cr_assert(m && m[0], "a NOT_FOUND without JOBRUNNER_STATUS_MESSAGE:\n%s", missing);
        }

        /* Exactly one record for everything about the job: Start and
         * GetStatus (a second look finds no late duplicates). */
        {
                _cleanup_free_ char *all = NULL;

                usleep(500 * 1000);
                snprintf(matches, sizeof(matches), "JOBRUNNER_JOB_ID=%s", job_id);
                all = journal_export(matches);
                cr_assert_eq(records_count(all), 2, "records of job %s:\n%s", job_id, all);
        }
}
