/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli-runner.h"
#include "fake-server.h"
#include "macro.h"

extern char **environ;

const char *cli_target;
const char *const *cli_extra_env;
const char *cli_stdin_path;

void cli_server_start(const char *const *method_paths, size_t n_methods, void (*serve)(FakeRequest *r)) {
        fake_server_start(&(const FakeServerOptions) {
                .method_paths = method_paths,
                .n_methods = n_methods,
                .thread_per_call = true,
                .tls13_only = true,
                .serve = serve,
        });
}

void cli_run_done(CliRun *t) {
        free(t->out);
        free(t->err);
}

CliRun cli_start_v(Who who, va_list ap) {
        const char *exe = getenv("JOBRUNNER_CLI");
        static char cert[PATH_MAX + 32], key[PATH_MAX + 32], ca[PATH_MAX + 32], home[PATH_MAX + 32];
        char *env[16] = { (char *) "PATH=/usr/bin:/bin", (char *) "TZ=UTC", NULL };
        size_t n_env = 3;
        posix_spawn_file_actions_t fa;
        char *argv[64];
        size_t n = 0;
        CliRun t = {};
        int r;

        cr_assert_not_null(exe, "$JOBRUNNER_CLI is not set");
        fake_keys_path(home, sizeof(home), "home");
        (void) mkdir(home, 0700);
        {
                static char home_env[PATH_MAX + 40];

                snprintf(home_env, sizeof(home_env), "HOME=%s", home);
                env[2] = home_env;
        }
        for (const char *const *x = cli_extra_env; x && *x; x++) {
                cr_assert_lt(n_env, ELEMENTSOF(env) - 1);
                env[n_env++] = (char *) *x;
        }

        argv[n++] = (char *) exe;
        if (who != AS_NOBODY) {
                const char *user = who == AS_OLD ? "old" : "alice";

                snprintf(cert, sizeof(cert), "%s/users/%s/client.crt", fake_keys_dir(),
                         who == AS_MALLORY ? "../other/users/mallory" : user);
                snprintf(key, sizeof(key), "%s/users/%s/client.key", fake_keys_dir(),
                         who == AS_MALLORY ? "../other/users/mallory" : user);
                fake_keys_path(ca, sizeof(ca), who == AS_ALICE_TRUSTING_OTHER_CA ? "other/ca.crt" : "ca.crt");
                argv[n++] = (char *) "--server";
                argv[n++] = (char *) (cli_target ?: fake_server.target);
                argv[n++] = (char *) "--cert";
                argv[n++] = cert;
                argv[n++] = (char *) "--key";
                argv[n++] = key;
                argv[n++] = (char *) "--ca";
                argv[n++] = ca;
        }
        for (char *a; (a = va_arg(ap, char *));) {
                cr_assert_lt(n, ELEMENTSOF(argv) - 1);
                argv[n++] = a;
        }
        argv[n] = NULL;

        snprintf(t.out_path, sizeof(t.out_path), "/tmp/jr-test-cli-out.%d", (int) getpid());
        snprintf(t.err_path, sizeof(t.err_path), "/tmp/jr-test-cli-err.%d", (int) getpid());
        cr_assert_eq(posix_spawn_file_actions_init(&fa), 0);
        posix_spawn_file_actions_addopen(&fa, 0, cli_stdin_path ?: "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, t.out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_addopen(&fa, 2, t.err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        r = posix_spawn(&t.pid, exe, &fa, NULL, argv, env);
        posix_spawn_file_actions_destroy(&fa);
        cr_assert_eq(r, 0, "cannot run %s: %s", exe, strerror(r));
        return t;
}

CliRun cli_spawn(Who who, ...) {
        CliRun t;
        va_list ap;

        va_start(ap, who);
        t = cli_start_v(who, ap);
        va_end(ap);
        return t;
}

void cli_finish(CliRun *t) {
        int status;

        cr_assert_eq(waitpid(t->pid, &status, 0), t->pid);
        t->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        t->out = fake_read_file(t->out_path, &t->out_len);
        t->err = fake_read_file(t->err_path, &t->err_len);
        unlink(t->out_path);
        unlink(t->err_path);
        cr_log_info("exit %d\nstdout:\n%s\nstderr:\n%s", t->exit_status, t->out, t->err);
}

CliRun cli_as(Who who, ...) {
        CliRun t;
        va_list ap;

        va_start(ap, who);
        t = cli_start_v(who, ap);
        va_end(ap);
        cli_finish(&t);
        return t;
}

/* Until the file holds text (at most 10 s). */
static void wait_for_text(const char *path, const char *what, const char *text) {
        for (int i = 0; i < 1000; i++) {
                _cleanup_free_ char *s = fake_read_file(path, NULL);

                if (strstr(s, text))
                        return;
                usleep(10000);
        }
        cr_assert_fail("the CLI never wrote '%s' to its %s", text, what);
}

void wait_for_output(const CliRun *t, const char *text) {
        wait_for_text(t->out_path, "stdout", text);
}

void wait_for_error_output(const CliRun *t, const char *text) {
        wait_for_text(t->err_path, "stderr", text);
}

void wait_for(atomic_int *flag) {
        for (int i = 0; i < 1000 && !atomic_load(flag); i++)
                usleep(10000);
        cr_assert(atomic_load(flag), "the server never got there");
}

const char *fmt(const char *format, ...) {
        static char buf[8][8192];
        static unsigned k;
        va_list ap;
        char *b = buf[k++ % ELEMENTSOF(buf)];

        va_start(ap, format);
        vsnprintf(b, sizeof(buf[0]), format, ap);
        va_end(ap);
        return b;
}
