/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "env-keys.h"

typedef struct EnvKey {
        const char *key;
        size_t len, index;
} EnvKey;

static int env_key_compare(const void *a, const void *b) {
        const EnvKey *x = a, *y = b;
        int c = strncmp(x->key, y->key, x->len < y->len ? x->len : y->len);

        if (c != 0)
                return c;
        if (x->len != y->len)
                return x->len < y->len ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

int env_find_duplicate(char *const *env, size_t n, size_t *ret_dup, size_t *ret_first) {
        size_t dup = SIZE_MAX, first = 0;
        EnvKey *keys;

        if (n < 2)
                return 0;
        keys = calloc(n, sizeof *keys);
        if (!keys)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                keys[i] = (EnvKey) { env[i], strcspn(env[i], "="), i };

        /* Sorted by key, then index: equal keys form runs whose first entry
         * is the key's first occurrence. */
        qsort(keys, n, sizeof *keys, env_key_compare);
        for (size_t i = 1, start = 0; i < n; i++) {
                if (keys[i].len != keys[i - 1].len || strncmp(keys[i].key, keys[i - 1].key, keys[i].len) != 0)
                        start = i;
                else if (keys[i].index < dup) {
                        dup = keys[i].index;
                        first = keys[start].index;
                }
        }
        free(keys);
        if (dup == SIZE_MAX)
                return 0;
        *ret_dup = dup;
        *ret_first = first;
        return 1;
}
