/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Where the CLI's connection settings come from (client/config.c): flags >
 * environment > the selected context > user file > system file > defaults,
 * per setting, in a temporary HOME; which context is selected; the file
 * syntax, contexts included, and its errors (client/config-file.c); server
 * addresses; and what client/identity.c reads from a certificate. */

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config-file.h"
#include "config.h"
#include "identity.h"
#include "macro.h"

extern char **environ;

static char tmp[PATH_MAX];
static char home[PATH_MAX + 16], sys_conf[PATH_MAX + 32], user_dir[PATH_MAX + 64], root_tls[PATH_MAX + 32];
/* The system's files of the test: none exists unless a test writes it. */
static const CliSystemFiles sys_files = { .config = sys_conf, .root_tls_dir = root_tls };

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "we");

        cr_assert_not_null(f, "%s: %m", path);
        fputs(text, f);
        cr_assert_eq(fclose(f), 0);
}

static void setup(void) {
        snprintf(tmp, sizeof(tmp), "/tmp/jr-test-cli-config.XXXXXX");
        cr_assert_not_null(mkdtemp(tmp));
        snprintf(home, sizeof(home), "%s/home", tmp);
        snprintf(sys_conf, sizeof(sys_conf), "%s/client.conf", tmp);
        snprintf(user_dir, sizeof(user_dir), "%s/.config/jobrunner", home);
        snprintf(root_tls, sizeof(root_tls), "%s/root-tls", tmp);
        cr_assert_eq(mkdir(home, 0700), 0);
        setenv("HOME", home, 1);
        unsetenv("XDG_CONFIG_HOME");
        unsetenv("JOBRUNNER_SERVER");
        unsetenv("JOBRUNNER_CERT");
        unsetenv("JOBRUNNER_KEY");
        unsetenv("JOBRUNNER_CA");
        unsetenv("JOBRUNNER_TLS_SERVER_NAME");
        unsetenv("JOBRUNNER_CONTEXT");
}

static void teardown(void) {
        char *argv[] = { (char *) "/bin/rm", (char *) "-rf", tmp, NULL };
        pid_t pid;

        if (tmp[0] && posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) == 0)
                (void) waitpid(pid, NULL, 0);
}

static void user_config(const char *text) {
        char path[PATH_MAX + 128];

        snprintf(path, sizeof(path), "%s/.config", home);
        (void) mkdir(path, 0700);
        (void) mkdir(user_dir, 0700);
        snprintf(path, sizeof(path), "%s/config", user_dir);
        write_file(path, text);
}

static void expect(const CliSettings *s, SettingKey k, const char *value, const char *origin) {
        cr_assert_str_eq(s->s[k].value, value, "%s: '%s', expected '%s'", setting_name(k), s->s[k].value, value);
        cr_assert_str_eq(s->s[k].origin, origin, "%s: from '%s', expected '%s'", setting_name(k), s->s[k].origin,
                         origin);
}

static void expect_context(const CliSettings *s, const char *name, const char *origin) {
        cr_assert_str_eq(s->context.value, name, "context '%s', expected '%s'", s->context.value, name);
        cr_assert_str_eq(s->context.origin, origin, "context from '%s', expected '%s'", s->context.origin, origin);
}

TestSuite(config, .init = setup, .fini = teardown);

Test(config, defaults) {
        CliSettings s = {};
        CliError e = {};
        char path[PATH_MAX + 128];

        cr_assert_eq(settings_resolve(NULL, &sys_files, &s, &e), 0, "%s", e.message);
        expect(&s, SETTING_SERVER, "localhost:50051", "default");
        snprintf(path, sizeof(path), "%s/tls/client.crt", user_dir);
        expect(&s, SETTING_CERT, path, "default");
        snprintf(path, sizeof(path), "%s/tls/client.key", user_dir);
        expect(&s, SETTING_KEY, path, "default");
        snprintf(path, sizeof(path), "%s/tls/ca.crt", user_dir);
        expect(&s, SETTING_CA, path, "default");
        settings_done(&s);
}

static void expect_tls_dir(uid_t uid, const char *want, const char *what) {
        char *dir = NULL;

        cr_assert_eq(default_tls_dir(user_dir, uid, root_tls, &dir), 0);
        cr_assert_str_eq(dir, want, "%s: %s, expected %s", what, dir, want);
        free(dir);
}

/* Root without certificates of its own uses those the package made for
 * it; anybody else, or root with its own, never. */
Test(config, root_tls_dir) {
        char user_tls[PATH_MAX + 128], path[PATH_MAX + 160];

        snprintf(user_tls, sizeof(user_tls), "%s/tls", user_dir);
        expect_tls_dir(0, user_tls, "root, no certificate anywhere");

        cr_assert_eq(mkdir(root_tls, 0755), 0);
        snprintf(path, sizeof(path), "%s/client.crt", root_tls);
        write_file(path, "");
        expect_tls_dir(0, root_tls, "root without its own");
        expect_tls_dir(1000, user_tls, "not root");

        snprintf(path, sizeof(path), "%s/.config", home);
        cr_assert_eq(mkdir(path, 0700), 0);
        cr_assert_eq(mkdir(user_dir, 0700), 0);
        cr_assert_eq(mkdir(user_tls, 0700), 0);
        snprintf(path, sizeof(path), "%s/client.crt", user_tls);
        write_file(path, "");
        expect_tls_dir(0, user_tls, "root with its own");
}

Test(config, xdg_config_home) {
        CliSettings s = {};
        CliError e = {};
        char path[PATH_MAX + 128];

        setenv("XDG_CONFIG_HOME", tmp, 1);
        cr_assert_eq(settings_resolve(NULL, &sys_files, &s, &e), 0, "%s", e.message);
        snprintf(path, sizeof(path), "%s/jobrunner/tls/client.crt", tmp);
        expect(&s, SETTING_CERT, path, "default");
        settings_done(&s);

        /* A relative one is ignored, as the XDG spec says. */
        setenv("XDG_CONFIG_HOME", "relative", 1);
        cr_assert_eq(settings_resolve(NULL, &sys_files, &s, &e), 0, "%s", e.message);
        snprintf(path, sizeof(path), "%s/tls/client.crt", user_dir);
        expect(&s, SETTING_CERT, path, "default");
        settings_done(&s);
}

Test(config, precedence) {
        char user_path[PATH_MAX + 128], sys_origin[PATH_MAX + 64], user_origin[PATH_MAX + 160], p[PATH_MAX + 128];
        CliSettings s = {};
        CliError e = {};

        write_file(sys_conf,
                   "# the system's\n"
                   "server = sys.example:1\n"
                   "cert = /sys/client.crt\n"
                   "key=/sys/client.key\n"
                   "  ca   =   /sys/ca.crt  \n");
        user_config("server = user.example\n"
                    "\n"
                    "cert = mine.crt\n"
                    "key = ~/keys/mine.key\n");
        snprintf(user_path, sizeof(user_path), "%s/config", user_dir);

        /* Files: the user's wins per setting; the system's fills in. */
        cr_assert_eq(settings_resolve(NULL, &sys_files, &s, &e), 0, "%s", e.message);
        snprintf(user_origin, sizeof(user_origin), "%s:1", user_path);
        expect(&s, SETTING_SERVER, "user.example:50051", user_origin);
        snprintf(user_origin, sizeof(user_origin), "%s:3", user_path);
        snprintf(p, sizeof(p), "%s/mine.crt", user_dir);
        expect(&s, SETTING_CERT, p, user_origin);
        snprintf(user_origin, sizeof(user_origin), "%s:4", user_path);
        snprintf(p, sizeof(p), "%s/keys/mine.key", home);
        expect(&s, SETTING_KEY, p, user_origin);
        snprintf(sys_origin, sizeof(sys_origin), "%s:5", sys_conf);
        expect(&s, SETTING_CA, "/sys/ca.crt", sys_origin);
        settings_done(&s);

        /* The environment beats the files. */
        setenv("JOBRUNNER_SERVER", "env.example:2", 1);
        setenv("JOBRUNNER_CA", "env-ca.crt", 1);
        setenv("JOBRUNNER_KEY", "", 1);                 /* empty: as if unset */
        cr_assert_eq(settings_resolve(NULL, &sys_files, &s, &e), 0, "%s", e.message);
        expect(&s, SETTING_SERVER, "env.example:2", "$JOBRUNNER_SERVER");
        expect(&s, SETTING_CA, "env-ca.crt", "$JOBRUNNER_CA");
        expect(&s, SETTING_KEY, p, user_origin);
        settings_done(&s);

        /* Flags beat everything. */
        cr_assert_eq(settings_resolve(&(CliFlags) { .server = "[::1]:3", .ca = "flag-ca.crt" }, &sys_files, &s, &e), 0,
                     "%s", e.message);
        expect(&s, SETTING_SERVER, "[::1]:3", "--server");
        expect(&s, SETTING_CA, "flag-ca.crt", "--ca");
        snprintf(p, sizeof(p), "%s/mine.crt", user_dir);
        snprintf(user_origin, sizeof(user_origin), "%s:3", user_path);
        expect(&s, SETTING_CERT, p, user_origin);
        settings_done(&s);
}

Test(config, a_missing_home_is_explained) {
        CliSettings s = {};
        CliError e = {};

        /* HOME unset: the password database has root's. */
        unsetenv("HOME");
        cr_assert_eq(settings_resolve(&(CliFlags) { .server = "x" }, &sys_files, &s, &e), 0, "%s", e.message);
        settings_done(&s);
}

Test(config, file_errors) {
        static const struct {
                const char *text;
                const char *message;    /* after "PATH:" */
        } table[] = {
                { "server = a\nbogus = 1\n",
                  "2: unknown key 'bogus' (known: server, cert, key, ca, tls-server-name, context)" },
                { "server a\n", "1: expected 'key = value' or '[context NAME]', got 'server a'" },
                { "# ok\ncert =\n", "2: empty value for 'cert'" },
                { "ca = a\nca = b\n", "2: 'ca' is set a second time" },
                { "Server = a\n", "1: unknown key 'Server' (known: server, cert, key, ca, tls-server-name, context)" },
                /* Contexts. */
                { "[context a]\ncontext = a\n",
                  "2: unknown key 'context' in [context a] (known: server, cert, key, ca, tls-server-name)" },
                { "[context a\n", "1: expected 'key = value' or '[context NAME]', got '[context a'" },
                { "[context]\n", "1: unknown section '[context]' (known: [context NAME])" },
                { "[]\n", "1: unknown section '[]' (known: [context NAME])" },
                { "[profile a]\n", "1: unknown section '[profile a]' (known: [context NAME])" },
                { "[context a b]\n",
                  "1: invalid context name 'a b': only letters, digits, '.', '_' and '-' are allowed" },
                { "[context a/b]\n",
                  "1: invalid context name 'a/b': only letters, digits, '.', '_' and '-' are allowed" },
                { "[context -a]\n", "1: invalid context name '-a': it starts with '-' or '.'" },
                { "[context a]\nserver = x\n# again\n[context a]\n",
                  "4: context 'a' is defined a second time (first on line 1)" },
                { "[context a]\nca = x\nca = y\n", "3: 'ca' is set a second time" },
                { "context = b\n[context a]\n", "1: no [context b] in this file" },
                { "context = a\ncontext = a\n[context a]\n", "2: 'context' is set a second time" },
                { "context = *\n", "1: invalid context name '*': only letters, digits, '.', '_' and '-' are allowed" },
                { "context =\n", "1: empty value for 'context'" },
        };

        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                char expected[PATH_MAX + 256];
                CliSettings s = {};
                CliError e = {};

                write_file(sys_conf, table[i].text);
                cr_assert_lt(settings_resolve(NULL, &sys_files, &s, &e), 0, "'%s' accepted", table[i].text);
                cr_assert_eq(e.exit_status, CLI_EXIT_CONFIG);
                snprintf(expected, sizeof(expected), "%s:%s", sys_conf, table[i].message);
                cr_assert_str_eq(e.message, expected);
                cli_error_clear(&e);
        }
}

Test(config, a_bad_server_names_its_origin) {
        CliSettings s = {};
        CliError e = {};
        char expected[PATH_MAX + 256];

        write_file(sys_conf, "server = host:99999\n");
        cr_assert_lt(settings_resolve(NULL, &sys_files, &s, &e), 0);
        cr_assert_eq(e.exit_status, CLI_EXIT_CONFIG);
        snprintf(expected, sizeof(expected), "invalid server address 'host:99999': the port must be a number from 1 "
                 "to 65535 (from %s:1)", sys_conf);
        cr_assert_str_eq(e.message, expected);
        cli_error_clear(&e);

        cr_assert_lt(settings_resolve(&(CliFlags) { .server = "a:b" }, &sys_files, &s, &e), 0);
        cr_assert_eq(e.exit_status, CLI_EXIT_USAGE);
        cr_assert_str_eq(e.message, "invalid server address 'a:b': the port must be a number from 1 to 65535");
        cli_error_clear(&e);
}

Test(config, server_addresses) {
        static const struct {
                const char *in, *out;
        } good[] = {
                { "host", "host:50051" },
                { "host:1", "host:1" },
                { "jobs.example.com:7443", "jobs.example.com:7443" },
                { "192.0.2.1", "192.0.2.1:50051" },
                { "[::1]", "[::1]:50051" },
                { "[::1]:7", "[::1]:7" },
                { "::1", "[::1]:50051" },
                { "fe80::1", "[fe80::1]:50051" },
                { "fe80::1%eth0", "[fe80::1%eth0]:50051" },
                { "host:065535", "host:65535" },
        };
        static const char *const bad[] = { "", "host:0", "host:65536", "host:x", ":80", "[::1", "[]:1", "a b",
                                           "host:", "[::1]x", "http://host", "host:1:",
                                           /* Found by fuzzing: the zone of a bare IPv6 address went
                                            * unchecked, into an address that does not parse again. */
                                           "fe80::1%", "fe80::1%a b", "fe80::1%a]", "fe80::1%\x01",
                                           "fe80::1%a::1", "fe80::1%0123456789abcdef" };
        CliError e = {};

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                char *s = NULL;

                cr_assert_eq(normalize_server(good[i].in, &s, &e), 0, "'%s': %s", good[i].in, e.message);
                cr_assert_str_eq(s, good[i].out);
                free(s);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char *s = NULL;

                cr_assert_lt(normalize_server(bad[i], &s, &e), 0, "'%s' accepted as '%s'", bad[i], s);
                cr_assert_eq(e.exit_status, CLI_EXIT_USAGE);
                cli_error_clear(&e);
        }
}

/* ---- contexts ----------------------------------------------------------------- */

Test(config, contexts_parse) {
        static const char text[] =
                "# top\n"
                "server = top.example\n"
                "context = c\n"
                "\n"
                "[context a]\n"
                "server = a.example:1\n"
                "  [ context   b.2_x-Y ]  \n"
                "ca = ca.crt\n"
                "tls-server-name = jobs.example\n"
                "[context c]\n";
        _cleanup_(config_file_done) ConfigFile c = {};
        _cleanup_fclose_ FILE *f = fmemopen((char *) text, strlen(text), "r");
        CliError e = {};

        cr_assert_eq(config_parse_file(f, "/d/config", &c, &e), 0, "%s", e.message);
        cr_assert_str_eq(c.top.s[SETTING_SERVER].value, "top.example");
        cr_assert_str_eq(c.top.s[SETTING_SERVER].origin, "/d/config:2");
        cr_assert_str_eq(c.current.value, "c");
        cr_assert_str_eq(c.current.origin, "/d/config:3");
        cr_assert_eq(c.n_contexts, 3);
        cr_assert_str_eq(c.contexts[0].name, "a");
        cr_assert_eq(c.contexts[0].line, 5);
        cr_assert_str_eq(c.contexts[0].settings.s[SETTING_SERVER].value, "a.example:1");
        cr_assert_null(c.contexts[0].settings.s[SETTING_CA].value);
        cr_assert_str_eq(c.contexts[1].name, "b.2_x-Y");
        cr_assert_null(c.contexts[1].settings.s[SETTING_SERVER].value);
        cr_assert_str_eq(c.contexts[1].settings.s[SETTING_CA].value, "/d/ca.crt");
        cr_assert_str_eq(c.contexts[1].settings.s[SETTING_CA].origin, "/d/config:8");
        cr_assert_str_eq(c.contexts[1].settings.s[SETTING_TLS_SERVER_NAME].value, "jobs.example");
        cr_assert_str_eq(c.contexts[2].name, "c");
        for (SettingKey k = 0; k < _SETTING_MAX; k++)
                cr_assert_null(c.contexts[2].settings.s[k].value);
        cr_assert_null(c.top.s[SETTING_CA].value);
        cr_assert_eq(config_file_find_context(&c, "b.2_x-Y"), &c.contexts[1]);
        cr_assert_null(config_file_find_context(&c, "b"));
}

Test(config, context_names) {
        static const char *const good[] = {
                "a", "prod", "eu-west.1", "A_B", "0", "x.", "a-",
                "1234567890123456789012345678901234567890123456789012345678901234",
        };
        static const struct {
                const char *name, *why;
        } bad[] = {
                { "", "it is empty" },
                { "12345678901234567890123456789012345678901234567890123456789012345",
                  "it is longer than 64 characters" },
                { "-a", "it starts with '-' or '.'" },
                { ".a", "it starts with '-' or '.'" },
                { "..", "it starts with '-' or '.'" },
                { "a/b", "only letters, digits, '.', '_' and '-' are allowed" },
                { "a*", "only letters, digits, '.', '_' and '-' are allowed" },
                { "a?", "only letters, digits, '.', '_' and '-' are allowed" },
                { "a[1]", "only letters, digits, '.', '_' and '-' are allowed" },
                { "a b", "only letters, digits, '.', '_' and '-' are allowed" },
                { "caf\xc3\xa9", "only letters, digits, '.', '_' and '-' are allowed" },
                { "a:b", "only letters, digits, '.', '_' and '-' are allowed" },
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                cr_assert_null(context_name_invalid(good[i]), "'%s' refused", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *why = context_name_invalid(bad[i].name);

                cr_assert_not_null(why, "'%s' accepted", bad[i].name);
                cr_assert_str_eq(why, bad[i].why, "'%s'", bad[i].name);
        }
}

/* Every row of the precedence table, for one setting at a time: each
 * source in turn is taken away, and the next one shows. */
Test(config, precedence_with_contexts) {
        char user_path[PATH_MAX + 128], o[PATH_MAX + 160];
        CliSettings s = {};
        CliError e = {};

        write_file(sys_conf, "server = sys.example\ntls-server-name = sys.name\n");
        user_config("server = top.example\n"                    /* 1 */
                    "tls-server-name = top.name\n"              /* 2 */
                    "context = cur\n"                           /* 3 */
                    "[context cur]\n"                           /* 4 */
                    "server = cur.example\n"                    /* 5 */
                    "tls-server-name = cur.name\n"              /* 6 */
                    "[context other]\n"                         /* 7 */
                    "server = other.example\n"                  /* 8 */
                    "[context empty]\n");                       /* 9 */
        snprintf(user_path, sizeof(user_path), "%s/config", user_dir);
        setenv("JOBRUNNER_SERVER", "env.example", 1);
        setenv("JOBRUNNER_TLS_SERVER_NAME", "env.name", 1);

        /* Flag. */
        cr_assert_eq(settings_resolve(&(CliFlags) { .server = "flag.example", .tls_server_name = "flag.name",
                                                    .context = "other" }, &sys_files, &s, &e), 0, "%s", e.message);
        expect(&s, SETTING_SERVER, "flag.example:50051", "--server");
        expect(&s, SETTING_TLS_SERVER_NAME, "flag.name", "--tls-server-name");
        settings_done(&s);

        /* Environment, over the context selected by --context. */
        cr_assert_eq(settings_resolve(&(CliFlags) { .context = "other" }, &sys_files, &s, &e), 0, "%s", e.message);
        expect(&s, SETTING_SERVER, "env.example:50051", "$JOBRUNNER_SERVER");
        expect(&s, SETTING_TLS_SERVER_NAME, "env.name", "$JOBRUNNER_TLS_SERVER_NAME");
        expect_context(&s, "other", "--context");
        settings_done(&s);
        unsetenv("JOBRUNNER_SERVER");
        unsetenv("JOBRUNNER_TLS_SERVER_NAME");

        /* The context: --context over $JOBRUNNER_CONTEXT over the file's;
         * what the context lacks comes from the top of the file. */
        setenv("JOBRUNNER_CONTEXT", "cur", 1);
        cr_assert_eq(settings_resolve(&(CliFlags) { .context = "other" }, &sys_files, &s, &e), 0, "%s", e.message);
        snprintf(o, sizeof(o), "%s:8", user_path);
        expect(&s, SETTING_SERVER, "other.example:50051", o);
        snprintf(o, sizeof(o), "%s:2", user_path);
        expect(&s, SETTING_TLS_SERVER_NAME, "top.name", o);
        settings_done(&s);

        setenv("JOBRUNNER_CONTEXT", "other", 1);
        cr_assert_eq(settings_resolve(NULL, &sys_files, &s, &e), 0, "%s", e.message);
        snprintf(o, sizeof(o), "%s:8", user_path);
        expect(&s, SETTING_SERVER, "other.example:50051", o);
        expect_context(&s, "other", "$JOBRUNNER_CONTEXT");
        settings_done(&s);
        setenv("JOBRUNNER_CONTEXT", "", 1);             /* empty: as if unset */

        cr_assert_eq(settings_resolve(NULL, &sys_files, &s, &e), 0, "%s", e.message);
        snprintf(o, sizeof(o), "%s:5", user_path);
        expect(&s, SETTING_SERVER, "cur.example:50051", o);
        snprintf(o, sizeof(o), "%s:6", user_path);
        expect(&s, SETTING_TLS_SERVER_NAME, "cur.name", o);
        snprintf(o, sizeof(o), "%s:3", user_path);
        expect_context(&s, "cur", o);
        settings_done(&s);

        /* The top of the user's file, for a context without them. */
        cr_assert_eq(settings_resolve(&(CliFlags) { .context = "empty" }, &sys_files, &s, &e), 0, "%s", e.message);
        snprintf(o, sizeof(o), "%s:1", user_path);
        expect(&s, SETTING_SERVER, "top.example:50051", o);
        snprintf(o, sizeof(o), "%s:2", user_path);
        expect(&s, SETTING_TLS_SERVER_NAME, "top.name", o);
        settings_done(&s);

        /* The system's file. */
        user_config("context = empty\n[context empty]\n");
        cr_assert_eq(settings_resolve(NULL, &sys_files, &s, &e), 0, "%s", e.message);
        snprintf(o, sizeof(o), "%s:1", sys_conf);
        expect(&s, SETTING_SERVER, "sys.example:50051", o);
        snprintf(o, sizeof(o), "%s:2", sys_conf);
        expect(&s, SETTING_TLS_SERVER_NAME, "sys.name", o);
        settings_done(&s);

        /* The defaults: no TLS server name, no context. */
        write_file(sys_conf, "");
        user_config("");
        cr_assert_eq(settings_resolve(NULL, &sys_files, &s, &e), 0, "%s", e.message);
        expect(&s, SETTING_SERVER, "localhost:50051", "default");
        cr_assert_null(s.s[SETTING_TLS_SERVER_NAME].value);
        cr_assert_null(s.s[SETTING_TLS_SERVER_NAME].origin);
        cr_assert_null(s.context.value);
        cr_assert_null(s.context.origin);
        settings_done(&s);
}

Test(config, an_unknown_context_says_what_selected_it) {
        char expected[PATH_MAX + 256];
        CliSettings s = {};
        CliError e = {};

        user_config("[context a]\n");
        cr_assert_lt(settings_resolve(&(CliFlags) { .context = "b" }, &sys_files, &s, &e), 0);
        cr_assert_eq(e.exit_status, CLI_EXIT_CONFIG);
        snprintf(expected, sizeof(expected), "no context 'b' in %s/config (selected by --context)", user_dir);
        cr_assert_str_eq(e.message, expected);
        cli_error_clear(&e);

        setenv("JOBRUNNER_CONTEXT", "c", 1);
        cr_assert_lt(settings_resolve(NULL, &sys_files, &s, &e), 0);
        cr_assert_eq(e.exit_status, CLI_EXIT_CONFIG);
        snprintf(expected, sizeof(expected), "no context 'c' in %s/config (selected by $JOBRUNNER_CONTEXT)", user_dir);
        cr_assert_str_eq(e.message, expected);
        cli_error_clear(&e);

        /* Without a user's file at all. */
        unsetenv("JOBRUNNER_CONTEXT");
        user_config("");
        cr_assert_lt(settings_resolve(&(CliFlags) { .context = "a", .context_origin = "the command line" },
                                      &sys_files, &s, &e), 0);
        snprintf(expected, sizeof(expected), "no context 'a' in %s/config (selected by the command line)", user_dir);
        cr_assert_str_eq(e.message, expected);
        cli_error_clear(&e);
}

Test(config, contexts_are_the_users) {
        char expected[PATH_MAX + 256];
        CliSettings s = {};
        CliError e = {};

        write_file(sys_conf, "server = s\n\n[context a]\n");
        cr_assert_lt(settings_resolve(NULL, &sys_files, &s, &e), 0);
        cr_assert_eq(e.exit_status, CLI_EXIT_CONFIG);
        snprintf(expected, sizeof(expected),
                 "%s:3: contexts belong in the user's configuration file, not the system's", sys_conf);
        cr_assert_str_eq(e.message, expected);
        cli_error_clear(&e);
}

/* ---- identity ----------------------------------------------------------------- */

static int run(char *const *argv) {
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int status;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0)
                return -1;
        posix_spawn_file_actions_destroy(&fa);
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
                return -1;
        return WEXITSTATUS(status);
}

/* A self-signed certificate with this subject, valid for days (negative:
 * expired), and its key. */
static void make_cert(const char *name, const char *subject, const char *days, const char *extra) {
        char crt[PATH_MAX + 32], key[PATH_MAX + 32];
        char *argv[] = {
                (char *) "openssl", (char *) "req", (char *) "-x509", (char *) "-newkey", (char *) "ec",
                (char *) "-pkeyopt", (char *) "ec_paramgen_curve:P-256", (char *) "-nodes", (char *) "-keyout", key,
                (char *) "-out", crt, (char *) "-subj", (char *) subject, (char *) "-days", (char *) days,
                extra ? (char *) "-addext" : NULL, (char *) extra, NULL,
        };

        snprintf(crt, sizeof(crt), "%s/%s.crt", tmp, name);
        snprintf(key, sizeof(key), "%s/%s.key", tmp, name);
        if (run(argv) != 0)
                cr_skip_test("cannot make a certificate with openssl");
}

Test(config, identity_from_a_certificate) {
        char crt[PATH_MAX + 32], key[PATH_MAX + 32], other_key[PATH_MAX + 32];
        _cleanup_free_ char *who = NULL, *diagnosis = NULL, *diagnosis2 = NULL;
        Identity id = {};
        CliError e = {};

        make_cert("carol", "/O=jobrunner/OU=viewer/CN=carol", "30", "extendedKeyUsage=serverAuth");
        make_cert("dave", "/CN=dave", "30", NULL);
        snprintf(crt, sizeof(crt), "%s/carol.crt", tmp);
        snprintf(key, sizeof(key), "%s/carol.key", tmp);
        snprintf(other_key, sizeof(other_key), "%s/dave.key", tmp);

        cr_assert_eq(identity_load(crt, &id, &e), 0, "%s", e.message);
        cr_assert_str_eq(id.cn, "carol");
        cr_assert_str_eq(id.ou, "viewer");
        cr_assert_gt(id.not_after, id.not_before);
        who = identity_describe(&id);
        cr_assert_str_eq(who, "carol (role viewer)");
        identity_done(&id);

        cr_assert_eq(identity_check_key_pair(crt, key, &e), 0, "%s", e.message);
        cr_assert_lt(identity_check_key_pair(crt, other_key, &e), 0);
        cr_assert_eq(e.exit_status, CLI_EXIT_CONFIG);
        cr_assert_not_null(strstr(e.message, "does not belong to the certificate"), "%s", e.message);
        cli_error_clear(&e);
        cr_assert_lt(identity_check_key_pair(crt, "/nonexistent.key", &e), 0);
        cr_assert_not_null(strstr(e.message, "cannot read the client key /nonexistent.key"), "%s", e.message);
        cli_error_clear(&e);
        cr_assert_lt(identity_load(key, &id, &e), 0);
        cr_assert_not_null(strstr(e.message, "is not a PEM certificate"), "%s", e.message);
        cli_error_clear(&e);

        /* carol's is its own CA, but for servers only, and expired in ten
         * years' time; dave's CA is not carol's. */
        cr_assert_eq(identity_diagnose(crt, crt, (int64_t) time(NULL), &diagnosis), 0);
        cr_assert_str_eq(diagnosis, " It is not a client certificate (its extendedKeyUsage lacks clientAuth).");
        snprintf(other_key, sizeof(other_key), "%s/dave.crt", tmp);
        cr_assert_eq(identity_diagnose(crt, other_key, (int64_t) time(NULL) + 40 * 86400, &diagnosis2), 0);
        cr_assert(strncmp(diagnosis2, " It expired on ", 15) == 0, "%s", diagnosis2);
        cr_assert_not_null(strstr(diagnosis2, " It is not signed by the CA in "), "%s", diagnosis2);

        cr_assert_eq(identity_load(other_key, &id, &e), 0);
        cr_assert_null(id.ou);
        free(who);
        who = identity_describe(&id);
        cr_assert_str_eq(who, "dave (no role: the certificate has no OU)");
        identity_done(&id);
}
