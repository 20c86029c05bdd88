/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CLI's configuration file (client/config.c), read from the input as
 * if it were /etc/jobrunner/client.conf.
 *
 * What it accepts must be usable as it is (no empty value, no line break,
 * absolute paths for the files) and must read back the same when written
 * out again as "key = value" lines; the server value is then normalised as
 * settings_resolve() does, which must be idempotent.  A "~/" value is
 * below fuzz.c's fixed $HOME. */

#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "macro.h"

#define CONFIG_PATH "/etc/jobrunner/client.conf"

static void parse(const uint8_t *data, size_t size, CliSettings *ret, CliError *e, int *r) {
        _cleanup_fclose_ FILE *f = fuzz_open_input(data, size);

        *r = config_parse_file(f, CONFIG_PATH, ret, e);
}

static char *serialize(const CliSettings *s) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        FUZZ_CHECK(f, "out of memory");
        fputs("# written back\n", f);
        for (SettingKey k = 0; k < _SETTING_MAX; k++)
                if (s->s[k].value)
                        fprintf(f, "%s = %s\n", setting_name(k), s->s[k].value);
        FUZZ_CHECK(fclose(f) == 0, "out of memory");
        return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(settings_done) CliSettings s = {}, again = {};
        _cleanup_cli_error_ CliError e = {}, e2 = {};
        _cleanup_free_ char *text = NULL;
        int r;

        parse(data, size, &s, &e, &r);
        if (r < 0) {
                FUZZ_CHECK(e.message && e.message[0] && e.exit_status == CLI_EXIT_CONFIG,
                           "error %d without a message or with exit status %d", r, e.exit_status);
                return 0;
        }
        FUZZ_CHECK(!e.message, "a message although it succeeded");

        for (SettingKey k = 0; k < _SETTING_MAX; k++) {
                const char *v = s.s[k].value;

                if (!v)
                        continue;
                FUZZ_CHECK(v[0] && !strchr(v, '\n'), "%s: value \"%s\"", setting_name(k), v);
                FUZZ_CHECK(s.s[k].origin && strncmp(s.s[k].origin, CONFIG_PATH ":", strlen(CONFIG_PATH) + 1) == 0,
                           "%s: origin \"%s\"", setting_name(k), s.s[k].origin ?: "(none)");
                if (k != SETTING_SERVER)
                        FUZZ_CHECK(v[0] == '/', "%s: \"%s\" is not an absolute path", setting_name(k), v);
        }

        text = serialize(&s);
        parse((const uint8_t *) text, strlen(text), &again, &e2, &r);
        FUZZ_CHECK(r == 0, "written back, it does not parse: %s", e2.message);
        for (SettingKey k = 0; k < _SETTING_MAX; k++)
                FUZZ_CHECK(!s.s[k].value == !again.s[k].value &&
                           (!s.s[k].value || strcmp(s.s[k].value, again.s[k].value) == 0),
                           "%s: \"%s\" reads back as \"%s\"", setting_name(k), s.s[k].value ?: "(unset)",
                           again.s[k].value ?: "(unset)");

        if (s.s[SETTING_SERVER].value) {
                _cleanup_cli_error_ CliError e3 = {}, e4 = {};
                _cleanup_free_ char *server = NULL, *twice = NULL;

                if (normalize_server(s.s[SETTING_SERVER].value, &server, &e3) >= 0)
                        FUZZ_CHECK(normalize_server(server, &twice, &e4) == 0 && strcmp(server, twice) == 0,
                                   "\"%s\" normalises to \"%s\", then to \"%s\"", s.s[SETTING_SERVER].value,
                                   server, twice ?: "(error)");
        }
        return 0;
}
