/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The output of a fanned-out command (client/host-prefix.c): prefixes per
 * complete line, partial lines held back per host and stream, JSON lines
 * given their host; and the summary's exit status rule
 * (client/fanout-summary.c), branch by branch. */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "fanout-summary.h"
#include "host-prefix.h"
#include "macro.h"

static int out_fd = -1, err_fd = -1;

static void setup(void) {
        out_fd = memfd_create("out", MFD_CLOEXEC);
        err_fd = memfd_create("err", MFD_CLOEXEC);
        cr_assert_geq(out_fd, 0);
        cr_assert_geq(err_fd, 0);
}

static void teardown(void) {
        close(out_fd);
        close(err_fd);
}

TestSuite(host_prefix, .init = setup, .fini = teardown);

/* What fd holds, NUL-terminated (static). */
static const char *contents(int fd) {
        static char buf[2][4096];
        static unsigned k;
        char *b = buf[k++ % ELEMENTSOF(buf)];
        ssize_t n = pread(fd, b, sizeof(buf[0]) - 1, 0);

        cr_assert_geq(n, 0);
        b[n] = '\0';
        return b;
}

static void put(HostOutput *h, int fd, const char *s) {
        cr_assert_eq(host_output_write(h, fd, s, strlen(s)), 0);
}

Test(host_prefix, lines_get_their_host_and_partial_lines_wait) {
        HostSink sink;
        HostOutput a, b;

        host_sink_init(&sink, out_fd, err_fd, false);
        cr_assert_eq(host_output_init(&a, &sink, "a", 4), 0);
        cr_assert_eq(host_output_init(&b, &sink, "host", 4), 0);

        put(&a, out_fd, "one\ntw");
        put(&b, out_fd, "x");
        put(&a, err_fd, "e1\ne");
        put(&a, out_fd, "o\n\nthr");
        put(&b, out_fd, "y\n");
        put(&a, err_fd, "2\n");
        /* Bytes other than newlines go through as they are. */
        put(&b, err_fd, "\tbin\001\xff\n");
        cr_assert_eq(host_output_flush(&a), 0);
        cr_assert_eq(host_output_flush(&b), 0);

        cr_assert_str_eq(contents(out_fd), "a    | one\na    | two\na    | \nhost | xy\na    | thr\n");
        cr_assert_str_eq(contents(err_fd), "a    | e1\na    | e2\nhost | \tbin\001\xff\n");

        host_output_done(&a);
        host_output_done(&b);
        host_sink_done(&sink);
}

Test(host_prefix, json_objects_get_a_host_member) {
        HostSink sink;
        HostOutput a;

        host_sink_init(&sink, out_fd, err_fd, true);
        cr_assert_eq(host_output_init(&a, &sink, "web-1", 5), 0);
        put(&a, out_fd, "{\"type\":\"start\"}\n{\"ty");
        put(&a, out_fd, "pe\":\"end\"}\n");
        /* Notices on stderr stay text. */
        put(&a, err_fd, "jobrunner: reconnected\n");
        cr_assert_eq(host_output_flush(&a), 0);

        cr_assert_str_eq(contents(out_fd), "{\"host\":\"web-1\",\"type\":\"start\"}\n"
                                           "{\"host\":\"web-1\",\"type\":\"end\"}\n");
        cr_assert_str_eq(contents(err_fd), "web-1 | jobrunner: reconnected\n");
        host_output_done(&a);
        host_sink_done(&sink);
}

/* ---- the exit status rule ------------------------------------------------------------ */

#define RAN(s) ((HostResult) { .name = "h", .outcome = HOST_RAN, .status = (s) })
#define INTERRUPTED ((HostResult) { .name = "h", .outcome = HOST_INTERRUPTED })
#define FAILED ((HostResult) { .name = "h", .outcome = HOST_FAILED })

static int status_of(const HostResult *r, size_t n) {
        return fanout_exit_status(r, n);
}

Test(exit_status, every_branch) {
        cr_assert_eq(status_of((HostResult[]) { RAN(0), RAN(0) }, 2), 0);
        cr_assert_eq(status_of((HostResult[]) { RAN(0), RAN(3), RAN(1) }, 3), 3);
        cr_assert_eq(status_of((HostResult[]) { RAN(127), RAN(0) }, 2), 127);
        cr_assert_eq(status_of((HostResult[]) { RAN(137), RAN(1) }, 2), 137);
        cr_assert_eq(status_of((HostResult[]) { FAILED, RAN(0) }, 2), CLI_EXIT_UNAVAILABLE);
        cr_assert_eq(status_of((HostResult[]) { RAN(1), FAILED }, 2), 69);
        cr_assert_eq(status_of((HostResult[]) { RAN(70), FAILED }, 2), 70);
        cr_assert_eq(status_of((HostResult[]) { INTERRUPTED, RAN(0), FAILED }, 3), CLI_EXIT_INTERRUPTED);
        cr_assert_eq(status_of((HostResult[]) { INTERRUPTED, RAN(143) }, 2), 143);
        cr_assert_eq(status_of(NULL, 0), 0);
}

Test(exit_status, summary_lines_and_total) {
        HostResult r[] = {
                { .name = "a", .outcome = HOST_RAN, .status = 0, .text = (char *) "exited with code 0" },
                { .name = "b", .outcome = HOST_RAN, .status = 2, .text = (char *) "exited with code 2" },
                { .name = "c", .outcome = HOST_FAILED, .text = (char *) "cannot connect" },
                { .name = "d", .outcome = HOST_INTERRUPTED, .text = (char *) "detached" },
        };
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        cr_assert_not_null(f);
        cr_assert_eq(fanout_print_summary(f, r, ELEMENTSOF(r)), 0);
        cr_assert_eq(fclose(f), 0);
        cr_assert_str_eq(buf, "a: exited with code 0\nb: exited with code 2\nc: cannot connect\nd: detached\n"
                              "jobrunner: 4 hosts: 1 succeeded, 1 failed, 1 interrupted, 1 in error\n");
}
