/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The descriptors of a job's standard streams (see job-io.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "job-io.h"
#include "macro.h"

/* A terminal: the master, which the daemon reads as the job's stdout and
 * writes its input to, and the slave, which systemd hands the job as its
 * stdout and stderr (and jobrunner-init makes its stdin and controlling
 * terminal).  O_NOCTTY: the daemon must never get a controlling terminal. */
static int open_terminal(int *ret_master, int *ret_slave) {
        _cleanup_close_ int master = -EBADF, slave = -EBADF;
        char name[64];

        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return -errno;
        if (grantpt(master) < 0 || unlockpt(master) < 0)
                return -errno;
        errno = ptsname_r(master, name, sizeof(name));
        if (errno != 0)
                return -errno;
        slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return -errno;
        /* The size a terminal starts with, until a client sets its own. */
        if (ioctl(master, TIOCSWINSZ, &(struct winsize) { .ws_row = 24, .ws_col = 80 }) < 0)
                return -errno;
        *ret_master = TAKE_FD(master);
        *ret_slave = TAKE_FD(slave);
        return 0;
}

void job_io_done(JobIo *io) {
        close_pairp(&io->out);
        close_pairp(&io->err);
        close_pairp(&io->in);
}

int job_io_open(const jr_spec *spec, JobIo *io) {
        int r;

        if (spec->terminal) {
                /* The slave twice, as stdout and stderr: the copy in err[1]
                 * keeps the pair's shape for the code below. */
                r = open_terminal(&io->out[0], &io->out[1]);
                if (r < 0)
                        return r;
                io->err[1] = fcntl(io->out[1], F_DUPFD_CLOEXEC, 3);
                io->in[1] = fcntl(io->out[0], F_DUPFD_CLOEXEC, 3);
                return io->err[1] < 0 || io->in[1] < 0 ? -errno : 0;
        }
        if (pipe2(io->out, O_CLOEXEC) < 0 || pipe2(io->err, O_CLOEXEC) < 0)
                return -errno;
        if (spec->stdin_mode == JR_STDIN_PIPE && pipe2(io->in, O_CLOEXEC) < 0)
                return -errno;
        return 0;
}
