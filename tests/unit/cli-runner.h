/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Running the jobrunner CLI ($JOBRUNNER_CLI) from a unit test against the
 * fake server (fake-server.h): with the certificates of one of the users
 * that fake_keys_make() made, its stdout and stderr caught in files, its
 * exit status; and waiting for what it or the server did. */

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <limits.h>
#include <sys/types.h>

#include "fake-server.h"
#include "macro.h"

typedef struct CliRun {
        pid_t pid;
        int exit_status;                /* -signal if killed */
        char *out, *err;
        size_t out_len, err_len;
        char out_path[PATH_MAX], err_path[PATH_MAX];
} CliRun;

void cli_run_done(CliRun *t);

/* fake_server_start() like the daemon serves: TLS 1.3 only, calls side
 * by side (each on a thread of its own). */
void cli_server_start(const char *const *method_paths, size_t n_methods, void (*serve)(FakeRequest *r));

/* Whose certificates, from the keys directory: users/alice, users/old,
 * other/users/mallory. */
typedef enum Who {
        AS_ALICE,
        AS_OLD,                         /* expired certificate */
        AS_MALLORY,                     /* another CA's */
        AS_ALICE_TRUSTING_OTHER_CA,     /* verifies the server with the wrong CA (other/ca.crt) */
        AS_NOBODY,                      /* no connection options at all */
} Who;

/* The server the CLI is pointed at; NULL: fake_server.target. */
extern const char *cli_target;
/* More of the CLI's environment ("NAME=value", NULL-terminated); besides
 * PATH, TZ and HOME (a directory of the keys). */
extern const char *const *cli_extra_env;
/* The file the CLI reads as stdin; NULL: /dev/null. */
extern const char *cli_stdin_path;

/* Starts jobrunner --server ... --cert ... --key ... --ca ... ARGS...
 * (NULL-terminated) and returns at once. */
CliRun cli_start_v(Who who, va_list ap);
CliRun cli_spawn(Who who, ...);
/* Waits for its end and reads its output. */
void cli_finish(CliRun *t);
/* cli_spawn() and cli_finish(). */
CliRun cli_as(Who who, ...);
#define cli(...) cli_as(AS_ALICE, __VA_ARGS__, NULL)

/* printf into one of 8 static buffers used in turn, for expected
 * output. */
const char *fmt(const char *format, ...) _printf_(1, 2);

/* Until the CLI has written text to its stdout, or stderr (at most 10 s). */
void wait_for_output(const CliRun *t, const char *text);
void wait_for_error_output(const CliRun *t, const char *text);
/* Until the flag is set, by the server say (at most 10 s). */
void wait_for(atomic_int *flag);
