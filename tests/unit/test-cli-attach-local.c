/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What an attach session does locally, without a server: the detach keys
 * found across reads (client/detach-keys.c), and raw mode of a terminal
 * saved and restored on every way out (client/tty-raw.c), on a
 * pseudo-terminal of the test's own. */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "detach-keys.h"
#include "macro.h"
#include "tty-raw.h"

/* ---- detach keys ------------------------------------------------------------- */

/* Scans the reads (NUL-free strings) in turn; what reached the job, and
 * whether and after which read it detached (-1: never). */
static int scan(const char *const *reads, size_t n, char *job, size_t *job_len) {
        DetachKeys k = {};
        uint8_t out[64];

        *job_len = 0;
        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(reads[i]), m;
                bool detach;

                cr_assert_lt(len, sizeof(out));
                m = detach_keys_scan(&k, (const uint8_t *) reads[i], len, out, &detach);
                memcpy(job + *job_len, out, m);
                *job_len += m;
                if (detach)
                        return (int) i;
        }
        *job_len += detach_keys_flush(&k, (uint8_t *) job + *job_len);
        return -1;
}

#define P "\x10"
#define Q "\x11"

static void expect(const char *const *reads, size_t n, const char *job, int detached_at) {
        char got[256];
        size_t len;
        int at = scan(reads, n, got, &len);

        cr_assert_eq(at, detached_at, "detached at read %d, expected %d", at, detached_at);
        cr_assert_eq(len, strlen(job), "%zu bytes to the job, expected %zu", len, strlen(job));
        cr_assert_eq(memcmp(got, job, len), 0);
}

Test(detach_keys, plain_input_passes_unchanged) {
        expect((const char *[]) { "ls -l\r", "exit\r" }, 2, "ls -l\rexit\r", -1);
}

Test(detach_keys, the_sequence_in_one_read_keeps_what_came_before) {
        expect((const char *[]) { "abc" P Q "def" }, 1, "abc", 0);
}

Test(detach_keys, the_sequence_across_two_reads) {
        expect((const char *[]) { "abc" P, Q "def" }, 2, "abc", 1);
}

Test(detach_keys, a_held_ctrl_p_then_another_key_passes_both) {
        expect((const char *[]) { "a" P, "x", "b" }, 3, "a" P "xb", -1);
}

Test(detach_keys, ctrl_p_ctrl_p_ctrl_q_passes_all_three) {
        expect((const char *[]) { P P Q }, 1, P P Q, -1);
}

Test(detach_keys, ctrl_q_alone_passes) {
        expect((const char *[]) { Q "x" Q }, 1, Q "x" Q, -1);
}

Test(detach_keys, a_ctrl_p_at_the_end_of_input_reaches_the_job) {
        expect((const char *[]) { "a", P }, 2, "a" P, -1);
}

Test(detach_keys, one_byte_at_a_time) {
        expect((const char *[]) { "l", "s", P, "z", P, Q, "never" }, 7, "ls" P "z", 5);
}

/* ---- raw mode ------------------------------------------------------------------ */

static int pty_master, pty_slave;

static void open_pty(void) {
        pty_master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        cr_assert_geq(pty_master, 0);
        cr_assert_eq(grantpt(pty_master), 0);
        cr_assert_eq(unlockpt(pty_master), 0);
        pty_slave = open(ptsname(pty_master), O_RDWR | O_NOCTTY | O_CLOEXEC);
        cr_assert_geq(pty_slave, 0);
}

static void close_pty(void) {
        tty_raw_restore();
        close(pty_slave);
        close(pty_master);
}

static struct termios attrs(void) {
        struct termios t;

        cr_assert_eq(tcgetattr(pty_slave, &t), 0);
        return t;
}

static void assert_same(const struct termios *a, const struct termios *b) {
        cr_assert_eq(a->c_iflag, b->c_iflag);
        cr_assert_eq(a->c_oflag, b->c_oflag);
        cr_assert_eq(a->c_lflag, b->c_lflag);
        cr_assert_eq(a->c_cflag, b->c_cflag);
        cr_assert_eq(memcmp(a->c_cc, b->c_cc, sizeof(a->c_cc)), 0);
}

static void assert_restored(const struct termios *before) {
        struct termios now = attrs();

        assert_same(before, &now);
}

TestSuite(tty_raw, .init = open_pty, .fini = close_pty);

Test(tty_raw, enter_makes_it_raw_and_restore_brings_it_back) {
        struct termios before = attrs(), raw;

        cr_assert(before.c_lflag & ICANON);
        cr_assert_eq(tty_raw_enter(pty_slave), 0);
        cr_assert(tty_raw_active());
        raw = attrs();
        cr_assert_eq(raw.c_lflag & (ICANON | ECHO | ISIG | IEXTEN), 0);
        cr_assert_eq(raw.c_iflag & (ICRNL | IXON), 0);
        cr_assert_eq(raw.c_oflag & OPOST, 0);
        cr_assert_eq(raw.c_cc[VMIN], 1);

        tty_raw_restore();
        cr_assert_not(tty_raw_active());
        assert_restored(&before);
        /* Twice is harmless. */
        tty_raw_restore();
        assert_restored(&before);
}

Test(tty_raw, not_a_terminal) {
        int fds[2];

        cr_assert_eq(pipe(fds), 0);
        cr_assert_eq(tty_raw_enter(fds[0]), -ENOTTY);
        cr_assert_not(tty_raw_active());
        close(fds[0]);
        close(fds[1]);
}

Test(tty_raw, the_size) {
        struct winsize ws = { .ws_row = 42, .ws_col = 132 };
        unsigned rows, columns;

        cr_assert_eq(ioctl(pty_master, TIOCSWINSZ, &ws), 0);
        cr_assert_eq(tty_get_size(pty_slave, &rows, &columns), 0);
        cr_assert_eq(rows, 42);
        cr_assert_eq(columns, 132);
}

Test(tty_raw, a_resize_signal_makes_the_fd_readable) {
        int fd = tty_resize_fd();

        cr_assert_geq(fd, 0);
        cr_assert_not(tty_resize_drain());
        cr_assert_eq(raise(SIGWINCH), 0);
        cr_assert(tty_resize_drain());
        cr_assert_not(tty_resize_drain());
}

/* In a child, which enters raw mode and then ends as told; the parent
 * checks the terminal afterwards: its settings are the terminal's, shared
 * by both. */
static void child_ends(void (*how)(void), int expect_signal, int expect_status) {
        struct termios before = attrs();
        int status;
        pid_t pid;

        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                if (tty_raw_enter(pty_slave) < 0)
                        _exit(99);
                how();
                _exit(98);
        }
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        if (expect_signal) {
                cr_assert(WIFSIGNALED(status), "status %x", status);
                cr_assert_eq(WTERMSIG(status), expect_signal);
        } else {
                cr_assert(WIFEXITED(status), "status %x", status);
                cr_assert_eq(WEXITSTATUS(status), expect_status);
        }
        assert_restored(&before);
}

static void by_sigterm(void) {
        raise(SIGTERM);
}
static void by_sighup(void) {
        raise(SIGHUP);
}
static void by_sigquit(void) {
        /* No core dump of a test child. */
        setrlimit(RLIMIT_CORE, &(struct rlimit) {});
        raise(SIGQUIT);
}
static void by_sigint(void) {
        raise(SIGINT);
}
static void by_exit(void) {
        exit(7);
}

Test(tty_raw, restored_when_sigterm_ends_the_process) {
        child_ends(by_sigterm, SIGTERM, 0);
}

Test(tty_raw, restored_when_sighup_ends_the_process) {
        child_ends(by_sighup, SIGHUP, 0);
}

Test(tty_raw, restored_when_sigquit_ends_the_process) {
        child_ends(by_sigquit, SIGQUIT, 0);
}

Test(tty_raw, restored_when_sigint_ends_the_process) {
        child_ends(by_sigint, SIGINT, 0);
}

Test(tty_raw, restored_at_exit) {
        child_ends(by_exit, 0, 7);
}
