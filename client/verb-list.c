/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jobrunner list: jobs, newest first. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "fanout-jobs.h"
#include "jobs.h"
#include "json.h"
#include "parse.h"
#include "print.h"

enum {
        ARG_ALL = 0x3000,
        ARG_OWNER,
        ARG_STATE,
        ARG_ACTIVE,
        ARG_QUIET = 'q',
};

typedef struct ListArgs {
        bool all, active, quiet;
        const char *owner;
        int *states;
        size_t n_states;
} ListArgs;

static void help(void) {
        printf("Usage: jobrunner list [OPTIONS]\n"
               "\n"
               "Lists jobs, newest first: by default your own (the CN of your certificate).\n"
               "\n"
               "  --all                  every job you may see (operators: their own;\n"
               "                         admins and viewers: everybody's)\n"
               "  --owner NAME           the jobs of NAME\n"
               "  --state STATE          only jobs in STATE: starting, running, exited, killed,\n"
               "                         oom-killed, stopped, failed-to-start; repeatable, or\n"
               "                         comma-separated\n"
               "  --active               only jobs that have not ended (starting, running)\n"
               "  -q, --quiet            only the ids, one per line\n"
               "\n%s"
               "\n"
               "With --json, an array of job objects (see 'jobrunner status --json').\n",
               common_options_help);
}

static int add_states(ListArgs *a, const char *arg, CliError *e) {
        _cleanup_free_ char *copy = strdup(arg);
        char *save = NULL;

        if (!copy)
                return cli_error_oom(e);
        if (!*arg)
                return parse_job_state(arg, &(int) { 0 }, e);
        for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
                int state, *states;
                int r = parse_job_state(s, &state, e);

                if (r < 0)
                        return r;
                states = realloc(a->states, (a->n_states + 1) * sizeof(int));
                if (!states)
                        return cli_error_oom(e);
                a->states = states;
                a->states[a->n_states++] = state;
        }
        return 0;
}

static int list_option(Cli *cli, int opt, const char *arg, void *userdata, CliError *e) {
        ListArgs *a = userdata;
        int r;

        switch (opt) {
        case ARG_ALL:
                a->all = true;
                break;
        case ARG_OWNER:
                if (!arg[0])
                        return cli_usage(cli, e, "--owner needs a user name");
                a->owner = arg;
                break;
        case ARG_STATE:
                r = add_states(a, arg, e);
                if (r < 0)
                        return r;
                break;
        case ARG_ACTIVE:
                a->active = true;
                break;
        case ARG_QUIET:
                a->quiet = true;
                break;
        default:
                return 0;
        }
        return 1;
}

static void print_json_list(JobStatus *const *jobs, size_t n) {
        JsonWriter w;

        json_init(&w, stdout);
        json_begin_array(&w);
        for (size_t i = 0; i < n; i++)
                json_job_status(&w, jobs[i]);
        json_end_array(&w);
        fputc('\n', stdout);
}

int verb_list(Cli *cli, int argc, char **argv, CliError *e) {
        static const struct option options[] = {
                { "all",    no_argument,       NULL, ARG_ALL },
                { "owner",  required_argument, NULL, ARG_OWNER },
                { "state",  required_argument, NULL, ARG_STATE },
                { "active", no_argument,       NULL, ARG_ACTIVE },
                { "quiet",  no_argument,       NULL, ARG_QUIET },
                {}
        };
        Jobrunner__V1__ListRequest req = JOBRUNNER__V1__LIST_REQUEST__INIT;
        _cleanup_(job_list_done) JobList l = {};
        _cleanup_free_ int *states_buf = NULL;
        ListArgs a = {};
        char **args;
        size_t n;
        int r;

        r = command_parse(cli, argc, argv,
                          &(CommandSpec) { .short_options = "q", .options = options, .handler = list_option,
                                           .userdata = &a, .help = help },
                          &args, &n, e);
        states_buf = a.states;
        if (r != 0)
                return r < 0 ? r : 0;
        if (n > 0)
                return cli_usage(cli, e, "unexpected argument '%s'", args[0]);
        if (a.all && a.owner)
                return cli_usage(cli, e, "--all and --owner exclude each other");

        req.active_only = a.active;
        req.states = (Jobrunner__V1__JobState *) a.states;
        req.n_states = a.n_states;
        if (cli_fans_out(cli)) {
                req.owner = (char *) a.owner;
                return fanout_list(cli, &req, !a.all && !a.owner,
                                   cli->json ? FANOUT_LIST_JSON : a.quiet ? FANOUT_LIST_QUIET : FANOUT_LIST_TABLE,
                                   e);
        }

        r = cli_connect(cli, e);
        if (r < 0)
                return r;

        if (a.owner)
                req.owner = (char *) a.owner;
        else if (!a.all) {
                const char *me;

                r = conn_user_name(cli->conn, &me, e);
                if (r < 0)
                        return r;
                req.owner = (char *) me;
        }

        r = job_list_fetch(cli->conn, &req, &l, e);
        if (r < 0)
                return r;

        if (cli->json)
                print_json_list(l.jobs, l.n_jobs);
        else if (a.quiet)
                for (size_t i = 0; i < l.n_jobs; i++)
                        printf("%s\n", l.jobs[i]->id);
        else if (print_job_table(stdout, l.jobs, l.n_jobs) < 0)
                return cli_error_oom(e);
        return 0;
}
