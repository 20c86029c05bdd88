/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The output of the load benchmark's job number INDEX (bench/load-job.c),
 * which the benchmark (bench/load-bench.c) expects back byte for byte:
 * LINES lines on stdout, one on stderr. */

#include <stdio.h>

#define LOAD_LINE_MAX 96

/* Line k (0-based) of the job's stdout, NUL-terminated; returns its length. */
static inline size_t load_stdout_line(char buf[static LOAD_LINE_MAX], unsigned index, unsigned k) {
        return (size_t) snprintf(buf, LOAD_LINE_MAX, "load job %u, line %u: the quick brown fox jumps over\n",
                                 index, k);
}

static inline size_t load_stderr_line(char buf[static LOAD_LINE_MAX], unsigned index) {
        return (size_t) snprintf(buf, LOAD_LINE_MAX, "load job %u: all written, sleeping\n", index);
}
