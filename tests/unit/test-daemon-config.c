/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* jobrunnerd's command line (daemon/daemon-config.c): every value option,
 * its defaults, and values refused before the daemon starts. */

#include <criterion/criterion.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>

#include "daemon-config.h"
#include "time-util.h"

/* 1 (run), 0 (--help) or negative; c is filled on 1. */
static int parse(DaemonConfig *c, const char *const *args) {
        char *argv[16] = { (char *) "jobrunnerd" };
        int argc = 1;

        for (; args && args[argc - 1]; argc++)
                argv[argc] = (char *) args[argc - 1];
        optind = 0;     /* getopt starts over */
        return daemon_config_parse(argc, argv, c);
}

static void expect_refused(const char *option, const char *value) {
        const char *args[] = { option, value, NULL };
        DaemonConfig c = {};

        cr_assert_lt(parse(&c, args), 0, "%s '%s' was accepted", option, value);
        daemon_config_done(&c);
}

Test(daemon_config, defaults) {
        DaemonConfig c = {};

        unsetenv("CREDENTIALS_DIRECTORY");
        unsetenv("STATE_DIRECTORY");
        cr_assert_eq(parse(&c, NULL), 1);
        cr_assert_str_eq(c.state_dir, DAEMON_STATE_DIR_DEFAULT);
        cr_assert_str_eq(c.certificate_path, DAEMON_TLS_DIR_DEFAULT "/server.crt");
        cr_assert_str_eq(c.client_ca_path, DAEMON_TLS_DIR_DEFAULT "/ca.crt");
        /* 0: the library's defaults. */
        cr_assert_eq(c.output_cap, 0);
        cr_assert_eq(c.retention_usec, 0);
        cr_assert_eq(c.max_ended_jobs, 0);
        cr_assert_eq(c.limits.max_active_jobs, DAEMON_MAX_ACTIVE_JOBS_DEFAULT);
        cr_assert_null(c.metrics_listen);
        daemon_config_done(&c);
}

Test(daemon_config, metrics_listen) {
        DaemonConfig c = {};

        cr_assert_eq(parse(&c, (const char *[]) { "--metrics-listen", "127.0.0.1:9632", NULL }), 1);
        cr_assert_str_eq(c.metrics_listen, "127.0.0.1:9632");
        cr_assert_null(c.listen);
        daemon_config_done(&c);
}

Test(daemon_config, credentials_and_state_directory_from_systemd) {
        DaemonConfig c = {};

        setenv("CREDENTIALS_DIRECTORY", "/run/credentials/jobrunner.service", 1);
        setenv("STATE_DIRECTORY", "/var/lib/jobrunner-test", 1);
        cr_assert_eq(parse(&c, (const char *[]) { "--key", "/etc/other.key", NULL }), 1);
        cr_assert_str_eq(c.certificate_path, "/run/credentials/jobrunner.service/server.crt");
        cr_assert_str_eq(c.key_path, "/etc/other.key");
        cr_assert_str_eq(c.state_dir, "/var/lib/jobrunner-test");
        daemon_config_done(&c);
}

Test(daemon_config, sizes_spans_and_counts) {
        DaemonConfig c = {};
        const char *args[] = {
                "--output-cap", "512M", "--retention", "12h", "--max-ended-jobs", "500",
                "--max-jobs", "10", "--max-jobs-per-user", "3", "--max-followers", "7", NULL,
        };

        cr_assert_eq(parse(&c, args), 1);
        cr_assert_eq(c.output_cap, UINT64_C(512) << 20);
        cr_assert_eq(c.retention_usec, 12 * 3600 * USEC_PER_SEC);
        cr_assert_eq(c.max_ended_jobs, 500);
        cr_assert_eq(c.limits.max_active_jobs, 10);
        cr_assert_eq(c.limits.max_active_jobs_per_owner, 3);
        cr_assert_eq(c.limits.max_followers_per_job, 7);
        daemon_config_done(&c);
}

Test(daemon_config, infinity_keeps_everything) {
        DaemonConfig c = {};

        cr_assert_eq(parse(&c, (const char *[]) { "--retention=infinity", "--max-ended-jobs=infinity", NULL }), 1);
        cr_assert_eq(c.retention_usec, UINT64_MAX);
        cr_assert_eq(c.max_ended_jobs, UINT64_MAX);
        daemon_config_done(&c);
}

Test(daemon_config, bad_values_are_refused) {
        expect_refused("--output-cap", "0");
        expect_refused("--output-cap", "1P");
        expect_refused("--output-cap", "-1");
        expect_refused("--retention", "0");
        expect_refused("--retention", "1w");
        expect_refused("--retention", "forever");
        expect_refused("--max-ended-jobs", "0");
        expect_refused("--max-ended-jobs", "10k");
        expect_refused("--max-jobs", "0");
        expect_refused("--max-jobs", "1000001");
        expect_refused("--max-followers", " 5");
        expect_refused("--log-level", "loud");
        expect_refused("--no-such-option", NULL);
}
