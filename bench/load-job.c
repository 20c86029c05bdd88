/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The job of the load benchmark (bench/load):
 *
 *   load-job INDEX LINES
 *
 * writes the output load-output.h defines for job INDEX, LINES lines on
 * stdout and one on stderr, then sleeps until a signal ends it: the default
 * action of SIGTERM, so that a stop ends it at once. */
#include <stdlib.h>
#include <unistd.h>

#include "load-output.h"

int main(int argc, char *argv[]) {
        char line[LOAD_LINE_MAX];
        unsigned index, lines;

        if (argc != 3)
                return 2;
        index = (unsigned) strtoul(argv[1], NULL, 10);
        lines = (unsigned) strtoul(argv[2], NULL, 10);

        for (unsigned k = 0; k < lines; k++)
                fwrite(line, 1, load_stdout_line(line, index, k), stdout);
        if (fflush(stdout) != 0)
                return 1;
        /* stderr is unbuffered: one write. */
        if (fwrite(line, 1, load_stderr_line(line, index), stderr) == 0)
                return 1;
        for (;;)
                pause();
}
