/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The administrator's policy for jobrunner-starter: what jobs started for
 * jobrunnerd may do at most, whatever jobrunnerd asks.  jobrunnerd cannot
 * lift it: the file is root's, and the starter checks every request
 * against it.
 *
 * The file: one "Key=Value" per line, spaces around both allowed; "#"
 * starts a comment line; blank lines are skipped.  Every key at most once.
 * An unknown key, a line without "=", an empty value (but for RunAsUsers=)
 * or a bad one is an error naming the file and the line: a policy that
 * says something else than the administrator meant must not be half
 * applied.
 *
 *   RunAsUsers=            user names, separated by spaces, that a job may
 *                          name as its user; default none (every job runs
 *                          as a dynamic user).  root only if listed, like
 *                          any other name: a user listed here can do on
 *                          the host whatever that user can.
 *   MaxMemory=             bytes, or with K, M, G or T (powers of 1024), at
 *                          least 1M; or infinity (the default).
 *   MaxTasks=              1..4194304, or infinity (the default).
 *   MaxCPUQuota=           percent of one CPU, e.g. 400%, 1%..100000%; or
 *                          infinity (the default).
 *   AllowHostNetwork=      yes (the default) or no: whether a job may use
 *                          the host's network.
 *   AllowNoPIDNamespace=   yes (the default) or no: whether a job may turn
 *                          off its PID namespace.
 *   AllowNoPrivateMounts=  yes (the default) or no: the same for its
 *                          private mounts,
 *   AllowNoPrivateTmp=     yes (the default) or no: and for its private
 *                          /tmp.
 *
 * The defaults are what jobrunnerd allows today, but for named users.
 * Under a cap, a job must set the limit (at most the cap): no limit, and
 * for tasks systemd's default, are above any cap. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "jobrunner.h"

#define STARTER_POLICY_PATH_DEFAULT "/etc/jobrunner/starter.conf"

/* A Max*= of infinity. */
#define STARTER_NO_CAP UINT64_MAX

typedef struct StarterPolicy {
        char *path;                     /* where it was read from, for messages */
        char **run_as_users;            /* NULL-terminated; NULL = none */
        uint64_t max_memory;            /* bytes, or STARTER_NO_CAP */
        uint64_t max_tasks;             /* or STARTER_NO_CAP */
        uint64_t max_cpu_quota_percent; /* or STARTER_NO_CAP */
        bool allow_host_network;
        bool allow_no_pid_namespace;
        bool allow_no_private_mounts;
        bool allow_no_private_tmp;
} StarterPolicy;

/* Reads the policy at path (NULL = STARTER_POLICY_PATH_DEFAULT) into *ret;
 * a missing file is the defaults.  Returns 0, or a negative errno with e
 * filled: -EBADMSG for what the file says ("path:line: ..."), -ENOMEM, or
 * why it cannot be read.  *ret is untouched on failure. */
int starter_policy_load(const char *path, StarterPolicy *ret, jr_error *e);

/* The same from an open file; path only names it in messages. */
int starter_policy_parse(FILE *f, const char *path, StarterPolicy *ret, jr_error *e);

void starter_policy_done(StarterPolicy *p);

/* Whether RunAsUsers= lists user. */
bool starter_policy_allows_user(const StarterPolicy *p, const char *user);

/* Checks a spec's limits and isolation against the policy: -EPERM with a
 * message for the end user naming the field, the policy's key and the
 * file, e.g. "memory_max 8G is above the administrator's MaxMemory=4G in
 * /etc/jobrunner/starter.conf".  The spec's user is not its business (see
 * starter_policy_allows_user()); the spec is expected to be valid
 * (jr_spec_validate()). */
int starter_policy_check_spec(const StarterPolicy *p, const jr_spec *spec, jr_error *e);

/* bytes as the policy file spells it: with the largest of K, M, G, T that
 * divides it, else a plain number ("4G", "1536M", "1000"). */
#define STARTER_SIZE_STRING_MAX 24
const char *starter_format_size(uint64_t bytes, char buf[static STARTER_SIZE_STRING_MAX]);
