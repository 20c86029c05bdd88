/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdarg.h>

#include "macro.h"

/* The exit statuses of jobrunner(1).  Documented in --help, the man page
 * and the README; scripts depend on them, so never renumber. */
enum {
        CLI_EXIT_OK = 0,
        CLI_EXIT_LOCAL = 1,             /* a local failure: out of memory, cannot write output */
        CLI_EXIT_USAGE = 2,             /* bad command line, also as judged by the server (INVALID_ARGUMENT) */
        CLI_EXIT_NOT_FOUND = 3,         /* no such job, or not visible to the caller */
        CLI_EXIT_PERMISSION = 4,        /* PERMISSION_DENIED, UNAUTHENTICATED */
        CLI_EXIT_API = 5,               /* any other error status of the server */
        CLI_EXIT_TIMEOUT = 6,           /* the --timeout deadline passed */
        CLI_EXIT_UNAVAILABLE = 69,      /* cannot connect, TLS handshake failed, server unavailable (EX_UNAVAILABLE) */
        CLI_EXIT_CONFIG = 78,           /* bad configuration file, unreadable certificate/key/CA (EX_CONFIG) */
        CLI_EXIT_FAILED_TO_START = 127, /* run, wait, start: the job never ran (like a shell's "not found") */
        CLI_EXIT_SIGNAL_BASE = 128,     /* run, wait: 128 + N for a job killed by signal N */
        CLI_EXIT_INTERRUPTED = 130,     /* run: detached by Ctrl-C; the job goes on */
};

/* An error travels from where it happens, with its message, up to the one
 * place that prints it (main()): nothing below main() prints errors.  The
 * first error set wins, so a caller cannot bury the precise cause under a
 * vaguer one. */
typedef struct CliError {
        int exit_status;                /* 0 while unset */
        char *message;                  /* malloc'd; NULL while unset */
} CliError;

/* Sets *e unless already set and returns error, which must be a negative
 * errno (the return value of the failing function).  e may be NULL. */
int cli_error(CliError *e, int exit_status, int error, const char *format, ...) _printf_(4, 5);
int cli_errorv(CliError *e, int exit_status, int error, const char *format, va_list ap) _printf_(4, 0);

static inline int cli_error_oom(CliError *e) {
        return cli_error(e, CLI_EXIT_LOCAL, -ENOMEM, "out of memory");
}

/* Appends formatted text to the message of a set error and, if
 * exit_status >= 0, replaces its exit status: for callers that know more
 * about the context than the code that failed. */
void cli_error_amend(CliError *e, int exit_status, const char *format, ...) _printf_(3, 4);

/* Forgets the error: for callers that handle it themselves. */
void cli_error_clear(CliError *e);
static inline void cli_error_clearp(CliError *e) {
        cli_error_clear(e);
}
#define _cleanup_cli_error_ _cleanup_(cli_error_clearp)
