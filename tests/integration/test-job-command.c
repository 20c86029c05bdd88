/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A job's command line and environment, through the library, systemd and
 * jobrunner-init: byte for byte whatever they hold, as large as execve()
 * takes them, and untouched by a daemon-reload while the job runs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job-harness.h"
#include "macro.h"
#include "strv.h"

static Harness h;

static void setup(void) {
        harness_setup(&h);
}

static void teardown(void) {
        harness_teardown(&h);
}

TestSuite(job_command, .init = setup, .fini = teardown, .timeout = 600);

/* The job prints its arguments, each with a NUL: "$0" is "sh". */
#define PRINT_ARGS "printf '%s\\0' \"$@\""

/* Runs spec to its end; returns its stdout. */
static char *run(jr_spec *spec, size_t *ret_len) {
        jr_job *j = harness_start(&h, spec);
        _cleanup_free_ char *err = NULL;
        char *out = NULL;
        size_t err_len;
        jr_status s;

        harness_read_output(&h, j, &out, ret_len, &err, &err_len);
        cr_assert_eq(jr_job_get_status(j, &s), 0);
        cr_assert_eq(s.state, JR_STATE_EXITED, "state %s: %s; stderr: %.300s", jr_state_to_string(s.state),
                     s.failure_reason ?: "", err);
        cr_assert_eq(s.exit_code, 0, "exit code %d; stderr: %.300s", s.exit_code, err);
        return out;
}

/* Whether out is args[first..], each with its NUL. */
static void expect_args(const char *out, size_t len, char **args, size_t first) {
        size_t pos = 0, i = first;

        for (; args[i]; i++) {
                size_t n = strlen(args[i]) + 1;

                cr_assert_leq(pos + n, len, "output ends at argument %zu of %zu", i, strv_length(args));
                cr_assert(memcmp(out + pos, args[i], n) == 0, "argument %zu differs", i);
                pos += n;
        }
        cr_assert_eq(pos, len, "%zu bytes more than the arguments", len - pos);
}

Test(job_command, any_bytes_reach_the_job_literally) {
        char *argv[] = { "/bin/sh", "-c", PRINT_ARGS, "sh", "", "$HOME", "${HOME}", "$$", "$", "%n %% %h",
                         "\"quoted\" 'single' \\back\\slash", "line\nbreak\ttab\x01\x7f", "héllo wörld ☃ 😀",
                         "  spaces  ", "--", "-e", NULL };
        _cleanup_free_ char *out = NULL;
        size_t len;
        jr_spec spec = harness_spec(argv);

        out = run(&spec, &len);
        expect_args(out, len, argv, 4);
}

/* The job's variables replace systemd's of the same name, NOTIFY_SOCKET
 * (jobrunner-init's, from systemd) never reaches the job, and the rest of
 * what systemd sets does. */
Test(job_command, the_environment_reaches_the_job) {
        char *argv[] = { "/usr/bin/env", "-0", NULL };
        char *env[] = { "A=1", "EMPTY=", "HOME=/my home", "PATH=/usr/bin:/bin", "ODD=x=y\n$HOME", NULL };
        _cleanup_free_ char *out = NULL;
        size_t len, homes = 0;
        jr_spec spec = harness_spec(argv);
        bool seen[ELEMENTSOF(env) - 1] = {}, invocation = false;

        spec.env = env;
        out = run(&spec, &len);
        for (const char *p = out; p < out + len; p += strlen(p) + 1) {
                for (size_t i = 0; env[i]; i++)
                        seen[i] |= strcmp(p, env[i]) == 0;
                homes += strncmp(p, "HOME=", 5) == 0;
                invocation |= strncmp(p, "INVOCATION_ID=", 14) == 0;
                cr_assert_neq(strncmp(p, "NOTIFY_SOCKET=", 14), 0, "%s", p);
        }
        for (size_t i = 0; env[i]; i++)
                cr_assert(seen[i], "%s missing", env[i]);
        cr_assert_eq(homes, 1);
        cr_assert(invocation, "systemd's INVOCATION_ID missing");
}

/* argv of JR_EXEC_BYTES_MAX bytes as execve() counts them: strings of the
 * longest length allowed, 5000 short ones, and one of the rest. */
Test(job_command, all_the_bytes_execve_takes) {
        static char longest[JR_STRING_MAX + 1], rest[JR_STRING_MAX + 1];
        char *head[] = { "/bin/sh", "-c", PRINT_ARGS, "sh" };
        _cleanup_free_ char **argv = calloc(6000, sizeof(char *));
        _cleanup_(strv_freep) char **numbers = calloc(5001, sizeof(char *));
        _cleanup_free_ char *out = NULL;
        size_t n = 0, exec = 0, len;
        jr_spec spec;

        cr_assert(argv && numbers);
        for (size_t i = 0; i < ELEMENTSOF(head); i++) {
                argv[n++] = head[i];
                exec += strlen(head[i]) + 1 + JR_EXEC_POINTER_SIZE;
        }
        for (size_t i = 0; i < 5000; i++) {
                cr_assert_geq(asprintf(&numbers[i], "%zu", i), 0);
                argv[n++] = numbers[i];
                exec += strlen(numbers[i]) + 1 + JR_EXEC_POINTER_SIZE;
        }
        memset(longest, 'l', JR_STRING_MAX);
        while (JR_EXEC_BYTES_MAX - exec > JR_STRING_MAX + 1 + JR_EXEC_POINTER_SIZE) {
                argv[n++] = longest;
                exec += JR_STRING_MAX + 1 + JR_EXEC_POINTER_SIZE;
        }
        memset(rest, 'r', JR_EXEC_BYTES_MAX - exec - 1 - JR_EXEC_POINTER_SIZE);
        argv[n++] = rest;
        spec = harness_spec(argv);

        out = run(&spec, &len);
        expect_args(out, len, argv, 4);
        cr_log_info("%zu arguments, %zu bytes of output", n, len);
}

/* No count of entries but what the bytes imply: all empty strings. */
Test(job_command, as_many_arguments_as_execve_takes) {
        size_t n = (JR_EXEC_BYTES_MAX - (strlen("/bin/sh") + strlen("-c") + strlen("echo $#") + 3 +
                                         3 * JR_EXEC_POINTER_SIZE)) / (1 + JR_EXEC_POINTER_SIZE);
        _cleanup_free_ char **argv = calloc(n + 4, sizeof(char *));
        _cleanup_free_ char *out = NULL, *want = NULL;
        size_t len;
        jr_spec spec;

        cr_assert_not_null(argv);
        argv[0] = "/bin/sh";
        argv[1] = "-c";
        argv[2] = "echo $#";
        for (size_t i = 3; i < n + 3; i++)
                argv[i] = "";
        spec = harness_spec(argv);

        out = run(&spec, &len);
        /* "$0" is the first of them. */
        cr_assert_geq(asprintf(&want, "%zu\n", n - 1), 0);
        cr_assert_str_eq(out, want);
}

static char *unit_property(const char *unit, const char *interface, const char *name) {
        _cleanup_free_ char *path = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        char *value = NULL;

        cr_assert_geq(sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path), 0);
        cr_assert_geq(sd_bus_get_property_string(h.bus, "org.freedesktop.systemd1", path, interface, name, &error,
                                                 &value),
                      0, "%s: %s", name, error.message);
        sd_bus_error_free(&error);
        return value;
}

/* systemd reads the unit file it wrote back: the job's unit stays loaded
 * (with ExecStartEx= it did not: systemd 252 writes that key but does not
 * read it), runs on and is still the library's to stop. */
Test(job_command, a_daemon_reload_leaves_the_job_alone) {
        char *argv[] = { "/bin/sh", "-c", "echo ready; exec sleep 600", NULL };
        _cleanup_free_ char *load = NULL, *active = NULL;
        sd_bus_message *m = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        jr_status s;
        jr_job *j = harness_start_ready(&h, argv, &s);
        jr_error e = {};

        /* Under emulation a reload can take longer than D-Bus's default
         * timeout of 25 s. */
        cr_assert_geq(sd_bus_message_new_method_call(h.bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                                     "org.freedesktop.systemd1.Manager", "Reload"),
                      0);
        cr_assert_geq(sd_bus_call(h.bus, m, 600 * UINT64_C(1000000), &error, NULL), 0, "Reload: %s", error.message);
        sd_bus_message_unref(m);

        load = unit_property(s.unit, "org.freedesktop.systemd1.Unit", "LoadState");
        active = unit_property(s.unit, "org.freedesktop.systemd1.Unit", "ActiveState");
        cr_assert_str_eq(load, "loaded");
        cr_assert_str_eq(active, "active");

        cr_assert_eq(jr_job_stop(j, 0, "tester", &e), 0, "%s", e.message);
        harness_wait_final(&h, j);
        cr_assert_eq(jr_job_get_status(j, &s), 0);
        cr_assert_eq(s.state, JR_STATE_STOPPED, "state %s", jr_state_to_string(s.state));
}
