/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "macro.h"

/* What one process of jobrunner-init tells its parent over a CLOEXEC pipe:
 * the command's child tells whoever forked it whether execve() worked, and
 * the PID-namespace init forwards that, then the command's wait status, to
 * the outer process.  A message is far below PIPE_BUF, so a write is atomic
 * and a read returns all of it or nothing. */
typedef enum InitMessageType {
        INIT_EXEC_OK,           /* the command runs (never sent by the child: EOF says it) */
        INIT_SETUP_FAILED,      /* value: errno; what: the step that failed */
        INIT_EXEC_FAILED,       /* value: errno of execve() */
        INIT_EXITED,            /* value: the command's raw wait status */
} InitMessageType;

typedef struct InitMessage {
        int type;
        int value;
        char what[48];
} InitMessage;

void init_message_set(InitMessage *m, InitMessageType type, int value, const char *what);
int init_message_send(int fd, InitMessageType type, int value, const char *what);
/* Returns 1 with a message, 0 at EOF, or -errno. */
int init_message_recv(int fd, InitMessage *ret);

/* Drops every capability (effective, permitted, inheritable, ambient),
 * unless we run as root, whose capabilities come with its identity. */
int drop_capabilities(void);

/* Forks argv[0] (an absolute path, no PATH search) with environment envp
 * and signal mask `mask`; with terminal, as the leader of a new session
 * whose controlling terminal is its standard input.  Fills *ret with INIT_EXEC_OK and *ret_pid, or
 * with why the command never ran; in that case no child is left behind. */
void spawn_command(char *const argv[], char *const envp[], const sigset_t *mask, bool terminal, pid_t *ret_pid,
                   InitMessage *ret);

/* Blocks the forwarded signals and SIGCHLD, so that they wait for a
 * signalfd instead of being acted on; returns the previous mask, which is
 * the one the command gets. */
int signals_block(sigset_t *ret_old);
/* A CLOEXEC signalfd for the blocked set; each process opens its own. */
int signals_open_fd(void);

/* Forwards the signals read from sfd to pid and reaps every child, until
 * pid itself exits; returns its raw wait status in *ret_status. */
int supervise(int sfd, pid_t pid, int *ret_status);

/* Exits the way a process with wait status `status` did. */
_noreturn_ void exit_with_status(int status);
