/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The installed jobrunnerd as the load benchmark sees it from outside:
 * what /proc says of its main process, what systemd holds for it, and its
 * restart. */

#include <stdint.h>
#include <sys/types.h>

typedef struct DaemonStats {
        pid_t pid;
        uint64_t rss_kib, hwm_kib;      /* VmRSS, VmHWM */
        unsigned fds;                   /* open in the daemon */
        unsigned fd_store;              /* kept by systemd for it */
        unsigned threads;
} DaemonStats;

/* Dies if jobrunner.service has no main process. */
void daemon_stats(DaemonStats *ret);

/* CPU time of the daemon, of PID 1 and of the bus daemon, from their
 * cgroups, and how busy the VM's CPUs were: where a phase's time went. */
typedef struct CpuSnap {
        uint64_t daemon_us, pid1_us, bus_us;
        uint64_t busy, total;
} CpuSnap;

typedef struct CpuUse {
        double daemon_s, pid1_s, bus_s, busy_pct;
} CpuUse;

void cpu_snap(CpuSnap *ret);
CpuUse cpu_since(const CpuSnap *a);

/* "systemctl restart jobrunner.service", which returns once the new daemon
 * has notified READY=1.  Returns the wall time in seconds; *ret_ready_s is
 * the new daemon's own start-up, from its exec to READY=1. */
double daemon_restart(double *ret_ready_s);
