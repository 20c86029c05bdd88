/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"

void init_message_set(InitMessage *m, InitMessageType type, int value, const char *what) {
        *m = (InitMessage) { .type = type, .value = value };
        if (what)
                memcpy(m->what, what, strnlen(what, sizeof(m->what) - 1));
}

int init_message_send(int fd, InitMessageType type, int value, const char *what) {
        InitMessage m;
        ssize_t n;

        init_message_set(&m, type, value, what);
        do
                n = write(fd, &m, sizeof(m));
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        return n == (ssize_t) sizeof(m) ? 0 : -EIO;
}

int init_message_recv(int fd, InitMessage *ret) {
        ssize_t n;

        do
                n = read(fd, ret, sizeof(*ret));
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (n == 0)
                return 0;
        if (n != (ssize_t) sizeof(*ret))
                return -EIO;
        ret->what[sizeof(ret->what) - 1] = '\0';
        return 1;
}

int drop_capabilities(void) {
        struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

        /* A non-root process holds capabilities only because systemd granted
         * them to us (AmbientCapabilities=CAP_SYS_ADMIN for --pid-namespace).
         * Root's are its identity: execve() would hand them back from the
         * bounding set anyway, so taking them away would only be arbitrary. */
        if (getuid() == 0 && geteuid() == 0)
                return 0;

        /* Ambient first: execve() would otherwise raise them again into the
         * command's permitted and effective sets. */
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return -errno;
        if (syscall(SYS_capset, &header, data) < 0)
                return -errno;
        return 0;
}

/* The child between fork() and execve(): we are single-threaded, so plain
 * libc calls are safe here. */
_noreturn_ static void exec_command(char *const argv[], char *const envp[], const sigset_t *mask, bool terminal,
                                    int fd) {
        int r;

        /* A session of its own with the terminal as its controlling one:
         * the terminal's Ctrl-C and job control reach the command's
         * foreground process group, and the command's session leader gets
         * SIGHUP when the terminal hangs up.  Inside a PID namespace this is
         * the only process that can do it: the namespace's init is no
         * session leader of ours to give the terminal away. */
        if (terminal) {
                if (setsid() < 0) {
                        (void) init_message_send(fd, INIT_SETUP_FAILED, errno, "start a session");
                        _exit(127);
                }
                if (ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0) {
                        (void) init_message_send(fd, INIT_SETUP_FAILED, errno, "acquire the terminal");
                        _exit(127);
                }
        }

        if (sigprocmask(SIG_SETMASK, mask, NULL) < 0) {
                (void) init_message_send(fd, INIT_SETUP_FAILED, errno, "restore the signal mask");
                _exit(127);
        }
        r = drop_capabilities();
        if (r < 0) {
                (void) init_message_send(fd, INIT_SETUP_FAILED, -r, "drop capabilities");
                _exit(127);
        }
        execve(argv[0], argv, envp);
        (void) init_message_send(fd, INIT_EXEC_FAILED, errno, NULL);
        _exit(127);
}

void spawn_command(char *const argv[], char *const envp[], const sigset_t *mask, bool terminal, pid_t *ret_pid,
                   InitMessage *ret) {
        _cleanup_close_pair_ int pipefd[2] = { -EBADF, -EBADF };
        pid_t pid;
        int r;

        /* CLOEXEC: a successful execve() closes the write end, and the EOF
         * tells us so; a failure arrives as a message instead. */
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                init_message_set(ret, INIT_SETUP_FAILED, errno, "create a pipe");
                return;
        }

        pid = fork();
        if (pid < 0) {
                init_message_set(ret, INIT_SETUP_FAILED, errno, "fork the command");
                return;
        }
        if (pid == 0)
                exec_command(argv, envp, mask, terminal, pipefd[1]);

        pipefd[1] = safe_close(pipefd[1]);
        r = init_message_recv(pipefd[0], ret);
        if (r == 0) {
                init_message_set(ret, INIT_EXEC_OK, 0, NULL);
                *ret_pid = pid;
                return;
        }
        if (r < 0) {
                init_message_set(ret, INIT_SETUP_FAILED, -r, "read the exec result");
                (void) kill(pid, SIGKILL);
        }
        /* Reap it here, so that the caller's loop never sees it. */
        (void) waitpid(pid, NULL, 0);
}
