/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "macro.h"
#include "tty-raw.h"

static const int restore_signals[] = { SIGTERM, SIGHUP, SIGQUIT, SIGINT };

/* Read by the signal handlers: set before active, which they test. */
static struct termios saved;
static int saved_fd = -1;
static volatile sig_atomic_t active = 0;

static int resize_pipe[2] = { -1, -1 };

void tty_raw_restore(void) {
        int saved_errno = errno;

        if (active) {
                active = 0;
                /* TCSAFLUSH would drop what was typed meanwhile; TCSADRAIN
                 * lets the job's last output out first. */
                (void) tcsetattr(saved_fd, TCSADRAIN, &saved);
        }
        errno = saved_errno;
}

bool tty_raw_active(void) {
        return active;
}

/* A signal that ends the process: the terminal must not stay raw behind
 * it, which would leave the user's shell without echo or line editing. */
static void on_fatal_signal(int sig) {
        struct sigaction sa = { .sa_handler = SIG_DFL };

        tty_raw_restore();
        sigemptyset(&sa.sa_mask);
        (void) sigaction(sig, &sa, NULL);
        /* Unblocked at the handler's return: the default action then. */
        (void) raise(sig);
}

static void at_exit(void) {
        tty_raw_restore();
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int install_error = 0;

static void install(void) {
        struct sigaction sa = { .sa_handler = on_fatal_signal };

        if (atexit(at_exit) != 0) {
                install_error = -ENOMEM;
                return;
        }
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(restore_signals); i++)
                if (sigaction(restore_signals[i], &sa, NULL) < 0) {
                        install_error = -errno;
                        return;
                }
}

int tty_raw_enter(int fd) {
        struct termios raw;

        if (!isatty(fd))
                return -ENOTTY;
        (void) pthread_once(&once, install);
        if (install_error < 0)
                return install_error;
        if (active)
                return -EBUSY;
        if (tcgetattr(fd, &saved) < 0)
                return -errno;
        saved_fd = fd;

        raw = saved;
        cfmakeraw(&raw);
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        /* Active before the change: a signal in between restores what is
         * the same settings anyway. */
        active = 1;
        if (tcsetattr(fd, TCSADRAIN, &raw) < 0) {
                int r = -errno;

                active = 0;
                return r;
        }
        return 0;
}

int tty_get_size(int fd, unsigned *rows, unsigned *columns) {
        struct winsize ws = {};

        if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
                return -errno;
        if (ws.ws_row == 0 || ws.ws_col == 0)
                return -ENODATA;
        *rows = ws.ws_row;
        *columns = ws.ws_col;
        return 0;
}

static void on_winch(int sig) {
        int saved_errno = errno;

        (void) sig;
        (void) !write(resize_pipe[1], "", 1);
        errno = saved_errno;
}

int tty_resize_fd(void) {
        struct sigaction sa = { .sa_handler = on_winch, .sa_flags = SA_RESTART };

        if (resize_pipe[0] >= 0)
                return resize_pipe[0];
        if (pipe2(resize_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGWINCH, &sa, NULL) < 0) {
                int r = -errno;

                (void) close(resize_pipe[0]);
                (void) close(resize_pipe[1]);
                resize_pipe[0] = resize_pipe[1] = -1;
                return r;
        }
        return resize_pipe[0];
}

bool tty_resize_drain(void) {
        char buf[64];
        bool any = false;
        ssize_t n;

        if (resize_pipe[0] < 0)
                return false;
        while ((n = read(resize_pipe[0], buf, sizeof(buf))) > 0)
                any = true;
        return any;
}
