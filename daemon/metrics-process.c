/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "metrics-process.h"

typedef struct ProcStat {
        double cpu_seconds;
        double start_seconds;                   /* since boot */
        uint64_t virtual_bytes;
        uint64_t resident_bytes;
} ProcStat;

/* /proc/self/stat: the fields after the command's name, which may hold
 * spaces and parentheses, so parsing starts after its last ')'. */
static int read_proc_stat(ProcStat *ret) {
        _cleanup_fclose_ FILE *f = NULL;
        unsigned long long utime, stime, start, vsize;
        long long rss;
        char line[1024], *p;
        long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);

        f = fopen("/proc/self/stat", "re");
        if (!f)
                return -errno;
        if (!fgets(line, sizeof(line), f))
                return -EIO;
        p = strrchr(line, ')');
        if (!p || ticks <= 0 || page <= 0)
                return -EINVAL;
        /* state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
         * cmajflt utime stime cutime cstime priority nice num_threads
         * itrealvalue starttime vsize rss */
        if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
                          "%llu %llu %lld", &utime, &stime, &start, &vsize, &rss) != 5)
                return -EINVAL;
        *ret = (ProcStat) {
                .cpu_seconds = (double) (utime + stime) / (double) ticks,
                .start_seconds = (double) start / (double) ticks,
                .virtual_bytes = vsize,
                .resident_bytes = rss > 0 ? (uint64_t) rss * (uint64_t) page : 0,
        };
        return 0;
}

/* The boot time, as the kernel counts process start times from it. */
static int read_boot_time(uint64_t *ret) {
        _cleanup_fclose_ FILE *f = NULL;
        char line[256];

        f = fopen("/proc/stat", "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "btime %" SCNu64, ret) == 1)
                        return 0;
        return -ENODATA;
}

static int count_open_fds(uint64_t *ret) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        uint64_t n = 0;

        if (!d)
                return -errno;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        *ret = n - 1;           /* not the directory's own descriptor */
        return 0;
}

static void write_one(MetricsText *t, const char *name, MetricsType type, const char *help, double value) {
        metrics_text_family(t, name, type, help);
        metrics_text_sample(t, "", NULL, 0, value);
}

void metrics_write_process(MetricsText *t) {
        struct rlimit rl;
        uint64_t boot = 0, fds = 0;
        ProcStat st;
        int r;

        r = read_proc_stat(&st);
        if (r < 0)
                log_debug_errno(r, "cannot read /proc/self/stat, leaving out the process' figures");
        else {
                write_one(t, "process_cpu_seconds_total", METRICS_COUNTER,
                          "Total user and system CPU time spent in seconds.", st.cpu_seconds);
                write_one(t, "process_resident_memory_bytes", METRICS_GAUGE,
                          "Resident memory size in bytes.", (double) st.resident_bytes);
                write_one(t, "process_virtual_memory_bytes", METRICS_GAUGE,
                          "Virtual memory size in bytes.", (double) st.virtual_bytes);
                r = read_boot_time(&boot);
                if (r < 0)
                        log_debug_errno(r, "cannot read the boot time from /proc/stat");
                else
                        write_one(t, "process_start_time_seconds", METRICS_GAUGE,
                                  "Start time of the process since unix epoch in seconds.",
                                  (double) boot + st.start_seconds);
        }

        r = count_open_fds(&fds);
        if (r < 0)
                log_debug_errno(r, "cannot count the open file descriptors");
        else
                write_one(t, "process_open_fds", METRICS_GAUGE, "Number of open file descriptors.", (double) fds);

        if (getrlimit(RLIMIT_NOFILE, &rl) >= 0)
                write_one(t, "process_max_fds", METRICS_GAUGE, "Maximum number of open file descriptors.",
                          rl.rlim_cur == RLIM_INFINITY ? (double) UINT64_MAX : (double) rl.rlim_cur);
}
