/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* NULL-terminated arrays of malloc'd strings, as execve() takes them.  A
 * NULL list is an empty one everywhere. */

char **strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}

size_t strv_length(char *const *l);

/* A new list with copies of a's strings, then b's; NULL if out of memory. */
char **strv_concat(char *const *a, char *const *b);

/* A copy of l; NULL if out of memory.  A NULL l gives an empty list. */
static inline char **strv_copy(char *const *l) {
        return strv_concat(l, NULL);
}

/* Appends s (taken over, freed on failure) to *l.  0 or -ENOMEM. */
int strv_push(char ***l, char *s);

/* The same for a list of *n strings (counted up) that only this function
 * built: it grows in powers of two, so that n appends cost O(n), where
 * strv_push() counts the list each time. */
int strv_push_n(char ***l, size_t *n, char *s);
