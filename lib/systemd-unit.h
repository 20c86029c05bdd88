/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Everything libjobrunner says to systemd over D-Bus.  This is the only file
 * pair of the library that includes sd-bus. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "unit-properties.h"

/* What we know of a unit, accumulated from PropertiesChanged signals and
 * GetAll replies (both carry a{sv} of org.freedesktop.systemd1.Unit or
 * .Service properties). */
typedef struct UnitState {
        char load_state[16];            /* "loaded", "not-found" (collected), ... */
        char active_state[16];          /* "activating", "active", "failed", ... */
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

/* Applies an a{sv} array (the message positioned at it). */
int unit_state_apply(UnitState *s, sd_bus_message *m);

bool unit_state_is_inactive(const UnitState *s);

/* Asks systemd to send signals at all; once per connection. */
int unit_subscribe(sd_bus *bus);

/* One match for every JobRemoved(id, job, unit, result) of the manager. */
int unit_match_job_removed(sd_bus *bus, sd_bus_message_handler_t handler, void *userdata,
                           sd_bus_slot **ret);

/* A match for PropertiesChanged of one unit; handler gets (s iface, a{sv}, as). */
int unit_match_properties(sd_bus *bus, const char *unit, sd_bus_message_handler_t handler,
                          void *userdata, sd_bus_slot **ret);

/* StartTransientUnit(unit, "fail", props, []), asynchronously.  The message
 * is released as soon as it is queued: it holds duplicates of the pipe fds. */
int unit_start_transient(sd_bus *bus, const char *unit, const UnitProperties *props,
                         sd_bus_message_handler_t callback, void *userdata, sd_bus_slot **ret);

/* Sets the stop timeout at runtime, then StopUnit(unit, "replace"). */
int unit_stop(sd_bus *bus, const char *unit, uint64_t timeout_usec,
              sd_bus_message_handler_t callback, void *userdata, sd_bus_slot **ret);

/* GetAll of one interface ("org.freedesktop.systemd1.Unit" or ".Service")
 * of the unit; the reply is an a{sv} for unit_state_apply(). */
int unit_get_all(sd_bus *bus, const char *unit, const char *interface,
                 sd_bus_message_handler_t callback, void *userdata, sd_bus_slot **ret);

/* Drops the reference AddRef=yes took and resets a failed unit, so that
 * systemd collects it once its result has been read. */
int unit_release(sd_bus *bus, const char *unit);

/* Units named prefix*.service that systemd knows, via ListUnitsByPatterns;
 * returns a NULL-terminated strv (synchronous: used once, at start-up). */
int unit_list_by_pattern(sd_bus *bus, const char *pattern, char ***ret);
