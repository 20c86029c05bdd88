/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "macro.h"
#include "status.h"

/* Written out again rather than shared with status.c, so that a change to the
 * mapping is a deliberate change to this test too. */
static const struct {
        int error;
        JrCode code;
} expected[] = {
        { EINVAL,       JR_CODE_INVALID_ARGUMENT },
        { ENAMETOOLONG, JR_CODE_INVALID_ARGUMENT },
        { EDOM,         JR_CODE_INVALID_ARGUMENT },
        { ENODEV,       JR_CODE_INVALID_ARGUMENT },
        { ENOENT,       JR_CODE_NOT_FOUND },
        { ESRCH,        JR_CODE_NOT_FOUND },
        { EPERM,        JR_CODE_PERMISSION_DENIED },
        { EACCES,       JR_CODE_PERMISSION_DENIED },
        { E2BIG,        JR_CODE_RESOURCE_EXHAUSTED },
        { ENOSPC,       JR_CODE_RESOURCE_EXHAUSTED },
        { EMFILE,       JR_CODE_RESOURCE_EXHAUSTED },
        { ENFILE,       JR_CODE_RESOURCE_EXHAUSTED },
        { ENOMEM,       JR_CODE_RESOURCE_EXHAUSTED },
        { EMSGSIZE,     JR_CODE_RESOURCE_EXHAUSTED },
        { EDQUOT,       JR_CODE_RESOURCE_EXHAUSTED },
        { EALREADY,     JR_CODE_FAILED_PRECONDITION },
        { ESTALE,       JR_CODE_FAILED_PRECONDITION },
        { EBUSY,        JR_CODE_FAILED_PRECONDITION },
        { ENOTEMPTY,    JR_CODE_FAILED_PRECONDITION },
        { ERANGE,       JR_CODE_OUT_OF_RANGE },
        { ETIMEDOUT,    JR_CODE_DEADLINE_EXCEEDED },
        { ECANCELED,    JR_CODE_CANCELLED },
        { EOPNOTSUPP,   JR_CODE_UNIMPLEMENTED },
        { ENOTSUP,      JR_CODE_UNIMPLEMENTED },
        { ENOSYS,       JR_CODE_UNIMPLEMENTED },
        { ECONNREFUSED, JR_CODE_UNAVAILABLE },
        { ESHUTDOWN,    JR_CODE_UNAVAILABLE },
        { EHOSTUNREACH, JR_CODE_UNAVAILABLE },
        { ENOTCONN,     JR_CODE_UNAVAILABLE },
        { EKEYREJECTED, JR_CODE_UNAUTHENTICATED },
        { ENOKEY,       JR_CODE_UNAUTHENTICATED },
        { EBADMSG,      JR_CODE_DATA_LOSS },
        { ENODATA,      JR_CODE_DATA_LOSS },
};

Test(status, every_mapped_errno_in_both_signs) {
        for (size_t i = 0; i < ELEMENTSOF(expected); i++) {
                cr_expect_eq(jr_code_from_errno(expected[i].error), expected[i].code,
                             "%s: got %s", strerrorname_np(expected[i].error),
                             jr_code_to_string(jr_code_from_errno(expected[i].error)));
                cr_expect_eq(jr_code_from_errno(-expected[i].error), expected[i].code,
                             "-%s", strerrorname_np(expected[i].error));
        }
}

Test(status, zero_is_ok) {
        cr_assert_eq(jr_code_from_errno(0), JR_CODE_OK);
}

Test(status, unknown_errno_is_internal) {
        static const int unknown[] = { EIO, EAGAIN, EEXIST, EBADF, EPIPE, 4095, 9999, INT_MAX, INT_MIN, -INT_MAX };

        for (size_t i = 0; i < ELEMENTSOF(unknown); i++) {
                cr_expect_eq(jr_code_from_errno(unknown[i]), JR_CODE_INTERNAL, "%d", unknown[i]);
                if (unknown[i] != INT_MIN)
                        cr_expect_eq(jr_code_from_errno(-unknown[i]), JR_CODE_INTERNAL, "%d", -unknown[i]);
        }
}

/* Every errno the kernel headers know maps to something in range and only
 * the table's entries to anything but INTERNAL. */
Test(status, no_errno_escapes_the_table) {
        for (int e = 1; e < 4096; e++) {
                JrCode c = jr_code_from_errno(-e);
                bool listed = false;

                for (size_t i = 0; i < ELEMENTSOF(expected); i++)
                        listed = listed || expected[i].error == e;
                cr_expect(jr_code_to_string(c), "%d", e);
                cr_expect(listed || c == JR_CODE_INTERNAL, "%d (%s) maps to %s", e,
                          strerrorname_np(e) ?: "?", jr_code_to_string(c));
        }
}

Test(status, names_are_grpc_spellings_and_wire_values) {
        static const char *const names[] = {
                "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
                "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
                "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                "UNAUTHENTICATED",
        };

        cr_assert_eq(ELEMENTSOF(names), 17);
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                cr_expect_str_eq(jr_code_to_string((JrCode) i), names[i]);
        /* Spot checks of the numbers against the gRPC definition. */
        cr_expect_eq(JR_CODE_NOT_FOUND, 5);
        cr_expect_eq(JR_CODE_PERMISSION_DENIED, 7);
        cr_expect_eq(JR_CODE_UNAUTHENTICATED, 16);
}

Test(status, out_of_range_code_has_no_name) {
        cr_expect_null(jr_code_to_string((JrCode) -1));
        cr_expect_null(jr_code_to_string((JrCode) 17));
        cr_expect_null(jr_code_to_string((JrCode) 1000));
}
