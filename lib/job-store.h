/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A job's metadata on disk: <state>/jobs/<id>/job, "key=value" lines with
 * C-style escapes, replaced atomically (write a temporary file, rename).
 * Repeated keys (argv, env, io) keep their order.  Readable by operators
 * with cat, and by the library after a restart. */

#include <stdio.h>

#include "job.h"

#define JOB_STORE_FILE "job"

/* Written through to the disk (fsync) only when the file is new and when
 * the job has ended; see job-store.c. */
int job_store_save(jr_job *j);

/* Fills a new job (spec, owner, state, times, results) from dir's file. */
int job_store_load(jr_manager *m, const char *id, jr_job **ret);

/* The file's content, written to f / read from f into a job fresh from
 * job_new() (-EBADMSG for a malformed file); job_store_save() and
 * job_store_load() add the files.  Exposed for tests and fuzzing. */
int job_store_write(const jr_job *j, FILE *f);
int job_store_read(jr_job *j, FILE *f);

/* Exposed for tests: one value escaped / unescaped. */
int job_store_write_value(FILE *f, const char *key, const char *value);
int job_store_unescape(const char *in, char **ret);
