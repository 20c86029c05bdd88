/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench-util.h"
#include "time-util.h"

static const char *program = "bench";
static uint64_t t_begin;                /* CLOCK_MONOTONIC ns at bench_init() */

void bench_init(const char *name) {
        program = name;
        t_begin = now_nsec(CLOCK_MONOTONIC);
}

void die(const char *format, ...) {
        va_list ap;

        fprintf(stderr, "%s: ", program);
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(EXIT_FAILURE);
}

void progress(const char *format, ...) {
        va_list ap;

        /* One fprintf per line: threads print too. */
        char line[1024];

        va_start(ap, format);
        vsnprintf(line, sizeof(line), format, ap);
        va_end(ap);
        fprintf(stderr, "%s: [%6.1f s] %s\n", program, (double) (now_nsec(CLOCK_MONOTONIC) - t_begin) / 1e9, line);
}

char *xasprintf(const char *format, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, format);
        r = vasprintf(&s, format, ap);
        va_end(ap);
        if (r < 0)
                die("out of memory");
        return s;
}

TcConn *bench_connect(const char *user) {
        Jobrunner__V1__ListRequest req = JOBRUNNER__V1__LIST_REQUEST__INIT;
        _cleanup_free_ char *cert = xasprintf(BENCH_TLS_DIR "/users/%s/client.crt", user),
                            *key = xasprintf(BENCH_TLS_DIR "/users/%s/client.key", user);
        TcConn *c = NULL;
        int r, status = -1;

        r = tc_connect(BENCH_TARGET, cert, key, BENCH_TLS_DIR "/ca.crt", &c);
        if (r < 0)
                die("cannot connect as %s: %s", user, strerror(-r));

        req.page_size = 1;
        for (unsigned attempt = 0; attempt < 60; attempt++) {
                _cleanup_free_ char *details = NULL;

                r = tc_call(c, "List", &req.base, &jobrunner__v1__list_response__descriptor, 60000, &status,
                            &details, NULL);
                if (r < 0)
                        die("List: %s", strerror(-r));
                if (status == 0)
                        return c;
                if (attempt == 59)
                        die("List: %s: %s", tc_status_name(status), details);
                usleep(500000);
        }
        return c;
}

uint64_t cgroup_cpu_us(const char *cgroup) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[512], key[64];
        unsigned long long v;

        snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/cpu.stat", cgroup);
        f = fopen(path, "re");
        if (!f)
                return 0;
        while (fscanf(f, "%63s %llu", key, &v) == 2)
                if (strcmp(key, "usage_usec") == 0)
                        return v;
        return 0;
}

void cpu_ticks(uint64_t *ret_busy, uint64_t *ret_total) {
        _cleanup_fclose_ FILE *f = fopen("/proc/stat", "re");
        unsigned long long v[8] = {};
        uint64_t total = 0;

        *ret_busy = *ret_total = 0;
        if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
                         &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
                return;
        for (size_t i = 0; i < ELEMENTSOF(v); i++)
                total += v[i];
        *ret_total = total;
        *ret_busy = total - v[3] - v[4];
}

int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return (x > y) - (x < y);
}

double percentile(double *v, size_t n, double p) {
        size_t i;

        if (n == 0)
                return 0;
        qsort(v, n, sizeof(double), cmp_double);
        i = (size_t) (p * (double) n + 0.999999);
        i = i == 0 ? 0 : i - 1;
        return v[i < n ? i : n - 1];
}
