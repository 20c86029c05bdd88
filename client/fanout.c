/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fanout-select.h"
#include "fanout.h"
#include "macro.h"
#include "strv.h"

int fanout_open(Cli *cli, FanOut **ret, CliError *e) {
        _cleanup_(strv_freep) char **names = NULL;
        size_t n, width = 0;
        FanOut *f;
        int r;

        r = fanout_select(cli, &names, &n, e);
        if (r < 0)
                return r;

        f = calloc(1, sizeof(*f));
        if (!f)
                return cli_error_oom(e);
        f->cli = cli;
        cli->fanout = f;
        host_sink_init(&f->sink, STDOUT_FILENO, STDERR_FILENO, cli->json);
        f->hosts = calloc(n, sizeof(*f->hosts));
        if (!f->hosts)
                return cli_error_oom(e);
        for (size_t i = 0; i < n; i++)
                if (strlen(names[i]) > width)
                        width = strlen(names[i]);

        for (size_t i = 0; i < n; i++) {
                FanHost *h = &f->hosts[i];
                CliFlags flags = cli->flags;

                h->fanout = f;
                h->name = names[i];
                names[i] = NULL;
                h->result.name = h->name;
                f->n_hosts++;
                if (host_output_init(&h->out, &f->sink, h->name, width) < 0)
                        return cli_error_oom(e);
                logs_output_init(&h->logs, STDOUT_FILENO, STDERR_FILENO, cli->json);
                h->logs.write = host_output_write;
                h->logs.write_userdata = &h->out;

                /* Here, before the threads: the files are read once per
                 * host, and a context's bad setting is that host's
                 * error. */
                flags.context = h->name;
                flags.context_origin = "--context";
                (void) settings_resolve(&flags, NULL, &h->settings, &h->settings_error);
        }
        *ret = f;
        return 0;
}

void fanout_free(FanOut *f, Conn *also) {
        _cleanup_free_ Conn **conns = NULL;

        if (!f) {
                conn_close(also);
                return;
        }
        conns = calloc(f->n_hosts + 1, sizeof(*conns));
        for (size_t i = 0; i < f->n_hosts; i++) {
                if (conns)
                        conns[i] = TAKE_PTR(f->hosts[i].conn);
                else
                        conn_close(TAKE_PTR(f->hosts[i].conn));
        }
        if (conns) {
                conns[f->n_hosts] = also;
                conn_close_many(conns, f->n_hosts + 1);
        } else
                conn_close(also);
        for (size_t i = 0; i < f->n_hosts; i++) {
                FanHost *h = &f->hosts[i];

                settings_done(&h->settings);
                cli_error_clear(&h->settings_error);
                host_output_done(&h->out);
                host_result_done(&h->result);
                free((char *) h->name);
        }
        free(f->hosts);
        host_sink_done(&f->sink);
        free(f);
}

int fanout_connect(FanHost *h, CliError *e) {
        Cli *cli = h->fanout->cli;

        if (h->conn)
                return 0;
        if (h->settings_error.message)
                return cli_error(e, h->settings_error.exit_status, -EINVAL, "%s", h->settings_error.message);
        return conn_open(&h->settings, cli->timeout_usec, &h->conn, e);
}

typedef struct Pool {
        FanOut *fanout;
        void (*fn)(FanHost *h, void *userdata);
        void *userdata;
        atomic_size_t next;
} Pool;

static void *worker(void *userdata) {
        Pool *p = userdata;

        for (;;) {
                size_t i = atomic_fetch_add(&p->next, 1);
                FanHost *h;

                if (i >= p->fanout->n_hosts)
                        return NULL;
                h = &p->fanout->hosts[i];
                p->fn(h, p->userdata);
                /* A last line without its newline still gets its own. */
                (void) host_output_flush(&h->out);
        }
}

void fanout_each(FanOut *f, void (*fn)(FanHost *h, void *userdata), void *userdata) {
        unsigned parallel = f->cli->parallel > 0 ? f->cli->parallel : FANOUT_PARALLEL_DEFAULT;
        size_t n = f->n_hosts < parallel ? f->n_hosts : parallel, started = 0;
        _cleanup_free_ pthread_t *threads = calloc(n + 1, sizeof(pthread_t));
        Pool pool = { .fanout = f, .fn = fn, .userdata = userdata };

        for (; threads && started < n; started++)
                if (pthread_create(&threads[started], NULL, worker, &pool) != 0)
                        break;
        /* Without any thread (out of resources), one host after the
         * other here; with fewer than asked, the pool is smaller. */
        if (started == 0)
                (void) worker(&pool);
        for (size_t i = 0; i < started; i++)
                (void) pthread_join(threads[i], NULL);
}

void fanout_host_failed(FanHost *h, const CliError *e) {
        host_result_done(&h->result);
        h->result.outcome = HOST_FAILED;
        h->result.text = strdup(e->message && e->message[0] ? e->message : "failed");
}

void fanout_print_errors(FanOut *f) {
        for (size_t i = 0; i < f->n_hosts; i++)
                if (f->hosts[i].result.outcome == HOST_FAILED)
                        fprintf(stderr, "jobrunner: %s: %s\n", f->hosts[i].name, f->hosts[i].result.text ?: "failed");
}

int fanout_finish(FanOut *f, bool summary, CliError *e) {
        _cleanup_free_ HostResult *results = calloc(f->n_hosts + 1, sizeof(*results));

        if (!results)
                return cli_error_oom(e);
        for (size_t i = 0; i < f->n_hosts; i++)
                results[i] = f->hosts[i].result;
        if (summary)
                (void) fanout_print_summary(stderr, results, f->n_hosts);
        return fanout_exit_status(results, f->n_hosts);
}
