/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The options of start and run that describe the job: limits and isolation
 * spelled like systemd's resource-control settings, environment, working
 * directory, user; then the job's argv.  Pure: builds the JobSpec message
 * without talking to anyone. */

#include <getopt.h>
#include <stddef.h>

#include "error.h"
#include "jobrunner.pb-c.h"

enum {
        ARG_CPU = 0x2000,
        ARG_CPU_WEIGHT,
        ARG_MEMORY,
        ARG_IO_WEIGHT,
        ARG_IO_READ_BPS,
        ARG_IO_WRITE_BPS,
        ARG_TASKS,
        ARG_NETWORK,
        ARG_PID_NAMESPACE,
        ARG_NO_PID_NAMESPACE,
        ARG_PRIVATE_MOUNTS,
        ARG_NO_PRIVATE_MOUNTS,
        ARG_PRIVATE_TMP,
        ARG_NO_PRIVATE_TMP,
        ARG_CWD,
        ARG_USER,
        ARG_ENV = 'e',
        ARG_INTERACTIVE = 'i',
        ARG_TTY = 't',
};

#define SPEC_SHORT_OPTIONS "e:it"

#define SPEC_LONG_OPTIONS                                                       \
        { "cpu",                required_argument, NULL, ARG_CPU },             \
        { "cpu-weight",         required_argument, NULL, ARG_CPU_WEIGHT },      \
        { "memory",             required_argument, NULL, ARG_MEMORY },          \
        { "io-weight",          required_argument, NULL, ARG_IO_WEIGHT },       \
        { "io-read-bps",        required_argument, NULL, ARG_IO_READ_BPS },     \
        { "io-write-bps",       required_argument, NULL, ARG_IO_WRITE_BPS },    \
        { "tasks",              required_argument, NULL, ARG_TASKS },           \
        { "network",            required_argument, NULL, ARG_NETWORK },         \
        { "pid-namespace",      no_argument,       NULL, ARG_PID_NAMESPACE },   \
        { "no-pid-namespace",   no_argument,       NULL, ARG_NO_PID_NAMESPACE }, \
        { "private-mounts",     no_argument,       NULL, ARG_PRIVATE_MOUNTS },  \
        { "no-private-mounts",  no_argument,       NULL, ARG_NO_PRIVATE_MOUNTS }, \
        { "private-tmp",        no_argument,       NULL, ARG_PRIVATE_TMP },     \
        { "no-private-tmp",     no_argument,       NULL, ARG_NO_PRIVATE_TMP },  \
        { "cwd",                required_argument, NULL, ARG_CWD },             \
        { "user",               required_argument, NULL, ARG_USER },            \
        { "env",                required_argument, NULL, ARG_ENV },             \
        { "interactive",        no_argument,       NULL, ARG_INTERACTIVE },     \
        { "tty",                no_argument,       NULL, ARG_TTY }

/* The help text of these options, for start --help and run --help. */
extern const char spec_options_help[];

typedef struct SpecArgs {
        Jobrunner__V1__JobSpec spec;
        Jobrunner__V1__Limits limits;
        Jobrunner__V1__Isolation isolation;
        Jobrunner__V1__IoDeviceLimit *io;       /* n_io entries, devices malloc'd */
        Jobrunner__V1__IoDeviceLimit **io_ptrs;
        size_t n_io;
        char **env;                             /* array owned, strings borrowed */
        size_t n_env, size_env;
        bool has_limits, has_isolation;
        /* -i: the job's stdin is a pipe; -t: it runs on a terminal (which
         * is its input, so the spec's stdin stays unset then). */
        bool interactive, tty;
} SpecArgs;

void spec_args_init(SpecArgs *a);
void spec_args_done(SpecArgs *a);

/* One of the options above, its argument borrowed (it must outlive a).
 * 1 if opt is one of them, 0 if not, or a negative errno (usage error). */
int spec_args_option(SpecArgs *a, int opt, const char *arg, CliError *e);

/* -i and -t, which attach takes too: sets *interactive or *tty; whether
 * opt is one of them. */
bool input_option(int opt, bool *interactive, bool *tty);

/* The job's argv (borrowed), and the checks that need every option:
 * argv[0] an absolute path, no environment key twice, private mounts and
 * /tmp only switched off with --user.  a->spec is then complete. */
int spec_args_finish(SpecArgs *a, char **argv, size_t argc, CliError *e);
