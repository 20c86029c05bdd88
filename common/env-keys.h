/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* In "KEY=VALUE" entries (a missing '=' makes the whole entry the key),
 * finds the earliest entry that sets a key an earlier one set already:
 * returns 1 with its index in *ret_dup and that of the key's first entry in
 * *ret_first, 0 if every key is set once, -ENOMEM.  O(n log n), for the
 * largest environment execve() takes as for a small one. */
int env_find_duplicate(char *const *env, size_t n, size_t *ret_dup, size_t *ret_first);
