/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A jr_manager without systemd, for running the daemon's rpc handlers on
 * jobs that tests make themselves (job_new(), manager_add_job()): nothing
 * it does can reach systemd, its state directory does not exist, and it
 * sweeps nothing away.  Free it with jr_manager_free(). */

#include <systemd/sd-event.h>

#include "jobrunner.h"

jr_manager *fake_manager_new(sd_event *event);
