/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/audit.c: the argv rendering and the fields of the record. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "audit.h"
#include "macro.h"

#define S(x) ((char *) (x))

#include "leak-check.h"
TestSuite(audit, .fini = abort_on_leaks);
#define N_BIG_ARGS 64           /* 64 × 64 KiB: far more than either cap */

static char *format(char *const *argv, size_t max) {
        char *s = NULL;

        cr_assert_eq(audit_format_argv(argv, max, &s), 0);
        cr_assert_not_null(s);
        cr_assert_leq(strlen(s), max);
        return s;
}

static void expect_format(char *const *argv, size_t max, const char *expected) {
        _cleanup_free_ char *s = format(argv, max);

        cr_expect_str_eq(s, expected, "max %zu", max);
}

/* Is s[0..len) valid UTF-8?  Enough of a check for what we produce. */
static bool utf8_ok(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                size_t n = *p < 0x80 ? 1 : *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 0;
                if (n == 0)
                        return false;
                for (size_t i = 1; i < n; i++)
                        if ((p[i] & 0xC0) != 0x80)
                                return false;
                p += n;
        }
        return true;
}

Test(audit, plain_argv) {
        char *argv[] = { S("/bin/echo"), S("hi"), NULL };
        char *one[] = { S("/bin/true"), NULL };
        char *empty[] = { NULL };
        char *empty_arg[] = { S("/bin/echo"), S(""), NULL };

        expect_format(argv, 4096, "[\"/bin/echo\", \"hi\"]");
        expect_format(one, 4096, "[\"/bin/true\"]");
        expect_format(empty, 4096, "[]");
        expect_format(NULL, 4096, "[]");
        expect_format(empty_arg, 4096, "[\"/bin/echo\", \"\"]");
}

Test(audit, escaping) {
        char *quotes[] = { S("say \"hi\""), S("back\\slash"), NULL };
        char *controls[] = { S("a\nb"), S("\t\r\x01\x1f\x7f"), NULL };
        char *utf8[] = { S("héllo wörld ✓ 😀"), NULL };
        char *c1[] = { S("a\xc2\x9b" "b\xc2\xa0"), NULL };     /* U+009B CSI, then U+00A0 NBSP */

        expect_format(quotes, 4096, "[\"say \\\"hi\\\"\", \"back\\\\slash\"]");
        expect_format(controls, 4096, "[\"a\\u000ab\", \"\\u0009\\u000d\\u0001\\u001f\\u007f\"]");
        expect_format(utf8, 4096, "[\"héllo wörld ✓ 😀\"]");
        expect_format(c1, 4096, "[\"a\\u009bb\xc2\xa0\"]");
}

Test(audit, no_newline_ever) {
        char *argv[] = { S("/bin/sh"), S("-c"), S("echo a\nrm -rf /\r\n"), NULL };
        _cleanup_free_ char *s = format(argv, 4096);

        cr_expect_null(strchr(s, '\n'));
        cr_expect_null(strchr(s, '\r'));
}

Test(audit, exact_fit_is_not_truncated) {
        char *argv[] = { S("/bin/echo"), NULL };
        const char *full = "[\"/bin/echo\"]";

        expect_format(argv, strlen(full), full);
        expect_format(argv, strlen(full) + 1, full);
}

Test(audit, truncation_leaves_room_for_the_marker) {
        char *argv[] = { S("/bin/echo"), NULL };

        /* 13 bytes do not fit in 12: cut so that "…" (3 bytes) fits. */
        expect_format(argv, 12, "[\"/bin/ec…");
        expect_format(argv, 10, "[\"/bin/…");
        expect_format(argv, 4, "[…");
        expect_format(argv, 3, "…");
}

Test(audit, truncation_between_entries) {
        char *argv[] = { S("/bin/echo"), S("hi"), NULL };

        /* ["/bin/echo", "hi"] is 19 bytes.  With 16 the cut must be at 13 or
         * before, and ", " is one piece: it goes whole. */
        expect_format(argv, 16, "[\"/bin/echo\"…");
        expect_format(argv, 18, "[\"/bin/echo\", \"…");
}

Test(audit, truncation_never_splits_an_escape) {
        char *argv[] = { S("\n\n\n\n"), NULL };

        /* ["\u000a\u000a... : the cut falls inside the second escape. */
        expect_format(argv, 2 + 6 + 3 + 3, "[\"\\u000a…");
        expect_format(argv, 2 + 6 + 6 + 3, "[\"\\u000a\\u000a…");
}

Test(audit, truncation_never_splits_a_character) {
        char *argv[] = { S("ééééééééééé😀😀😀😀"), NULL };

        for (size_t max = 3; max < 64; max++) {
                _cleanup_free_ char *s = format(argv, max);

                cr_expect(utf8_ok(s), "max %zu: %s", max, s);
                if (strlen(s) < 2 || strcmp(s + strlen(s) - 1, "]") != 0) {
                        cr_expect_geq(strlen(s), 3);
                        cr_expect_str_eq(s + strlen(s) - strlen("…"), "…", "max %zu: %s", max, s);
                        cr_expect_geq(strlen(s) + 4, max, "cut no more than one character early: max %zu: %s", max, s);
                }
        }
}

Test(audit, large_argv_is_capped) {
        char *argv[N_BIG_ARGS + 1];
        _cleanup_free_ char *big = malloc(64 * 1024 + 1);

        cr_assert_not_null(big);
        memset(big, 'a', 64 * 1024);
        big[64 * 1024] = 0;
        for (size_t i = 0; i < N_BIG_ARGS; i++)
                argv[i] = big;
        argv[N_BIG_ARGS] = NULL;

        _cleanup_free_ char *m = format(argv, AUDIT_ARGV_MESSAGE_MAX);
        cr_expect_eq(strlen(m), AUDIT_ARGV_MESSAGE_MAX);
        cr_expect_str_eq(m + strlen(m) - strlen("…"), "…");
        _cleanup_free_ char *f = format(argv, AUDIT_ARGV_FIELD_MAX);
        cr_expect_eq(strlen(f), AUDIT_ARGV_FIELD_MAX);
}

Test(audit, max_too_small) {
        char *argv[] = { S("/bin/true"), NULL };
        char *s = NULL;

        cr_expect_eq(audit_format_argv(argv, 2, &s), -EINVAL);
        cr_expect_null(s);
}

/* ---- the record ---------------------------------------------------------------- */

static const char *field(char **fields, const char *name) {
        size_t n = strlen(name);

        for (char **f = fields; *f; f++)
                if (strncmp(*f, name, n) == 0 && (*f)[n] == '=')
                        return *f + n + 1;
        return NULL;
}

static void fields_free(char **fields) {
        for (char **f = fields; f && *f; f++)
                free(*f);
        free(fields);
}

Test(audit, record_of_a_start) {
        AuthzIdentity who = { .name = "alice", .role = AUTHZ_ROLE_OPERATOR };
        char *argv[] = { S("/bin/echo"), S("hi"), NULL };
        char **fields = NULL;

        cr_assert_eq(audit_build_record(&who, "ipv4:192.0.2.1:40000", "Start", "0123456789abcdef0123456789abcdef",
                                        argv, NULL, JR_CODE_OK, NULL, &fields), 0);
        cr_expect_str_eq(field(fields, "MESSAGE"),
                         "alice (operator) from ipv4:192.0.2.1:40000: Start job 0123456789abcdef0123456789abcdef "
                         "argv [\"/bin/echo\", \"hi\"]: OK");
        cr_expect_str_eq(field(fields, "MESSAGE_ID"), AUDIT_MESSAGE_ID);
        cr_expect_str_eq(field(fields, "PRIORITY"), "6");
        cr_expect_str_eq(field(fields, "JOBRUNNER_USER"), "alice");
        cr_expect_str_eq(field(fields, "JOBRUNNER_ROLE"), "operator");
        cr_expect_str_eq(field(fields, "JOBRUNNER_PEER"), "ipv4:192.0.2.1:40000");
        cr_expect_str_eq(field(fields, "JOBRUNNER_METHOD"), "Start");
        cr_expect_str_eq(field(fields, "JOBRUNNER_JOB_ID"), "0123456789abcdef0123456789abcdef");
        cr_expect_str_eq(field(fields, "JOBRUNNER_ARGV"), "[\"/bin/echo\", \"hi\"]");
        cr_expect_str_eq(field(fields, "JOBRUNNER_CODE"), "OK");
        cr_expect_null(field(fields, "JOBRUNNER_STATUS_MESSAGE"));
        fields_free(fields);
}

Test(audit, record_of_a_denial) {
        AuthzIdentity who = { .name = "victor", .role = AUTHZ_ROLE_VIEWER };
        char **fields = NULL;

        cr_assert_eq(audit_build_record(&who, "ipv6:[::1]:5000", "Stop", "00112233445566778899aabbccddeeff", NULL,
                                        NULL, JR_CODE_PERMISSION_DENIED, "viewers may not stop jobs", &fields), 0);
        cr_expect_str_eq(field(fields, "MESSAGE"),
                         "victor (viewer) from ipv6:[::1]:5000: Stop job 00112233445566778899aabbccddeeff: "
                         "PERMISSION_DENIED: viewers may not stop jobs");
        cr_expect_str_eq(field(fields, "PRIORITY"), "5");
        cr_expect_null(field(fields, "JOBRUNNER_ARGV"));
        cr_expect_str_eq(field(fields, "JOBRUNNER_CODE"), "PERMISSION_DENIED");
        cr_expect_str_eq(field(fields, "JOBRUNNER_STATUS_MESSAGE"), "viewers may not stop jobs");
        fields_free(fields);
}

/* Attach counts the bytes it wrote into the job's input, and never says
 * what they were. */
Test(audit, record_of_an_attach) {
        AuthzIdentity who = { .name = "alice", .role = AUTHZ_ROLE_OPERATOR };
        uint64_t input_bytes = 12345;
        char **fields = NULL;

        cr_assert_eq(audit_build_record(&who, "ipv4:192.0.2.1:40000", "Attach", "0123456789abcdef0123456789abcdef",
                                        NULL, &input_bytes, JR_CODE_CANCELLED, "cancelled by the client", &fields),
                     0);
        cr_expect_str_eq(field(fields, "MESSAGE"),
                         "alice (operator) from ipv4:192.0.2.1:40000: Attach job 0123456789abcdef0123456789abcdef "
                         "input 12345 bytes: CANCELLED: cancelled by the client");
        cr_expect_str_eq(field(fields, "JOBRUNNER_METHOD"), "Attach");
        cr_expect_str_eq(field(fields, "JOBRUNNER_INPUT_BYTES"), "12345");
        cr_expect_null(field(fields, "JOBRUNNER_ARGV"));
        fields_free(fields);

        input_bytes = 0;
        cr_assert_eq(audit_build_record(&who, NULL, "Attach", "0123456789abcdef0123456789abcdef", NULL,
                                        &input_bytes, JR_CODE_OK, NULL, &fields), 0);
        cr_expect_str_eq(field(fields, "MESSAGE"),
                         "alice (operator): Attach job 0123456789abcdef0123456789abcdef input 0 bytes: OK");
        cr_expect_str_eq(field(fields, "JOBRUNNER_INPUT_BYTES"), "0");
        fields_free(fields);
}

Test(audit, record_of_an_unauthenticated_call) {
        char **fields = NULL;

        cr_assert_eq(audit_build_record(NULL, "ipv4:198.51.100.7:1234", "List", NULL, NULL,
                                        NULL, JR_CODE_UNAUTHENTICATED, "no client certificate", &fields), 0);
        cr_expect_str_eq(field(fields, "MESSAGE"),
                         "unauthenticated client from ipv4:198.51.100.7:1234: List: UNAUTHENTICATED: no client certificate");
        cr_expect_str_eq(field(fields, "PRIORITY"), "5");
        cr_expect_null(field(fields, "JOBRUNNER_USER"));
        cr_expect_null(field(fields, "JOBRUNNER_ROLE"));
        cr_expect_null(field(fields, "JOBRUNNER_JOB_ID"));
        cr_expect_str_eq(field(fields, "JOBRUNNER_METHOD"), "List");
        fields_free(fields);
}

Test(audit, priorities) {
        static const struct {
                JrCode code;
                const char *priority;
        } table[] = {
                { JR_CODE_OK,                "6" },
                { JR_CODE_PERMISSION_DENIED, "5" },
                { JR_CODE_UNAUTHENTICATED,   "5" },
                { JR_CODE_NOT_FOUND,         "5" },
                { JR_CODE_INVALID_ARGUMENT,  "5" },
                { JR_CODE_INTERNAL,          "5" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                char **fields = NULL;

                cr_assert_eq(audit_build_record(NULL, NULL, "GetStatus", NULL, NULL, NULL, table[i].code, NULL, &fields), 0);
                cr_expect_str_eq(field(fields, "PRIORITY"), table[i].priority, "%s", jr_code_to_string(table[i].code));
                cr_expect_str_eq(field(fields, "JOBRUNNER_CODE"), jr_code_to_string(table[i].code));
                fields_free(fields);
        }
}

Test(audit, hostile_strings_stay_on_one_line) {
        AuthzIdentity who = { .name = "alice", .role = AUTHZ_ROLE_ADMIN };
        char *argv[] = { S("/bin/sh"), S("-c"), S("x\ny"), NULL };
        char **fields = NULL;
        const char *msg;

        cr_assert_eq(audit_build_record(&who, "unix:/run/x\nevil", "Start", "bad\nid", argv,
                                        NULL, JR_CODE_INVALID_ARGUMENT, "line one\nline two", &fields), 0);
        msg = field(fields, "MESSAGE");
        cr_assert_not_null(msg);
        cr_expect_null(strchr(msg, '\n'), "%s", msg);
        cr_expect_str_eq(msg,
                         "alice (admin) from unix:/run/x\\x0aevil: Start job bad\\x0aid "
                         "argv [\"/bin/sh\", \"-c\", \"x\\u000ay\"]: INVALID_ARGUMENT: line one\\x0aline two");
        cr_expect_str_eq(field(fields, "JOBRUNNER_JOB_ID"), "bad\\x0aid");
        fields_free(fields);
}

Test(audit, long_job_id_is_cut) {
        char id[1000];
        char **fields = NULL;

        memset(id, 'z', sizeof id - 1);
        id[sizeof id - 1] = 0;
        cr_assert_eq(audit_build_record(NULL, NULL, "Wait", id, NULL, NULL, JR_CODE_INVALID_ARGUMENT, NULL, &fields), 0);
        cr_expect_leq(strlen(field(fields, "JOBRUNNER_JOB_ID")), 64);
        cr_expect_leq(strlen(field(fields, "MESSAGE")), 200);
        fields_free(fields);
}

Test(audit, log_call_never_fails) {
        AuthzIdentity who = { .name = "alice", .role = AUTHZ_ROLE_OPERATOR };
        char *argv[] = { S("/bin/echo"), S("hi"), NULL };

        /* Whether or not a journal is listening: no crash, no leak. */
        audit_log_call(&who, "ipv4:192.0.2.1:40000", "Start", "0123456789abcdef0123456789abcdef", argv, NULL, JR_CODE_OK,
                       NULL);
        audit_log_call(NULL, NULL, "List", NULL, NULL, NULL, JR_CODE_UNAUTHENTICATED, "no certificate");
}
