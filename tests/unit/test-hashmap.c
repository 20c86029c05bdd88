/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "hashmap.h"

Test(hashmap, put_get_remove) {
        Hashmap *h = hashmap_new();
        int a = 1, b = 2;

        cr_assert_not_null(h);
        cr_assert_null(hashmap_get(h, "a"));
        cr_assert_eq(hashmap_put(h, "a", &a), 0);
        cr_assert_eq(hashmap_put(h, "b", &b), 0);
        cr_assert_eq(hashmap_put(h, "a", &b), -EEXIST);
        cr_assert_eq(hashmap_get(h, "a"), &a);
        cr_assert_eq(hashmap_get(h, "b"), &b);
        cr_assert_eq(hashmap_size(h), 2);
        cr_assert_eq(hashmap_remove(h, "a"), &a);
        cr_assert_null(hashmap_get(h, "a"));
        cr_assert_null(hashmap_remove(h, "a"));
        cr_assert_eq(hashmap_get(h, "b"), &b);
        cr_assert_eq(hashmap_size(h), 1);
        hashmap_free(h);
}

Test(hashmap, many_keys_with_churn) {
        enum { N = 5000 };
        static char keys[N][16];
        Hashmap *h = hashmap_new();

        for (int i = 0; i < N; i++) {
                snprintf(keys[i], sizeof(keys[i]), "key-%d", i);
                cr_assert_eq(hashmap_put(h, keys[i], keys[i]), 0);
        }
        /* Remove the odd ones, re-add half of them: tombstones get reused. */
        for (int i = 1; i < N; i += 2)
                cr_assert_eq(hashmap_remove(h, keys[i]), keys[i]);
        for (int i = 1; i < N; i += 4)
                cr_assert_eq(hashmap_put(h, keys[i], keys[i]), 0);
        for (int i = 0; i < N; i++) {
                bool present = i % 2 == 0 || i % 4 == 1;
                cr_assert_eq(hashmap_get(h, keys[i]), present ? keys[i] : NULL, "key %d", i);
        }
        cr_assert_eq(hashmap_size(h), N / 2 + N / 4);
        hashmap_free(h);
}
