/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "fd-store.h"
#include "macro.h"

#define ID "0123456789abcdef0123456789abcdef"

static int open_null(void) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

        cr_assert_geq(fd, 0);
        return fd;
}

static bool fd_is_open(int fd) {
        return fcntl(fd, F_GETFD) >= 0;
}

/* What a restarted daemon gets back: its own names, each with the stream it
 * stored, the input's write end among them; everything else is closed. */
Test(fd_store, names_come_back_as_their_streams) {
        char *names[] = {
                (char *) "job-" ID "-stdout",
                (char *) "job-" ID "-stderr",
                (char *) "job-" ID "-stdin",
                (char *) "job-" ID "-stdinx",
                (char *) "job-" ID "-terminal",
                (char *) "job-0123-stdin",
                (char *) "listen",
        };
        int fds[ELEMENTSOF(names)];
        jr_pipe *pipes = NULL;
        int n;

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                fds[i] = open_null();

        n = fd_store_pipes_from(names, fds, ELEMENTSOF(names), &pipes);
        cr_assert_eq(n, 3);
        cr_expect_str_eq(pipes[0].job_id, ID);
        cr_expect_eq(pipes[0].stream, JR_STREAM_STDOUT);
        cr_expect_eq(pipes[0].fd, fds[0]);
        cr_expect_eq(pipes[1].stream, JR_STREAM_STDERR);
        cr_expect_eq(pipes[1].fd, fds[1]);
        cr_expect_str_eq(pipes[2].job_id, ID);
        cr_expect_eq(pipes[2].stream, JR_STREAM_STDIN);
        cr_expect_eq(pipes[2].fd, fds[2]);
        for (size_t i = 3; i < ELEMENTSOF(names); i++)
                cr_expect(!fd_is_open(fds[i]), "%s must be closed", names[i]);

        for (int i = 0; i < n; i++)
                close(pipes[i].fd);
        free(pipes);
}

/* Without a service manager there is nowhere to store: nothing happens,
 * whatever the stream. */
Test(fd_store, without_a_service_manager_nothing_is_stored) {
        int fd = open_null();

        unsetenv("NOTIFY_SOCKET");
        fd_store_on_pipe(ID, JR_STREAM_STDIN, fd, NULL);
        fd_store_on_pipe(ID, JR_STREAM_STDIN, -EBADF, NULL);
        cr_expect(fd_is_open(fd), "the caller's fd stays the caller's");
        close(fd);
}
