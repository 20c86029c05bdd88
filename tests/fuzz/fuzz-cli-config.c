/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CLI's configuration file (client/config-file.c), read from the input
 * as if it were the user's file: top-level keys, "context = NAME" and
 * "[context NAME]" sections.
 *
 * What it accepts must be usable as it is (no empty value, no line break,
 * absolute paths for the files, valid context names, a current context
 * that exists) and must read back the same when written out again as
 * "key = value" lines and sections; the server values are then normalised
 * as settings_resolve() does, which must be idempotent.  A "~/" value is
 * below fuzz.c's fixed $HOME. */

#include <string.h>

#include "config-file.h"
#include "config.h"
#include "fuzz.h"
#include "macro.h"

#define CONFIG_PATH "/home/fuzz/.config/jobrunner/config"

static void parse(const uint8_t *data, size_t size, ConfigFile *ret, CliError *e, int *r) {
        _cleanup_fclose_ FILE *f = fuzz_open_input(data, size);

        *r = config_parse_file(f, CONFIG_PATH, ret, e);
}

static void serialize_settings(FILE *f, const CliSettings *s) {
        for (SettingKey k = 0; k < _SETTING_MAX; k++)
                if (s->s[k].value)
                        fprintf(f, "%s = %s\n", setting_name(k), s->s[k].value);
}

static char *serialize(const ConfigFile *c) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        FUZZ_CHECK(f, "out of memory");
        fputs("# written back\n", f);
        serialize_settings(f, &c->top);
        if (c->current.value)
                fprintf(f, "context = %s\n", c->current.value);
        for (size_t i = 0; i < c->n_contexts; i++) {
                fprintf(f, "\n[context %s]\n", c->contexts[i].name);
                serialize_settings(f, &c->contexts[i].settings);
        }
        FUZZ_CHECK(fclose(f) == 0, "out of memory");
        return buf;
}

static void check_settings(const CliSettings *s) {
        for (SettingKey k = 0; k < _SETTING_MAX; k++) {
                const char *v = s->s[k].value;

                if (!v)
                        continue;
                FUZZ_CHECK(v[0] && !strchr(v, '\n'), "%s: value \"%s\"", setting_name(k), v);
                FUZZ_CHECK(s->s[k].origin && strncmp(s->s[k].origin, CONFIG_PATH ":", strlen(CONFIG_PATH) + 1) == 0,
                           "%s: origin \"%s\"", setting_name(k), s->s[k].origin ?: "(none)");
                if (setting_is_path(k))
                        FUZZ_CHECK(v[0] == '/', "%s: \"%s\" is not an absolute path", setting_name(k), v);
        }
}

static void check_same(const CliSettings *a, const CliSettings *b, const char *where) {
        for (SettingKey k = 0; k < _SETTING_MAX; k++)
                FUZZ_CHECK(!a->s[k].value == !b->s[k].value &&
                           (!a->s[k].value || strcmp(a->s[k].value, b->s[k].value) == 0),
                           "%s %s: \"%s\" reads back as \"%s\"", where, setting_name(k), a->s[k].value ?: "(unset)",
                           b->s[k].value ?: "(unset)");
}

static void check_server(const char *value) {
        _cleanup_cli_error_ CliError e3 = {}, e4 = {};
        _cleanup_free_ char *server = NULL, *twice = NULL;

        if (value && normalize_server(value, &server, &e3) >= 0)
                FUZZ_CHECK(normalize_server(server, &twice, &e4) == 0 && strcmp(server, twice) == 0,
                           "\"%s\" normalises to \"%s\", then to \"%s\"", value, server, twice ?: "(error)");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(config_file_done) ConfigFile c = {}, again = {};
        _cleanup_cli_error_ CliError e = {}, e2 = {};
        _cleanup_free_ char *text = NULL;
        int r;

        parse(data, size, &c, &e, &r);
        if (r < 0) {
                FUZZ_CHECK(e.message && e.message[0] && e.exit_status == CLI_EXIT_CONFIG,
                           "error %d without a message or with exit status %d", r, e.exit_status);
                return 0;
        }
        FUZZ_CHECK(!e.message, "a message although it succeeded");

        check_settings(&c.top);
        FUZZ_CHECK(!c.current.value || config_file_find_context(&c, c.current.value),
                   "the current context \"%s\" is not defined", c.current.value);
        for (size_t i = 0; i < c.n_contexts; i++) {
                FUZZ_CHECK(!context_name_invalid(c.contexts[i].name), "context name \"%s\"", c.contexts[i].name);
                FUZZ_CHECK(config_file_find_context(&c, c.contexts[i].name) == &c.contexts[i],
                           "context \"%s\" twice", c.contexts[i].name);
                check_settings(&c.contexts[i].settings);
        }

        text = serialize(&c);
        parse((const uint8_t *) text, strlen(text), &again, &e2, &r);
        FUZZ_CHECK(r == 0, "written back, it does not parse: %s", e2.message);
        check_same(&c.top, &again.top, "top");
        FUZZ_CHECK(!c.current.value == !again.current.value &&
                   (!c.current.value || strcmp(c.current.value, again.current.value) == 0),
                   "the current context \"%s\" reads back as \"%s\"", c.current.value ?: "(unset)",
                   again.current.value ?: "(unset)");
        FUZZ_CHECK(c.n_contexts == again.n_contexts, "%zu contexts read back as %zu", c.n_contexts,
                   again.n_contexts);
        for (size_t i = 0; i < c.n_contexts; i++) {
                FUZZ_CHECK(strcmp(c.contexts[i].name, again.contexts[i].name) == 0,
                           "context \"%s\" reads back as \"%s\"", c.contexts[i].name, again.contexts[i].name);
                check_same(&c.contexts[i].settings, &again.contexts[i].settings, c.contexts[i].name);
                check_server(c.contexts[i].settings.s[SETTING_SERVER].value);
        }
        check_server(c.top.s[SETTING_SERVER].value);
        return 0;
}
