/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "metrics-check.h"

/* exec failed in the child: promtool is not installed. */
#define EXIT_NO_PROMTOOL 127

static int memfd_with(const char *data, size_t len) {
        int fd = memfd_create("metrics", MFD_CLOEXEC);

        cr_assert_geq(fd, 0, "memfd_create: %m");
        while (len > 0) {
                ssize_t k = write(fd, data, len);

                if (k < 0 && errno == EINTR)
                        continue;
                cr_assert_gt(k, 0, "write: %m");
                data += k;
                len -= (size_t) k;
        }
        cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

/* What fd holds, NUL-terminated. */
static char *contents(int fd) {
        struct stat st;
        char *buf;

        cr_assert_eq(fstat(fd, &st), 0, "fstat: %m");
        buf = calloc(1, (size_t) st.st_size + 1);
        cr_assert_not_null(buf);
        cr_assert_eq(pread(fd, buf, (size_t) st.st_size, 0), st.st_size, "pread: %m");
        return buf;
}

void metrics_promtool_check(const char *body, size_t len) {
        /* Files in memory rather than pipes: nothing has to feed promtool's
         * input and drain its output at once, whatever their sizes. */
        _cleanup_close_ int in = memfd_with(body, len), out = memfd_with("", 0);
        _cleanup_free_ char *output = NULL;
        int status;
        pid_t pid;

        pid = fork();
        cr_assert_geq(pid, 0, "fork: %m");
        if (pid == 0) {
                if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(out, STDERR_FILENO) < 0)
                        _exit(EXIT_FAILURE);
                execlp("promtool", "promtool", "check", "metrics", (char *) NULL);
                _exit(EXIT_NO_PROMTOOL);
        }
        cr_assert_eq(waitpid(pid, &status, 0), pid, "waitpid: %m");
        output = contents(out);

        cr_assert(!(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_NO_PROMTOOL),
                  "cannot run promtool: install Debian's package prometheus");
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0 && output[0] == 0,
                  "promtool check metrics: %s %d, said:\n%s\nof the body:\n%.*s",
                  WIFEXITED(status) ? "exit status" : "signal",
                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                  output, (int) len, body);
}

void metrics_expect_line(const char *body, const char *line) {
        size_t n = strlen(line);

        cr_assert_null(strchr(line, '\n'), "a line has no line feed: '%s'", line);
        for (const char *p = body; (p = strstr(p, line)); p++)
                if ((p == body || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
                        return;
        cr_assert_fail("no line '%s' in the body:\n%s", line, body);
}

void metrics_expect_no(const char *body, const char *substring) {
        const char *p = strstr(body, substring);

        cr_assert_null(p, "'%s' at offset %td of the body:\n%s", substring, p ? p - body : 0, body);
}
