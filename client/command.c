/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "macro.h"
#include "parse.h"

#define OPTIONS_MAX 64

int command_parse(Cli *cli, int argc, char **argv, const CommandSpec *spec, char ***ret_args, size_t *ret_n,
                  CliError *e) {
        static const struct option common[] = {
                COMMON_LONG_OPTIONS,
        };
        struct option options[OPTIONS_MAX] = {};
        char short_options[64];
        size_t n = 0;
        int opt, r;

        for (size_t i = 0; i < ELEMENTSOF(common); i++)
                options[n++] = common[i];
        for (const struct option *o = spec->options; o && o->name; o++) {
                assert(n + 1 < ELEMENTSOF(options));
                options[n++] = *o;
        }
        /* ':' first: missing values are reported here, not by getopt. */
        snprintf(short_options, sizeof(short_options), "%s:" COMMON_SHORT_OPTIONS "%s", spec->options_first ? "+" : "",
                 spec->short_options ?: "");

        optind = 0;             /* glibc: start over, at argv[1] */
        opterr = 0;
        while ((opt = getopt_long(argc, argv, short_options, options, NULL)) >= 0) {
                if (opt == '?' || opt == ':')
                        return cli_getopt_error(cli, opt, argv, e);
                if (opt == ARG_HELP) {
                        spec->help();
                        return 1;
                }
                r = cli_common_option(cli, opt, optarg, e);
                if (r == 0 && spec->handler)
                        r = spec->handler(cli, opt, optarg, spec->userdata, e);
                if (r < 0)
                        return r;
                if (r == 0)
                        return cli_usage(cli, e, "unexpected option %s", argv[optind - 1]);
        }
        *ret_args = argv + optind;
        *ret_n = (size_t) (argc - optind);
        return 0;
}

int command_parse_id(Cli *cli, int argc, char **argv, const CommandSpec *spec, const char **ret_id, CliError *e) {
        char **args;
        size_t n;
        int r;

        r = command_parse(cli, argc, argv, spec, &args, &n, e);
        if (r != 0)
                return r;
        if (n == 0)
                return cli_usage(cli, e, "missing the job ID");
        if (n > 1)
                return cli_usage(cli, e, "unexpected argument '%s' after the job ID", args[1]);
        r = cli_job_context(cli, args[0], ret_id, e);
        if (r < 0)
                return r;
        /* Its syntax now, before a bad configuration or server could get in
         * the way of saying it is wrong. */
        return parse_job_id(*ret_id, (char[JOB_ID_LEN + 1]) {}, &(bool) { false }, e);
}
