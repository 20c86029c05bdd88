/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int max_level = LOG_INFO;
static FILE *target;
static int prefix_priority;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_target(FILE *f) {
        target = f;
}

void log_set_prefix_priority(int on) {
        prefix_priority = !!on;
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) {
        FILE *f = target ?: stderr;
        int saved_errno = errno;
        va_list ap;

        (void) file;
        (void) line;
        (void) func;

        error = abs(error);
        if (level > max_level)
                return -error;

        if (prefix_priority)
                fprintf(f, "<%d>", level);
        va_start(ap, format);
        vfprintf(f, format, ap);
        va_end(ap);
        if (error != 0)
                fprintf(f, ": %s", strerror(error));
        fputc('\n', f);
        fflush(f);

        errno = saved_errno;
        return -error;
}
