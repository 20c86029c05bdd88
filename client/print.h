/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A job's status for humans (status, list) and as JSON (--json). */

#include <stdint.h>
#include <stdio.h>

#include "format.h"
#include "json.h"

/* The "Label: value" block of jobrunner status.  now_usec (realtime)
 * gives the "ago" and "for" parts.  Returns 0 or -ENOMEM. */
int print_job_status(FILE *f, const JobStatus *j, int64_t now_usec);

/* The aligned table of jobrunner list, with a header; "No jobs." if
 * n is 0.  Returns 0 or -ENOMEM. */
int print_job_table(FILE *f, JobStatus *const *jobs, size_t n);
/* The same with a HOST column first, hosts[i] the context of jobs[i]. */
int print_job_table_hosts(FILE *f, JobStatus *const *jobs, const char *const *hosts, size_t n);

/* One job as a JSON object: the JobStatus fields under their proto names,
 * enums as the names jobrunner takes (state "oom-killed", stream
 * "stdout"). */
void json_job_status(JsonWriter *w, const JobStatus *j);
/* The same with a "host" member first, unless host is NULL. */
void json_job_status_on(JsonWriter *w, const JobStatus *j, const char *host);
