/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a command fanned out over several hosts reports at its end: a line
 * per host, a total, and one exit status for all.  The rule (documented in
 * --help, jobrunner(1) and the README): the highest of the hosts' values,
 * where a host whose job ended counts with the job's exit status (as for
 * one host: the exit code, 128+N for signal N, 127 if it failed to start),
 * a host left on Ctrl-C (detached, or never begun) counts 130, and a host
 * on which the job could not be run or followed at all (connection, TLS,
 * permission, timeout, any other error) counts 69.  So 0 exactly when
 * every job exited 0. */

#include <stdio.h>

typedef enum HostOutcome {
        HOST_RAN,                       /* the job ended */
        HOST_INTERRUPTED,               /* Ctrl-C: detached, or not begun */
        HOST_FAILED,                    /* an error */
} HostOutcome;

typedef struct HostResult {
        const char *name;
        HostOutcome outcome;
        int status;                     /* HOST_RAN: the job's exit status */
        char *text;                     /* "exited with code 0", the error message... */
} HostResult;

void host_result_done(HostResult *r);

/* The value a host counts with in the rule above. */
int host_result_status(const HostResult *r);

/* The exit status of the rule above; 0 for no hosts. */
int fanout_exit_status(const HostResult *results, size_t n);

/* "NAME: TEXT" per host, then "jobrunner: N hosts: A succeeded, B failed,
 * C interrupted, D in error" (the counts that are not 0). */
int fanout_print_summary(FILE *f, const HostResult *results, size_t n);
