/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "metrics-text.h"

/* The daemon's own process, with the names and meanings every Prometheus
 * client library uses (process_resident_memory_bytes, ...), so that the
 * usual dashboards show it:
 *
 *   process_cpu_seconds_total, process_resident_memory_bytes,
 *   process_virtual_memory_bytes, process_open_fds, process_max_fds,
 *   process_start_time_seconds (since the epoch)
 *
 * Read from /proc at every call.  A figure that cannot be read is left out
 * (and logged at debug level), never written as 0. */
void metrics_write_process(MetricsText *t);
