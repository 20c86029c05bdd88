/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* A test's direct use of systemd's StartTransientUnit, independent of
 * libjobrunner, so that the environment itself is proven first.
 *
 * append_properties adds the caller's (sv) entries to the open a(sv)
 * container; the helper adds Description, AddRef=yes and
 * CollectMode=inactive-or-failed itself. */
typedef int (*append_properties_t)(sd_bus_message *m, void *userdata);

/* Starts service unit `name` and returns once the start job has finished.
 * The match for JobRemoved is installed before the call.  The message, and
 * with it any fd it duplicated, is released before returning. */
int transient_unit_start(sd_bus *bus, const char *name, append_properties_t append_properties,
                         void *userdata);

/* Waits, driven by PropertiesChanged signals, until the unit is inactive or
 * failed and returns its Result ("success", "exit-code", "oom-kill", ...). */
int transient_unit_wait(sd_bus *bus, const char *name, char **ret_result);

/* Appends ExecStart= with argv (NULL-terminated; argv[0] is the path). */
int append_exec_start(sd_bus_message *m, char *const argv[]);
