/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "fake-manager.h"
#include "fuzz.h"
#include "hashmap.h"
#include "job.h"

jr_manager *fake_manager_new(sd_event *event) {
        jr_manager *m = calloc(1, sizeof(jr_manager));

        FUZZ_CHECK(m, "out of memory");
        *m = (jr_manager) {
                .event = sd_event_ref(event),
                .state_dir = strdup("/nonexistent"),
                .init_path = strdup("/nonexistent/jobrunner-init"),
                .slice = strdup(JR_SLICE_DEFAULT),
                .jobs = hashmap_new(),
                .retention_usec = UINT64_MAX,           /* nothing is swept away */
                .max_ended_jobs = UINT64_MAX,
        };
        FUZZ_CHECK(m->state_dir && m->init_path && m->slice && m->jobs, "out of memory");
        return m;
}
