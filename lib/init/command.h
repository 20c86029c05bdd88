/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A job's command line and environment on their way from libjobrunner to
 * jobrunner-init, which reads them from its standard input: systemd carries
 * the descriptor of a memfd, never the strings.  Through ExecStart= and
 * Environment=, systemd 252 parses every array in time quadratic in its
 * entries while PID 1 does nothing else (8 s for 40000 arguments in the test
 * VM), and writes lines into the unit file that are longer than it reads
 * back (1 MiB) or that it does not read back at all (ExecStartEx=); see
 * bench/argv-limits.
 *
 * The format: the line "jobrunner-command 1\n", argc and envc in decimal,
 * each with a NUL, then the argv strings and the env strings, each with its
 * NUL, and nothing after. */

#include <stddef.h>

/* More than execve() takes at any stack limit: 3/4 of _STK_LIM (8 MiB). */
#define COMMAND_SIZE_MAX (8u * 1024 * 1024)

/* A memfd holding argv (at least one entry) and env (may be NULL), or
 * -errno. */
int command_fd_new(char *const *argv, char *const *env);

typedef struct Command {
        char *buf;                      /* every string, read whole */
        char **argv;                    /* NULL-terminated, pointing into buf */
        char **env;                     /* NULL-terminated, pointing into buf */
} Command;

/* Reads a command from fd, from its start whatever its offset, and at most
 * max bytes of it (-E2BIG beyond).  -EBADMSG if it is not one. */
int command_read(int fd, size_t max, Command *ret);
void command_done(Command *c);

/* A job with a stdin pipe needs a fourth descriptor, which systemd 252
 * cannot pass (OpenFile= came in 253).  So its standard input is a socket
 * instead, holding one message that carries the command's memfd and the
 * pipe's read end (SCM_RIGHTS); jobrunner-init takes both and makes the
 * pipe its command's standard input.  The message is "jobrunner-stdin 1\n".
 *
 * command_socket_new(): the socket, or -errno; the fds stay the caller's
 * (the socket holds duplicates).  command_socket_receive(): the two
 * descriptors (CLOEXEC), or -EBADMSG if fd holds no such message. */
int command_socket_new(int command_fd, int stdin_fd);
int command_socket_receive(int fd, int *ret_command_fd, int *ret_stdin_fd);

/* The environment of the command: base without NOTIFY_SOCKET (the command
 * is not the unit's main process: systemd would refuse its notifications,
 * NotifyAccess=main, and log a warning for each) and without the variables
 * env sets, then env.  The strings stay base's and env's; free the array
 * only.  NULL if out of memory. */
char **command_environment(char *const *base, char *const *env);
