/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jobrunner-init: the main process of a job's transient service.  It runs
 * the command as its child, forwards signals to it, reaps every orphan, and
 * exits exactly as the command did, so that systemd's view of the unit is the
 * command's.  With --pid-namespace the command is PID 2 of a new PID
 * namespace whose PID 1 is a second copy of us. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "command.h"
#include "init.h"
#include "notify.h"
#include "log.h"

/* systemd's EXIT_EXEC: what a unit's failed execve() looks like. */
#define EXIT_EXEC 203
#define EXIT_USAGE 2
#define NOTIFY_BARRIER_USEC (5 * UINT64_C(1000000))

static bool arg_pid_namespace;
static bool arg_command_from_stdin;
static bool arg_terminal;
static char **arg_command;
/* The command's environment: ours, with the changes of a command read
 * from standard input. */
static char **arg_environment;

static void help(void) {
        printf("jobrunner-init [--pid-namespace] [--terminal] -- /ABSOLUTE/COMMAND [ARG...]\n"
               "jobrunner-init [--pid-namespace] [--terminal] --command-from-stdin\n\n"
               "Runs COMMAND as a child, forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1\n"
               "and SIGUSR2 to it, reaps orphans, and exits with COMMAND's status (dying of\n"
               "the same signal if it was killed).  Meant as ExecStart= of a Type=notify unit.\n\n"
               "  --pid-namespace       run COMMAND as PID 2 of a new PID namespace with its\n"
               "                        own /proc\n"
               "  --command-from-stdin  read COMMAND, its arguments and environment variables\n"
               "                        from standard input (as libjobrunner writes them),\n"
               "                        which then becomes /dev/null; or from a socket on\n"
               "                        standard input that passes the command and the pipe\n"
               "                        to make standard input instead\n"
               "  --terminal            standard output is a terminal: make it COMMAND's\n"
               "                        standard input and controlling terminal, COMMAND\n"
               "                        the leader of a new session\n"
               "  -h --help             show this help\n");
}

/* Returns 1 to run, 0 after --help, or -EINVAL after a usage message. */
static int parse_argv(int argc, char *argv[]) {
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--pid-namespace") == 0)
                        arg_pid_namespace = true;
                else if (strcmp(argv[i], "--command-from-stdin") == 0)
                        arg_command_from_stdin = true;
                else if (strcmp(argv[i], "--terminal") == 0)
                        arg_terminal = true;
                else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        help();
                        return 0;
                } else if (strcmp(argv[i], "--") == 0) {
                        arg_command = argv + i + 1;
                        break;
                } else {
                        log_error("unexpected argument '%s' (the command goes after '--')", argv[i]);
                        return -EINVAL;
                }
        }

        if (arg_command_from_stdin) {
                if (arg_command) {
                        log_error("--command-from-stdin and a command after '--' exclude each other");
                        return -EINVAL;
                }
                return 1;
        }
        if (!arg_command || !arg_command[0]) {
                log_error("no command given after '--'");
                return -EINVAL;
        }
        return 1;
}

/* Before READY=1: tell systemd why the job never started, and fail. */
_noreturn_ static void fail_start(const InitMessage *m) {
        int err = m->value;

        if (m->type == INIT_EXEC_FAILED) {
                (void) notify_sendf("STATUS=cannot execute %s: %s\nERRNO=%i", arg_command[0], strerror(err), err);
                log_error_errno(err, "cannot execute %s", arg_command[0]);
        } else {
                (void) notify_sendf("STATUS=cannot %s: %s\nERRNO=%i", m->what, strerror(err), err);
                log_error_errno(err, "cannot %s", m->what);
        }
        /* Our exit may otherwise overtake the datagram, and systemd drops
         * notifications from a main PID it has already reaped. */
        (void) notify_barrier(NOTIFY_BARRIER_USEC);
        exit(m->type == INIT_EXEC_FAILED ? EXIT_EXEC : EXIT_FAILURE);
}

/* The command's exec result decides the start: READY=1 only once it runs. */
static int started_then_supervise(const InitMessage *m, int sfd, pid_t pid, int *ret_status) {
        if (m->type != INIT_EXEC_OK)
                fail_start(m);
        (void) notify_send("READY=1");
        return supervise(sfd, pid, ret_status);
}

_noreturn_ static void fail_setup(int err, const char *what) {
        InitMessage m;

        init_message_set(&m, INIT_SETUP_FAILED, abs(err), what);
        fail_start(&m);
}

/* What every supervising process does before it waits: no capabilities
 * of its own any more, and signals to forward read from a signalfd. */
static int become_supervisor(void) {
        int r, sfd;

        r = drop_capabilities();
        if (r < 0)
                fail_setup(r, "drop capabilities");
        sfd = signals_open_fd();
        if (sfd < 0)
                fail_setup(sfd, "create a signalfd");
        return sfd;
}

_noreturn_ static void run_direct(const sigset_t *mask) {
        InitMessage m;
        pid_t pid = 0;
        int sfd, status, r;

        /* Orphans of the command are re-parented to us rather than to
         * systemd, so none of them lingers as a zombie of the job. */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                fail_setup(errno, "become a child subreaper");
        sfd = become_supervisor();

        spawn_command(arg_command, arg_environment, mask, arg_terminal, &pid, &m);
        r = started_then_supervise(&m, sfd, pid, &status);
        if (r < 0)
                exit(EXIT_FAILURE);
        exit_with_status(status);
}

_noreturn_ static void namespace_init_fail(int fd, int err, const char *what) {
        (void) init_message_send(fd, INIT_SETUP_FAILED, abs(err), what);
        _exit(EXIT_FAILURE);
}

/* PID 1 of the new namespace; reports to the outer process through fd.
 * Whenever it exits, the kernel kills what is left in the namespace. */
_noreturn_ static void run_namespace_init(const sigset_t *mask, int fd) {
        InitMessage m;
        pid_t pid = 0;
        int sfd, status, r;

        /* If the outer process is SIGKILLed, the namespace goes with it. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

        /* The mount namespace is ours alone, not the outer process's too:
         * its /proc stays the one matching its own PID namespace. */
        if (unshare(CLONE_NEWNS) < 0)
                namespace_init_fail(fd, errno, "create a mount namespace");
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                namespace_init_fail(fd, errno, "stop mount propagation to the host");
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                namespace_init_fail(fd, errno, "mount /proc");
        r = drop_capabilities();
        if (r < 0)
                namespace_init_fail(fd, r, "drop capabilities");
        sfd = signals_open_fd();
        if (sfd < 0)
                namespace_init_fail(fd, sfd, "create a signalfd");

        spawn_command(arg_command, arg_environment, mask, arg_terminal, &pid, &m);
        if (init_message_send(fd, m.type, m.value, m.what) < 0 || m.type != INIT_EXEC_OK)
                _exit(EXIT_FAILURE);

        r = supervise(sfd, pid, &status);
        if (r < 0)
                _exit(EXIT_FAILURE);
        /* As PID 1 we cannot die of a signal we raise ourselves: the outer
         * process does that for us. */
        (void) init_message_send(fd, INIT_EXITED, status, NULL);
        _exit(EXIT_SUCCESS);
}

_noreturn_ static void run_in_pid_namespace(const sigset_t *mask) {
        _cleanup_close_pair_ int pipefd[2] = { -EBADF, -EBADF };
        InitMessage m;
        pid_t pid;
        int sfd, status, r;

        /* Our next child becomes PID 1 of the new namespace; we stay outside
         * it, as the unit's main PID. */
        if (unshare(CLONE_NEWPID) < 0)
                fail_setup(errno, "create a PID namespace");
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                fail_setup(errno, "create a pipe");

        pid = fork();
        if (pid < 0)
                fail_setup(errno, "fork the namespace init");
        if (pid == 0) {
                pipefd[0] = safe_close(pipefd[0]);
                run_namespace_init(mask, pipefd[1]);
        }
        pipefd[1] = safe_close(pipefd[1]);

        sfd = become_supervisor();

        r = init_message_recv(pipefd[0], &m);
        if (r <= 0)
                /* The init died before it could say anything. */
                fail_setup(r < 0 ? r : EPROTO, "start the namespace init");
        r = started_then_supervise(&m, sfd, pid, &status);
        if (r < 0)
                exit(EXIT_FAILURE);
        r = init_message_recv(pipefd[0], &m);
        if (r > 0 && m.type == INIT_EXITED)
                exit_with_status(m.value);

        /* Killed before it could report: its own status is all we know. */
        log_error("the namespace init exited without the command's status");
        exit_with_status(status);
}

/* The command libjobrunner wrote into a memfd for our standard input.  The
 * memfd is emptied once read (systemd keeps its descriptor as long as the
 * unit exists), and the command gets /dev/null as its standard input. */
static int read_command_memfd(Command *ret) {
        char link[64];
        ssize_t n;
        int r;

        r = command_read(STDIN_FILENO, COMMAND_SIZE_MAX, ret);
        if (r < 0)
                return r;
        n = readlink("/proc/self/fd/0", link, sizeof(link) - 1);
        if (n > 0) {
                link[n] = 0;
                if (strncmp(link, "/memfd:jobrunner-command", strlen("/memfd:jobrunner-command")) == 0)
                        discard_result(ftruncate(STDIN_FILENO, 0));
        }
        return 0;
}

/* A job with a stdin pipe: our standard input is a socket passing the
 * memfd and the pipe (see command.h).  Returns the pipe. */
static int read_command_socket(Command *ret) {
        _cleanup_close_ int command_fd = -EBADF, stdin_fd = -EBADF;
        int r;

        r = command_socket_receive(STDIN_FILENO, &command_fd, &stdin_fd);
        if (r < 0)
                return r;
        r = command_read(command_fd, COMMAND_SIZE_MAX, ret);
        if (r < 0)
                return r;
        return TAKE_FD(stdin_fd);
}

/* Reads the command, and points standard input at what the command reads:
 * the stdin pipe, the terminal (our standard output), or /dev/null. */
static int read_command(Command *ret) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (fstat(STDIN_FILENO, &st) < 0)
                return -errno;
        if (S_ISSOCK(st.st_mode)) {
                if (arg_terminal)
                        return -EBADMSG;        /* a terminal is the input */
                fd = read_command_socket(ret);
                if (fd < 0)
                        return fd;
        } else {
                r = read_command_memfd(ret);
                if (r < 0)
                        return r;
                fd = arg_terminal ? fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3) :
                        open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
        }
        return dup2(fd, STDIN_FILENO) < 0 ? -errno : 0;
}

int main(int argc, char *argv[]) {
        Command command = {};
        sigset_t mask;
        int r;

        r = parse_argv(argc, argv);
        if (r < 0) {
                fprintf(stderr, "Try 'jobrunner-init --help'.\n");
                return EXIT_USAGE;
        }
        if (r == 0)
                return EXIT_SUCCESS;

        /* Blocked from the start, so that a signal arriving before the
         * signalfd exists waits for it instead of killing us. */
        r = signals_block(&mask);
        if (r < 0)
                fail_setup(r, "block signals");

        if (arg_command_from_stdin) {
                r = read_command(&command);
                if (r < 0)
                        fail_setup(r, "read the command from standard input");
                arg_command = command.argv;
        } else if (arg_terminal && dup2(STDOUT_FILENO, STDIN_FILENO) < 0)
                fail_setup(errno, "make the terminal standard input");
        /* execve() as-is: a PATH search would depend on the job's environment. */
        if (arg_command[0][0] != '/') {
                log_error("the command must be an absolute path: %s", arg_command[0]);
                if (arg_command_from_stdin)
                        fail_setup(EINVAL, "run a command that is not an absolute path");
                return EXIT_USAGE;
        }
        arg_environment = command_environment(environ, command.env);
        if (!arg_environment)
                fail_setup(ENOMEM, "put the command's environment together");

        if (arg_pid_namespace)
                run_in_pid_namespace(&mask);
        run_direct(&mask);
}
