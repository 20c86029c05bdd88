/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jobrunner context: named sets of connection settings in the user's
 * configuration file (add, list, use, show, rm).  Nothing here talks to a
 * server. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command.h"
#include "config-edit.h"
#include "config-file.h"
#include "json.h"

static void help(void) {
        printf("Usage: jobrunner context add NAME --server HOST[:PORT] [--cert FILE --key FILE]\n"
               "                         [--ca FILE] [--tls-dir DIR] [--tls-server-name NAME]\n"
               "       jobrunner context list\n"
               "       jobrunner context use NAME\n"
               "       jobrunner context show [NAME]\n"
               "       jobrunner context rm NAME\n"
               "\n"
               "A context is a named set of connection settings (server, cert, key, ca,\n"
               "tls-server-name) in $XDG_CONFIG_HOME/jobrunner/config (default\n"
               "~/.config/jobrunner/config).  Commands use the one named by --context (-c),\n"
               "else by $JOBRUNNER_CONTEXT, else the current one ('context use').  Options\n"
               "and environment variables still win over the context's settings; settings\n"
               "the context lacks come from the rest of the configuration.\n"
               "\n"
               "  add      adds a context; --tls-dir DIR stands for DIR/client.crt,\n"
               "           DIR/client.key and DIR/ca.crt; relative paths are stored absolute\n"
               "  list     lists the contexts, '*' marks the one commands would use\n"
               "  use      makes NAME the current context\n"
               "  show     shows the settings commands would use with the current context\n"
               "           (or NAME), and where each comes from\n"
               "  rm       removes a context (and makes none current if it was)\n"
               "\n"
               "Context names have 1 to 64 letters, digits, '.', '_' or '-', and do not start\n"
               "with '-' or '.'.  The file keeps its comments and other lines when changed.\n"
               "\n%s",
               common_options_help);
}

enum {
        ARG_ADD_TLS_DIR = 0x2000,
        ARG_ADD_SETTING,                /* + SettingKey */
};

/* An absolute path for a file named on the command line: the file is read
 * later, from wherever the command runs then. */
static int absolute_path(const char *path, char **ret, CliError *e) {
        _cleanup_free_ char *cwd = NULL;

        if (path[0] == '/')
                *ret = strdup(path);
        else {
                cwd = getcwd(NULL, 0);
                if (!cwd)
                        return cli_error(e, CLI_EXIT_LOCAL, -errno, "cannot find the current directory: %m");
                if (asprintf(ret, "%s/%s", cwd, path) < 0)
                        *ret = NULL;
        }
        return *ret ? 0 : cli_error_oom(e);
}

static void values_done(char *(*values)[_SETTING_MAX]) {
        for (SettingKey k = 0; k < _SETTING_MAX; k++)
                free((*values)[k]);
}

static int add_values(Cli *cli, const char *const given[_SETTING_MAX], const char *tls_dir,
                      char *(*values)[_SETTING_MAX], CliError *e) {
        static const char *const tls_dir_files[_SETTING_MAX] = {
                [SETTING_CERT] = "client.crt",
                [SETTING_KEY] = "client.key",
                [SETTING_CA] = "ca.crt",
        };
        int r;

        if (!given[SETTING_SERVER])
                return cli_usage(cli, e, "missing --server HOST[:PORT]");
        if (tls_dir && (given[SETTING_CERT] || given[SETTING_KEY] || given[SETTING_CA]))
                return cli_usage(cli, e, "--tls-dir and --cert, --key, --ca exclude each other");
        if (!given[SETTING_CERT] != !given[SETTING_KEY])
                return cli_usage(cli, e, "--cert and --key go together");

        r = normalize_server(given[SETTING_SERVER], &(*values)[SETTING_SERVER], e);
        if (r < 0)
                return r;
        for (SettingKey k = SETTING_SERVER + 1; k < _SETTING_MAX; k++) {
                _cleanup_free_ char *joined = NULL;
                const char *v = given[k];

                if (tls_dir && tls_dir_files[k]) {
                        if (asprintf(&joined, "%s/%s", tls_dir, tls_dir_files[k]) < 0)
                                return cli_error_oom(e);
                        v = joined;
                }
                if (!v)
                        continue;
                if (!setting_is_path(k))
                        (*values)[k] = strdup(v);
                else if ((r = absolute_path(v, &(*values)[k], e)) < 0)
                        return r;
                if (!(*values)[k])
                        return cli_error_oom(e);
        }
        return 0;
}

/* Loads the user's file for a change, applies it, writes it back. */
static int edit(const char *name, const char *current, char *const values[_SETTING_MAX], bool remove,
                CliError *e) {
        _cleanup_(config_edit_done) ConfigEdit c = {};
        _cleanup_free_ char *path = NULL;
        int r;

        r = user_config_path(&path, e);
        if (r >= 0)
                r = config_edit_load(path, &c, e);
        if (r >= 0 && values)
                r = config_edit_add_context(&c, name, (const char *const *) values, e);
        if (r >= 0 && remove)
                r = config_edit_remove_context(&c, name, e);
        if (r >= 0 && current)
                r = config_edit_set_current(&c, current, e);
        if (r >= 0)
                r = config_edit_save(&c, e);
        return r < 0 ? r : 0;
}

static int context_add(Cli *cli, int argc, char **argv, CliError *e) {
        static const struct option options[] = {
                { "server",          required_argument, NULL, ARG_ADD_SETTING + SETTING_SERVER },
                { "cert",            required_argument, NULL, ARG_ADD_SETTING + SETTING_CERT },
                { "key",             required_argument, NULL, ARG_ADD_SETTING + SETTING_KEY },
                { "ca",              required_argument, NULL, ARG_ADD_SETTING + SETTING_CA },
                { "tls-server-name", required_argument, NULL, ARG_ADD_SETTING + SETTING_TLS_SERVER_NAME },
                { "tls-dir",         required_argument, NULL, ARG_ADD_TLS_DIR },
                { "help",            no_argument,       NULL, 'h' },
                {}
        };
        _cleanup_(values_done) char *values[_SETTING_MAX] = {};
        const char *given[_SETTING_MAX] = {}, *tls_dir = NULL;
        int opt, r;

        /* Not command_parse(): --server and the others are the context's
         * here, not the common options. */
        optind = 0;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
                if (opt == '?' || opt == ':')
                        return cli_getopt_error(cli, opt, argv, e);
                if (opt == 'h') {
                        help();
                        return 0;
                }
                if (opt == ARG_ADD_TLS_DIR)
                        tls_dir = optarg;
                else if (given[opt - ARG_ADD_SETTING])
                        return cli_usage(cli, e, "%s given twice", argv[optind - 1]);
                else
                        given[opt - ARG_ADD_SETTING] = optarg;
        }
        if (optind >= argc)
                return cli_usage(cli, e, "missing the context's NAME");
        if (optind + 1 < argc)
                return cli_usage(cli, e, "unexpected argument '%s' after the NAME", argv[optind + 1]);

        r = add_values(cli, given, tls_dir, &values, e);
        if (r < 0)
                return r;
        return edit(argv[optind], NULL, values, false, e);
}

/* command_parse() with at most max operands, at least min. */
static int parse_names(Cli *cli, int argc, char **argv, size_t min, size_t max, const char **ret_name,
                       CliError *e) {
        char **args;
        size_t n;
        int r;

        r = command_parse(cli, argc, argv, &(CommandSpec) { .help = help }, &args, &n, e);
        if (r != 0)
                return r;
        if (n < min)
                return cli_usage(cli, e, "missing the context's NAME");
        if (n > max)
                return cli_usage(cli, e, "unexpected argument '%s'", args[max]);
        *ret_name = n > 0 ? args[0] : NULL;
        return 0;
}

static int context_use(Cli *cli, int argc, char **argv, CliError *e) {
        const char *name;
        int r;

        r = parse_names(cli, argc, argv, 1, 1, &name, e);
        if (r != 0)
                return r < 0 ? r : 0;
        return edit(name, name, NULL, false, e);
}

static int context_rm(Cli *cli, int argc, char **argv, CliError *e) {
        const char *name;
        int r;

        r = parse_names(cli, argc, argv, 1, 1, &name, e);
        if (r != 0)
                return r < 0 ? r : 0;
        return edit(name, NULL, NULL, true, e);
}

static int context_list(Cli *cli, int argc, char **argv, CliError *e) {
        _cleanup_(config_file_done) ConfigFile f = {};
        _cleanup_free_ char *path = NULL;
        Setting selected = {};
        const char *name;
        int width = 4, r;

        r = parse_names(cli, argc, argv, 0, 0, &name, e);
        if (r != 0)
                return r < 0 ? r : 0;
        r = user_config_path(&path, e);
        if (r >= 0)
                r = config_load(path, &f, e);
        if (r >= 0)
                r = context_select(&cli->flags, &f, path, &selected, e);
        if (r < 0)
                return r;

        if (cli->json) {
                JsonWriter w;

                json_init(&w, stdout);
                json_begin_array(&w);
                for (size_t i = 0; i < f.n_contexts; i++) {
                        const ConfigContext *c = &f.contexts[i];

                        json_begin_object(&w);
                        json_kv_string(&w, "name", c->name);
                        json_kv_string(&w, "server", c->settings.s[SETTING_SERVER].value);
                        json_kv_bool(&w, "current", selected.value && strcmp(selected.value, c->name) == 0);
                        json_end_object(&w);
                }
                json_end_array(&w);
                fputc('\n', stdout);
        } else {
                for (size_t i = 0; i < f.n_contexts; i++)
                        if ((int) strlen(f.contexts[i].name) > width)
                                width = (int) strlen(f.contexts[i].name);
                printf("  %-*s  SERVER\n", width, "NAME");
                for (size_t i = 0; i < f.n_contexts; i++) {
                        const ConfigContext *c = &f.contexts[i];

                        printf("%c %-*s  %s\n", selected.value && strcmp(selected.value, c->name) == 0 ? '*' : ' ',
                               width, c->name, c->settings.s[SETTING_SERVER].value ?: "-");
                }
        }
        free(selected.value);
        free(selected.origin);
        return 0;
}

static void json_setting(JsonWriter *w, const char *key, const Setting *s) {
        json_key(w, key);
        json_begin_object(w);
        json_kv_string(w, "value", s->value);
        json_kv_string(w, "origin", s->origin);
        json_end_object(w);
}

static void print_setting(const char *key, const Setting *s) {
        if (s->value)
                printf("%-16s %s (from %s)\n", key, s->value, s->origin);
        else
                printf("%-16s -\n", key);
}

static int context_show(Cli *cli, int argc, char **argv, CliError *e) {
        _cleanup_(settings_done) CliSettings s = {};
        CliFlags flags;
        const char *name;
        int r;

        r = parse_names(cli, argc, argv, 0, 1, &name, e);
        if (r != 0)
                return r < 0 ? r : 0;
        /* With the options given after "show" too. */
        flags = cli->flags;
        if (name) {
                flags.context = name;
                flags.context_origin = "the command line";
        }
        r = settings_resolve(&flags, NULL, &s, e);
        if (r < 0)
                return r;

        if (cli->json) {
                JsonWriter w;

                json_init(&w, stdout);
                json_begin_object(&w);
                json_setting(&w, "context", &s.context);
                for (SettingKey k = 0; k < _SETTING_MAX; k++)
                        json_setting(&w, setting_name(k), &s.s[k]);
                json_end_object(&w);
                fputc('\n', stdout);
        } else {
                print_setting("context", &s.context);
                for (SettingKey k = 0; k < _SETTING_MAX; k++)
                        print_setting(setting_name(k), &s.s[k]);
        }
        return 0;
}

typedef struct ContextVerb {
        const char *name;
        int (*run)(Cli *cli, int argc, char **argv, CliError *e);
} ContextVerb;

static const ContextVerb context_verbs[] = {
        { "add",  context_add },
        { "list", context_list },
        { "use",  context_use },
        { "show", context_show },
        { "rm",   context_rm },
};

int verb_context(Cli *cli, int argc, char **argv, CliError *e) {
        if (argc < 2)
                return cli_usage(cli, e, "missing what to do: add, list, use, show or rm");
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                help();
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(context_verbs); i++)
                if (strcmp(argv[1], context_verbs[i].name) == 0)
                        return context_verbs[i].run(cli, argc - 1, argv + 1, e);
        return cli_usage(cli, e, "unknown context command '%s' (known: add, list, use, show, rm)", argv[1]);
}
