/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memhog MIB: allocates MIB mebibytes and touches every page, so that the
 * memory is really charged to the caller's cgroup.  Exits 0 once it holds
 * all of it, 1 on bad usage or if malloc() says no. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024UL * 1024UL)

int main(int argc, char *argv[]) {
        unsigned long n;
        char *end;

        if (argc != 2) {
                fprintf(stderr, "usage: %s MIB\n", argv[0]);
                return 1;
        }
        n = strtoul(argv[1], &end, 10);
        if (*argv[1] == '\0' || *end != '\0' || n == 0) {
                fprintf(stderr, "memhog: bad size '%s'\n", argv[1]);
                return 1;
        }

        for (unsigned long i = 0; i < n; i++) {
                char *p = malloc(MIB);
                if (!p) {
                        fprintf(stderr, "memhog: malloc failed after %lu MiB\n", i);
                        return 1;
                }
                /* Non-zero, so no page can stay shared with the zero page. */
                memset(p, 0x5a, MIB);
        }
        printf("memhog: holding %lu MiB\n", n);
        return 0;
}
