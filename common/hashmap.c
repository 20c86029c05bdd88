/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"

/* A removed entry: probing continues past it, insertion may reuse it. */
static const char tombstone[] = "";

struct Entry {
        const char *key;        /* NULL = never used, tombstone = removed */
        void *value;
};

struct Hashmap {
        struct Entry *entries;
        size_t capacity;        /* a power of two */
        size_t n;               /* live entries */
        size_t used;            /* live entries + tombstones */
};

/* FNV-1a: short keys, no adversary can pick them (ids are random). */
static size_t hash(const char *s) {
        uint64_t h = UINT64_C(14695981039346656037);

        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= UINT64_C(1099511628211);
        }
        return (size_t) h;
}

Hashmap *hashmap_new(void) {
        return calloc(1, sizeof(Hashmap));
}

Hashmap *hashmap_free(Hashmap *h) {
        if (h) {
                free(h->entries);
                free(h);
        }
        return NULL;
}

static struct Entry *find(const Hashmap *h, const char *key) {
        if (h->capacity == 0)
                return NULL;
        for (size_t i = hash(key) & (h->capacity - 1);; i = (i + 1) & (h->capacity - 1)) {
                struct Entry *e = &h->entries[i];

                if (!e->key)
                        return NULL;
                if (e->key != tombstone && strcmp(e->key, key) == 0)
                        return e;
        }
}

static int resize(Hashmap *h, size_t capacity) {
        struct Entry *old = h->entries;
        size_t old_capacity = h->capacity;

        h->entries = calloc(capacity, sizeof(struct Entry));
        if (!h->entries) {
                h->entries = old;
                return -ENOMEM;
        }
        h->capacity = capacity;
        h->n = h->used = 0;
        for (size_t i = 0; i < old_capacity; i++)
                if (old[i].key && old[i].key != tombstone)
                        (void) hashmap_put(h, old[i].key, old[i].value);
        free(old);
        return 0;
}

int hashmap_put(Hashmap *h, const char *key, void *value) {
        struct Entry *slot = NULL;
        int r;

        if (find(h, key))
                return -EEXIST;
        if ((h->used + 1) * 4 > h->capacity * 3) {
                /* Mostly tombstones: rehash at the same size. */
                size_t want = h->n * 2 >= h->capacity ? (h->capacity ? h->capacity * 2 : 16) : h->capacity;
                r = resize(h, want);
                if (r < 0)
                        return r;
        }
        for (size_t i = hash(key) & (h->capacity - 1);; i = (i + 1) & (h->capacity - 1)) {
                slot = &h->entries[i];
                if (!slot->key || slot->key == tombstone)
                        break;
        }
        if (!slot->key)
                h->used++;
        slot->key = key;
        slot->value = value;
        h->n++;
        return 0;
}

void *hashmap_get(const Hashmap *h, const char *key) {
        struct Entry *e = find(h, key);
        return e ? e->value : NULL;
}

void *hashmap_remove(Hashmap *h, const char *key) {
        struct Entry *e = find(h, key);
        void *value;

        if (!e)
                return NULL;
        value = e->value;
        e->key = tombstone;
        e->value = NULL;
        h->n--;
        return value;
}

size_t hashmap_size(const Hashmap *h) {
        return h->n;
}
