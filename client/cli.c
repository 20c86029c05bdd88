/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config-file.h"
#include "fanout-select.h"
#include "json.h"
#include "parse-number.h"
#include "parse.h"
#include "print.h"

const char common_options_help[] =
        "Connection and output (also accepted before the command):\n"
        "  --server HOST[:PORT]   the server (default: localhost:50051)\n"
        "  --cert FILE, --key FILE, --ca FILE\n"
        "                         client certificate and key, and the CA that signed the\n"
        "                         server's certificate (default: ~/.config/jobrunner/tls/\n"
        "                         client.crt, client.key, ca.crt; for root without them,\n"
        "                         /etc/jobrunner/tls/users/root/)\n"
        "  --timeout DURATION     deadline of each call (default: 30s; none for wait,\n"
        "                         stop, logs and run unless given)\n"
        "  --json                 print JSON instead of text\n"
        "  -c, --context NAME     the context's server and certificates; repeatable, and\n"
        "                         NAME may be a shell pattern ('web-*'): the command then\n"
        "                         runs on each selected context's server (fan-out)\n"
        "  --all-contexts         fan out over every context\n"
        "  --parallel N           fan-out: at most N servers at a time (default: 32)\n"
        "  -h, --help             show this help\n";

int cli_common_option(Cli *cli, int opt, const char *arg, CliError *e) {
        switch (opt) {
        case ARG_SERVER:
                cli->flags.server = arg;
                return 1;
        case ARG_CERT:
                cli->flags.cert = arg;
                return 1;
        case ARG_KEY:
                cli->flags.key = arg;
                return 1;
        case ARG_CA:
                cli->flags.ca = arg;
                return 1;
        case ARG_TLS_SERVER_NAME:
                cli->flags.tls_server_name = arg;
                return 1;
        case ARG_CONTEXT: {
                const char **args = realloc(cli->context_args, (cli->n_context_args + 1) * sizeof(*args));

                if (!args)
                        return cli_error_oom(e);
                cli->context_args = args;
                cli->context_args[cli->n_context_args++] = arg;
                /* One plain name selects the context exactly as before
                 * fan-out existed. */
                cli->flags.context = cli->n_context_args == 1 && !context_is_pattern(arg) ? arg : NULL;
                return 1;
        }
        case ARG_ALL_CONTEXTS:
                cli->all_contexts = true;
                return 1;
        case ARG_PARALLEL: {
                uint64_t n;

                if (parse_uint64_range(arg, 1, FANOUT_PARALLEL_MAX, &n) < 0)
                        return cli_usage(cli, e, "invalid --parallel '%s': expected a number from 1 to %u", arg,
                                         FANOUT_PARALLEL_MAX);
                cli->parallel = (unsigned) n;
                return 1;
        }
        case ARG_TIMEOUT: {
                int r = parse_timeout(arg, &cli->timeout_usec, e);

                return r < 0 ? r : 1;
        }
        case ARG_JSON:
                cli->json = true;
                return 1;
        default:
                return 0;
        }
}

bool cli_fans_out(const Cli *cli) {
        return cli->all_contexts || cli->n_context_args > 1 ||
               (cli->n_context_args == 1 && context_is_pattern(cli->context_args[0]));
}

int cli_job_context(Cli *cli, const char *arg, const char **ret_id, CliError *e) {
        const char *slash = strchr(arg, '/'), *why;
        char *name;

        if (!slash) {
                *ret_id = arg;
                return 0;
        }
        name = strndup(arg, (size_t) (slash - arg));
        if (!name)
                return cli_error_oom(e);
        why = context_name_invalid(name);
        if (why) {
                free(name);
                return cli_usage(cli, e, "invalid context in the job argument '%s': %s", arg, why);
        }
        free(cli->job_context);
        cli->job_context = name;
        cli->flags.context = name;
        cli->flags.context_origin = "the job argument";
        cli->n_context_args = 0;
        cli->all_contexts = false;
        *ret_id = slash + 1;
        return 0;
}

static int usage_v(Cli *cli, CliError *e, const char *format, va_list ap) _printf_(3, 0);
static int usage_v(Cli *cli, CliError *e, const char *format, va_list ap) {
        int r = cli_errorv(e, CLI_EXIT_USAGE, -EINVAL, format, ap);

        if (cli->verb)
                cli_error_amend(e, -1, "; see 'jobrunner %s --help'", cli->verb);
        else
                cli_error_amend(e, -1, "; see 'jobrunner --help'");
        return r;
}

int cli_usage(Cli *cli, CliError *e, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = usage_v(cli, e, format, ap);
        va_end(ap);
        return r;
}

int cli_getopt_error(Cli *cli, int opt, char *const *argv, CliError *e) {
        const char *arg = argv[optind - 1];

        /* A short option inside a cluster ("-fx") is only in optopt. */
        if (optopt > 0 && optopt < 0x100 && isprint(optopt) && !(arg[0] == '-' && arg[1] == '-')) {
                if (opt == ':')
                        return cli_usage(cli, e, "option -%c needs a value", optopt);
                return cli_usage(cli, e, "unknown option -%c", optopt);
        }
        if (opt == ':')
                return cli_usage(cli, e, "option %s needs a value", arg);
        return cli_usage(cli, e, "unknown option %s", arg);
}

void cli_print_json_job(const JobStatus *j) {
        JsonWriter w;

        json_init(&w, stdout);
        json_job_status(&w, j);
        fputc('\n', stdout);
}
