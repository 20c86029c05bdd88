/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "command.h"
#include "spec-command.h"

typedef struct SpecParse {
        SpecArgs *args;
        OptionHandler extra;
        void *userdata;
} SpecParse;

static int spec_option(Cli *cli, int opt, const char *arg, void *userdata, CliError *e) {
        SpecParse *p = userdata;
        int r;

        r = spec_args_option(p->args, opt, arg, e);
        if (r == 0 && p->extra)
                r = p->extra(cli, opt, arg, p->userdata, e);
        return r;
}

int spec_command_parse(Cli *cli, int argc, char **argv, const struct option *verb_options, OptionHandler extra,
                       void *userdata, void (*show_help)(void), SpecArgs *a, CliError *e) {
        static const struct option spec_options[] = {
                SPEC_LONG_OPTIONS,
        };
        struct option options[48] = {};
        SpecParse p = { .args = a, .extra = extra, .userdata = userdata };
        size_t n = 0;
        char **args;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(spec_options); i++)
                options[n++] = spec_options[i];
        for (const struct option *o = verb_options; o && o->name && n + 1 < ELEMENTSOF(options); o++)
                options[n++] = *o;

        r = command_parse(cli, argc, argv,
                          &(CommandSpec) {
                                  .short_options = SPEC_SHORT_OPTIONS,
                                  .options = options,
                                  /* The job's argv may hold options of its
                                   * own: ours end at its first word. */
                                  .options_first = true,
                                  .handler = spec_option,
                                  .userdata = &p,
                                  .help = show_help,
                          },
                          &args, &n, e);
        if (r != 0)
                return r;
        return spec_args_finish(a, args, n, e);
}
