/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static char *buf;
static size_t len;
static FILE *sink;

static void setup(void) {
        sink = open_memstream(&buf, &len);
        cr_assert_not_null(sink);
        log_set_target(sink);
        log_set_max_level(LOG_INFO);
        log_set_prefix_priority(0);
}

static void teardown(void) {
        log_set_target(NULL);
        fclose(sink);
        free(buf);
}

TestSuite(log, .init = setup, .fini = teardown);

Test(log, errno_variant_returns_negative_errno_and_names_it) {
        cr_assert_eq(log_error_errno(ENOENT, "cannot open %s", "x"), -ENOENT);
        cr_assert_eq(log_error_errno(-EPERM, "nope"), -EPERM);
        fflush(sink);
        cr_assert_str_eq(buf, "cannot open x: No such file or directory\nnope: Operation not permitted\n");
}

Test(log, plain_variant_returns_zero) {
        cr_assert_eq(log_error("plain %d", 42), 0);
        fflush(sink);
        cr_assert_str_eq(buf, "plain 42\n");
}

Test(log, messages_above_max_level_are_dropped_but_still_return) {
        cr_assert_eq(log_debug_errno(EIO, "hidden"), -EIO);
        fflush(sink);
        cr_assert_eq(len, 0);
}

Test(log, journal_prefix_carries_the_priority) {
        log_set_prefix_priority(1);
        log_warning("careful");
        fflush(sink);
        cr_assert_str_eq(buf, "<4>careful\n");
}

Test(log, errno_is_preserved) {
        errno = EAGAIN;
        log_error_errno(EINVAL, "x");
        cr_assert_eq(errno, EAGAIN);
}
