/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "id-prefix.h"
#include "jobs.h"
#include "macro.h"

/* The largest page the server gives. */
#define PAGE_SIZE 1000

const char *job_what(const char *id, char buf[static JOB_WHAT_MAX]) {
        snprintf(buf, JOB_WHAT_MAX, "job %s", id);
        return buf;
}

void job_list_done(JobList *l) {
        for (size_t i = 0; i < l->n_pages; i++)
                jobrunner__v1__list_response__free_unpacked(l->pages[i], NULL);
        free(l->pages);
        free(l->jobs);
        *l = (JobList) {};
}

int job_list_fetch(Conn *c, const Jobrunner__V1__ListRequest *filter, JobList *ret, CliError *e) {
        _cleanup_(job_list_done) JobList l = {};
        _cleanup_free_ char *token = NULL;
        Jobrunner__V1__ListRequest req = *filter;
        int r;

        req.page_size = PAGE_SIZE;
        for (;;) {
                Jobrunner__V1__ListResponse *resp = NULL, **pages;
                JobStatus **jobs;

                req.page_token = token ?: (char *) "";
                r = conn_call_ok(c, "List", &req.base, &jobrunner__v1__list_response__descriptor, CONN_DEADLINE_SHORT,
                                 NULL, (ProtobufCMessage **) &resp, e);
                if (r < 0)
                        return r;

                pages = realloc(l.pages, (l.n_pages + 1) * sizeof(*pages));
                if (!pages) {
                        jobrunner__v1__list_response__free_unpacked(resp, NULL);
                        return cli_error_oom(e);
                }
                l.pages = pages;
                l.pages[l.n_pages++] = resp;

                jobs = realloc(l.jobs, (l.n_jobs + resp->n_jobs + 1) * sizeof(*jobs));
                if (!jobs)
                        return cli_error_oom(e);
                l.jobs = jobs;
                for (size_t i = 0; i < resp->n_jobs; i++)
                        if (resp->jobs[i])
                                l.jobs[l.n_jobs++] = resp->jobs[i];

                if (!resp->next_page_token || !resp->next_page_token[0])
                        break;
                /* A server that hands out the same token again would keep
                 * us here forever. */
                if (token && strcmp(token, resp->next_page_token) == 0)
                        return cli_error(e, CLI_EXIT_API, -ELOOP, "the server repeats the List page token '%s'",
                                         token);
                free(token);
                token = strdup(resp->next_page_token);
                if (!token)
                        return cli_error_oom(e);
        }

        *ret = l;
        l = (JobList) {};
        return 0;
}

int resolve_job_id(Conn *c, const char *arg, char ret[static JOB_ID_LEN + 1], CliError *e) {
        Jobrunner__V1__ListRequest all = JOBRUNNER__V1__LIST_REQUEST__INIT;
        _cleanup_(job_list_done) JobList l = {};
        char prefix[JOB_ID_LEN + 1];
        const char *id;
        bool whole;
        int r;

        r = parse_job_id(arg, prefix, &whole, e);
        if (r < 0)
                return r;
        if (whole) {
                memcpy(ret, prefix, sizeof(prefix));
                return 0;
        }

        r = job_list_fetch(c, &all, &l, e);
        if (r < 0)
                return r;
        r = id_prefix_match(prefix, l.jobs, l.n_jobs, &id, e);
        if (r < 0)
                return r;
        snprintf(ret, JOB_ID_LEN + 1, "%s", id);
        return 0;
}

int get_status(Conn *c, const char *id, Jobrunner__V1__GetStatusResponse **ret, CliError *e) {
        Jobrunner__V1__GetStatusRequest req = JOBRUNNER__V1__GET_STATUS_REQUEST__INIT;
        Jobrunner__V1__GetStatusResponse *resp = NULL;
        char what[JOB_WHAT_MAX];
        int r;

        req.id = (char *) id;
        r = conn_call_ok(c, "GetStatus", &req.base, &jobrunner__v1__get_status_response__descriptor,
                         CONN_DEADLINE_SHORT, job_what(id, what), (ProtobufCMessage **) &resp, e);
        if (r < 0)
                return r;
        if (!resp->job) {
                jobrunner__v1__get_status_response__free_unpacked(resp, NULL);
                return cli_error(e, CLI_EXIT_API, -EBADMSG, "the server's status of job %s holds no job", id);
        }
        *ret = resp;
        return 0;
}

int cli_resolve_job(Cli *cli, const char *arg, char ret_id[static JOB_ID_LEN + 1], CliError *e) {
        int r;

        r = cli_connect(cli, e);
        if (r < 0)
                return r;
        return resolve_job_id(cli->conn, arg, ret_id, e);
}

int cli_get_job(Cli *cli, const char *arg, char ret_id[static JOB_ID_LEN + 1],
                Jobrunner__V1__GetStatusResponse **ret, CliError *e) {
        int r;

        r = cli_resolve_job(cli, arg, ret_id, e);
        if (r < 0)
                return r;
        return get_status(cli->conn, ret_id, ret, e);
}

int cli_start_job(Cli *cli, Jobrunner__V1__JobSpec *spec, Jobrunner__V1__StartResponse **ret, CliError *e) {
        int r;

        r = cli_connect(cli, e);
        if (r < 0)
                return r;
        return start_job(cli->conn, spec, ret, e);
}

int start_job(Conn *c, Jobrunner__V1__JobSpec *spec, Jobrunner__V1__StartResponse **ret, CliError *e) {
        Jobrunner__V1__StartRequest req = JOBRUNNER__V1__START_REQUEST__INIT;
        Jobrunner__V1__StartResponse *resp = NULL;
        int r;

        req.spec = spec;
        r = conn_call_ok(c, "Start", &req.base, &jobrunner__v1__start_response__descriptor,
                         CONN_DEADLINE_SHORT, NULL, (ProtobufCMessage **) &resp, e);
        if (r < 0)
                return r;
        if (!resp->job || !resp->job->id) {
                jobrunner__v1__start_response__free_unpacked(resp, NULL);
                return cli_error(e, CLI_EXIT_API, -EBADMSG, "the server's answer to Start holds no job");
        }
        *ret = resp;
        return 0;
}

int wait_job(Conn *c, const char *id, JobStatus **ret, CliError *e) {
        Jobrunner__V1__WaitRequest req = JOBRUNNER__V1__WAIT_REQUEST__INIT;
        Jobrunner__V1__WaitResponse *resp = NULL;
        char what[JOB_WHAT_MAX];
        int r;

        req.id = (char *) id;
        r = conn_call_ok(c, "Wait", &req.base, &jobrunner__v1__wait_response__descriptor, CONN_DEADLINE_LONG,
                         job_what(id, what), (ProtobufCMessage **) &resp, e);
        if (r < 0)
                return r;
        *ret = resp->job;
        resp->job = NULL;
        jobrunner__v1__wait_response__free_unpacked(resp, NULL);
        if (!*ret)
                return cli_error(e, CLI_EXIT_API, -EBADMSG, "the server's answer to Wait holds no job");
        return 0;
}

int job_followed_exit(Conn *c, const char *id, int r, JobStatus **end, CliError *e) {
        if (r < 0)
                return r;
        if (r == 0) {
                r = wait_job(c, id, end, e);
                if (r < 0)
                        return r;
        }
        r = job_exit_status(*end);
        if (r < 0)
                return cli_error(e, CLI_EXIT_API, -EBADMSG, "job %s: the server reports an end in state %s", id,
                                 job_state_name((*end)->state));
        return r;
}
