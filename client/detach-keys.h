/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The detach key sequence of an attached terminal, Ctrl-P Ctrl-Q as
 * docker's: found in the bytes typed, whichever reads they come in, and
 * kept from the job.  A Ctrl-P followed by anything else reaches the job
 * unchanged, both bytes, as in docker. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DETACH_KEY_FIRST 0x10   /* Ctrl-P */
#define DETACH_KEY_SECOND 0x11  /* Ctrl-Q */

typedef struct DetachKeys {
        /* A Ctrl-P ended the last read: held back until the next byte
         * tells whether it begins the sequence. */
        bool held;
} DetachKeys;

/* Scans the n bytes read at in.  Writes to out (room for n + 1 bytes: a
 * Ctrl-P held back from before may come first) the bytes for the job and
 * returns their number.  *ret_detach: the sequence was typed; out then
 * holds what came before it, and what came after is dropped. */
size_t detach_keys_scan(DetachKeys *k, const uint8_t *in, size_t n, uint8_t *out, bool *ret_detach);

/* At the end of the input: a Ctrl-P held back is the job's after all.
 * Writes it to out (room for 1 byte) and returns 1, or returns 0. */
size_t detach_keys_flush(DetachKeys *k, uint8_t *out);
