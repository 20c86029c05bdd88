/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the benchmarks that drive jobrunnerd in the test VM share: dying
 * with a message, progress lines on stderr, connections to the installed
 * daemon, and a little statistics. */

#include <stdint.h>

#include "macro.h"
#include "test-client.h"

#define BENCH_TARGET "localhost:50051"
#define BENCH_TLS_DIR "/etc/jobrunner/tls"

/* Names the program in die() and progress(), and starts progress()'s
 * clock. */
void bench_init(const char *name);

_noreturn_ _printf_(1, 2) void die(const char *format, ...);
/* "NAME: [  12.3 s] ..." on stderr. */
_printf_(1, 2) void progress(const char *format, ...);
char *xasprintf(const char *format, ...) _printf_(1, 2);

/* A connection as user (its certificate from BENCH_TLS_DIR/users/<user>)
 * whose channel is up: the first connection also socket-activates the
 * daemon, which may take a while under TCG.  Dies on failure. */
TcConn *bench_connect(const char *user);

/* usage_usec of a cgroup below /sys/fs/cgroup (what "systemctl show -p
 * CPUUsageNSec" reports of a unit), 0 if it has none. */
uint64_t cgroup_cpu_us(const char *cgroup);
/* Ticks of all CPUs from /proc/stat: busy (all but idle and iowait) and
 * total; both 0 if it cannot be read. */
void cpu_ticks(uint64_t *ret_busy, uint64_t *ret_total);

int cmp_double(const void *a, const void *b);
/* The nearest-rank percentile (p in [0, 1]) of n values, which it sorts. */
double percentile(double *v, size_t n, double p);
