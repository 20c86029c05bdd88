/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the libFuzzer targets share: the entry points, a check that makes
 * libFuzzer report a broken invariant as a crash, and a reader that cuts a
 * structured input out of the fuzzer's bytes.
 *
 * Targets keep no state between inputs: whatever one builds, it frees, so
 * that every input behaves the same in any order and the leak check sees
 * each one. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* fuzz.c sets up what every target shares (quiet logs, a fixed $HOME);
 * each target defines LLVMFuzzerTestOneInput(). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a file to read. */
FILE *fuzz_open_input(const void *data, size_t size);

/* An invariant the code under test must keep: abort with a message, which
 * libFuzzer reports like any crash, with the input that caused it. */
#define FUZZ_CHECK(cond, ...)                                                   \
        do {                                                                    \
                if (!(cond)) {                                                  \
                        fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__,  \
                                __LINE__, #cond);                               \
                        fprintf(stderr, __VA_ARGS__);                           \
                        fputc('\n', stderr);                                    \
                        abort();                                                \
                }                                                               \
        } while (0)

/* Whether an event of a followed stream continues it from *want, and then
 * moves *want past it.  Data continues exactly there; a gap may begin
 * earlier, when the follower's offset lies inside joined gaps: it comes
 * whole, from the first missing byte (see output_follower_new()). */
static inline bool fuzz_event_continues(uint64_t *want, uint64_t offset, uint64_t length, bool gap) {
        if (offset != *want && !(gap && offset < *want && length > *want - offset))
                return false;
        *want = offset + length;
        return true;
}

typedef struct FuzzInput {
        const uint8_t *data;
        size_t size;
} FuzzInput;

/* The next byte, 0 once the input is used up. */
static inline uint8_t fuzz_byte(FuzzInput *in) {
        uint8_t b;

        if (in->size == 0)
                return 0;
        b = in->data[0];
        in->data++;
        in->size--;
        return b;
}

/* The bytes up to the next NUL (which is consumed) or the end, as a new
 * NUL-terminated string; *ret_size is its length.  NULL if out of memory. */
static inline char *fuzz_string(FuzzInput *in, size_t *ret_size) {
        size_t n = 0;
        char *s;

        while (n < in->size && in->data[n] != 0)
                n++;
        s = malloc(n + 1);
        if (!s)
                return NULL;
        for (size_t i = 0; i < n; i++)
                s[i] = (char) in->data[i];
        s[n] = 0;
        in->data += n < in->size ? n + 1 : n;
        in->size -= n < in->size ? n + 1 : n;
        if (ret_size)
                *ret_size = n;
        return s;
}
