/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The command on its way from libjobrunner to jobrunner-init
 * (lib/init/command.c): byte-exact round trips of any strings and of many,
 * refusal of anything malformed, and the command's environment. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "command.h"
#include "macro.h"
#include "strv.h"

static void expect_strv(char **l, char *const *want) {
        size_t i = 0;

        for (; want && want[i]; i++) {
                cr_assert_not_null(l[i], "entry %zu missing", i);
                cr_assert_str_eq(l[i], want[i], "entry %zu", i);
        }
        cr_assert_null(l[i], "extra entry %zu", i);
}

static void round_trip(char **argv, char **env) {
        _cleanup_(command_done) Command c = {};
        _cleanup_close_ int fd = command_fd_new(argv, env);

        cr_assert_geq(fd, 0);
        /* Read from the start whatever the offset (the writer's is at the
         * end), and again. */
        for (int i = 0; i < 2; i++) {
                command_done(&c);
                cr_assert_eq(command_read(fd, COMMAND_SIZE_MAX, &c), 0);
                expect_strv(c.argv, argv);
                expect_strv(c.env, env);
        }
}

Test(command, any_strings_round_trip) {
        char *argv[] = { (char *) "/bin/echo", (char *) "", (char *) "$HOME ${X} $$ %n \\ \" '",
                         (char *) "line\nnext\ttab\x01\x7f", (char *) "héllo wörld ☃", (char *) "=", NULL };
        char *env[] = { (char *) "A=", (char *) "B=x=y z", (char *) "HOME=$HOME", NULL };

        round_trip(argv, env);
        round_trip(argv, NULL);
}

Test(command, many_and_long_strings_round_trip) {
        _cleanup_(strv_freep) char **argv = calloc(100002, sizeof(char *));
        _cleanup_(strv_freep) char **env = calloc(3, sizeof(char *));

        cr_assert_not_null(argv);
        cr_assert_not_null(env);
        argv[0] = strdup("/bin/true");
        for (size_t i = 1; i <= 100000; i++)
                cr_assert_geq(asprintf(&argv[i], "%zu", i), 0);
        env[0] = malloc(131072);
        cr_assert_not_null(env[0]);
        memset(env[0], 'v', 131071);
        memcpy(env[0], "LONG=", 5);
        env[0][131071] = 0;
        env[1] = strdup("SHORT=1");
        round_trip(argv, env);
}

static int memfd_with(const void *data, size_t n) {
        int fd = memfd_create("test", MFD_CLOEXEC);

        cr_assert_geq(fd, 0);
        cr_assert_eq(write(fd, data, n), (ssize_t) n);
        return fd;
}

Test(command, malformed_is_refused) {
        static const struct {
                const char *data;
                size_t n;
        } bad[] = {
#define B(s) { s, sizeof(s) - 1 }
                B(""),
                B("jobrunner-command 2\n1\0000\0/bin/true\0"),          /* another version */
                B("jobrunner-command 1\n0\0000\0"),                    /* no argv */
                B("jobrunner-command 1\n1\0000\0/bin/true"),           /* no NUL */
                B("jobrunner-command 1\n2\0000\0/bin/true\0"),         /* one string short */
                B("jobrunner-command 1\n1\0001\0/bin/true\0"),         /* no env string */
                B("jobrunner-command 1\n1\0000\0/bin/true\0x\0"),      /* something after */
                B("jobrunner-command 1\n1x\0000\0/bin/true\0"),        /* not a number */
                B("jobrunner-command 1\n\0000\0/bin/true\0"),          /* no number */
                B("jobrunner-command 1\n99999999999999999999\0000\0/bin/true\0"),
                B("jobrunner-command 1\n9999999999999999999\0000\0/bin/true\0"),
                B("jobrunner-command 1\n1\00018446744073709551615\0/bin/true\0"),
#undef B
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_close_ int fd = memfd_with(bad[i].data, bad[i].n);
                Command c = {};

                cr_expect_eq(command_read(fd, COMMAND_SIZE_MAX, &c), -EBADMSG, "entry %zu", i);
                cr_expect_null(c.argv);
        }
        {
                static const char ok[] = "jobrunner-command 1\n1\0000\0/bin/true\0";
                _cleanup_close_ int fd = memfd_with(ok, sizeof(ok) - 1);
                _cleanup_(command_done) Command c = {};
                int p[2];

                cr_expect_eq(command_read(fd, sizeof(ok) - 2, &c), -E2BIG);
                cr_expect_eq(command_read(fd, sizeof(ok) - 1, &c), 0);
                /* Not a file: a pipe cannot be read from its start. */
                cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
                cr_expect_eq(command_read(p[0], COMMAND_SIZE_MAX, &c), -EBADMSG);
                close(p[0]);
                close(p[1]);
        }
        cr_expect_eq(command_fd_new((char *[]) { NULL }, NULL), -EINVAL);
}

Test(command, environment_is_systemds_with_the_jobs_changes) {
        char *base[] = { (char *) "PATH=/usr/bin", (char *) "NOTIFY_SOCKET=/run/systemd/notify",
                         (char *) "HOME=/", (char *) "NOTIFY_SOCKETS=kept", NULL };
        char *env[] = { (char *) "HOME=/srv", (char *) "X=1", NULL };
        _cleanup_free_ char **l = command_environment(base, env), **m = command_environment(base, NULL);

        cr_assert_not_null(l);
        expect_strv(l, (char *[]) { (char *) "PATH=/usr/bin", (char *) "NOTIFY_SOCKETS=kept", (char *) "HOME=/srv",
                                    (char *) "X=1", NULL });
        cr_assert_not_null(m);
        expect_strv(m, (char *[]) { (char *) "PATH=/usr/bin", (char *) "HOME=/", (char *) "NOTIFY_SOCKETS=kept",
                                    NULL });
}

/* ---- the command and a stdin pipe through one socket --------------------- */

Test(init_command, socket_round_trip) {
        _cleanup_(command_done) Command c = {};
        _cleanup_close_pair_ int in[2] = { -EBADF, -EBADF };
        _cleanup_close_ int memfd = -EBADF, sock = -EBADF, got_command = -EBADF, got_stdin = -EBADF;
        char *argv[] = { (char *) "/usr/bin/sha256sum", (char *) "-", NULL };
        char buf[8] = {};

        cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
        memfd = command_fd_new(argv, NULL);
        cr_assert_geq(memfd, 0);
        sock = command_socket_new(memfd, in[0]);
        cr_assert_geq(sock, 0, "%s", strerror(-sock));
        /* The socket holds its own copies: the originals may go. */
        memfd = safe_close(memfd);
        in[0] = safe_close(in[0]);

        cr_assert_eq(command_socket_receive(sock, &got_command, &got_stdin), 0);
        cr_assert_eq(command_read(got_command, COMMAND_SIZE_MAX, &c), 0);
        expect_strv(c.argv, argv);
        cr_assert_eq(fcntl(got_stdin, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        cr_assert_eq(write(in[1], "data", 4), 4);
        cr_assert_eq(read(got_stdin, buf, sizeof buf), 4, "the received descriptor is not the pipe's read end");
        cr_assert_str_eq(buf, "data");

        /* One message only: a second receive finds nothing. */
        cr_assert_eq(command_socket_receive(sock, &got_command, &got_stdin), -EBADMSG);
}

Test(init_command, socket_refuses_other_messages) {
        _cleanup_close_pair_ int pair[2] = { -EBADF, -EBADF };
        int a = -EBADF, b = -EBADF;

        cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
        /* The right words without descriptors. */
        cr_assert_eq(write(pair[1], "jobrunner-stdin 1\n", 18), 18);
        cr_assert_eq(command_socket_receive(pair[0], &a, &b), -EBADMSG);
        /* Nothing at all, and other words. */
        cr_assert_eq(command_socket_receive(pair[0], &a, &b), -EBADMSG);
        cr_assert_eq(write(pair[1], "jobrunner-stdin 2\n", 18), 18);
        cr_assert_eq(command_socket_receive(pair[0], &a, &b), -EBADMSG);
        cr_assert_eq(a, -EBADF);
        cr_assert_eq(b, -EBADF);
        cr_assert_eq(command_socket_new(-EBADF, 0), -EBADF);
}
