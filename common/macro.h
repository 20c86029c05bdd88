/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Scope-bound cleanup, in the style of systemd's _cleanup_ helpers: a variable
 * declared _cleanup_free_ is freed when it goes out of scope, and ownership
 * leaves it through TAKE_PTR()/TAKE_FD(). */
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _pure_ __attribute__((pure))
#define _likely_(x) (__builtin_expect(!!(x), 1))
#define _unlikely_(x) (__builtin_expect(!!(x), 0))

/* For a result ignored on purpose.  glibc declares some calls
 * warn_unused_result under _FORTIFY_SOURCE (ftruncate(), write()...), as
 * Debian's build flags set it, and gcc does not take a (void) cast as
 * ignoring it. */
#define discard_result(expr)                                            \
        do {                                                            \
                _unused_ __typeof__(expr) _discarded_ = (expr);         \
        } while (0)

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define TAKE_PTR(p)                             \
        ({                                      \
                __typeof__(p) _p_ = (p);        \
                (p) = NULL;                     \
                _p_;                            \
        })

#define TAKE_FD(fd)                             \
        ({                                      \
                int _fd_ = (fd);                \
                (fd) = -EBADF;                  \
                _fd_;                           \
        })

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Closes fd if it is valid and returns -EBADF, so that "fd = safe_close(fd)"
 * leaves no dangling descriptor behind.  errno is preserved. */
static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd) {
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Closes both ends of a pipe(2) pair. */
static inline void close_pairp(int (*pair)[2]) {
        safe_close((*pair)[0]);
        safe_close((*pair)[1]);
}
#define _cleanup_close_pair_ _cleanup_(close_pairp)
