/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The CLI's human output (client/format.c, client/print.c): sizes, time
 * spans, timestamps, command lines, results, the status block and the list
 * table; the exit status of a job; id prefixes (client/id-prefix.c); and
 * the messages for gRPC errors (client/rpc-error.c).  TZ=UTC. */

#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "id-prefix.h"
#include "macro.h"
#include "print.h"
#include "rpc-error.h"
#include "status.h"

#define S(state) JOBRUNNER__V1__JOB_STATE__JOB_STATE_##state

static void init(void) {
        setenv("TZ", "UTC", 1);
        tzset();
}

TestSuite(format, .init = init);

Test(format, bytes) {
        static const struct {
                uint64_t v;
                const char *s;
        } table[] = {
                { 0, "0B" }, { 1, "1B" }, { 1023, "1023B" }, { 1024, "1K" }, { 1536, "1.5K" }, { 1075, "1K" },
                { 1048575, "1023.9K" }, { 1048576, "1M" }, { 268435456, "256M" }, { 2684354560, "2.5G" },
                { UINT64_C(1) << 40, "1T" }, { UINT64_C(1) << 50, "1P" }, { UINT64_MAX, "15.9E" },
        };
        char buf[FORMAT_BYTES_MAX];

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                cr_assert_str_eq(format_bytes(table[i].v, buf), table[i].s, "%" PRIu64, table[i].v);
}

Test(format, exact) {
        char buf[FORMAT_EXACT_MAX];

        cr_assert_str_eq(format_exact(268435456, 1024, buf), "256M");
        cr_assert_str_eq(format_exact(1536, 1024, buf), "1536");
        cr_assert_str_eq(format_exact(0, 1024, buf), "0");
        cr_assert_str_eq(format_exact(UINT64_C(3) << 40, 1024, buf), "3T");
        cr_assert_str_eq(format_exact(UINT64_C(1) << 50, 1024, buf), "1024T");
        cr_assert_str_eq(format_exact(10000000, 1000, buf), "10M");
        cr_assert_str_eq(format_exact(1500, 1000, buf), "1500");
}

Test(format, timespans) {
        static const struct {
                uint64_t us;
                const char *s;
        } table[] = {
                { 0, "0us" }, { 999, "999us" }, { 1000, "1ms" }, { 1500, "1.5ms" }, { 999999, "999.999ms" },
                { 1000000, "1s" }, { 1500000, "1.5s" }, { 12345678, "12.345s" }, { 60000000, "1min" },
                { 123000000, "2min 3s" }, { 3599999999, "59min 59s" }, { 3600000000, "1h" },
                { 5400000000, "1h 30min" }, { 86400000000, "1d" }, { 90000000000, "1d 1h" },
        };
        char buf[FORMAT_TIMESPAN_MAX];

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                cr_assert_str_eq(format_timespan(table[i].us, buf), table[i].s, "%" PRIu64, table[i].us);
}

Test(format, timestamps) {
        char buf[FORMAT_TIMESTAMP_MAX];

        cr_assert_str_eq(format_timestamp(1700000000123456, true, buf), "2023-11-14 22:13:20 UTC");
        cr_assert_str_eq(format_timestamp(1700000000123456, false, buf), "2023-11-14 22:13:20");
        cr_assert_str_eq(format_timestamp(0, true, buf), "-");
        cr_assert_str_eq(format_timestamp(-5, true, buf), "-");
}

Test(format, command_lines) {
        static const struct {
                const char *argv[4];
                size_t n;
                const char *s;
        } table[] = {
                { { "/bin/echo", "hello" }, 2, "/bin/echo hello" },
                { { "/bin/sh", "-c", "echo a b" }, 3, "/bin/sh -c 'echo a b'" },
                { { "/bin/x", "it's" }, 2, "/bin/x 'it'\\''s'" },
                { { "/bin/x", "" }, 2, "/bin/x ''" },
                { { "/bin/x", "a\nb" }, 2, "/bin/x $'a\\nb'" },
                { { "/bin/x", "tab\there", "it's\n" }, 3, "/bin/x $'tab\\there' $'it\\'s\\n'" },
                { { "/bin/x", "\xff\\" }, 2, "/bin/x $'\\xff\\\\'" },
                { { "/bin/x", "caf\xc3\xa9" }, 2, "/bin/x 'caf\xc3\xa9'" },
                /* C1 controls too (found by fuzzing): U+009B is CSI. */
                { { "/bin/x", "\xc2\x9b" "2J" }, 2, "/bin/x $'\\xc2\\x9b2J'" },
                { { "/bin/x", "$HOME", "*" }, 3, "/bin/x '$HOME' '*'" },
                { { "/bin/x", "x=y", "a,b:c@d%e+f" }, 3, "/bin/x x=y a,b:c@d%e+f" },
                { { NULL }, 0, "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *s = format_argv((char *const *) table[i].argv, table[i].n);

                cr_assert_str_eq(s, table[i].s, "entry %zu", i);
        }
}

Test(format, escaped) {
        _cleanup_free_ char *a = format_escaped("a\nb\tc\x01\xff caf\xc3\xa9\\");
        _cleanup_free_ char *b = format_escaped(NULL);

        cr_assert_str_eq(a, "a\\nb\\tc\\x01\\xff caf\xc3\xa9\\");
        cr_assert_str_eq(b, "");
        cr_assert_eq(utf8_width("caf\xc3\xa9"), 4);
}

/* Found by fuzzing: C1 controls (U+0080..U+009F, such as U+009B, CSI)
 * reached the terminal as they were. */
Test(format, escaped_c1) {
        _cleanup_free_ char *a = format_escaped("x\xc2\x9b" "2J\xc2\x85y\xc2\xa0");

        cr_assert_str_eq(a, "x\\xc2\\x9b2J\\xc2\\x85y\xc2\xa0");
}

Test(format, exit_statuses_and_results) {
        static const struct {
                int state, exit_code, signal;
                const char *signal_name, *stopped_by;
                bool after_grace;
                int exit_status;
                const char *result, *column;
        } table[] = {
                { S(EXITED), 0, 0, "", "", false, 0, "exited with code 0", "0" },
                { S(EXITED), 3, 0, "", "", false, 3, "exited with code 3", "3" },
                { S(EXITED), 256 + 7, 0, "", "", false, 7, "exited with code 263", "263" },
                { S(KILLED), 0, 9, "SIGKILL", "", false, 137, "killed by SIGKILL", "SIGKILL" },
                { S(KILLED), 0, 11, "", "", false, 139, "killed by signal 11", "signal 11" },
                { S(OOM_KILLED), 0, 9, "SIGKILL", "", false, 137, "killed by the OOM killer", "SIGKILL" },
                { S(OOM_KILLED), 0, 0, "", "", false, 137, "killed by the OOM killer", "SIGKILL" },
                { S(STOPPED), 0, 15, "SIGTERM", "bob", false, 143, "stopped by bob: ended by SIGTERM", "SIGTERM" },
                { S(STOPPED), 0, 9, "SIGKILL", "bob", true, 137,
                  "stopped by bob: killed by SIGKILL after the grace period", "SIGKILL" },
                { S(STOPPED), 1, 0, "", "bob", false, 1, "stopped by bob: exited with code 1", "1" },
                { S(FAILED_TO_START), 0, 0, "", "", false, 127, "failed to start: bad\\nthing", "-" },
                { S(RUNNING), 0, 0, "", "", false, -1, "running", "-" },
                { S(RUNNING), 0, 0, "", "carol", false, -1, "running, being stopped by carol", "-" },
                { S(STARTING), 0, 0, "", "", false, -1, "starting", "-" },
                { 99, 0, 0, "", "", false, -1, "unknown state 99", "-" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                JobStatus j = JOBRUNNER__V1__JOB_STATUS__INIT;
                _cleanup_free_ char *result = NULL;
                char buf[32];

                j.state = table[i].state;
                j.exit_code = table[i].exit_code;
                j.signal = table[i].signal;
                j.signal_name = (char *) table[i].signal_name;
                j.stopped_by = (char *) table[i].stopped_by;
                j.killed_after_grace = table[i].after_grace;
                j.failure_reason = (char *) "bad\nthing";
                result = format_job_result(&j);
                cr_assert_eq(job_exit_status(&j), table[i].exit_status, "entry %zu", i);
                cr_assert_str_eq(result, table[i].result, "entry %zu", i);
                cr_assert_str_eq(format_exit_column(&j, buf, sizeof(buf)), table[i].column, "entry %zu", i);
        }
}

Test(format, names) {
        cr_assert_str_eq(job_state_name(S(OOM_KILLED)), "oom-killed");
        cr_assert_str_eq(job_state_name(S(FAILED_TO_START)), "failed-to-start");
        cr_assert_str_eq(job_state_name(0), "unknown");
        cr_assert_str_eq(job_state_name(-1), "unknown");
        cr_assert_str_eq(job_state_name(100), "unknown");
        cr_assert_str_eq(stream_name(1), "stdout");
        cr_assert_str_eq(stream_name(2), "stderr");
        cr_assert_str_eq(stream_name(0), "unknown");
        cr_assert_str_eq(gap_reason_name(2), "daemon-down");
        cr_assert(job_state_is_final(S(EXITED)));
        cr_assert_not(job_state_is_final(S(RUNNING)));
}

/* A job with everything set. */
static JobStatus *sample_job(void) {
        static char *argv[] = { (char *) "/usr/bin/python3", (char *) "-c", (char *) "print('hi')" };
        static char *env[] = { (char *) "A=b c", (char *) "D=e" };
        static Jobrunner__V1__IoDeviceLimit io = JOBRUNNER__V1__IO_DEVICE_LIMIT__INIT;
        static Jobrunner__V1__IoDeviceLimit *ios[] = { &io };
        static Jobrunner__V1__Limits limits = JOBRUNNER__V1__LIMITS__INIT;
        static Jobrunner__V1__Isolation iso = JOBRUNNER__V1__ISOLATION__INIT;
        static Jobrunner__V1__JobSpec spec = JOBRUNNER__V1__JOB_SPEC__INIT;
        static Jobrunner__V1__ResourceUsage usage = JOBRUNNER__V1__RESOURCE_USAGE__INIT;
        static JobStatus j = JOBRUNNER__V1__JOB_STATUS__INIT;

        io.device = (char *) "/dev/vda";
        io.read_bytes_per_second = 10000000;
        io.write_bytes_per_second = 1500;
        limits.cpu_quota_percent = 150;
        limits.cpu_weight = 50;
        limits.memory_max_bytes = 256u * 1024 * 1024;
        limits.io_weight = 20;
        limits.io_device_limits = ios;
        limits.n_io_device_limits = 1;
        limits.tasks_max = UINT64_MAX;
        iso.network = JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_HOST;
        iso.pid_namespace = JOBRUNNER__V1__TOGGLE__TOGGLE_OFF;
        spec.argv = argv;
        spec.n_argv = ELEMENTSOF(argv);
        spec.env = env;
        spec.n_env = ELEMENTSOF(env);
        spec.working_directory = (char *) "/srv";
        spec.user = (char *) "nobody";
        spec.limits = &limits;
        spec.isolation = &iso;
        usage.cpu_usage_ns = 1234567000;
        usage.memory_current_bytes = 3 * 1024 * 1024;
        usage.memory_peak_bytes = 5 * 1024 * 1024 + 512 * 1024;
        usage.io_read_bytes = 4096;
        usage.io_write_bytes = 0;
        usage.tasks_current = 3;

        j.id = (char *) "0123456789abcdef0123456789abcdef";
        j.owner = (char *) "alice";
        j.unit_name = (char *) "jobrunner-0123456789abcdef0123456789abcdef.service";
        j.spec = &spec;
        j.state = S(RUNNING);
        j.start_time_us = 1700000000000000;
        j.usage = &usage;
        j.stdout_bytes = 1536;
        j.stderr_bytes = 0;
        j.followers = 2;
        return &j;
}

static char *status_text(const JobStatus *j, int64_t now) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        cr_assert_not_null(f);
        cr_assert_eq(print_job_status(f, j, now), 0);
        fclose(f);
        return buf;
}

Test(format, status_of_a_running_job) {
        _cleanup_free_ char *s = status_text(sample_job(), 1700000123000000);

        cr_assert_str_eq(s,
                "Id:          0123456789abcdef0123456789abcdef\n"
                "Unit:        jobrunner-0123456789abcdef0123456789abcdef.service\n"
                "Owner:       alice\n"
                "Command:     /usr/bin/python3 -c 'print('\\''hi'\\'')'\n"
                "User:        nobody\n"
                "Directory:   /srv\n"
                "Environment: 'A=b c' D=e\n"
                "Limits:      cpu 150%, cpu-weight 50, memory 256M, io-weight 20, io-read-bps /dev/vda=10M, "
                "io-write-bps /dev/vda=1500, tasks infinity\n"
                "Isolation:   network host, pid-namespace no, private-mounts yes, private-tmp yes\n"
                "State:       running\n"
                "OOM killed:  no\n"
                "Started:     2023-11-14 22:13:20 UTC (2min 3s ago)\n"
                "Ended:       - (running for 2min 3s)\n"
                "CPU time:    1.234s\n"
                "Memory:      3M (peak 5.5M)\n"
                "IO:          4K read, 0B written\n"
                "Tasks:       3\n"
                "Output:      stdout 1.5K, stderr 0B\n"
                "Followers:   2\n");
}

Test(format, status_of_an_ended_job_without_spec) {
        JobStatus j = JOBRUNNER__V1__JOB_STATUS__INIT;
        _cleanup_free_ char *s = NULL;

        j.id = (char *) "0123456789abcdef0123456789abcdef";
        j.owner = (char *) "bob\x1b[31m";
        j.unit_name = (char *) "u";
        j.state = S(OOM_KILLED);
        j.oom_killed = true;
        j.start_time_us = 1700000000000000;
        j.end_time_us = 1700000090500000;
        j.output_truncated = true;
        s = status_text(&j, 1800000000000000);
        cr_assert_str_eq(s,
                "Id:          0123456789abcdef0123456789abcdef\n"
                "Unit:        u\n"
                "Owner:       bob\\x1b[31m\n"
                "State:       killed by the OOM killer\n"
                "OOM killed:  yes\n"
                "Started:     2023-11-14 22:13:20 UTC (1157d 9h ago)\n"
                "Ended:       2023-11-14 22:14:50 UTC (after 1min 30s)\n"
                "CPU time:    0us\n"
                "Memory:      0B peak\n"
                "IO:          0B read, 0B written\n"
                "Output:      stdout 0B, stderr 0B (truncated: the output cap was reached)\n"
                "Followers:   0\n");
}

static char *table_text(JobStatus *const *jobs, size_t n) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        cr_assert_not_null(f);
        cr_assert_eq(print_job_table(f, jobs, n), 0);
        fclose(f);
        return buf;
}

Test(format, list_table) {
        JobStatus other = JOBRUNNER__V1__JOB_STATUS__INIT, *jobs[2];
        _cleanup_free_ char *s = NULL, *empty = NULL;

        other.id = (char *) "fedcba9876543210fedcba9876543210";
        other.owner = (char *) "caf\xc3\xa9-user";
        other.state = S(STOPPED);
        other.signal = 15;
        other.signal_name = (char *) "SIGTERM";
        other.start_time_us = 1600000000000000;
        jobs[0] = sample_job();
        jobs[1] = &other;
        s = table_text(jobs, 2);
        cr_assert_str_eq(s,
                "ID                                OWNER      STATE    EXIT     STARTED              COMMAND\n"
                "0123456789abcdef0123456789abcdef  alice      running  -        2023-11-14 22:13:20  "
                "/usr/bin/python3 -c 'print('\\''hi'\\'')'\n"
                "fedcba9876543210fedcba9876543210  caf\xc3\xa9-user  stopped  SIGTERM  2020-09-13 12:26:40  \n");

        empty = table_text(jobs, 0);
        cr_assert_str_eq(empty, "No jobs.\n");
}

Test(format, id_prefixes) {
        JobStatus a = JOBRUNNER__V1__JOB_STATUS__INIT, b = a, c = a, *jobs[] = { &a, &b, &c };
        const char *id = NULL;
        CliError e = {};

        a.id = (char *) "aaaaaaaa00000000000000000000000a";
        b.id = (char *) "abcdef0100000000000000000000000b";
        c.id = (char *) "abcdef0100000000000000000000000c";
        a.owner = b.owner = c.owner = (char *) "alice";
        a.state = b.state = c.state = S(EXITED);
        b.start_time_us = 1700000000000000;

        cr_assert_eq(id_prefix_match("aaaaaaaa", jobs, 3, &id, &e), 0);
        cr_assert_str_eq(id, a.id);
        cr_assert_eq(id_prefix_match("abcdef0100000000000000000000000", jobs, 3, &id, &e), -EINVAL);
        cli_error_clear(&e);
        cr_assert_eq(id_prefix_match("abcdef0100000000000000000000000c", jobs, 3, &id, &e), 0);
        cr_assert_str_eq(id, c.id);

        cr_assert_lt(id_prefix_match("abcdef01", jobs, 3, &id, &e), 0);
        cr_assert_eq(e.exit_status, CLI_EXIT_USAGE);
        cr_assert_str_eq(e.message, "job id prefix 'abcdef01' is ambiguous: 2 jobs match; give more characters:\n"
                                    "  abcdef0100000000000000000000000b  alice  exited  started 2023-11-14 22:13:20\n"
                                    "  abcdef0100000000000000000000000c  alice  exited  started -");
        cli_error_clear(&e);

        cr_assert_lt(id_prefix_match("12345678", jobs, 3, &id, &e), 0);
        cr_assert_eq(e.exit_status, CLI_EXIT_NOT_FOUND);
        cr_assert_str_eq(e.message, "no job id starts with '12345678' among the jobs visible to you");
        cli_error_clear(&e);

        cr_assert_lt(id_prefix_match("12345678", NULL, 0, &id, &e), 0);
        cli_error_clear(&e);
}

Test(format, many_ambiguous_candidates_are_cut_short) {
        JobStatus js[15], *jobs[15];
        char ids[15][33];
        const char *id;
        CliError e = {};
        size_t lines = 0;

        for (size_t i = 0; i < 15; i++) {
                js[i] = (JobStatus) JOBRUNNER__V1__JOB_STATUS__INIT;
                snprintf(ids[i], sizeof(ids[i]), "1111111100000000000000000000%04zx", i);
                js[i].id = ids[i];
                jobs[i] = &js[i];
        }
        cr_assert_lt(id_prefix_match("11111111", jobs, 15, &id, &e), 0);
        for (const char *p = e.message; *p; p++)
                lines += *p == '\n';
        cr_assert_eq(lines, 11);
        cr_assert_not_null(strstr(e.message, "15 jobs match"));
        cr_assert_not_null(strstr(e.message, "\n  and 5 more"));
        cli_error_clear(&e);
}

/* ---- gRPC errors ------------------------------------------------------------- */

Test(format, unavailable_is_told_apart) {
        static const struct {
                const char *details;
                Unavailable kind;
        } table[] = {
                /* As gRPC 1.51 says them. */
                { "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Failed to connect to "
                  "remote host: Connection refused", UNAVAILABLE_CONNECT },
                { "failed to connect to all addresses; last error: UNKNOWN: ipv4:10.255.255.1:50051: Failed to "
                  "connect to remote host: Network is unreachable", UNAVAILABLE_CONNECT },
                { "DNS resolution failed for nosuch.invalid:1: C-ares status is not ARES_SUCCESS qtype=AAAA "
                  "name=nosuch.invalid is_balancer=0: Domain name not found", UNAVAILABLE_DNS },
                { "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:41157: Ssl handshake "
                  "failed: SSL_ERROR_SSL: error:0A000086:SSL routines::certificate verify failed",
                  UNAVAILABLE_SERVER_CERT },
                { "failed to connect to all addresses; last error: UNAVAILABLE: ipv4:127.0.0.1:34347: Socket closed",
                  UNAVAILABLE_CLOSED },
                { "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:40671: handshaker "
                  "shutdown", UNAVAILABLE_CLOSED },
                { "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Ssl handshake failed: "
                  "SSL_ERROR_SSL: error:0A00045C:SSL routines::tlsv13 alert certificate required",
                  UNAVAILABLE_CLOSED },
                { "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:80: Ssl handshake failed: "
                  "SSL_ERROR_SSL: error:0A00010B:SSL routines::wrong version number", UNAVAILABLE_NOT_TLS },
                { "jobrunnerd is shutting down; retry later", UNAVAILABLE_OTHER },
                { "", UNAVAILABLE_OTHER },
                { NULL, UNAVAILABLE_OTHER },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                cr_assert_eq(classify_unavailable(table[i].details), table[i].kind, "entry %zu: %s", i,
                             table[i].details);
}

Test(format, exit_statuses_of_codes) {
        cr_assert_eq(rpc_exit_status(JR_CODE_INVALID_ARGUMENT), CLI_EXIT_USAGE);
        cr_assert_eq(rpc_exit_status(JR_CODE_NOT_FOUND), CLI_EXIT_NOT_FOUND);
        cr_assert_eq(rpc_exit_status(JR_CODE_PERMISSION_DENIED), CLI_EXIT_PERMISSION);
        cr_assert_eq(rpc_exit_status(JR_CODE_UNAUTHENTICATED), CLI_EXIT_PERMISSION);
        cr_assert_eq(rpc_exit_status(JR_CODE_DEADLINE_EXCEEDED), CLI_EXIT_TIMEOUT);
        cr_assert_eq(rpc_exit_status(JR_CODE_UNAVAILABLE), CLI_EXIT_UNAVAILABLE);
        cr_assert_eq(rpc_exit_status(JR_CODE_FAILED_PRECONDITION), CLI_EXIT_API);
        cr_assert_eq(rpc_exit_status(JR_CODE_RESOURCE_EXHAUSTED), CLI_EXIT_API);
        cr_assert_eq(rpc_exit_status(JR_CODE_INTERNAL), CLI_EXIT_API);
        cr_assert_eq(rpc_exit_status(99), CLI_EXIT_API);
}

static void expect_message(const RpcErrorContext *ctx, int code, const char *details, const char *what,
                           int exit_status, const char *message) {
        CliError e = {};

        cr_assert_lt(rpc_error(ctx, code, details, what, &e), 0);
        cr_assert_eq(e.exit_status, exit_status, "%d: %s", code, e.message);
        cr_assert_str_eq(e.message, message);
        cli_error_clear(&e);
}

Test(format, rpc_error_messages) {
        const RpcErrorContext ctx = {
                .server = "jobs.example:50051",
                .cert = "/home/a/client.crt",
                .ca = "/home/a/ca.crt",
                .who = "alice (role operator)",
                .timeout_usec = 30000000,
        };
        RpcErrorContext reached = ctx, diagnosed = ctx, named = ctx;

        reached.reached_server = true;
        diagnosed.cert_diagnosis = " It expired on 2020-12-31 23:59:59 UTC.";

        expect_message(&ctx, JR_CODE_NOT_FOUND, "no such job", "job 0123", CLI_EXIT_NOT_FOUND,
                       "job 0123: no such job, or not visible to you, alice (role operator)");
        expect_message(&ctx, JR_CODE_PERMISSION_DENIED, "permission denied: your role may not do this", NULL,
                       CLI_EXIT_PERMISSION, "permission denied: your role may not do this (you are alice (role "
                       "operator), according to /home/a/client.crt)");
        expect_message(&ctx, JR_CODE_PERMISSION_DENIED, "operators may only list their own jobs", "job 1",
                       CLI_EXIT_PERMISSION, "permission denied for job 1: operators may only list their own jobs (you "
                       "are alice (role operator), according to /home/a/client.crt)");
        expect_message(&ctx, JR_CODE_DEADLINE_EXCEEDED, "Deadline Exceeded", NULL, CLI_EXIT_TIMEOUT,
                       "no answer from jobs.example:50051 within 30s (see --timeout)");
        expect_message(&ctx, JR_CODE_INVALID_ARGUMENT, "argv[0]: not an absolute path", NULL, CLI_EXIT_USAGE,
                       "the server refused the request: argv[0]: not an absolute path");
        expect_message(&ctx, JR_CODE_RESOURCE_EXHAUSTED, "too many jobs", NULL, CLI_EXIT_API,
                       "the server is at a limit: too many jobs");
        expect_message(&ctx, JR_CODE_INTERNAL, "", "job 1", CLI_EXIT_API, "job 1: INTERNAL");
        expect_message(&ctx, JR_CODE_UNAUTHENTICATED, "no CN", NULL, CLI_EXIT_PERMISSION,
                       "the server does not accept the identity of the certificate /home/a/client.crt: no CN (it "
                       "needs a subject with CN = user name and OU = role)");

        expect_message(&ctx, JR_CODE_UNAVAILABLE, "failed to connect to all addresses; last error: UNKNOWN: "
                       "ipv4:1.2.3.4:50051: Failed to connect to remote host: Connection refused", NULL,
                       CLI_EXIT_UNAVAILABLE, "cannot connect to jobs.example:50051: Connection refused (is "
                       "jobrunner.socket listening there? see --server)");
        expect_message(&ctx, JR_CODE_UNAVAILABLE, "x: Socket closed", NULL, CLI_EXIT_UNAVAILABLE,
                       "jobs.example:50051 closed the connection during the TLS handshake (x: Socket closed): it "
                       "most likely refused the client certificate /home/a/client.crt (alice (role operator)). "
                       "Likely causes: the certificate is not signed by the server's CA, has expired, or is not a "
                       "client certificate; or jobs.example:50051 is not a jobrunner server");
        expect_message(&diagnosed, JR_CODE_UNAVAILABLE, "x: Socket closed", NULL, CLI_EXIT_UNAVAILABLE,
                       "jobs.example:50051 closed the connection during the TLS handshake: it refused the client "
                       "certificate /home/a/client.crt (alice (role operator)). It expired on 2020-12-31 23:59:59 "
                       "UTC.");
        /* Once the server had answered, a closed connection is the server
         * going away, not a refused certificate. */
        expect_message(&reached, JR_CODE_UNAVAILABLE, "x: Socket closed", NULL, CLI_EXIT_UNAVAILABLE,
                       "jobs.example:50051 is unavailable: x: Socket closed (if it is restarting, retry)");
        expect_message(&ctx, JR_CODE_UNAVAILABLE, "Ssl handshake failed: certificate verify failed", NULL,
                       CLI_EXIT_UNAVAILABLE, "TLS handshake with jobs.example:50051 failed: the server's certificate "
                       "was not accepted: it must be signed by the CA in /home/a/ca.crt and be issued for the name "
                       "you connect to (Ssl handshake failed: certificate verify failed)");
        named.tls_server_name = "jobs.internal";
        expect_message(&named, JR_CODE_UNAVAILABLE, "Ssl handshake failed: certificate verify failed", NULL,
                       CLI_EXIT_UNAVAILABLE, "TLS handshake with jobs.example:50051 failed: the server's certificate "
                       "was not accepted: it must be signed by the CA in /home/a/ca.crt and be issued for "
                       "jobs.internal, the TLS server name (Ssl handshake failed: certificate verify failed)");
        expect_message(NULL, JR_CODE_ABORTED, NULL, NULL, CLI_EXIT_API, "ABORTED: ABORTED");
}
