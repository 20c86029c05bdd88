/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"

/* Used when even the message cannot be allocated. */
static char oom_message[] = "out of memory";

int cli_errorv(CliError *e, int exit_status, int error, const char *format, va_list ap) {
        char *m;

        if (!e || e->message)
                return error;
        if (vasprintf(&m, format, ap) < 0)
                m = NULL;
        e->message = m ?: oom_message;
        e->exit_status = exit_status;
        return error;
}

int cli_error(CliError *e, int exit_status, int error, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        error = cli_errorv(e, exit_status, error, format, ap);
        va_end(ap);
        return error;
}

void cli_error_amend(CliError *e, int exit_status, const char *format, ...) {
        _cleanup_free_ char *extra = NULL;
        char *m;
        va_list ap;
        int r;

        if (!e || !e->message)
                return;
        if (exit_status >= 0)
                e->exit_status = exit_status;

        va_start(ap, format);
        r = vasprintf(&extra, format, ap);
        va_end(ap);
        if (r < 0) {
                extra = NULL;
                return;
        }
        if (asprintf(&m, "%s%s", e->message, extra) < 0)
                return;
        if (e->message != oom_message)
                free(e->message);
        e->message = m;
}

void cli_error_clear(CliError *e) {
        if (!e)
                return;
        if (e->message != oom_message)
                free(e->message);
        *e = (CliError) {};
}
