/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "id-prefix.h"
#include "macro.h"

#define CANDIDATES_MAX 10

int id_prefix_match(const char *prefix, JobStatus *const *jobs, size_t n, const char **ret, CliError *e) {
        size_t len = strlen(prefix), matches = 0, shown = 0;
        const char *found = NULL;
        char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        for (size_t i = 0; i < n; i++)
                if (jobs[i]->id && strncmp(jobs[i]->id, prefix, len) == 0) {
                        if (!found)
                                found = jobs[i]->id;
                        matches++;
                }
        if (matches == 1) {
                *ret = found;
                return 0;
        }
        if (matches == 0)
                return cli_error(e, CLI_EXIT_NOT_FOUND, -ENOENT,
                                 "no job id starts with '%s' among the jobs visible to you", prefix);

        f = open_memstream(&buf, &size);
        if (!f)
                return cli_error_oom(e);
        for (size_t i = 0; i < n && shown < CANDIDATES_MAX; i++) {
                char t[FORMAT_TIMESTAMP_MAX];

                if (!jobs[i]->id || strncmp(jobs[i]->id, prefix, len) != 0)
                        continue;
                fprintf(f, "\n  %s  %s  %s  started %s", jobs[i]->id, jobs[i]->owner ?: "",
                        job_display_state(jobs[i]), format_timestamp(jobs[i]->start_time_us, false, t));
                shown++;
        }
        if (matches > shown)
                fprintf(f, "\n  and %zu more", matches - shown);
        if (fclose(f) != 0) {
                free(buf);
                return cli_error_oom(e);
        }
        r = cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                      "job id prefix '%s' is ambiguous: %zu jobs match; give more characters:%s", prefix, matches, buf);
        free(buf);
        return r;
}
