/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Ended jobs for the load benchmark's List and start-up figures, written
 * straight into the daemon's state directory: starting ten thousand units
 * under TCG would take hours.  Each is a job directory as libjobrunner
 * leaves it once a job has exited (lib/job-store.c's "job" file, and an
 * "output.log" of lib/output-store.c's records), so a daemon started
 * afterwards loads them like its own. */

#include <stdint.h>
#include <sys/types.h>

typedef struct LoadEndedJobs {
        const char *state_dir;          /* the daemon's, e.g. /var/lib/jobrunner */
        const char *job_path;           /* argv[0] recorded for each */
        unsigned n;
        unsigned lines;                 /* of stdout, as load-job writes them */
        unsigned first_index;           /* load-job INDEX of the first one */
        char *const *owners;            /* NULL-terminated; the jobs go round them */
        /* Start times spread evenly over [start_us, start_us + span_us);
         * each ran one second. */
        uint64_t start_us;
        uint64_t span_us;
        uid_t uid;                      /* the daemon's user owns them */
        gid_t gid;
} LoadEndedJobs;

/* Dies on failure. */
void load_make_ended_jobs(const LoadEndedJobs *spec);
