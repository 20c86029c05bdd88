/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The CLI's command lines (client/command.c, client/spec-command.c,
 * client/spec-options.c): the options of start and run into a JobSpec,
 * the job's argv taken verbatim, the common options after the command,
 * and usage errors that name the command. */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "exec-limits.h"
#include "macro.h"
#include "spec-command.h"

static int helps;

static void help(void) {
        helps++;
}

/* Parses start's command line.  The job's argv points into argv, which
 * must outlive the spec: a compound literal in the test's block. */
static int start_parse(Cli *cli, SpecArgs *a, CliError *e, const char **argv) {
        int argc = 0;

        while (argv[argc])
                argc++;
        return spec_command_parse(cli, argc, (char **) argv, NULL, NULL, NULL, help, a, e);
}

/* Declares the command line argv_name: start's, then the arguments. */
#define START_ARGV(argv_name, ...) const char *argv_name[] = { "start", __VA_ARGS__, NULL }

static void expect_usage(int r, CliError *e, const char *message) {
        cr_assert_lt(r, 0);
        cr_assert_eq(e->exit_status, CLI_EXIT_USAGE);
        cr_assert_str_eq(e->message, message);
        cli_error_clear(e);
}

Test(options, a_full_start) {
        Cli cli = { .verb = "start" };
        SpecArgs a;
        CliError e = {};
        Jobrunner__V1__JobSpec *s = &a.spec;

        START_ARGV(argv, "--cpu", "50%", "--cpu-weight=10", "--memory", "1G", "--io-weight", "30",
                   "--io-read-bps", "/dev/vda=10M", "--io-write-bps", "/dev/vdb=1K", "--io-write-bps", "/dev/vda=2M",
                   "--tasks", "100", "--network", "host", "--no-pid-namespace", "--pid-namespace",
                   "--no-private-mounts", "--private-tmp", "-e", "A=1", "--env", "B=", "-eC=x=y", "--cwd", "/srv",
                   "--user", "bob", "--json", "--server", "h:1", "--timeout", "5s", "--", "/bin/ls", "-l", "--cpu",
                   "--");

        spec_args_init(&a);
        cr_assert_eq(start_parse(&cli, &a, &e, argv), 0, "%s", e.message);

        cr_assert_eq(s->n_argv, 4);
        cr_assert_str_eq(s->argv[0], "/bin/ls");
        cr_assert_str_eq(s->argv[1], "-l");
        cr_assert_str_eq(s->argv[2], "--cpu");
        cr_assert_str_eq(s->argv[3], "--");
        cr_assert_eq(s->n_env, 3);
        cr_assert_str_eq(s->env[0], "A=1");
        cr_assert_str_eq(s->env[1], "B=");
        cr_assert_str_eq(s->env[2], "C=x=y");
        cr_assert_str_eq(s->working_directory, "/srv");
        cr_assert_str_eq(s->user, "bob");

        cr_assert_not_null(s->limits);
        cr_assert_eq(s->limits->cpu_quota_percent, 50);
        cr_assert_eq(s->limits->cpu_weight, 10);
        cr_assert_eq(s->limits->memory_max_bytes, UINT64_C(1) << 30);
        cr_assert_eq(s->limits->io_weight, 30);
        cr_assert_eq(s->limits->tasks_max, 100);
        /* One entry per device, both directions in it. */
        cr_assert_eq(s->limits->n_io_device_limits, 2);
        cr_assert_str_eq(s->limits->io_device_limits[0]->device, "/dev/vda");
        cr_assert_eq(s->limits->io_device_limits[0]->read_bytes_per_second, 10000000);
        cr_assert_eq(s->limits->io_device_limits[0]->write_bytes_per_second, 2000000);
        cr_assert_str_eq(s->limits->io_device_limits[1]->device, "/dev/vdb");
        cr_assert_eq(s->limits->io_device_limits[1]->read_bytes_per_second, 0);
        cr_assert_eq(s->limits->io_device_limits[1]->write_bytes_per_second, 1000);

        cr_assert_not_null(s->isolation);
        cr_assert_eq(s->isolation->network, JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_HOST);
        cr_assert_eq(s->isolation->pid_namespace, JOBRUNNER__V1__TOGGLE__TOGGLE_ON);    /* the last one wins */
        cr_assert_eq(s->isolation->private_mounts, JOBRUNNER__V1__TOGGLE__TOGGLE_OFF);
        cr_assert_eq(s->isolation->private_tmp, JOBRUNNER__V1__TOGGLE__TOGGLE_ON);

        /* The common options after the command. */
        cr_assert(cli.json);
        cr_assert_str_eq(cli.flags.server, "h:1");
        cr_assert_eq(cli.timeout_usec, 5000000);
        spec_args_done(&a);
}

Test(options, the_jobs_argv_starts_at_the_first_operand) {
        Cli cli = { .verb = "start" };
        SpecArgs a;
        CliError e = {};

        START_ARGV(argv, "--memory", "1G", "/bin/ls", "-l", "--memory", "2G", "-e", "X=1");
        START_ARGV(argv2, "/bin/true");

        spec_args_init(&a);
        cr_assert_eq(start_parse(&cli, &a, &e, argv), 0, "%s", e.message);
        cr_assert_eq(a.spec.n_argv, 6);
        cr_assert_str_eq(a.spec.argv[2], "--memory");
        cr_assert_eq(a.spec.limits->memory_max_bytes, UINT64_C(1) << 30);
        cr_assert_eq(a.spec.n_env, 0);
        cr_assert_null(a.spec.isolation);
        spec_args_done(&a);

        /* Nothing set: no limits or isolation at all, the defaults. */
        spec_args_init(&a);
        cr_assert_eq(start_parse(&cli, &a, &e, argv2), 0, "%s", e.message);
        cr_assert_null(a.spec.limits);
        cr_assert_null(a.spec.isolation);
        cr_assert_str_eq(a.spec.working_directory, "");
        spec_args_done(&a);
}

/* -i and -t: the job's input; with a terminal the spec's stdin stays
 * unset, as the API wants.  After the program they are the job's. */
static void expect_input(const char **argv, int stdin_mode, bool terminal, bool interactive) {
        Cli cli = { .verb = "start" };
        SpecArgs a;
        CliError e = {};

        spec_args_init(&a);
        cr_assert_eq(start_parse(&cli, &a, &e, argv), 0, "%s", e.message);
        cr_assert_eq(a.spec.stdin, stdin_mode, "%s: stdin %d", argv[1], a.spec.stdin);
        cr_assert_eq(a.spec.terminal, terminal, "%s", argv[1]);
        cr_assert_eq(a.interactive, interactive, "%s", argv[1]);
        cr_assert_str_eq(a.spec.argv[0], "/bin/sh");
        spec_args_done(&a);
}

Test(options, interactive_and_tty) {
        const int unset = JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_UNSPECIFIED,
                  pipe = JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_PIPE;

        expect_input((const char *[]) { "start", "/bin/sh", NULL }, unset, false, false);
        expect_input((const char *[]) { "start", "-i", "/bin/sh", NULL }, pipe, false, true);
        expect_input((const char *[]) { "start", "--interactive", "/bin/sh", NULL }, pipe, false, true);
        expect_input((const char *[]) { "start", "-t", "/bin/sh", NULL }, unset, true, false);
        expect_input((const char *[]) { "start", "--tty", "/bin/sh", NULL }, unset, true, false);
        expect_input((const char *[]) { "start", "-it", "/bin/sh", NULL }, unset, true, true);
        expect_input((const char *[]) { "start", "-ti", "--", "/bin/sh", NULL }, unset, true, true);
        expect_input((const char *[]) { "start", "/bin/sh", "-i", "-t", NULL }, unset, false, false);
}

Test(options, start_usage_errors) {
        static const struct {
                const char *argv[6];
                const char *message;
        } table[] = {
                { { NULL }, "nothing to run: give the program's absolute path and its arguments after '--'" },
                { { "--" }, "nothing to run: give the program's absolute path and its arguments after '--'" },
                { { "--frob", "/bin/true" }, "unknown option --frob; see 'jobrunner start --help'" },
                { { "--memory" }, "option --memory needs a value; see 'jobrunner start --help'" },
                { { "-x", "/bin/true" }, "unknown option -x; see 'jobrunner start --help'" },
                { { "-e" }, "option -e needs a value; see 'jobrunner start --help'" },
                { { "--memory", "25x", "/bin/true" }, "invalid memory size '25x': expected a number with an optional "
                                                      "K, M, G or T suffix (base 1024), or 'infinity'" },
                { { "-e", "A=1", "-e", "A=2", "/bin/true" }, "the environment variable A is given twice" },
                { { "--no-private-mounts", "/bin/true" }, "--no-private-mounts needs --user: a job of a dynamic user "
                                                          "always has its own mount namespace" },
                { { "--no-private-tmp", "/bin/true" }, "--no-private-tmp needs --user: a job of a dynamic user always "
                                                       "has a private /tmp" },
                { { "--io-read-bps", "/dev/vda=1M", "--io-read-bps", "/dev/vda=2M", "/bin/true" },
                  "--io-read-bps given twice for /dev/vda" },
                { { "--cwd", "srv", "/bin/true" }, "invalid working directory 'srv': must be an absolute path on the "
                                                   "server" },
                { { "--user", "", "/bin/true" }, "--user needs a user name" },
                { { "--network", "bridge", "/bin/true" }, "invalid network mode 'bridge': expected 'none' (loopback "
                                                          "only, the default) or 'host'" },
                { { "--timeout", "soon", "/bin/true" }, "invalid timeout 'soon': expected a time span such as 10s, "
                                                        "500ms, 2min or 1h 30min (a plain number is seconds)" },
                { { "ls" }, "'ls' is not an absolute path: the server runs the program directly, without a shell or "
                            "a PATH search; give its full path on the server, e.g. " },
        };

        setenv("PATH", "/nonexistent", 1);
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                Cli cli = { .verb = "start" };
                char *argv[8] = { (char *) "start" };
                SpecArgs a;
                CliError e = {};
                int argc = 1, r;

                for (size_t k = 0; table[i].argv[k]; k++)
                        argv[argc++] = (char *) table[i].argv[k];
                spec_args_init(&a);
                r = spec_command_parse(&cli, argc, argv, NULL, NULL, NULL, help, &a, &e);
                cr_assert_lt(r, 0, "entry %zu accepted", i);
                cr_assert_eq(e.exit_status, CLI_EXIT_USAGE, "entry %zu", i);
                cr_assert(strncmp(e.message, table[i].message, strlen(table[i].message)) == 0,
                          "entry %zu: '%s', expected '%s'", i, e.message, table[i].message);
                cli_error_clear(&e);
                spec_args_done(&a);
        }
        /* The user makes the isolation switches possible. */
        {
                Cli cli = { .verb = "start" };
                SpecArgs a;
                CliError e = {};

                START_ARGV(argv, "--user", "bob", "--no-private-mounts", "--no-private-tmp", "/bin/true");

                spec_args_init(&a);
                cr_assert_eq(start_parse(&cli, &a, &e, argv), 0, "%s", e.message);
                spec_args_done(&a);
        }
}

/* start/run with n arguments after "/bin/echo", each len bytes, and the
 * environment variables env (NULL-terminated). */
static int parse_sized(size_t n, size_t len, const char *const *env, CliError *e) {
        static char arg[EXEC_STRING_MAX + 2];
        Cli cli = { .verb = "run" };
        size_t argc = 0, n_env = 0;
        char **argv;
        SpecArgs a;
        int r;

        while (env && env[n_env])
                n_env++;
        argv = calloc(n + 2 * n_env + 4, sizeof(char *));

        cr_assert_not_null(argv);
        cr_assert_leq(len, sizeof(arg) - 1);
        memset(arg, 'a', len);
        arg[len] = 0;
        argv[argc++] = (char *) "run";
        for (; env && *env; env++) {
                argv[argc++] = (char *) "-e";
                argv[argc++] = (char *) *env;
        }
        argv[argc++] = (char *) "--";
        argv[argc++] = (char *) "/bin/echo";
        for (size_t i = 0; i < n; i++)
                argv[argc++] = arg;
        spec_args_init(&a);
        r = spec_command_parse(&cli, (int) argc, argv, NULL, NULL, NULL, help, &a, e);
        if (r == 0)
                cr_assert_eq(a.spec.n_argv, n + 1);
        spec_args_done(&a);
        free(argv);
        return r;
}

/* What the server takes (common/exec-limits.h), and what it does not,
 * refused before anything is sent. */
Test(options, arguments_as_large_as_execve_takes) {
        /* /bin/echo: 10 bytes with its NUL, 18 with its pointer. */
        const size_t longest = (EXEC_BYTES_MAX - 18) / (EXEC_STRING_MAX + 1 + EXEC_POINTER_SIZE);
        CliError e = {};

        cr_assert_eq(parse_sized(5000, 10, NULL, &e), 0, "%s", e.message);
        cr_assert_eq(parse_sized(1, EXEC_STRING_MAX, NULL, &e), 0, "%s", e.message);
        cr_assert_eq(parse_sized(longest, EXEC_STRING_MAX, NULL, &e), 0, "%s", e.message);
        /* As many as the bytes allow, each an empty string (9 bytes). */
        cr_assert_eq(parse_sized((EXEC_BYTES_MAX - 18) / 9, 0, NULL, &e), 0, "%s", e.message);

        expect_usage(parse_sized(1, EXEC_STRING_MAX + 1, NULL, &e), &e,
                     "argument 1 of the job is 131072 bytes long; a job takes at most 131071 (the kernel's "
                     "MAX_ARG_STRLEN, with the NUL)");
        expect_usage(parse_sized((EXEC_BYTES_MAX - 18) / 9 + 1, 0, NULL, &e), &e,
                     "the job's arguments and environment come to 2080773 bytes as execve() counts them (each "
                     "string, its NUL and an 8-byte pointer); a job takes at most 2080768");
        /* The environment counts too. */
        expect_usage(parse_sized((EXEC_BYTES_MAX - 18) / 9, 0, (const char *const[]) { "A=1", NULL }, &e), &e,
                     "the job's arguments and environment come to 2080776 bytes as execve() counts them (each "
                     "string, its NUL and an 8-byte pointer); a job takes at most 2080768");
}

Test(options, a_variable_given_twice_among_many) {
        const size_t n = 50000;
        char **env = calloc(n + 2, sizeof(char *));
        CliError e = {};

        cr_assert_not_null(env);
        for (size_t i = 0; i < n; i++)
                cr_assert_geq(asprintf(&env[i], "V%zu=%zu", i, i), 0);
        cr_assert_eq(parse_sized(1, 1, (const char *const *) env, &e), 0, "%s", e.message);
        env[n] = (char *) "V4711=again";
        expect_usage(parse_sized(1, 1, (const char *const *) env, &e), &e,
                     "the environment variable V4711 is given twice");
        for (size_t i = 0; i < n; i++)
                free(env[i]);
        free(env);
}

static int extra_option(Cli *cli, int opt, const char *arg, void *userdata, CliError *e) {
        (void) cli;
        (void) e;
        if (opt != 0x3000)
                return 0;
        *(const char **) userdata = arg ?: "set";
        return 1;
}

Test(options, a_commands_own_options) {
        static const struct option options[] = {
                { "stop-on-interrupt", no_argument, NULL, 0x3000 },
                {}
        };
        char *argv[] = { (char *) "run", (char *) "--stop-on-interrupt", (char *) "/bin/true", NULL };
        const char *seen = NULL;
        Cli cli = { .verb = "run" };
        SpecArgs a;
        CliError e = {};

        spec_args_init(&a);
        cr_assert_eq(spec_command_parse(&cli, 3, argv, options, extra_option, &seen, help, &a, &e), 0);
        cr_assert_str_eq(seen, "set");
        spec_args_done(&a);
}

Test(options, help) {
        char *argv[] = { (char *) "start", (char *) "--memory", (char *) "1G", (char *) "--help", NULL };
        char *argv2[] = { (char *) "status", (char *) "-h", NULL };
        Cli cli = { .verb = "start" };
        SpecArgs a;
        CliError e = {};
        const char *id;

        helps = 0;
        spec_args_init(&a);
        cr_assert_eq(spec_command_parse(&cli, 4, argv, NULL, NULL, NULL, help, &a, &e), 1);
        cr_assert_eq(helps, 1);
        spec_args_done(&a);
        cr_assert_eq(command_parse_id(&cli, 2, argv2, &(CommandSpec) { .help = help }, &id, &e), 1);
        cr_assert_eq(helps, 2);
}

Test(options, commands_with_a_job_id) {
        char *ok[] = { (char *) "status", (char *) "abcdef01", (char *) "--json", NULL };
        char *none[] = { (char *) "status", NULL };
        char *two[] = { (char *) "status", (char *) "a", (char *) "b", NULL };
        char *dashdash[] = { (char *) "status", (char *) "--", (char *) "-abc", NULL };
        char *dashdash2[] = { (char *) "status", (char *) "--", (char *) "ABCDEF01", NULL };
        Cli cli = { .verb = "status" };
        CliError e = {};
        const char *id = NULL;

        /* Options may follow the id. */
        cr_assert_eq(command_parse_id(&cli, 3, ok, &(CommandSpec) { .help = help }, &id, &e), 0, "%s", e.message);
        cr_assert_str_eq(id, "abcdef01");
        cr_assert(cli.json);
        expect_usage(command_parse_id(&cli, 1, none, &(CommandSpec) { .help = help }, &id, &e), &e,
                     "missing the job ID; see 'jobrunner status --help'");
        expect_usage(command_parse_id(&cli, 3, two, &(CommandSpec) { .help = help }, &id, &e), &e,
                     "unexpected argument 'b' after the job ID; see 'jobrunner status --help'");
        /* The id's syntax is checked here already, before any connection. */
        expect_usage(command_parse_id(&cli, 3, dashdash, &(CommandSpec) { .help = help }, &id, &e), &e,
                     "invalid job id '-abc': expected 32 hexadecimal characters, or a unique prefix of at least 8");
        cr_assert_eq(command_parse_id(&cli, 3, dashdash2, &(CommandSpec) { .help = help }, &id, &e), 0);
        cr_assert_str_eq(id, "ABCDEF01");
}

Test(options, common_options) {
        Cli cli = {};
        CliError e = {};

        cr_assert_eq(cli_common_option(&cli, ARG_SERVER, "s", &e), 1);
        cr_assert_eq(cli_common_option(&cli, ARG_CERT, "c", &e), 1);
        cr_assert_eq(cli_common_option(&cli, ARG_KEY, "k", &e), 1);
        cr_assert_eq(cli_common_option(&cli, ARG_CA, "a", &e), 1);
        cr_assert_eq(cli_common_option(&cli, ARG_JSON, NULL, &e), 1);
        cr_assert_eq(cli_common_option(&cli, ARG_TIMEOUT, "2min", &e), 1);
        cr_assert_eq(cli_common_option(&cli, 'x', NULL, &e), 0);
        cr_assert_str_eq(cli.flags.server, "s");
        cr_assert_str_eq(cli.flags.cert, "c");
        cr_assert_str_eq(cli.flags.key, "k");
        cr_assert_str_eq(cli.flags.ca, "a");
        cr_assert(cli.json);
        cr_assert_eq(cli.timeout_usec, 120000000);
        cr_assert_lt(cli_common_option(&cli, ARG_TIMEOUT, "0", &e), 0);
        cli_error_clear(&e);

        /* Without a command yet, the pointer is to the general help. */
        expect_usage(cli_usage(&cli, &e, "unknown command '%s'", "frob"), &e,
                     "unknown command 'frob'; see 'jobrunner --help'");
}
