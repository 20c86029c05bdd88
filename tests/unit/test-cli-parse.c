/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The CLI's value parsers (client/parse.c): tables of good and bad inputs,
 * and the messages, which must quote the bad value. */

#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jobrunner.pb-c.h"
#include "parse.h"

#define MiB (UINT64_C(1024) * 1024)
#define SEC UINT64_C(1000000)

/* Each message must quote the bad value. */
static void expect_error(int r, CliError *e, const char *input, const char *fragment) {
        cr_assert_lt(r, 0, "'%s' was accepted", input);
        cr_assert_not_null(e->message, "'%s': no message", input);
        cr_assert_eq(e->exit_status, CLI_EXIT_USAGE, "'%s': exit status %d", input, e->exit_status);
        if (input && input[0]) {
                char quoted[256];

                snprintf(quoted, sizeof(quoted), "'%s'", input);
                cr_assert_not_null(strstr(e->message, quoted), "'%s' not quoted in: %s", input, e->message);
        }
        if (fragment)
                cr_assert_not_null(strstr(e->message, fragment), "'%s': expected \"%s\" in: %s", input, fragment,
                                   e->message);
        cli_error_clear(e);
}

Test(parse, memory) {
        static const struct {
                const char *s;
                uint64_t value;
        } good[] = {
                { "256M", 256 * MiB },
                { "1M", MiB },
                { "1048576", MiB },
                { "1.5G", 1536 * MiB },
                { "infinity", 0 },              /* no limit, as the API spells it */
        };
        static const char *const bad[] = { "25x", "1K", "0", "1048575", "", "inf", "Infinity", "-1M", "1.5" };
        CliError e = {};

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                uint64_t v = 1;

                cr_assert_eq(parse_memory(good[i].s, &v, &e), 0, "'%s': %s", good[i].s, e.message);
                cr_assert_eq(v, good[i].value, "'%s'", good[i].s);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                expect_error(parse_memory(bad[i], &(uint64_t) { 0 }, &e), &e, bad[i], "memory size");

        cr_assert_lt(parse_memory("25x", &(uint64_t) { 0 }, &e), 0);
        cr_assert_str_eq(e.message, "invalid memory size '25x': expected a number with an optional K, M, G or T "
                                    "suffix (base 1024), or 'infinity'");
        cli_error_clear(&e);
        cr_assert_lt(parse_memory("1K", &(uint64_t) { 0 }, &e), 0);
        cr_assert_str_eq(e.message, "invalid memory size '1K': at least 1M is needed for anything to run");
        cli_error_clear(&e);
        cr_assert_lt(parse_memory("99999999T", &(uint64_t) { 0 }, &e), 0);
        cr_assert_str_eq(e.message, "invalid memory size '99999999T': too large");
        cli_error_clear(&e);
}

Test(parse, rate) {
        CliError e = {};
        uint64_t v;

        cr_assert_eq(parse_rate("10M", &v, &e), 0);
        cr_assert_eq(v, 10000000);
        cr_assert_eq(parse_rate("1K", &v, &e), 0);
        cr_assert_eq(v, 1000);
        cr_assert_eq(parse_rate("512", &v, &e), 0);
        cr_assert_eq(v, 512);
        expect_error(parse_rate("0", &v, &e), &e, "0", "must be positive");
        expect_error(parse_rate("10Q", &v, &e), &e, "10Q", "bytes per second");
        expect_error(parse_rate("fast", &v, &e), &e, "fast", "base 1000");
}

Test(parse, cpu_quota) {
        static const struct {
                const char *s;
                uint32_t value;
        } good[] = {
                { "50%", 50 }, { "1%", 1 }, { "100%", 100 }, { "150%", 150 }, { "100000%", 100000 },
        };
        static const char *const bad[] = {
                "50", "0%", "100001%", "1.5%", "%", "-5%", "50 %", " 50%", "50%%", "x%", "", "99999999999999999999%",
        };
        CliError e = {};

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                uint32_t v = 0;

                cr_assert_eq(parse_cpu_quota(good[i].s, &v, &e), 0, "'%s': %s", good[i].s, e.message);
                cr_assert_eq(v, good[i].value);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                expect_error(parse_cpu_quota(bad[i], &(uint32_t) { 0 }, &e), &e, bad[i], "CPU quota");

        cr_assert_lt(parse_cpu_quota("2", &(uint32_t) { 0 }, &e), 0);
        cr_assert_str_eq(e.message, "invalid CPU quota '2': expected a percentage of one CPU, such as 50% or 200% "
                                    "(two CPUs)");
        cli_error_clear(&e);
}

Test(parse, weights_and_tasks) {
        CliError e = {};
        uint32_t w;
        uint64_t t;

        cr_assert_eq(parse_weight("CPU weight", "1", &w, &e), 0);
        cr_assert_eq(w, 1);
        cr_assert_eq(parse_weight("CPU weight", "10000", &w, &e), 0);
        cr_assert_eq(w, 10000);
        expect_error(parse_weight("CPU weight", "0", &w, &e), &e, "0", "between 1 and 10000");
        expect_error(parse_weight("IO weight", "10001", &w, &e), &e, "10001", "IO weight");
        expect_error(parse_weight("IO weight", "ten", &w, &e), &e, "ten", "IO weight");
        expect_error(parse_weight("IO weight", "5%", &w, &e), &e, "5%", NULL);
        expect_error(parse_weight("IO weight", "", &w, &e), &e, "", NULL);

        cr_assert_eq(parse_tasks("1", &t, &e), 0);
        cr_assert_eq(t, 1);
        cr_assert_eq(parse_tasks("4194304", &t, &e), 0);
        cr_assert_eq(t, 4194304);
        cr_assert_eq(parse_tasks("infinity", &t, &e), 0);
        cr_assert_eq(t, TASKS_INFINITY);
        expect_error(parse_tasks("0", &t, &e), &e, "0", "between 1 and 4194304");
        expect_error(parse_tasks("4194305", &t, &e), &e, "4194305", NULL);
        expect_error(parse_tasks("inf", &t, &e), &e, "inf", "'infinity'");
        expect_error(parse_tasks("1K", &t, &e), &e, "1K", NULL);
}

Test(parse, durations) {
        static const struct {
                const char *s;
                uint64_t usec;
        } good[] = {
                { "10s", 10 * SEC },
                { "500ms", 500000 },
                { "2min", 120 * SEC },
                { "2m", 120 * SEC },
                { "30", 30 * SEC },
                { "0", 0 },
                { "1.5s", 1500000 },
                { "0.5", SEC / 2 },
                { "1h 30min", 5400 * SEC },
                { "1min30s", 90 * SEC },
                { "1h", 3600 * SEC },
                { "1d", 86400 * SEC },
                { "100us", 100 },
                { "2sec", 2 * SEC },
        };
        static const char *const bad[] = {
                "", "s", "10x", "1min 30", "-1s", "1.s", "10 s", "1ms5", "5 ", "1S", "1Min", "abc", "1h,2m",
                "99999999999999999999s", "999999999999d", "3 seconds",
        };
        CliError e = {};

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                uint64_t v = 1;

                cr_assert_eq(parse_duration("timeout", good[i].s, &v, &e), 0, "'%s': %s", good[i].s, e.message);
                cr_assert_eq(v, good[i].usec, "'%s': %" PRIu64, good[i].s, v);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                expect_error(parse_duration("timeout", bad[i], &(uint64_t) { 0 }, &e), &e, bad[i], "timeout");

        cr_assert_lt(parse_duration("grace period", "10x", &(uint64_t) { 0 }, &e), 0);
        cr_assert_str_eq(e.message, "invalid grace period '10x': expected a time span such as 10s, 500ms, 2min or "
                                    "1h 30min (a plain number is seconds)");
        cli_error_clear(&e);
}

Test(parse, grace_and_timeout) {
        CliError e = {};
        uint32_t ms;
        uint64_t us;

        cr_assert_eq(parse_grace("10s", &ms, &e), 0);
        cr_assert_eq(ms, 10000);
        cr_assert_eq(parse_grace("1ms", &ms, &e), 0);
        cr_assert_eq(ms, 1);
        cr_assert_eq(parse_grace("5min", &ms, &e), 0);
        cr_assert_eq(ms, 300000);
        cr_assert_eq(parse_grace("1.5ms", &ms, &e), 0);
        cr_assert_eq(ms, 1);
        /* 0 would mean the server's default, not "at once". */
        expect_error(parse_grace("0", &ms, &e), &e, "0", "between 1ms and 5min");
        expect_error(parse_grace("500us", &ms, &e), &e, "500us", NULL);
        expect_error(parse_grace("5min 1ms", &ms, &e), &e, "5min 1ms", NULL);

        cr_assert_eq(parse_timeout("30s", &us, &e), 0);
        cr_assert_eq(us, 30 * SEC);
        expect_error(parse_timeout("0", &us, &e), &e, "0", "timeout");
        expect_error(parse_timeout("400d", &us, &e), &e, "400d", NULL);
}

Test(parse, io_limits) {
        static const struct {
                const char *s;
                const char *device;
                uint64_t rate;
        } good[] = {
                { "/dev/vda=10M", "/dev/vda", 10000000 },
                { "/dev/sda1=1K", "/dev/sda1", 1000 },
                { "/dev/disk/by-id/a=b=512", "/dev/disk/by-id/a=b", 512 },
        };
        static const char *const bad[] = { "vda=10M", "/dev/vda", "=10M", "/dev/vda=", "/dev/vda=0", "/dev/vda=10Q",
                                           "" };
        CliError e = {};

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                const char *device;
                size_t len;
                uint64_t rate;

                cr_assert_eq(parse_io_limit("--io-read-bps", good[i].s, &device, &len, &rate, &e), 0, "'%s': %s",
                             good[i].s, e.message);
                cr_assert_eq(len, strlen(good[i].device));
                cr_assert(strncmp(device, good[i].device, len) == 0);
                cr_assert_eq(rate, good[i].rate);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                const char *device;
                size_t len;
                uint64_t rate;
                int r = parse_io_limit("--io-write-bps", bad[i], &device, &len, &rate, &e);

                cr_assert_lt(r, 0, "'%s' accepted", bad[i]);
                cr_assert_not_null(e.message);
                cli_error_clear(&e);
        }
        cr_assert_lt(parse_io_limit("--io-read-bps", "vda=1M", &(const char *) { NULL }, &(size_t) { 0 },
                                    &(uint64_t) { 0 }, &e), 0);
        cr_assert_str_eq(e.message, "invalid --io-read-bps 'vda=1M': the device must be an absolute path, e.g. /dev/vda");
        cli_error_clear(&e);
        cr_assert_lt(parse_io_limit("--io-read-bps", "/dev/vda", &(const char *) { NULL }, &(size_t) { 0 },
                                    &(uint64_t) { 0 }, &e), 0);
        cr_assert_str_eq(e.message, "invalid --io-read-bps '/dev/vda': expected DEVICE=BYTES_PER_SECOND, e.g. "
                                    "/dev/vda=10M");
        cli_error_clear(&e);
}

Test(parse, env) {
        static const char *const good[] = { "A=b", "A=", "A==", "A=b=c", "PATH=/x:/y", "lower_case=1", "A B=c" };
        static const char *const bad[] = { "A", "=b", "=", "" };
        CliError e = {};

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                cr_assert_eq(parse_env(good[i], &e), 0, "'%s': %s", good[i], e.message);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                expect_error(parse_env(bad[i], &e), &e, bad[i], "environment entry");
        cr_assert_lt(parse_env("FOO", &e), 0);
        cr_assert_str_eq(e.message, "invalid environment entry 'FOO': expected KEY=VALUE");
        cli_error_clear(&e);
}

Test(parse, network) {
        static const char *const bad[] = { "None", "bridge", "", "host ", "private" };
        CliError e = {};
        int n;

        cr_assert_eq(parse_network("none", &n, &e), 0);
        cr_assert_eq(n, JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_NONE);
        cr_assert_eq(parse_network("host", &n, &e), 0);
        cr_assert_eq(n, JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_HOST);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                expect_error(parse_network(bad[i], &n, &e), &e, bad[i], "network mode");
}

Test(parse, job_states) {
        static const struct {
                const char *s;
                int state;
        } good[] = {
                { "starting", JOBRUNNER__V1__JOB_STATE__JOB_STATE_STARTING },
                { "running", JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING },
                { "RUNNING", JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING },
                { "exited", JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED },
                { "killed", JOBRUNNER__V1__JOB_STATE__JOB_STATE_KILLED },
                { "oom-killed", JOBRUNNER__V1__JOB_STATE__JOB_STATE_OOM_KILLED },
                { "oom_killed", JOBRUNNER__V1__JOB_STATE__JOB_STATE_OOM_KILLED },
                { "stopped", JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED },
                { "failed-to-start", JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START },
                { "failed", JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START },
                { "JOB_STATE_EXITED", JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED },
        };
        static const char *const bad[] = { "run", "", "unspecified", "job_state_", "exited,killed", "ok" };
        CliError e = {};

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                int s = -1;

                cr_assert_eq(parse_job_state(good[i].s, &s, &e), 0, "'%s': %s", good[i].s, e.message);
                cr_assert_eq(s, good[i].state, "'%s'", good[i].s);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                expect_error(parse_job_state(bad[i], &(int) { 0 }, &e), &e, bad[i], "job state");
}

Test(parse, job_ids) {
        static const char *const bad[] = {
                "abc", "1234567", "xyz12345", "0123456789abcdef0123456789abcdef0", "01234567-", "", " 01234567",
        };
        char id[JOB_ID_LEN + 1];
        CliError e = {};
        bool whole;

        cr_assert_eq(parse_job_id("0123456789abcdef0123456789abcdef", id, &whole, &e), 0);
        cr_assert(whole);
        cr_assert_str_eq(id, "0123456789abcdef0123456789abcdef");
        cr_assert_eq(parse_job_id("0123456789ABCDEF0123456789ABCDEF", id, &whole, &e), 0);
        cr_assert(whole);
        cr_assert_str_eq(id, "0123456789abcdef0123456789abcdef");
        cr_assert_eq(parse_job_id("ABCDEF01", id, &whole, &e), 0);
        cr_assert_not(whole);
        cr_assert_str_eq(id, "abcdef01");
        cr_assert_eq(parse_job_id("0123456789abcdef0123456789abcde", id, &whole, &e), 0);
        cr_assert_not(whole);

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                expect_error(parse_job_id(bad[i], id, &whole, &e), &e, bad[i], "job id");
}

Test(parse, argv0_must_be_absolute) {
        CliError e = {};

        setenv("PATH", "/usr/bin:/bin", 1);
        cr_assert_eq(check_argv0("/bin/true", &e), 0);
        cr_assert_eq(check_argv0("/no/such/program", &e), 0);     /* the server's business */

        cr_assert_lt(check_argv0("sh", &e), 0);
        cr_assert_eq(e.exit_status, CLI_EXIT_USAGE);
        cr_assert(strstr(e.message, "'sh' is not an absolute path: the server runs the program directly, without a "
                                    "shell or a PATH search; give its full path on the server, e.g. /usr/bin/sh "
                                    "(where it is on this machine)") ||
                  strstr(e.message, "e.g. /bin/sh (where it is on this machine)"), "%s", e.message);
        cli_error_clear(&e);

        cr_assert_lt(check_argv0("no-such-program-here", &e), 0);
        cr_assert_str_eq(e.message, "'no-such-program-here' is not an absolute path: the server runs the program "
                                    "directly, without a shell or a PATH search; give its full path on the server, "
                                    "e.g. /usr/bin/no-such-program-here");
        cli_error_clear(&e);

        cr_assert_lt(check_argv0("./run.sh", &e), 0);
        cr_assert_not_null(strstr(e.message, "'./run.sh' is a relative path"));
        cli_error_clear(&e);
        cr_assert_lt(check_argv0("bin/x", &e), 0);
        cli_error_clear(&e);
        cr_assert_lt(check_argv0("", &e), 0);
        cr_assert_str_eq(e.message, "the program to run is an empty string");
        cli_error_clear(&e);

        cr_assert_eq(check_working_directory("/srv", &e), 0);
        expect_error(check_working_directory("srv", &e), &e, "srv", "absolute path");
}

Test(parse, uint64) {
        CliError e = {};
        uint64_t v;

        cr_assert_eq(parse_uint64("offset", "0", &v, &e), 0);
        cr_assert_eq(v, 0);
        cr_assert_eq(parse_uint64("offset", "18446744073709551615", &v, &e), 0);
        cr_assert_eq(v, UINT64_MAX);
        expect_error(parse_uint64("offset", "18446744073709551616", &v, &e), &e, "18446744073709551616", "too large");
        expect_error(parse_uint64("offset", "-1", &v, &e), &e, "-1", "offset");
        expect_error(parse_uint64("offset", "1K", &v, &e), &e, "1K", NULL);
        expect_error(parse_uint64("line count", "", &v, &e), &e, "", "line count");
}
