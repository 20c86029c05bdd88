/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"
#include "log.h"

static const int forwarded_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

static void supervised_set(sigset_t *s) {
        sigemptyset(s);
        sigaddset(s, SIGCHLD);
        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                sigaddset(s, forwarded_signals[i]);
}

int signals_block(sigset_t *ret_old) {
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigset_t s;

        /* An inherited SIG_IGN for SIGCHLD would make the kernel reap our
         * children behind our back, and the command's status would be lost. */
        if (sigaction(SIGCHLD, &sa, NULL) < 0)
                return -errno;
        supervised_set(&s);
        if (sigprocmask(SIG_BLOCK, &s, ret_old) < 0)
                return -errno;
        return 0;
}

int signals_open_fd(void) {
        sigset_t s;
        int fd;

        supervised_set(&s);
        fd = signalfd(-1, &s, SFD_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int supervise(int sfd, pid_t pid, int *ret_status) {
        for (;;) {
                struct signalfd_siginfo si;
                ssize_t n;

                /* Reap everything that has exited before sleeping again:
                 * SIGCHLD does not queue, one may stand for many children. */
                for (;;) {
                        int status;
                        pid_t p = waitpid(-1, &status, WNOHANG);

                        if (p < 0) {
                                if (errno == EINTR)
                                        continue;
                                return log_error_errno(errno, "waitpid");
                        }
                        if (p == 0)
                                break;
                        if (p == pid) {
                                *ret_status = status;
                                return 0;
                        }
                }

                n = read(sfd, &si, sizeof(si));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "read signalfd");
                }
                if (n != (ssize_t) sizeof(si))
                        return log_error_errno(EIO, "short read from signalfd");
                /* pid is not reaped yet (only this loop reaps), so it cannot
                 * have been recycled for another process. */
                if (si.ssi_signo != SIGCHLD)
                        (void) kill(pid, (int) si.ssi_signo);
        }
}

_noreturn_ void exit_with_status(int status) {
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigset_t s;
        int sig;

        if (WIFEXITED(status))
                exit(WEXITSTATUS(status));
        if (!WIFSIGNALED(status)) {
                log_error("unexpected wait status 0x%x", (unsigned) status);
                exit(EXIT_FAILURE);
        }

        /* Die of the same signal, so that systemd records ExecMainCode=killed
         * and the signal; an exit code of 128+N would read as a normal exit.
         * No core dump of ours: the command's was already taken, and a second
         * one would be of the wrong program. */
        sig = WTERMSIG(status);
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        (void) sigaction(sig, &sa, NULL);       /* fails for SIGKILL, which needs none */
        sigemptyset(&s);
        sigaddset(&s, sig);
        (void) sigprocmask(SIG_UNBLOCK, &s, NULL);
        (void) raise(sig);
        (void) kill(getpid(), sig);

        /* Not reached: a signal that killed the command is fatal by default,
         * unless we are PID 1 of a namespace, which systemd never makes us. */
        log_error("still alive after raising signal %d", sig);
        _exit(EXIT_FAILURE);
}
