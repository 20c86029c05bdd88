/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Calls that several commands share: all pages of List, a job id argument
 * to an id, GetStatus. */

#include "cli.h"
#include "conn.h"
#include "format.h"
#include "parse.h"

typedef struct JobList {
        Jobrunner__V1__ListResponse **pages;
        size_t n_pages;
        JobStatus **jobs;               /* borrowed from the pages, in list order */
        size_t n_jobs;
} JobList;

void job_list_done(JobList *l);

/* Every page of List with these filters (page_token is ignored). */
int job_list_fetch(Conn *c, const Jobrunner__V1__ListRequest *filter, JobList *ret, CliError *e);

/* A job id argument (see parse_job_id()) to the whole id: a prefix is
 * looked up among every job the caller can see. */
int resolve_job_id(Conn *c, const char *arg, char ret[static JOB_ID_LEN + 1], CliError *e);

/* GetStatus; *ret is the response, whose job is never NULL (free with
 * protobuf_c_message_free_unpacked()). */
int get_status(Conn *c, const char *id, Jobrunner__V1__GetStatusResponse **ret, CliError *e);

/* What the commands on one job do first: cli_connect(), then
 * resolve_job_id() of the argument. */
int cli_resolve_job(Cli *cli, const char *arg, char ret_id[static JOB_ID_LEN + 1], CliError *e);

/* cli_resolve_job(), then get_status() of the job: a job that does not
 * exist, or a server that cannot be reached, is reported at once. */
int cli_get_job(Cli *cli, const char *arg, char ret_id[static JOB_ID_LEN + 1],
                Jobrunner__V1__GetStatusResponse **ret, CliError *e);

/* cli_connect(), then Start of spec; *ret is the response, whose job and
 * its id are never NULL (free with protobuf_c_message_free_unpacked()). */
int cli_start_job(Cli *cli, Jobrunner__V1__JobSpec *spec, Jobrunner__V1__StartResponse **ret, CliError *e);
/* Start on c, connected already. */
int start_job(Conn *c, Jobrunner__V1__JobSpec *spec, Jobrunner__V1__StartResponse **ret, CliError *e);

/* Wait: the job's final status (free with
 * jobrunner__v1__job_status__free_unpacked()). */
int wait_job(Conn *c, const char *id, JobStatus **ret, CliError *e);

/* What follows reading job id's output until r (as logs_follow() and
 * attach_session() return it): the job's end in *end, waited for if the
 * output ended without it (r == 0), and its exit status as run's; r itself
 * if negative; or a negative errno with e set. */
int job_followed_exit(Conn *c, const char *id, int r, JobStatus **end, CliError *e);

/* For _cleanup_. */
static inline void job_status_freep(JobStatus **j) {
        if (*j)
                jobrunner__v1__job_status__free_unpacked(*j, NULL);
}
static inline void start_response_freep(Jobrunner__V1__StartResponse **r) {
        if (*r)
                jobrunner__v1__start_response__free_unpacked(*r, NULL);
}

/* "job <id>" for messages, in a caller's buffer. */
#define JOB_WHAT_MAX (JOB_ID_LEN + 8)
const char *job_what(const char *id, char buf[static JOB_WHAT_MAX]);
