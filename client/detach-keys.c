/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "detach-keys.h"

size_t detach_keys_scan(DetachKeys *k, const uint8_t *in, size_t n, uint8_t *out, bool *ret_detach) {
        size_t m = 0;

        *ret_detach = false;
        for (size_t i = 0; i < n; i++) {
                uint8_t c = in[i];

                if (k->held) {
                        k->held = false;
                        if (c == DETACH_KEY_SECOND) {
                                *ret_detach = true;
                                return m;
                        }
                        /* Not the sequence: both bytes as typed, the
                         * second not looked at again (docker's rule: Ctrl-P
                         * Ctrl-P Ctrl-Q passes all three on). */
                        out[m++] = DETACH_KEY_FIRST;
                        out[m++] = c;
                        continue;
                }
                if (c == DETACH_KEY_FIRST) {
                        k->held = true;
                        continue;
                }
                out[m++] = c;
        }
        return m;
}

size_t detach_keys_flush(DetachKeys *k, uint8_t *out) {
        if (!k->held)
                return 0;
        k->held = false;
        out[0] = DETACH_KEY_FIRST;
        return 1;
}
