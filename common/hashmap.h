/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* A string-keyed hash map of borrowed keys and values: the key must live as
 * long as its entry (typically it points into the value).  Open addressing
 * with linear probing and tombstones; grows at 3/4 load. */
typedef struct Hashmap Hashmap;

Hashmap *hashmap_new(void);
Hashmap *hashmap_free(Hashmap *h);

/* -EEXIST if key is present, -ENOMEM. */
int hashmap_put(Hashmap *h, const char *key, void *value);
void *hashmap_get(const Hashmap *h, const char *key);
/* Returns the removed value, or NULL. */
void *hashmap_remove(Hashmap *h, const char *key);
size_t hashmap_size(const Hashmap *h);

static inline void hashmap_freep(Hashmap **h) {
        hashmap_free(*h);
}
