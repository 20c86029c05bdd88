/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* jobrunner context (client/verb-context.c) end to end, through the real
 * CLI ($JOBRUNNER_CLI) with a configuration directory of the test's own:
 * add, list, use, show and rm, their output byte for byte, their errors
 * and exit statuses; then commands against the fake server reached
 * through a context, its TLS server name included. */

#include <criterion/criterion.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli-runner.h"
#include "fake-server.h"
#include "jobrunner.pb-c.h"
#include "macro.h"

extern char **environ;

static char keys_dir[PATH_MAX];

static const FakeKeysStep key_steps[] = {
        { NULL, { "init" } },
        { NULL, { "server", "127.0.0.1", "localhost" } },
        { NULL, { "user", "alice", "operator" } },
        { NULL, { "user", "bob", "viewer" } },
};

ReportHook(PRE_ALL)(struct criterion_test_set *set) {
        (void) set;
        (void) fake_keys_make(keys_dir, sizeof(keys_dir), "/tmp/jr-test-cli-context.XXXXXX", key_steps,
                              ELEMENTSOF(key_steps));
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats) {
        (void) stats;
        fake_keys_remove(keys_dir);
}

/* ---- the fake server: GetStatus of one job, owned by whoever asks ----------------- */

#define JOB_ID "0123456789abcdef0123456789abcdef"

static const char *const method_paths[] = { "/jobrunner.v1.JobRunner/GetStatus" };

static void serve(FakeRequest *r) {
        Jobrunner__V1__GetStatusResponse resp = JOBRUNNER__V1__GET_STATUS_RESPONSE__INIT;
        Jobrunner__V1__JobStatus s = JOBRUNNER__V1__JOB_STATUS__INIT;
        Jobrunner__V1__JobSpec spec = JOBRUNNER__V1__JOB_SPEC__INIT;
        static char *argv[] = { (char *) "/bin/true" };
        Jobrunner__V1__GetStatusRequest *req;
        char *cn = fake_peer_cn(r->call);

        req = (Jobrunner__V1__GetStatusRequest *) fake_request_unpack(r,
                                                                      &jobrunner__v1__get_status_request__descriptor);
        SRV_CHECK(req);
        if (strcmp(req->id, JOB_ID) != 0)
                fake_finish_call(r->call, true, NULL, GRPC_STATUS_NOT_FOUND, "no such job", true);
        else {
                spec.argv = argv;
                spec.n_argv = 1;
                s.id = (char *) JOB_ID;
                s.owner = cn;
                s.spec = &spec;
                s.state = JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED;
                s.start_time_us = 1700000000000000;
                s.end_time_us = 1700000001000000;
                resp.job = &s;
                fake_finish_call(r->call, true, fake_pack_message(&resp.base), GRPC_STATUS_OK, NULL, true);
        }
        protobuf_c_message_free_unpacked(&req->base, NULL);
        free(cn);
}

/* ---- the configuration directory ---------------------------------------------------- */

static char tmp[PATH_MAX], config[PATH_MAX + 32], xdg_env[PATH_MAX + 32];
static const char *env[4];

static void setup(void) {
        snprintf(tmp, sizeof(tmp), "/tmp/jr-test-cli-context-home.XXXXXX");
        cr_assert_not_null(mkdtemp(tmp));
        snprintf(config, sizeof(config), "%s/jobrunner/config", tmp);
        snprintf(xdg_env, sizeof(xdg_env), "XDG_CONFIG_HOME=%s", tmp);
        env[0] = xdg_env;
        env[1] = NULL;
        cli_extra_env = env;
        cli_server_start(method_paths, ELEMENTSOF(method_paths), serve);
}

static void teardown(void) {
        char *argv[] = { (char *) "/bin/rm", (char *) "-rf", tmp, NULL };
        pid_t pid;

        fake_server_stop();
        if (tmp[0] && posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) == 0)
                (void) waitpid(pid, NULL, 0);
}

TestSuite(context, .init = setup, .fini = teardown, .timeout = 60);

/* The CLI without connection options; env[1] (if set) added to its
 * environment. */
#define ctx(...) cli_as(AS_NOBODY, __VA_ARGS__, NULL)

static void expect(CliRun *t, int status, const char *out, const char *err) {
        cr_assert_eq(t->exit_status, status, "exit status %d, expected %d; stderr: %s", t->exit_status, status,
                     t->err);
        cr_assert_str_eq(t->out, out);
        cr_assert_str_eq(t->err, err);
        cli_run_done(t);
}

Test(context, add_list_use_show_rm) {
        _cleanup_free_ char *cwd = getcwd(NULL, 0), *text = NULL, *text2 = NULL;
        CliRun t;
        struct stat st;

        cr_assert_not_null(cwd);
        t = ctx("context", "list");
        expect(&t, 0, "  NAME  SERVER\n", "");

        t = ctx("context", "add", "prod", "--server", "prod.example:7443", "--tls-dir", "/etc/jr",
                "--tls-server-name", "jobs.example");
        expect(&t, 0, "", "");
        t = ctx("context", "add", "stage.eu-1", "--cert", "rel/c.crt", "--key", "/k.key", "--server", "st");
        expect(&t, 0, "", "");
        t = ctx("context", "list");
        expect(&t, 0,
               "  NAME        SERVER\n"
               "  prod        prod.example:7443\n"
               "  stage.eu-1  st:50051\n", "");

        t = ctx("context", "use", "stage.eu-1");
        expect(&t, 0, "", "");
        t = ctx("context", "list");
        expect(&t, 0,
               "  NAME        SERVER\n"
               "  prod        prod.example:7443\n"
               "* stage.eu-1  st:50051\n", "");
        /* --context selects too, before the command or after it. */
        t = ctx("-c", "prod", "context", "list", "--json");
        expect(&t, 0,
               "[{\"name\":\"prod\",\"server\":\"prod.example:7443\",\"current\":true},"
               "{\"name\":\"stage.eu-1\",\"server\":\"st:50051\",\"current\":false}]\n", "");
        t = ctx("context", "list", "--context", "prod");
        expect(&t, 0,
               "  NAME        SERVER\n"
               "* prod        prod.example:7443\n"
               "  stage.eu-1  st:50051\n", "");

        text = fake_read_file(config, NULL);
        cr_assert_str_eq(text, fmt("context = stage.eu-1\n"
                                   "\n"
                                   "[context prod]\n"
                                   "server = prod.example:7443\n"
                                   "cert = /etc/jr/client.crt\n"
                                   "key = /etc/jr/client.key\n"
                                   "ca = /etc/jr/ca.crt\n"
                                   "tls-server-name = jobs.example\n"
                                   "\n"
                                   "[context stage.eu-1]\n"
                                   "server = st:50051\n"
                                   "cert = %s/rel/c.crt\n"
                                   "key = /k.key\n", cwd));
        cr_assert_eq(stat(config, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0600);

        /* The current context, with what it lacks from the defaults. */
        t = ctx("context", "show");
        expect(&t, 0, fmt("context          stage.eu-1 (from %1$s:1)\n"
                          "server           st:50051 (from %1$s:11)\n"
                          "cert             %2$s/rel/c.crt (from %1$s:12)\n"
                          "key              /k.key (from %1$s:13)\n"
                          "ca               %3$s/jobrunner/tls/ca.crt (from default)\n"
                          "tls-server-name  -\n", config, cwd, tmp), "");
        /* Another one, with an option over it. */
        t = ctx("context", "show", "prod", "--json", "--ca", "/my/ca.crt");
        expect(&t, 0, fmt("{\"context\":{\"value\":\"prod\",\"origin\":\"the command line\"},"
                          "\"server\":{\"value\":\"prod.example:7443\",\"origin\":\"%1$s:4\"},"
                          "\"cert\":{\"value\":\"/etc/jr/client.crt\",\"origin\":\"%1$s:5\"},"
                          "\"key\":{\"value\":\"/etc/jr/client.key\",\"origin\":\"%1$s:6\"},"
                          "\"ca\":{\"value\":\"/my/ca.crt\",\"origin\":\"--ca\"},"
                          "\"tls-server-name\":{\"value\":\"jobs.example\",\"origin\":\"%1$s:8\"}}\n", config), "");

        /* Removing the current one makes none current. */
        t = ctx("context", "rm", "stage.eu-1");
        expect(&t, 0, "", "");
        text2 = fake_read_file(config, NULL);
        cr_assert_str_eq(text2, "[context prod]\n"
                                "server = prod.example:7443\n"
                                "cert = /etc/jr/client.crt\n"
                                "key = /etc/jr/client.key\n"
                                "ca = /etc/jr/ca.crt\n"
                                "tls-server-name = jobs.example\n");
        t = ctx("context", "show");
        expect(&t, 0, fmt("context          -\n"
                          "server           localhost:50051 (from default)\n"
                          "cert             %1$s/jobrunner/tls/client.crt (from default)\n"
                          "key              %1$s/jobrunner/tls/client.key (from default)\n"
                          "ca               %1$s/jobrunner/tls/ca.crt (from default)\n"
                          "tls-server-name  -\n", tmp), "");
        t = ctx("context", "rm", "prod");
        expect(&t, 0, "", "");
        t = ctx("context", "list");
        expect(&t, 0, "  NAME  SERVER\n", "");
}

static void write_config(const char *text) {
        char dir[PATH_MAX + 32];
        FILE *f;

        snprintf(dir, sizeof(dir), "%s/jobrunner", tmp);
        (void) mkdir(dir, 0700);
        f = fopen(config, "we");
        cr_assert_not_null(f);
        fputs(text, f);
        cr_assert_eq(fclose(f), 0);
}

Test(context, errors) {
        CliRun t;

        write_config("# mine\n[context a]\nserver = a\n");
        t = ctx("context", "use", "b");
        expect(&t, 2, "", fmt("jobrunner: no context 'b' in %s\n", config));
        t = ctx("context", "rm", "b");
        expect(&t, 2, "", fmt("jobrunner: no context 'b' in %s\n", config));
        t = ctx("context", "add", "a", "--server", "x");
        expect(&t, 2, "", fmt("jobrunner: context 'a' exists already in %s\n", config));
        t = ctx("context", "add", "x/y", "--server", "x");
        expect(&t, 2, "", "jobrunner: invalid context name 'x/y': only letters, digits, '.', '_' and '-' are "
                          "allowed\n");
        t = ctx("context", "add", "b");
        expect(&t, 2, "", "jobrunner: missing --server HOST[:PORT]; see 'jobrunner context --help'\n");
        t = ctx("context", "add", "b", "--server", "x", "--cert", "c");
        expect(&t, 2, "", "jobrunner: --cert and --key go together; see 'jobrunner context --help'\n");
        t = ctx("context", "add", "b", "--server", "x", "--tls-dir", "d", "--ca", "c");
        expect(&t, 2, "", "jobrunner: --tls-dir and --cert, --key, --ca exclude each other; see 'jobrunner "
                          "context --help'\n");
        t = ctx("context", "add", "b", "--server", "x:0");
        expect(&t, 2, "", "jobrunner: invalid server address 'x:0': the port must be a number from 1 to 65535\n");
        t = ctx("context", "frob");
        expect(&t, 2, "", "jobrunner: unknown context command 'frob' (known: add, list, use, show, rm); see "
                          "'jobrunner context --help'\n");
        t = ctx("context");
        expect(&t, 2, "", "jobrunner: missing what to do: add, list, use, show or rm; see 'jobrunner context "
                          "--help'\n");

        /* A selected context that does not exist, whoever selected it. */
        t = ctx("-c", "nope", "status", JOB_ID);
        expect(&t, 78, "", fmt("jobrunner: no context 'nope' in %s (selected by --context)\n", config));
        t = ctx("context", "show", "nope");
        expect(&t, 78, "", fmt("jobrunner: no context 'nope' in %s (selected by the command line)\n", config));
        env[1] = "JOBRUNNER_CONTEXT=nope";
        t = ctx("status", JOB_ID);
        expect(&t, 78, "", fmt("jobrunner: no context 'nope' in %s (selected by $JOBRUNNER_CONTEXT)\n", config));
        env[1] = NULL;

        /* Given twice, a context is one host of a fan-out, with its own
         * error. */
        t = ctx("-c", "a", "-c", "a", "status", JOB_ID);
        expect(&t, 69, "", fmt("jobrunner: job '%s' is on no context that answered; a: cannot read the client "
                               "certificate %s/jobrunner/tls/client.crt: No such file or directory. Copy the files "
                               "jobrunner-keys made for you (client.crt, client.key and ca.crt of its users/NAME/ "
                               "directory) to %s/jobrunner/tls/, or give --cert, --key and --ca\n", JOB_ID, tmp, tmp));

        /* Nothing was written. */
        {
                _cleanup_free_ char *text = fake_read_file(config, NULL);

                cr_assert_str_eq(text, "# mine\n[context a]\nserver = a\n");
        }

        /* A malformed file is refused, and left alone. */
        write_config("# mine\nserver = a\n[context a\n");
        t = ctx("context", "add", "b", "--server", "b");
        expect(&t, 78, "", fmt("jobrunner: %1$s:3: expected 'key = value' or '[context NAME]', got '[context a'; "
                               "%1$s was not changed\n", config));
        t = ctx("context", "list");
        expect(&t, 78, "", fmt("jobrunner: %s:3: expected 'key = value' or '[context NAME]', got '[context a'\n",
                               config));
}

static void add_fake_context(const char *name, const char *user, const char *server, const char *tls_server_name) {
        char cert[PATH_MAX + 64], key[PATH_MAX + 64], ca[PATH_MAX + 64];
        CliRun t;

        snprintf(cert, sizeof(cert), "%s/users/%s/client.crt", fake_keys_dir(), user);
        snprintf(key, sizeof(key), "%s/users/%s/client.key", fake_keys_dir(), user);
        fake_keys_path(ca, sizeof(ca), "ca.crt");
        if (tls_server_name)
                t = ctx("context", "add", name, "--server", server, "--cert", cert, "--key", key, "--ca", ca,
                        "--tls-server-name", tls_server_name);
        else
                t = ctx("context", "add", name, "--server", server, "--cert", cert, "--key", key, "--ca", ca);
        expect(&t, 0, "", "");
}

/* The job's owner is the CN of the certificate the CLI used. */
static void expect_owner(CliRun *t, const char *owner) {
        char prefix[128];

        snprintf(prefix, sizeof(prefix), "{\"id\":\"%s\",\"owner\":\"%s\",", JOB_ID, owner);
        cr_assert_eq(t->exit_status, 0, "exit status %d: %s", t->exit_status, t->err);
        cr_assert(strncmp(t->out, prefix, strlen(prefix)) == 0, "%s", t->out);
        cr_assert_str_eq(t->err, "");
        cli_run_done(t);
}

Test(context, commands_use_the_selected_context) {
        CliRun t;

        add_fake_context("as-alice", "alice", fake_server.target, NULL);
        add_fake_context("as-bob", "bob", fake_server.target, NULL);

        /* No context: the defaults, where there are no certificates. */
        t = ctx("status", JOB_ID);
        cr_assert_eq(t.exit_status, 78, "%s", t.err);
        cli_run_done(&t);

        t = ctx("-c", "as-alice", "status", "--json", JOB_ID);
        expect_owner(&t, "alice");
        t = ctx("status", "--json", "--context=as-bob", JOB_ID);
        expect_owner(&t, "bob");
        t = ctx("status", "-c", "as-alice", "--json", JOB_ID);
        expect_owner(&t, "alice");

        t = ctx("context", "use", "as-bob");
        expect(&t, 0, "", "");
        t = ctx("status", "--json", JOB_ID);
        expect_owner(&t, "bob");
        /* $JOBRUNNER_CONTEXT over the current one, --context over both. */
        env[1] = "JOBRUNNER_CONTEXT=as-alice";
        t = ctx("status", "--json", JOB_ID);
        expect_owner(&t, "alice");
        t = ctx("-c", "as-bob", "status", "--json", JOB_ID);
        expect_owner(&t, "bob");
        env[1] = NULL;
}

/* The server's certificate names 127.0.0.1 and localhost: reached by
 * 127.0.0.1, it passes as localhost, not as another name. */
Test(context, the_tls_server_name) {
        char server[128];
        CliRun t;

        add_fake_context("right", "alice", fake_server.target, "localhost");
        add_fake_context("wrong", "alice", fake_server.target, "jobs.example");

        t = ctx("-c", "right", "status", "--json", JOB_ID);
        expect_owner(&t, "alice");
        t = ctx("-c", "wrong", "status", "--json", JOB_ID);
        cr_assert_eq(t.exit_status, 69, "exit status %d: %s", t.exit_status, t.err);
        snprintf(server, sizeof(server), "TLS handshake with %s", fake_server.target);
        cr_assert_not_null(strstr(t.err, server), "%s", t.err);
        cr_assert_not_null(strstr(t.err, "the server's certificate was not accepted: it must be signed by the CA "
                                         "in "), "%s", t.err);
        cr_assert_not_null(strstr(t.err, " and be issued for jobs.example, the TLS server name ("), "%s", t.err);
        cli_run_done(&t);
        /* The option over the context's. */
        t = ctx("-c", "wrong", "--tls-server-name", "localhost", "status", "--json", JOB_ID);
        expect_owner(&t, "alice");
        /* Reached by an address its certificate does not carry (127.0.0.1
         * in its IPv4-mapped form), it passes by the TLS server name alone:
         * gRPC checks each call's :authority against the certificate too. */
        snprintf(server, sizeof(server), "[::ffff:127.0.0.1]:%d", fake_server.port);
        add_fake_context("mapped", "alice", server, "localhost");
        t = ctx("-c", "mapped", "status", "--json", JOB_ID);
        expect_owner(&t, "alice");
}
