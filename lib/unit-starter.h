/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Who starts a job's transient unit, behind one interface:
 *
 *   - directly: StartTransientUnit over the manager's own bus connection,
 *     with the properties of unit-properties.c.  For callers that may start
 *     units (root, the tests) and for jobrunner-starter itself, which is
 *     how the starter builds exactly the unit the library would.
 *   - delegated: through a jr_unit_starter the caller gives the manager
 *     (jobrunnerd's client of jobrunner-starter), for callers that may not.
 *
 * Either way the job's unit is jobrunner-<id>.service in the slice, and the
 * caller learns whether systemd queued its start job; the unit's progress
 * comes, as for every unit, from the manager's signals. */

#include <stdbool.h>

#include "jobrunner.h"

typedef struct UnitBus UnitBus;
typedef struct UnitStarter UnitStarter;
typedef struct UnitStartCall UnitStartCall;

/* error: 0 when systemd queued the start job, and then message is that
 * job's object path if known (else NULL); a negative errno and a message
 * for the end user when it was refused; JR_UNIT_START_LOST when the answer
 * was lost and the unit may or may not exist. */
typedef void (*UnitStartHandler)(void *userdata, int error, const char *message);

/* bus, slice and init_path are borrowed and must outlive the starter. */
int unit_starter_new_direct(UnitBus *bus, const char *slice, const char *init_path, UnitStarter **ret);
/* ops is copied. */
int unit_starter_new_delegated(const jr_unit_starter *ops, UnitStarter **ret);
UnitStarter *unit_starter_free(UnitStarter *s);

/* Asks for jobrunner-<job_id>.service running spec (validated by the
 * caller) with stdout_fd and stderr_fd as its output and, for a stdin pipe,
 * stdin_fd as its input (else < 0); all borrowed: whoever keeps them dups
 * them.  For a terminal, stdout_fd and stderr_fd are its slave.  Returns 0 and calls handler once, later, unless
 * the call is freed first; or a negative errno with e filled and no call.
 * Free the call to cancel: its handler then never runs, though the unit may
 * still be started.  Handlers must forget their pointer to the call first
 * thing: it is gone once the handler runs. */
int unit_starter_start(UnitStarter *s, const char *job_id, const jr_spec *spec, int stdout_fd, int stderr_fd,
                       int stdin_fd, UnitStartHandler handler, void *userdata, UnitStartCall **ret, jr_error *e);
UnitStartCall *unit_start_call_free(UnitStartCall *c);
