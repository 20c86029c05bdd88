/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bench-util.h"
#include "load-daemon.h"
#include "time-util.h"

#define SERVICE "jobrunner.service"

/* The value of one property of the service. */
static uint64_t service_property(const char *name) {
        _cleanup_free_ char *command = xasprintf("systemctl show -P %s " SERVICE, name);
        FILE *p = popen(command, "re");
        unsigned long long v = 0;
        int status;

        if (!p)
                die("cannot run %s: %m", command);
        if (fscanf(p, "%llu", &v) != 1)
                v = 0;
        status = pclose(p);
        if (status != 0)
                die("%s failed (wait status %d)", command, status);
        return v;
}

static uint64_t status_kib(const char *status, const char *key) {
        const char *p = strstr(status, key);
        unsigned long long v = 0;

        if (p)
                (void) sscanf(p + strlen(key), ": %llu", &v);
        return v;
}

void daemon_stats(DaemonStats *ret) {
        _cleanup_free_ char *status_path = NULL, *fd_path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        char status[4096];
        size_t n;
        DIR *d;

        *ret = (DaemonStats) { .pid = (pid_t) service_property("MainPID") };
        if (ret->pid <= 0)
                die("jobrunner.service has no main process");
        ret->fd_store = (unsigned) service_property("NFileDescriptorStore");

        status_path = xasprintf("/proc/%d/status", (int) ret->pid);
        f = fopen(status_path, "re");
        if (!f)
                die("cannot open %s: %m", status_path);
        n = fread(status, 1, sizeof(status) - 1, f);
        status[n] = '\0';
        ret->rss_kib = status_kib(status, "\nVmRSS");
        ret->hwm_kib = status_kib(status, "\nVmHWM");
        ret->threads = (unsigned) status_kib(status, "\nThreads");

        fd_path = xasprintf("/proc/%d/fd", (int) ret->pid);
        d = opendir(fd_path);
        if (!d)
                die("cannot open %s: %m", fd_path);
        for (struct dirent *de; (de = readdir(d));)
                ret->fds += de->d_name[0] != '.';
        closedir(d);
}

double daemon_restart(double *ret_ready_s) {
        uint64_t t0 = now_nsec(CLOCK_MONOTONIC), exec_us, ready_us;
        int status;

        status = system("systemctl restart " SERVICE);
        if (status != 0)
                die("systemctl restart " SERVICE " failed (wait status %d)", status);
        exec_us = service_property("ExecMainStartTimestampMonotonic");
        ready_us = service_property("ActiveEnterTimestampMonotonic");
        *ret_ready_s = ready_us > exec_us ? (double) (ready_us - exec_us) / 1e6 : 0;
        return (double) (now_nsec(CLOCK_MONOTONIC) - t0) / 1e9;
}

void cpu_snap(CpuSnap *ret) {
        *ret = (CpuSnap) {
                .daemon_us = cgroup_cpu_us("system.slice/" SERVICE),
                .pid1_us = cgroup_cpu_us("init.scope"),
                .bus_us = cgroup_cpu_us("system.slice/dbus.service"),
        };
        cpu_ticks(&ret->busy, &ret->total);
}

CpuUse cpu_since(const CpuSnap *a) {
        CpuSnap b;

        cpu_snap(&b);
        return (CpuUse) {
                .daemon_s = (double) (b.daemon_us - a->daemon_us) / 1e6,
                .pid1_s = (double) (b.pid1_us - a->pid1_us) / 1e6,
                .bus_s = (double) (b.bus_us - a->bus_us) / 1e6,
                .busy_pct = b.total > a->total ? 100.0 * (double) (b.busy - a->busy) / (double) (b.total - a->total) : 0,
        };
}
