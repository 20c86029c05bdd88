/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Everything libjobrunner says to systemd over D-Bus.  systemd-unit.c is the
 * only file of the library that includes sd-bus: the rest sees unit names,
 * parsed states and cancellable calls. */

#include <stdbool.h>
#include <stdint.h>

#include "unit-properties.h"

typedef struct sd_bus sd_bus;

/* What we know of a unit, accumulated from PropertiesChanged signals and
 * GetAll replies of org.freedesktop.systemd1.Unit and .Service. */
typedef struct UnitState {
        char load_state[16];            /* "loaded", "not-found" (collected), ... */
        char active_state[16];          /* "activating", "active", "failed", ... */
        char sub_state[16];             /* "running", "exited" (RemainAfterExit=), ... */
        char result[32];                /* "success", "exit-code", "oom-kill", "timeout", ... */
        int32_t exec_main_code;         /* CLD_EXITED, CLD_KILLED, CLD_DUMPED; 0 = not yet */
        int32_t exec_main_status;
        uint32_t main_pid;
        uint64_t exec_main_start_us;    /* CLOCK_REALTIME µs, 0 = never exec'd */
        uint64_t exec_main_exit_us;
        uint64_t inactive_enter_us;
        char *status_text;              /* sd_notify STATUS=, e.g. from jobrunner-init */
        int32_t status_errno;
        char *control_group;            /* "/jobrunner.slice/jobrunner-<id>.service" */
        uint64_t cpu_usage_ns;          /* UINT64_MAX = unknown */
        uint64_t io_read_bytes;
        uint64_t io_write_bytes;
} UnitState;

void unit_state_init(UnitState *s);
void unit_state_done(UnitState *s);
/* The unit's main process is gone for good: the unit is inactive or
 * failed, or "active (exited)" (RemainAfterExit=), or systemd no longer
 * knows it (collected). */
bool unit_state_has_ended(const UnitState *s);

/* A batch of property values, valid only during the callback that got it. */
typedef struct UnitUpdate UnitUpdate;
int unit_state_apply(UnitState *s, UnitUpdate *u);
/* Whether a GetAll of the Unit interface describes a unit systemd had
 * already collected: it loads a placeholder by that name ("not-found"),
 * whose other properties are defaults, not the job's. */
bool unit_update_is_not_found(UnitUpdate *u);

/* Either handler may be NULL: without properties_changed no match for
 * PropertiesChanged is installed (jobrunner-starter needs none).  JobRemoved
 * is always watched: it frees the slots of our jobs. */
typedef struct UnitBusHandlers {
        /* The manager's JobRemoved(id, job, unit, result), for every unit. */
        void (*job_removed)(void *userdata, const char *unit, const char *result);
        /* PropertiesChanged of a unit. */
        void (*properties_changed)(void *userdata, const char *unit, UnitUpdate *update);
} UnitBusHandlers;

/* One per manager: subscribes to systemd's signals, installs one match for
 * JobRemoved and one for the PropertiesChanged of every unit, and queues
 * calls to stay within two limits: the bus daemon's pending replies per
 * connection, and PID 1's matches.  systemd watches the sender of every job
 * it queues for a client (StartTransientUnit, StopUnit) with a match rule
 * of its own until the job is done, and dbus-daemon allows PID 1 512 match
 * rules; past them systemd 252 drops off the bus.  So only a bounded number
 * of our systemd jobs are pending at any time. */
/* Our systemd jobs, each one of PID 1's 512 match rules while it is
 * pending (see systemd-unit.h); other clients need the rest.  Fewer still:
 * PID 1 asks polkit about each of our calls, with its own 25 s timeout,
 * and polkit answers one at a time.  With 64 starts queued at a slow
 * polkit (a burst of 500 in the test VM), the last ones waited longer and
 * systemd refused them ("Method call timed out").  16 keep PID 1 and
 * polkit as busy (the rate is theirs) with a quarter of the wait. */
#define UNIT_BUS_MAX_JOBS 16

typedef struct UnitBus UnitBus;
int unit_bus_new(sd_bus *bus, const UnitBusHandlers *handlers, void *userdata, UnitBus **ret);
UnitBus *unit_bus_free(UnitBus *b);

/* A call in flight or queued.  Free it to cancel: its handler then never
 * runs.  Once the handler has run the call is gone; handlers must forget
 * their pointer to it first thing. */
typedef struct UnitCall UnitCall;
UnitCall *unit_call_free(UnitCall *c);

/* error: NULL on success, else systemd's message (naming, e.g., a property
 * it does not know).  update: the properties of a GetAll reply, else NULL. */
typedef void (*UnitReplyHandler)(void *userdata, const char *error, UnitUpdate *update);

/* The object path of the job that a StartTransientUnit reply names, valid
 * during the handler, or NULL. */
const char *unit_update_job_path(UnitUpdate *u);

/* StartTransientUnit(unit, "fail", props, []).  The message, and with it its
 * duplicates of the pipe fds, is released as soon as it has been written. */
int unit_start_transient(UnitBus *b, const char *unit, const UnitProperties *props,
                         UnitReplyHandler handler, void *userdata, UnitCall **ret);

/* StopUnit(unit, "replace"): cancels a pending start job, or stops the unit
 * with the TimeoutStopUSec= it was started with.  handler may be NULL. */
int unit_stop(UnitBus *b, const char *unit, UnitReplyHandler handler, void *userdata, UnitCall **ret);

/* KillUnit(unit, "all", signo): the signal to every process of the unit,
 * systemd's stop logic untouched.  With no handler no reply is expected. */
int unit_kill(UnitBus *b, const char *unit, int signo, UnitReplyHandler handler, void *userdata, UnitCall **ret);

/* GetAll of the unit's "org.freedesktop.systemd1.Unit" or ".Service". */
#define UNIT_IFACE_UNIT "org.freedesktop.systemd1.Unit"
#define UNIT_IFACE_SERVICE "org.freedesktop.systemd1.Service"
int unit_get_all(UnitBus *b, const char *unit, const char *interface,
                 UnitReplyHandler handler, void *userdata, UnitCall **ret);

/* The unit's result has been read: let systemd collect it.  A failed unit
 * (kept by CollectMode=inactive) is reset, one that remained after its
 * main process (RemainAfterExit=) is stopped. */
int unit_release(UnitBus *b, const char *unit, const UnitState *state);
