/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "config-file.h"
#include "fanout-select.h"
#include "strv.h"

bool context_is_pattern(const char *arg) {
        return strpbrk(arg, "*?[") != NULL;
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Whether a -c value (or --all-contexts) selects the context of that
 * name. */
static bool selected(Cli *cli, const char *name) {
        if (cli->all_contexts)
                return true;
        for (size_t i = 0; i < cli->n_context_args; i++)
                if (fnmatch(cli->context_args[i], name, 0) == 0)
                        return true;
        return false;
}

int fanout_select(Cli *cli, char ***ret, size_t *ret_n, CliError *e) {
        _cleanup_(config_file_done) ConfigFile user = {};
        _cleanup_(strv_freep) char **names = NULL;
        _cleanup_free_ char *path = NULL;
        size_t n = 0;
        int r;

        r = user_config_path(&path, e);
        if (r < 0)
                return r;
        r = config_load(path, &user, e);
        if (r < 0)
                return r;

        /* Each value must select something: a misspelt name or pattern
         * would otherwise quietly leave servers out. */
        for (size_t i = 0; i < cli->n_context_args; i++) {
                const char *arg = cli->context_args[i];
                bool any = false;

                for (size_t k = 0; k < user.n_contexts && !any; k++)
                        any = fnmatch(arg, user.contexts[k].name, 0) == 0;
                if (any)
                        continue;
                if (!context_is_pattern(arg))
                        return cli_error(e, CLI_EXIT_CONFIG, -ENOENT, "no context '%s' in %s (selected by --context)",
                                         arg, path);
                return cli_usage(cli, e, "no context in %s matches '%s'", path, arg);
        }
        if (cli->all_contexts && user.n_contexts == 0)
                return cli_usage(cli, e, "--all-contexts: %s defines no context", path);

        for (size_t k = 0; k < user.n_contexts; k++) {
                char *name;

                if (!selected(cli, user.contexts[k].name))
                        continue;
                name = strdup(user.contexts[k].name);
                if (!name || strv_push_n(&names, &n, name) < 0)
                        return cli_error_oom(e);
        }
        /* The file defines each name once: sorting is all that is left. */
        qsort(names, n, sizeof(*names), cmp_names);
        *ret = TAKE_PTR(names);
        *ret_n = n;
        return 0;
}
