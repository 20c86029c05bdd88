/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "error.h"
#include "fanout-summary.h"
#include "macro.h"

void host_result_done(HostResult *r) {
        free(r->text);
        r->text = NULL;
}

int host_result_status(const HostResult *r) {
        switch (r->outcome) {
        case HOST_RAN:
                return r->status;
        case HOST_INTERRUPTED:
                return CLI_EXIT_INTERRUPTED;
        case HOST_FAILED:
        default:
                return CLI_EXIT_UNAVAILABLE;
        }
}

int fanout_exit_status(const HostResult *results, size_t n) {
        int status = 0;

        for (size_t i = 0; i < n; i++) {
                int s = host_result_status(&results[i]);

                if (s > status)
                        status = s;
        }
        return status;
}

int fanout_print_summary(FILE *f, const HostResult *results, size_t n) {
        static const char *const labels[] = { "succeeded", "failed", "interrupted", "in error" };
        size_t counts[ELEMENTSOF(labels)] = {};
        const char *sep = ":";

        for (size_t i = 0; i < n; i++) {
                const HostResult *r = &results[i];

                fprintf(f, "%s: %s\n", r->name, r->text ?: "?");
                if (r->outcome == HOST_RAN)
                        counts[r->status == 0 ? 0 : 1]++;
                else
                        counts[r->outcome == HOST_INTERRUPTED ? 2 : 3]++;
        }
        fprintf(f, "jobrunner: %zu host%s", n, n == 1 ? "" : "s");
        for (size_t k = 0; k < ELEMENTSOF(labels); k++)
                if (counts[k] > 0) {
                        fprintf(f, "%s %zu %s", sep, counts[k], labels[k]);
                        sep = ",";
                }
        fputc('\n', f);
        return ferror(f) ? -EIO : 0;
}
