/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

char **strv_free(char **l) {
        for (char **p = l; p && *p; p++)
                free(*p);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

char **strv_concat(char *const *a, char *const *b) {
        size_t na = strv_length(a), nb = strv_length(b);
        char **l = calloc(na + nb + 1, sizeof(char *));

        for (size_t i = 0; l && i < na + nb; i++)
                if (!(l[i] = strdup(i < na ? a[i] : b[i - na])))
                        return strv_free(l);
        return l;
}

int strv_push(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **m = realloc(*l, (n + 2) * sizeof(char *));

        if (!m) {
                free(s);
                return -ENOMEM;
        }
        m[n] = s;
        m[n + 1] = NULL;
        *l = m;
        return 0;
}

int strv_push_n(char ***l, size_t *n, char *s) {
        /* The list has room for the next power of two of n + 1 pointers
         * (the strings and the NULL): full when n + 1 is one. */
        if (*n == 0 || ((*n + 1) & *n) == 0) {
                char **m = reallocarray(*l, 2 * (*n + 1), sizeof(char *));

                if (!m) {
                        free(s);
                        return -ENOMEM;
                }
                *l = m;
        }
        (*l)[(*n)++] = s;
        (*l)[*n] = NULL;
        return 0;
}
