/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-file.h"
#include "macro.h"

#define TOP_KEYS "server, cert, key, ca, tls-server-name, context"
#define CONTEXT_KEYS "server, cert, key, ca, tls-server-name"

void config_file_done(ConfigFile *c) {
        settings_done(&c->top);
        free(c->current.value);
        free(c->current.origin);
        for (size_t i = 0; i < c->n_contexts; i++) {
                free(c->contexts[i].name);
                settings_done(&c->contexts[i].settings);
        }
        free(c->contexts);
        *c = (ConfigFile) {};
}

const ConfigContext *config_file_find_context(const ConfigFile *c, const char *name) {
        for (size_t i = 0; i < c->n_contexts; i++)
                if (strcmp(c->contexts[i].name, name) == 0)
                        return &c->contexts[i];
        return NULL;
}

const char *context_name_invalid(const char *name) {
        size_t n = strlen(name);

        if (n == 0)
                return "it is empty";
        if (n > CONTEXT_NAME_MAX)
                return "it is longer than 64 characters";
        if (name[0] == '-' || name[0] == '.')
                return "it starts with '-' or '.'";
        /* Nothing else: '/' will separate a context from a job id, and
         * '*', '?' and '[' will make patterns of contexts. */
        for (const char *p = name; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p))
                        return "only letters, digits, '.', '_' and '-' are allowed";
        return NULL;
}

static char *strip(char *s) {
        char *end;

        while (*s == ' ' || *s == '\t')
                s++;
        end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
                *--end = '\0';
        return s;
}

ConfigLineType config_line_split(char *line, char **ret_a, char **ret_b) {
        char *l = strip(line), *sep;
        size_t n = strlen(l);

        if (*l == '\0' || *l == '#')
                return CONFIG_LINE_EMPTY;
        if (*l == '[') {
                if (l[n - 1] != ']' || n < 2)
                        return CONFIG_LINE_BAD;
                l[n - 1] = '\0';
                l = strip(l + 1);
                sep = l + strcspn(l, " \t");
                if (*sep)
                        *sep++ = '\0';
                *ret_a = l;
                *ret_b = strip(sep);
                return CONFIG_LINE_SECTION;
        }
        sep = strchr(l, '=');
        if (!sep)
                return CONFIG_LINE_BAD;
        *sep = '\0';
        *ret_a = strip(l);
        *ret_b = strip(sep + 1);
        return CONFIG_LINE_KEY;
}

/* A path value of a file: "~/x" in the home directory, "x" next to the
 * file. */
static int file_path_value(const char *file, const char *value, char **ret, CliError *e) {
        const char *slash;

        if (value[0] == '/')
                *ret = strdup(value);
        else if (value[0] == '~' && value[1] == '/') {
                const char *h = home_dir();

                if (!h)
                        return cli_error(e, CLI_EXIT_CONFIG, -ENOENT,
                                         "%s: cannot expand '%s': no home directory", file, value);
                if (asprintf(ret, "%s%s", h, value + 1) < 0)
                        *ret = NULL;
        } else if ((slash = strrchr(file, '/'))) {
                if (asprintf(ret, "%.*s/%s", (int) (slash - file), file, value) < 0)
                        *ret = NULL;
        } else
                *ret = strdup(value);
        return *ret ? 0 : cli_error_oom(e);
}

static int set_value(Setting *s, char *value, const char *path, unsigned n, CliError *e) {
        s->value = value;
        if (asprintf(&s->origin, "%s:%u", path, n) < 0) {
                s->origin = NULL;
                return cli_error_oom(e);
        }
        return 0;
}

static int parse_section(ConfigFile *out, const char *word, const char *name, const char *path, unsigned n,
                         CliError *e) {
        const ConfigContext *dup;
        const char *why;
        ConfigContext *c;

        if (strcmp(word, "context") != 0 || !*name)
                return cli_error(e, CLI_EXIT_CONFIG, -EBADMSG,
                                 "%s:%u: unknown section '[%s%s%s]' (known: [context NAME])", path, n, word,
                                 *name ? " " : "", name);
        why = context_name_invalid(name);
        if (why)
                return cli_error(e, CLI_EXIT_CONFIG, -EBADMSG, "%s:%u: invalid context name '%s': %s", path, n, name,
                                 why);
        dup = config_file_find_context(out, name);
        if (dup)
                return cli_error(e, CLI_EXIT_CONFIG, -EBADMSG, "%s:%u: context '%s' is defined a second time (first on "
                                 "line %u)", path, n, name, dup->line);

        c = reallocarray(out->contexts, out->n_contexts + 1, sizeof(ConfigContext));
        if (!c)
                return cli_error_oom(e);
        out->contexts = c;
        c = &out->contexts[out->n_contexts];
        *c = (ConfigContext) { .name = strdup(name), .line = n };
        if (!c->name)
                return cli_error_oom(e);
        out->n_contexts++;
        return 0;
}

static int parse_key(ConfigFile *out, ConfigContext *ctx, const char *key, const char *v, const char *path,
                     unsigned n, CliError *e) {
        _cleanup_free_ char *value = NULL;
        Setting *s;
        int k, r;

        k = setting_from_name(key);
        if (k < 0 && !ctx && strcmp(key, "context") == 0) {
                const char *why = *v ? context_name_invalid(v) : NULL;

                if (why)
                        return cli_error(e, CLI_EXIT_CONFIG, -EBADMSG, "%s:%u: invalid context name '%s': %s", path,
                                         n, v, why);
                s = &out->current;
                out->current_line = n;
        } else if (k < 0) {
                if (ctx)
                        return cli_error(e, CLI_EXIT_CONFIG, -EBADMSG,
                                         "%s:%u: unknown key '%s' in [context %s] (known: " CONTEXT_KEYS ")", path, n,
                                         key, ctx->name);
                return cli_error(e, CLI_EXIT_CONFIG, -EBADMSG, "%s:%u: unknown key '%s' (known: " TOP_KEYS ")", path,
                                 n, key);
        } else
                s = &(ctx ? &ctx->settings : &out->top)->s[k];

        if (*v == '\0')
                return cli_error(e, CLI_EXIT_CONFIG, -EBADMSG, "%s:%u: empty value for '%s'", path, n, key);
        if (s->value)
                return cli_error(e, CLI_EXIT_CONFIG, -EBADMSG, "%s:%u: '%s' is set a second time", path, n, key);

        if (k >= 0 && setting_is_path(k)) {
                r = file_path_value(path, v, &value, e);
                if (r < 0)
                        return r;
        } else {
                value = strdup(v);
                if (!value)
                        return cli_error_oom(e);
        }
        return set_value(s, TAKE_PTR(value), path, n, e);
}

int config_parse_file(FILE *f, const char *path, ConfigFile *out, CliError *e) {
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        unsigned n = 0;
        int r;

        for (;;) {
                ConfigContext *ctx = out->n_contexts > 0 ? &out->contexts[out->n_contexts - 1] : NULL;
                _cleanup_free_ char *copy = NULL;
                char *a, *b;
                ssize_t len;

                errno = 0;
                len = getline(&line, &size, f);
                if (len < 0) {
                        if (errno != 0)
                                return cli_error(e, CLI_EXIT_CONFIG, -errno, "cannot read %s: %m", path);
                        break;
                }
                n++;
                if (memchr(line, '\0', (size_t) len))
                        return cli_error(e, CLI_EXIT_CONFIG, -EBADMSG, "%s:%u: a NUL byte", path, n);
                copy = strdup(line);
                if (!copy)
                        return cli_error_oom(e);

                switch (config_line_split(line, &a, &b)) {
                case CONFIG_LINE_EMPTY:
                        continue;
                case CONFIG_LINE_SECTION:
                        r = parse_section(out, a, b, path, n, e);
                        break;
                case CONFIG_LINE_KEY:
                        r = parse_key(out, ctx, a, b, path, n, e);
                        break;
                default:
                        return cli_error(e, CLI_EXIT_CONFIG, -EBADMSG,
                                         "%s:%u: expected 'key = value' or '[context NAME]', got '%s'", path, n,
                                         strip(copy));
                }
                if (r < 0)
                        return r;
        }

        if (out->current.value && !config_file_find_context(out, out->current.value))
                return cli_error(e, CLI_EXIT_CONFIG, -EBADMSG, "%s:%u: no [context %s] in this file", path,
                                 out->current_line, out->current.value);
        return 0;
}

int config_load(const char *path, ConfigFile *out, CliError *e) {
        _cleanup_fclose_ FILE *f = NULL;

        f = fopen(path, "re");
        if (!f) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return 0;
                return cli_error(e, CLI_EXIT_CONFIG, -errno, "cannot read the configuration file %s: %m", path);
        }
        return config_parse_file(f, path, out, e);
}
