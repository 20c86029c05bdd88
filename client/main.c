/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jobrunner: the command-line client of jobrunnerd.  One file per command
 * (verb-*.c); errors travel up to here, the one place that prints them and
 * picks the exit status. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "command.h"
#include "log.h"

typedef struct Verb {
        const char *name;
        int (*run)(Cli *cli, int argc, char **argv, CliError *e);
} Verb;

static const Verb verbs[] = {
        { "start",  verb_start },
        { "run",    verb_run },
        { "stop",   verb_stop },
        { "status", verb_status },
        { "logs",   verb_logs },
        { "attach", verb_attach },
        { "list",   verb_list },
        { "wait",   verb_wait },
        { "context", verb_context },
};

static void help(void) {
        printf("Usage: jobrunner [OPTIONS] COMMAND [ARGUMENTS...]\n"
               "\n"
               "Runs and watches jobs on a jobrunner server (jobrunnerd) over mutual TLS.\n"
               "\n"
               "Commands:\n"
               "  start [OPTIONS] [--] PROGRAM [ARGS...]  start a job, print its id\n"
               "  run [OPTIONS] [--] PROGRAM [ARGS...]    start a job, write its output, exit\n"
               "                                          with its exit status (-i: give it\n"
               "                                          stdin; -it: this terminal)\n"
               "  stop [--grace DURATION] ID              stop a job (SIGTERM, SIGKILL after\n"
               "                                          the grace period)\n"
               "  status ID                               show a job's state, result, times,\n"
               "                                          usage\n"
               "  logs [-f] [--stdout|--stderr] [--offset N] [--tail N] ID\n"
               "                                          write a job's output (-f: follow it)\n"
               "  attach [-i|-it] ID                      follow a job's output, give it input\n"
               "  list [--all|--owner NAME] [--state STATE]... [--active] [-q]\n"
               "                                          list jobs (default: your own)\n"
               "  wait ID                                 wait for a job's end, exit with its\n"
               "                                          exit status\n"
               "  context add|list|use|show|rm [NAME]     named connection settings\n"
               "  help [COMMAND]                          show this help, or a command's\n"
               "\n"
               "ID is a job's id (32 hexadecimal characters) or a unique prefix of at least 8,\n"
               "optionally as CONTEXT/ID.  With several contexts (-c given twice, -c PATTERN,\n"
               "--all-contexts) a command runs on each context's server: see jobrunner(1).\n"
               "PROGRAM is run without a shell or a PATH search: it must be an absolute path on\n"
               "the server.  'jobrunner COMMAND --help' shows a command's options.\n"
               "\n"
               "%s"
               "      --version          show the version\n"
               "\n"
               "Each connection setting comes from the first of: the option; $JOBRUNNER_SERVER,\n"
               "$JOBRUNNER_CERT, $JOBRUNNER_KEY, $JOBRUNNER_CA, $JOBRUNNER_TLS_SERVER_NAME; the\n"
               "context selected by --context, else $JOBRUNNER_CONTEXT, else the current one;\n"
               "the rest of $XDG_CONFIG_HOME/jobrunner/config (default\n"
               "~/.config/jobrunner/config); /etc/jobrunner/client.conf; the default.  The\n"
               "files hold 'key = value' lines with the keys server, cert, key, ca and\n"
               "tls-server-name, and '[context NAME]' sections; '#' starts a comment line.\n"
               "\n"
               "Exit status:\n"
               "    0  success\n"
               "    1  local failure (out of memory, cannot write the output)\n"
               "    2  usage error, also a request the server refused as invalid\n"
               "    3  no such job, or not visible to you\n"
               "    4  permission denied by your role, or your identity was refused\n"
               "    5  another error reported by the server (e.g. stop of a job that has ended)\n"
               "    6  no answer within --timeout\n"
               "   69  cannot connect, TLS handshake failed, or the server is unavailable\n"
               "   78  configuration error: config file, certificate, key or CA file\n"
               "  run, attach and wait exit with the job's exit code instead: 128+N if signal\n"
               "  N ended it (also when stopped; 137 if the OOM killer did), 127 if it failed\n"
               "  to start; run and attach exit with 130 after detaching (Ctrl-C, or Ctrl-P\n"
               "  Ctrl-Q on a terminal).  start exits with 127 if the job failed to start.\n"
               "  With several contexts, run, start and list exit with the highest of the\n"
               "  hosts' values: a job's exit status as above, 130 for a host left on\n"
               "  Ctrl-C, 69 for a host where the command could not be carried out at all.\n"
               "\n"
               "See jobrunner(1).\n",
               common_options_help);
}

static const Verb *find_verb(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verbs[i].name, name) == 0)
                        return &verbs[i];
        return NULL;
}

/* jobrunner help [COMMAND]: the same as --help. */
static int help_verb(Cli *cli, int argc, char **argv, CliError *e) {
        char *help_argv[] = { NULL, (char *) "--help", NULL };
        const Verb *v;

        if (argc < 2) {
                help();
                return 0;
        }
        if (argc > 2)
                return cli_usage(cli, e, "help takes one command name");
        v = find_verb(argv[1]);
        if (!v)
                return cli_usage(cli, e, "unknown command '%s'", argv[1]);
        cli->verb = v->name;
        help_argv[0] = argv[1];
        return v->run(cli, 2, help_argv, e);
}

static int run(int argc, char *argv[], Cli *cli, CliError *e) {
        static const struct option options[] = {
                COMMON_LONG_OPTIONS,
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        const Verb *v;
        int opt, r;

        /* "+": the options before the command; the command parses the
         * rest. */
        opterr = 0;
        while ((opt = getopt_long(argc, argv, "+:" COMMON_SHORT_OPTIONS, options, NULL)) >= 0) {
                if (opt == '?' || opt == ':')
                        return cli_getopt_error(cli, opt, argv, e);
                if (opt == ARG_HELP) {
                        help();
                        return 0;
                }
                if (opt == ARG_VERSION) {
                        printf("jobrunner %s\n", JOBRUNNER_VERSION);
                        return 0;
                }
                r = cli_common_option(cli, opt, optarg, e);
                if (r < 0)
                        return r;
        }

        if (optind >= argc)
                return cli_usage(cli, e, "missing the command (start, run, stop, status, logs, list, wait, context)");
        if (strcmp(argv[optind], "help") == 0)
                return help_verb(cli, argc - optind, argv + optind, e);
        v = find_verb(argv[optind]);
        if (!v)
                return cli_usage(cli, e, "unknown command '%s'", argv[optind]);
        cli->verb = v->name;
        return v->run(cli, argc - optind, argv + optind, e);
}

/* The process's end once its output is written.  gRPC's orderly shutdown
 * (grpc_shutdown(): joining its threads, freeing its pools, closing the
 * connection with GOAWAY) is worth nothing to a process about to end and
 * costs it a good part of a short command's time: _exit() ends every
 * thread at once, in the kernel, with no destructor or atexit handler
 * running beside gRPC's threads (exit() would, and that has crashed under
 * them before).  Nothing is lost: every call has completed (the server
 * saw its end), stdout was flushed and checked, stderr is unbuffered, and
 * the kernel closes the connection as it does for a client that crashed,
 * which the server copes with.  The sanitized build does the whole
 * shutdown, for LeakSanitizer to see what was not freed. */
static _noreturn_ void finish(Cli *cli, int status) {
#if !JOBRUNNER_SANITIZED
        _exit(status);
#endif
        cli_done(cli);
        exit(status);
}

int main(int argc, char *argv[]) {
        _cleanup_cli_error_ CliError e = {};
        Cli cli = {};
        int r;

        if (getenv("JOBRUNNER_DEBUG"))
                log_set_max_level(LOG_DEBUG);
        r = run(argc, argv, &cli, &e);

        if (fflush(stdout) != 0 || ferror(stdout)) {
                /* A reader that went away ("| head") is not worth a word. */
                if (errno != EPIPE && r >= 0)
                        r = cli_error(&e, CLI_EXIT_LOCAL, -errno, "cannot write the output: %m");
                else if (r >= 0)
                        finish(&cli, CLI_EXIT_SIGNAL_BASE + 13);
        }
        if (r >= 0)
                finish(&cli, r);

        if (e.message && e.message[0])
                fprintf(stderr, "jobrunner: %s\n", e.message);
        else if (!e.message)
                fprintf(stderr, "jobrunner: %s\n", strerror(-r));
        finish(&cli, e.exit_status > 0 ? e.exit_status : CLI_EXIT_LOCAL);
}
