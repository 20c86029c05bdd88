/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanout-find.h"
#include "fanout.h"
#include "jobs.h"

typedef struct Find {
        const char *arg;
        char (*ids)[JOB_ID_LEN + 1];    /* per host: the job found there, or "" */
} Find;

static int find_on(FanHost *h, Find *f, CliError *e) {
        _cleanup_message_ Jobrunner__V1__GetStatusResponse *status = NULL;
        size_t i = (size_t) (h - h->fanout->hosts);
        int r;

        r = fanout_connect(h, e);
        if (r >= 0)
                r = resolve_job_id(h->conn, f->arg, f->ids[i], e);
        /* A whole id is not looked up by resolve_job_id(). */
        if (r >= 0)
                r = get_status(h->conn, f->ids[i], &status, e);
        return r;
}

static void find_host(FanHost *h, void *userdata) {
        _cleanup_cli_error_ CliError e = {};
        Find *f = userdata;
        size_t i = (size_t) (h - h->fanout->hosts);

        if (find_on(h, f, &e) >= 0)
                return;
        f->ids[i][0] = '\0';
        /* Not there is no failure: the job is on another host. */
        if (e.exit_status != CLI_EXIT_NOT_FOUND)
                fanout_host_failed(h, &e);
}

/* The command goes on with host h alone, on the connection it has. */
static void take_host(Cli *cli, FanHost *h, const char *id) {
        cli->conn = TAKE_PTR(h->conn);
        settings_done(&cli->settings);
        cli->settings = h->settings;
        h->settings = (CliSettings) {};
        cli->flags.context = h->name;
        cli->n_context_args = 0;
        cli->all_contexts = false;
        snprintf(cli->job_id, sizeof(cli->job_id), "%s", id);
}

/* "web-1/ID, web-2/ID" of the hosts where the job was found. */
static char *found_list(FanOut *f, const Find *find) {
        char *buf = NULL;
        size_t size = 0;
        const char *sep = "";
        FILE *m = open_memstream(&buf, &size);

        if (!m)
                return NULL;
        for (size_t i = 0; i < f->n_hosts; i++)
                if (find->ids[i][0]) {
                        fprintf(m, "%s%s/%s", sep, f->hosts[i].name, find->ids[i]);
                        sep = ", ";
                }
        if (fclose(m) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

static int conclude(Cli *cli, FanOut *f, Find *find, const char **ret_id, CliError *e) {
        _cleanup_free_ char *found = NULL;
        FanHost *failed = NULL, *at = NULL;
        size_t n_found = 0;

        for (size_t i = 0; i < f->n_hosts; i++) {
                if (find->ids[i][0]) {
                        n_found++;
                        at = &f->hosts[i];
                } else if (!failed && f->hosts[i].result.outcome == HOST_FAILED)
                        failed = &f->hosts[i];
        }

        if (n_found == 1 && !failed) {
                take_host(cli, at, find->ids[at - f->hosts]);
                *ret_id = cli->job_id;
                return 0;
        }
        found = found_list(f, find);
        if (!found)
                return cli_error_oom(e);
        if (n_found > 1)
                return cli_usage(cli, e, "job '%s' is found on several contexts: %s; give CONTEXT/ID", find->arg,
                                 found);
        if (failed && n_found == 1)
                /* The same job id could be on the host that did not
                 * answer: going on with the other would be a guess. */
                return cli_error(e, CLI_EXIT_UNAVAILABLE, -EHOSTUNREACH,
                                 "job '%s' is found as %s, but %s could not be asked (%s); give CONTEXT/ID",
                                 find->arg, found, failed->name, failed->result.text ?: "failed");
        if (failed)
                return cli_error(e, CLI_EXIT_UNAVAILABLE, -EHOSTUNREACH,
                                 "job '%s' is on no context that answered; %s: %s", find->arg, failed->name,
                                 failed->result.text ?: "failed");
        return cli_error(e, CLI_EXIT_NOT_FOUND, -ENOENT, "job '%s' is on none of the %zu contexts", find->arg,
                         f->n_hosts);
}

int fanout_find_job(Cli *cli, const char *arg, const char **ret_id, CliError *e) {
        _cleanup_free_ char (*ids)[JOB_ID_LEN + 1] = NULL;
        FanOut *f;
        int r;

        if (!cli_fans_out(cli)) {
                *ret_id = arg;
                return 0;
        }
        r = fanout_open(cli, &f, e);
        if (r < 0)
                return r;
        ids = calloc(f->n_hosts + 1, sizeof(*ids));
        if (!ids)
                return cli_error_oom(e);
        fanout_each(f, find_host, &(Find) { .arg = arg, .ids = ids });
        return conclude(cli, f, &(Find) { .arg = arg, .ids = ids }, ret_id, e);
}
