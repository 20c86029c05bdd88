/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sanitizer runtimes' defaults for jobrunner-init, linked only into the
 * ASan+UBSan build (-Dsanitizers=true).  A job's environment is the job's
 * own, so ASAN_OPTIONS and friends of whoever started it never reach us:
 * these are what applies. */
#include <sanitizer/asan_interface.h>
#include <sanitizer/lsan_interface.h>

/* libubsan reads it but ships no header declaring it. */
const char *__ubsan_default_options(void);

/* Our stderr is the job's: a report there would only be part of the job's
 * output, which nobody may ever read.  The journal records it too, under the
 * job's unit, where the sanitized test run looks for it. */
const char *__asan_default_options(void) {
        return "log_to_syslog=1";
}

const char *__ubsan_default_options(void) {
        return "log_to_syslog=1:print_stacktrace=1";
}

/* LeakSanitizer cannot work here.  At exit it stops the world from a helper
 * task it clones, and after unshare(CLONE_NEWPID) every task we create is
 * born into the job's new PID namespace: once that namespace's init has
 * exited the clone fails with ENOMEM, and LSan writes a fatal error to the
 * job's stderr and exits 1 instead of with the command's status; while the
 * init lives, the helper finds no parent in its namespace and the check
 * spins forever.  We allocate next to nothing and exit when the command has,
 * so nothing is lost; ASan and UBSan stay on. */
const char *__lsan_default_options(void) {
        return "detect_leaks=0";
}
