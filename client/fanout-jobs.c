/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "fanout-jobs.h"
#include "fanout.h"
#include "jobs.h"
#include "print.h"

/* ---- start --------------------------------------------------------------------------- */

typedef struct Start {
        Jobrunner__V1__JobSpec *spec;
        Jobrunner__V1__StartResponse **responses;       /* per host */
} Start;

static void start_host(FanHost *h, void *userdata) {
        _cleanup_cli_error_ CliError e = {};
        Start *s = userdata;
        size_t i = (size_t) (h - h->fanout->hosts);
        int r;

        r = fanout_connect(h, &e);
        if (r >= 0)
                r = start_job(h->conn, s->spec, &s->responses[i], &e);
        if (r < 0)
                fanout_host_failed(h, &e);
}

int fanout_start(Cli *cli, Jobrunner__V1__JobSpec *spec, CliError *e) {
        Start s = { .spec = spec };
        FanOut *f;
        int r;

        r = fanout_open(cli, &f, e);
        if (r < 0)
                return r;
        s.responses = calloc(f->n_hosts + 1, sizeof(*s.responses));
        if (!s.responses)
                return cli_error_oom(e);
        fanout_each(f, start_host, &s);

        for (size_t i = 0; i < f->n_hosts; i++) {
                FanHost *h = &f->hosts[i];
                const JobStatus *j;

                if (!s.responses[i])
                        continue;
                j = s.responses[i]->job;
                if (cli->json) {
                        JsonWriter w;

                        json_init(&w, stdout);
                        json_job_status_on(&w, j, h->name);
                        fputc('\n', stdout);
                } else
                        printf("%s %s\n", h->name, j->id);
                h->result.outcome = HOST_RAN;
                h->result.status = 0;
                if (j->state == JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START) {
                        _cleanup_free_ char *result = format_job_result(j);

                        /* As for one host: the id is printed all the
                         * same. */
                        h->result.status = CLI_EXIT_FAILED_TO_START;
                        fflush(stdout);
                        fprintf(stderr, "jobrunner: %s: job %s %s\n", h->name, j->id, result ?: "failed to start");
                }
        }
        fflush(stdout);
        fanout_print_errors(f);

        for (size_t i = 0; i < f->n_hosts; i++)
                if (s.responses[i])
                        jobrunner__v1__start_response__free_unpacked(s.responses[i], NULL);
        free(s.responses);
        return fanout_finish(f, false, e);
}

/* ---- list ---------------------------------------------------------------------------- */

typedef struct List {
        const Jobrunner__V1__ListRequest *filter;
        bool mine;
        JobList *lists;                 /* per host */
} List;

static int list_on(FanHost *h, List *l, CliError *e) {
        Jobrunner__V1__ListRequest req = *l->filter;
        size_t i = (size_t) (h - h->fanout->hosts);
        int r;

        r = fanout_connect(h, e);
        if (r < 0)
                return r;
        if (l->mine) {
                const char *me;

                r = conn_user_name(h->conn, &me, e);
                if (r < 0)
                        return r;
                req.owner = (char *) me;
        }
        return job_list_fetch(h->conn, &req, &l->lists[i], e);
}

static void list_host(FanHost *h, void *userdata) {
        _cleanup_cli_error_ CliError e = {};

        if (list_on(h, userdata, &e) < 0)
                fanout_host_failed(h, &e);
}

static int print_list(FanOut *f, JobList *lists, FanOutListFormat format) {
        _cleanup_free_ JobStatus **jobs = NULL;
        _cleanup_free_ const char **hosts = NULL;
        size_t n = 0;
        JsonWriter w;

        for (size_t i = 0; i < f->n_hosts; i++)
                n += lists[i].n_jobs;
        jobs = calloc(n + 1, sizeof(*jobs));
        hosts = calloc(n + 1, sizeof(*hosts));
        if (!jobs || !hosts)
                return -ENOMEM;
        n = 0;
        for (size_t i = 0; i < f->n_hosts; i++)
                for (size_t k = 0; k < lists[i].n_jobs; k++) {
                        jobs[n] = lists[i].jobs[k];
                        hosts[n++] = f->hosts[i].name;
                }

        switch (format) {
        case FANOUT_LIST_JSON:
                json_init(&w, stdout);
                json_begin_array(&w);
                for (size_t i = 0; i < n; i++)
                        json_job_status_on(&w, jobs[i], hosts[i]);
                json_end_array(&w);
                fputc('\n', stdout);
                return 0;
        case FANOUT_LIST_QUIET:
                for (size_t i = 0; i < n; i++)
                        printf("%s/%s\n", hosts[i], jobs[i]->id);
                return 0;
        case FANOUT_LIST_TABLE:
        default:
                return print_job_table_hosts(stdout, jobs, hosts, n);
        }
}

int fanout_list(Cli *cli, const Jobrunner__V1__ListRequest *filter, bool mine, FanOutListFormat format,
                CliError *e) {
        List l = { .filter = filter, .mine = mine };
        FanOut *f;
        int r;

        r = fanout_open(cli, &f, e);
        if (r < 0)
                return r;
        l.lists = calloc(f->n_hosts + 1, sizeof(*l.lists));
        if (!l.lists)
                return cli_error_oom(e);
        fanout_each(f, list_host, &l);

        r = print_list(f, l.lists, format);
        for (size_t i = 0; i < f->n_hosts; i++)
                job_list_done(&l.lists[i]);
        free(l.lists);
        if (r < 0)
                return cli_error_oom(e);
        fflush(stdout);
        fanout_print_errors(f);
        return fanout_finish(f, false, e);
}
