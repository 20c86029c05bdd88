/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "jobrunner.h"

/* What the rpc handlers share: the library's manager and the server-side
 * limits.  Lives on the sd-event thread. */

typedef struct DaemonLimits {
        unsigned max_active_jobs;               /* STARTING or RUNNING, all owners */
        unsigned max_active_jobs_per_owner;
        unsigned max_followers_per_job;         /* open Logs calls on one job */
} DaemonLimits;

#define DAEMON_MAX_ACTIVE_JOBS_DEFAULT 1024u
#define DAEMON_MAX_ACTIVE_JOBS_PER_OWNER_DEFAULT 256u
#define DAEMON_MAX_FOLLOWERS_PER_JOB_DEFAULT 256u

typedef struct Daemon {
        jr_manager *manager;
        DaemonLimits limits;
} Daemon;
