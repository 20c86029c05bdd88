/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "fuzz.h"
#include "log.h"

/* The same fixed surroundings for every target and every run. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) argc;
        (void) argv;
        /* Warnings, such as a recovery cutting a torn file, are expected
         * here on every other input; errors still show. */
        log_set_max_level(LOG_ERR);
        /* "~/" in a configuration file: one home, whoever runs this. */
        setenv("HOME", "/home/fuzz", 1);
        return 0;
}

FILE *fuzz_open_input(const void *data, size_t size) {
        /* fmemopen() wants a buffer even for an empty file: give it a byte,
         * and read it, so that the stream is at its end. */
        static const char empty[1];
        FILE *f = fmemopen((void *) (size ? data : empty), size ? size : 1, "r");

        FUZZ_CHECK(f, "fmemopen failed");
        if (size == 0)
                (void) fgetc(f);
        return f;
}
