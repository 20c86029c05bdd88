/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The exit statuses systemd's service manager gives a unit's main process
 * that failed while it was being set up, before the job's program ran
 * (systemd's EXIT_CHDIR, EXIT_USER, ... in src/basic/exit-status.h): what
 * each means, for the reason a job failed to start. */

/* What went wrong, e.g. "cannot change to the working directory", or NULL
 * for a status that is no set-up failure of systemd's. */
const char *exit_status_setup_failure(int status);
