/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The user's configuration file as the context commands change it
 * (client/config-edit.c): every line they do not change stays byte for
 * byte, the file is replaced whole and is 0600 in a 0700 directory, and a
 * file that does not parse is left alone. */

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config-edit.h"
#include "macro.h"

extern char **environ;

static char tmp[PATH_MAX], dir[PATH_MAX + 32], path[PATH_MAX + 64];

static void setup(void) {
        snprintf(tmp, sizeof(tmp), "/tmp/jr-test-cli-config-edit.XXXXXX");
        cr_assert_not_null(mkdtemp(tmp));
        snprintf(dir, sizeof(dir), "%s/a/jobrunner", tmp);
        snprintf(path, sizeof(path), "%s/config", dir);
        setenv("HOME", tmp, 1);
}

static void teardown(void) {
        char *argv[] = { (char *) "/bin/rm", (char *) "-rf", tmp, NULL };
        pid_t pid;

        if (tmp[0] && posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) == 0)
                (void) waitpid(pid, NULL, 0);
}

TestSuite(config_edit, .init = setup, .fini = teardown);

static void write_config(const char *text, mode_t mode) {
        FILE *f;

        char parent[PATH_MAX + 32];

        snprintf(parent, sizeof(parent), "%s/a", tmp);
        (void) mkdir(parent, 0700);
        cr_assert(mkdir(dir, 0700) == 0 || errno == EEXIST);
        f = fopen(path, "we");
        cr_assert_not_null(f);
        fputs(text, f);
        cr_assert_eq(fclose(f), 0);
        cr_assert_eq(chmod(path, mode), 0);
}

static char *read_config(void) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char *text = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&text, &size);
        int c;

        cr_assert_not_null(f, "%s: %m", path);
        while ((c = fgetc(f)) != EOF)
                fputc(c, m);
        cr_assert_eq(fclose(m), 0);
        return text;
}

static void expect_config(const char *expected) {
        _cleanup_free_ char *text = read_config();
        struct stat st;

        cr_assert_str_eq(text, expected);
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
}

typedef enum Op {
        ADD,
        RM,
        USE,
        UNUSE,
} Op;

/* Loads the file, does op, saves it. */
static int edit(Op op, const char *name, const char *const values[_SETTING_MAX], CliError *e) {
        _cleanup_(config_edit_done) ConfigEdit c = {};
        int r;

        r = config_edit_load(path, &c, e);
        if (r < 0)
                return r;
        switch (op) {
        case ADD:
                r = config_edit_add_context(&c, name, values, e);
                break;
        case RM:
                r = config_edit_remove_context(&c, name, e);
                break;
        case USE:
                r = config_edit_set_current(&c, name, e);
                break;
        case UNUSE:
                r = config_edit_set_current(&c, NULL, e);
                break;
        }
        if (r < 0)
                return r;
        return config_edit_save(&c, e);
}

static void edit_ok(Op op, const char *name, const char *const values[_SETTING_MAX]) {
        CliError e = {};

        cr_assert_eq(edit(op, name, values, &e), 0, "%s", e.message);
}

#define VALUES(...) ((const char *const[_SETTING_MAX]) { __VA_ARGS__ })
#define SERVER_ONLY(s) VALUES([SETTING_SERVER] = (s))

static void expect_error(int r, CliError *e, int status, const char *message) {
        cr_assert_lt(r, 0);
        cr_assert_eq(e->exit_status, status, "exit status %d: %s", e->exit_status, e->message);
        cr_assert_str_eq(e->message, message);
        cli_error_clear(e);
}

/* No file, no directory: both are made, 0700 and 0600, and nothing else
 * is left in the directory. */
Test(config_edit, a_new_file) {
        struct stat st;
        DIR *d;
        unsigned n = 0;

        edit_ok(ADD, "prod", VALUES([SETTING_SERVER] = "p:1", [SETTING_CA] = "/ca.crt",
                                    [SETTING_TLS_SERVER_NAME] = "jobs.example"));
        expect_config("[context prod]\n"
                      "server = p:1\n"
                      "ca = /ca.crt\n"
                      "tls-server-name = jobs.example\n");
        cr_assert_eq(stat(dir, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0700, "mode %o", st.st_mode & 07777);

        d = opendir(dir);
        cr_assert_not_null(d);
        for (struct dirent *de; (de = readdir(d));)
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        cr_assert_str_eq(de->d_name, "config");
                        n++;
                }
        closedir(d);
        cr_assert_eq(n, 1);

        edit_ok(USE, "prod", NULL);
        expect_config("context = prod\n"
                      "\n"
                      "[context prod]\n"
                      "server = p:1\n"
                      "ca = /ca.crt\n"
                      "tls-server-name = jobs.example\n");
        edit_ok(RM, "prod", NULL);
        expect_config("");
}

/* Comments, odd spacing, CRLF and a last line without '\n': a round of
 * changes undone gives the same bytes back. */
#define ORIGINAL                                \
        "# My jobrunner settings.\n"            \
        "\n"                                    \
        "  server=top.example   \n"             \
        "cert = ~/my.crt\r\n"                   \
        "# the key is next to it\n"             \
        "key = ~/my.key\n"                      \
        "\n"                                    \
        "# staging: the test cluster\n"         \
        "[context staging]\n"                   \
        "server = st.example   # not a comment\n" \
        "\n"                                    \
        "\t# end of staging"

Test(config_edit, comments_are_kept_byte_for_byte) {
        write_config(ORIGINAL, 0644);

        edit_ok(ADD, "prod", SERVER_ONLY("p:1"));
        expect_config(ORIGINAL "\n"
                      "\n"
                      "[context prod]\n"
                      "server = p:1\n");
        edit_ok(USE, "prod", NULL);
        expect_config("# My jobrunner settings.\n"
                      "\n"
                      "  server=top.example   \n"
                      "cert = ~/my.crt\r\n"
                      "# the key is next to it\n"
                      "key = ~/my.key\n"
                      "context = prod\n"
                      "\n"
                      "# staging: the test cluster\n"
                      "[context staging]\n"
                      "server = st.example   # not a comment\n"
                      "\n"
                      "\t# end of staging\n"
                      "\n"
                      "[context prod]\n"
                      "server = p:1\n");
        /* In place. */
        edit_ok(USE, "staging", NULL);
        expect_config("# My jobrunner settings.\n"
                      "\n"
                      "  server=top.example   \n"
                      "cert = ~/my.crt\r\n"
                      "# the key is next to it\n"
                      "key = ~/my.key\n"
                      "context = staging\n"
                      "\n"
                      "# staging: the test cluster\n"
                      "[context staging]\n"
                      "server = st.example   # not a comment\n"
                      "\n"
                      "\t# end of staging\n"
                      "\n"
                      "[context prod]\n"
                      "server = p:1\n");
        edit_ok(UNUSE, NULL, NULL);
        edit_ok(RM, "prod", NULL);
        /* The last line got its '\n'; nothing else changed. */
        expect_config(ORIGINAL "\n");
}

/* Removing a context takes its lines; the comments right above the next
 * one stay with it; the current one is current no more. */
Test(config_edit, remove) {
        write_config("server = top\n"
                     "context = b\n"
                     "\n"
                     "[context a]\n"
                     "server = a\n"
                     "# about a\n"
                     "\n"
                     "[context b]\n"
                     "server = b\n"
                     "\n"
                     "\n"
                     "# c is the next\n"
                     "\n"
                     "# really\n"
                     "[context c]\n"
                     "server = c\n", 0600);
        edit_ok(RM, "b", NULL);
        expect_config("server = top\n"
                      "\n"
                      "[context a]\n"
                      "server = a\n"
                      "# about a\n"
                      "\n"
                      "# c is the next\n"
                      "\n"
                      "# really\n"
                      "[context c]\n"
                      "server = c\n");
        edit_ok(RM, "a", NULL);
        expect_config("server = top\n"
                      "\n"
                      "# c is the next\n"
                      "\n"
                      "# really\n"
                      "[context c]\n"
                      "server = c\n");
        edit_ok(RM, "c", NULL);
        expect_config("server = top\n"
                      "\n"
                      "# c is the next\n"
                      "\n"
                      "# really\n");
}

/* With no top-level key, "context =" goes above the first context and the
 * comments about it. */
Test(config_edit, use_without_top_level_keys) {
        write_config("# header\n"
                     "\n"
                     "# a is the first\n"
                     "[context a]\n"
                     "server = a\n", 0600);
        edit_ok(USE, "a", NULL);
        expect_config("# header\n"
                      "\n"
                      "context = a\n"
                      "\n"
                      "# a is the first\n"
                      "[context a]\n"
                      "server = a\n");
        /* And back. */
        edit_ok(UNUSE, NULL, NULL);
        expect_config("# header\n"
                      "\n"
                      "# a is the first\n"
                      "[context a]\n"
                      "server = a\n");
}

Test(config_edit, a_malformed_file_is_not_touched) {
        static const char text[] = "# fine\nserver = x\nbogus\n[context a]\n";
        char expected[2 * PATH_MAX + 512];
        CliError e = {};

        write_config(text, 0644);
        snprintf(expected, sizeof(expected),
                 "%s:3: expected 'key = value' or '[context NAME]', got 'bogus'; %s was not changed", path, path);
        expect_error(edit(ADD, "b", SERVER_ONLY("b:1"), &e), &e, CLI_EXIT_CONFIG, expected);
        expect_error(edit(USE, "a", NULL, &e), &e, CLI_EXIT_CONFIG, expected);
        expect_error(edit(RM, "a", NULL, &e), &e, CLI_EXIT_CONFIG, expected);
        {
                _cleanup_free_ char *now = read_config();
                struct stat st;

                cr_assert_str_eq(now, text);
                cr_assert_eq(stat(path, &st), 0);
                cr_assert_eq(st.st_mode & 07777, 0644);
        }
}

Test(config_edit, refusals) {
        char expected[2 * PATH_MAX + 512];
        CliError e = {};

        write_config("[context a]\nserver = a\n", 0600);
        snprintf(expected, sizeof(expected), "context 'a' exists already in %s", path);
        expect_error(edit(ADD, "a", SERVER_ONLY("x:1"), &e), &e, CLI_EXIT_USAGE, expected);
        snprintf(expected, sizeof(expected), "no context 'b' in %s", path);
        expect_error(edit(USE, "b", NULL, &e), &e, CLI_EXIT_USAGE, expected);
        expect_error(edit(RM, "b", NULL, &e), &e, CLI_EXIT_USAGE, expected);
        expect_error(edit(ADD, "a/b", SERVER_ONLY("x:1"), &e), &e, CLI_EXIT_USAGE,
                     "invalid context name 'a/b': only letters, digits, '.', '_' and '-' are allowed");
        expect_error(edit(ADD, "b", VALUES([SETTING_SERVER] = "x:1", [SETTING_CA] = "/a\nserver = evil"), &e), &e,
                     CLI_EXIT_USAGE, "cannot store the ca '/a\nserver = evil': it holds a control character");
        expect_error(edit(ADD, "b", VALUES([SETTING_SERVER] = "x:1", [SETTING_CERT] = "/a "), &e), &e,
                     CLI_EXIT_USAGE, "cannot store the cert '/a ': it starts or ends with a blank");
        {
                _cleanup_free_ char *now = read_config();

                cr_assert_str_eq(now, "[context a]\nserver = a\n");
        }
}

Test(config_edit, values) {
        cr_assert_null(config_value_invalid("/a b/c"));
        cr_assert_null(config_value_invalid("x#y"));
        cr_assert_str_eq(config_value_invalid(""), "it is empty");
        cr_assert_str_eq(config_value_invalid(" a"), "it starts or ends with a blank");
        cr_assert_str_eq(config_value_invalid("a "), "it starts or ends with a blank");
        cr_assert_str_eq(config_value_invalid("a\rb"), "it holds a control character");
        cr_assert_str_eq(config_value_invalid("a\x7f"), "it holds a control character");
}

/* A configuration file that is a link elsewhere changes there. */
Test(config_edit, a_link_stays_a_link) {
        char real[PATH_MAX + 32], link_target[PATH_MAX + 32];
        _cleanup_free_ char *text = NULL;
        struct stat st;
        ssize_t n;

        write_config("# kept elsewhere\n", 0600);
        snprintf(real, sizeof(real), "%s/real-config", tmp);
        cr_assert_eq(rename(path, real), 0);
        cr_assert_eq(symlink(real, path), 0);

        edit_ok(ADD, "a", SERVER_ONLY("a:1"));
        cr_assert_eq(lstat(path, &st), 0);
        cr_assert(S_ISLNK(st.st_mode));
        n = readlink(path, link_target, sizeof(link_target) - 1);
        cr_assert_gt(n, 0);
        link_target[n] = '\0';
        cr_assert_str_eq(link_target, real);
        expect_config("# kept elsewhere\n"
                      "\n"
                      "[context a]\n"
                      "server = a:1\n");
}

/* From load to done, the directory is locked against other changes. */
Test(config_edit, locked_while_changed) {
        _cleanup_(config_edit_done) ConfigEdit c = {};
        _cleanup_close_ int fd = -EBADF;
        CliError e = {};

        cr_assert_eq(config_edit_load(path, &c, &e), 0, "%s", e.message);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        cr_assert_lt(flock(fd, LOCK_EX | LOCK_NB), 0);
        cr_assert_eq(errno, EWOULDBLOCK);
        config_edit_done(&c);
        cr_assert_eq(flock(fd, LOCK_EX | LOCK_NB), 0, "%m");
}
