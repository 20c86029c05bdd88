/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The job of the load benchmark (bench/load):
 *
 *   load-job INDEX LINES
 *
 * writes the output load-output.h defines for job INDEX, LINES lines on
 * stdout and one on stderr, then sleeps until a signal ends it: the default
 * action of SIGTERM, so that a stop ends it at once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load-output.h"

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        char line[LOAD_LINE_MAX];
        unsigned index, lines;

        if (argc != 3)
                return 2;
        index = (unsigned) strtoul(argv[1], NULL, 10);
        lines = (unsigned) strtoul(argv[2], NULL, 10);

        for (unsigned k = 0; k < lines; k++)
                if (write_all(STDOUT_FILENO, line, load_stdout_line(line, index, k)) < 0)
                        return 1;
        if (write_all(STDERR_FILENO, line, load_stderr_line(line, index)) < 0)
                return 1;
        for (;;)
                pause();
}
