/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdlib.h>

/* Criterion does not count what LeakSanitizer reports when a test's process
 * exits, so a suite checks after every test, with .fini = abort_on_leaks,
 * and a leak fails the run: an assertion in .fini would not count either, a
 * crash does.  Without ASan it does nothing. */
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
static inline void abort_on_leaks(void) {
        if (__lsan_do_recoverable_leak_check() != 0)
                abort();
}
#else
static inline void abort_on_leaks(void) {
}
#endif
