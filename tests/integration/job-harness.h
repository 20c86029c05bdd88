/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Drives libjobrunner from a test: an sd-event loop, a system bus attached
 * to it, and a manager over a fresh state directory. */

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "jobrunner.h"

typedef struct Harness {
        sd_event *event;
        sd_bus *bus;
        jr_manager *manager;
        char state_dir[64];
} Harness;

void harness_setup(Harness *h);
/* The same with settings of the manager's own (state_dir and init_path are
 * the harness's). */
void harness_setup_config(Harness *h, jr_manager_config config);
/* A new manager over the harness's state directory, bus and loop (after
 * the previous one was freed). */
void harness_new_manager(Harness *h, jr_manager_config config);
void harness_teardown(Harness *h);

/* A spec for argv (NULL-terminated), everything else default.  The strings
 * are borrowed: keep argv alive while the spec is used. */
jr_spec harness_spec(char **argv);

/* Starts a job; asserts success. */
jr_job *harness_start(Harness *h, const jr_spec *spec);
/* Starts a job allowed to name a user (as an admin may). */
jr_job *harness_start_as(Harness *h, const jr_spec *spec, bool allow_named_user);

/* Runs the loop until cond(userdata) is true (checked after every event). */
void harness_run_until(Harness *h, bool (*cond)(void *userdata), void *userdata);
/* Until the job's state is final. */
void harness_wait_final(Harness *h, jr_job *j);
/* Until the job has left STARTING. */
void harness_wait_started(Harness *h, jr_job *j);

/* Reads the whole output of a job (following it to END): the stdout and
 * stderr bytes into malloc'ed buffers (NUL-terminated for convenience). */
void harness_read_output(Harness *h, jr_job *j, char **ret_out, size_t *ret_out_len,
                         char **ret_err, size_t *ret_err_len);

/* Runs the loop until the job's stdout contains needle. */
void harness_wait_output(Harness *h, jr_job *j, const char *needle);
/* Starts argv, a job that prints "ready" once it has set itself up, and
 * runs the loop until it has; fills *ret_status (may be NULL) then. */
jr_job *harness_start_ready(Harness *h, char **argv, jr_status *ret_status);

/* The cgroup directory of a running job, e.g. for reading its limits. */
char *harness_cgroup_dir(jr_job *j);
/* Reads a small file into a static buffer, without the trailing newline. */
const char *harness_read_file(const char *dir, const char *name);
