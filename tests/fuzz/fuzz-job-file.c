/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A job's metadata file (<state>/jobs/<id>/job, lib/job-store.c) as a new
 * daemon reads it after a crash or on a damaged disk: torn, truncated,
 * garbage.
 *
 * Reading must never crash.  A job it accepts must be one the daemon can
 * serve (its status converts into the API's message, as GetStatus and List
 * do for every job), and must survive being written and read again
 * unchanged: the daemon rewrites the file on every state change. */

#include <errno.h>
#include <string.h>

#include "convert.h"
#include "fuzz.h"
#include "job-store.h"
#include "job.h"
#include "macro.h"

#define JOB_ID "0123456789abcdef0123456789abcdef"

static void job_freep(jr_job **j) {
        job_free(*j);
}

static int read_job(jr_manager *m, const char *text, size_t size, jr_job **ret) {
        _cleanup_fclose_ FILE *f = fuzz_open_input(text, size);
        _cleanup_(job_freep) jr_job *j = NULL;
        int r;

        r = job_new(m, JOB_ID, NULL, NULL, &j);
        FUZZ_CHECK(r == 0, "job_new: %d", r);
        r = job_store_read(j, f);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(j);
        return 0;
}

static char *write_job(const jr_job *j, size_t *ret_size) {
        char *text = NULL;
        FILE *f = open_memstream(&text, ret_size);

        FUZZ_CHECK(f, "out of memory");
        FUZZ_CHECK(job_store_write(j, f) == 0, "cannot write the job");
        FUZZ_CHECK(fclose(f) == 0, "out of memory");
        return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        jr_manager m = { .state_dir = (char *) "/nonexistent", .slice = (char *) JR_SLICE_DEFAULT };
        _cleanup_(job_freep) jr_job *j = NULL, *again = NULL;
        _cleanup_free_ char *text = NULL, *text2 = NULL;
        Jobrunner__V1__JobStatus *proto = NULL;
        size_t text_size = 0, text2_size = 0;
        jr_status status;
        int r;

        r = read_job(&m, (const char *) data, size, &j);
        if (r < 0) {
                FUZZ_CHECK(r == -EBADMSG || r == -ENOMEM, "unexpected error %d", r);
                return 0;
        }

        /* What the rest of the library and the daemon rely on. */
        FUZZ_CHECK(j->spec.argv && j->owner, "no argv or no owner");
        FUZZ_CHECK(jr_state_to_string(j->state), "state %d", (int) j->state);
        FUZZ_CHECK(jr_job_get_status(j, &status) == 0, "no status");
        r = convert_status_to_proto(&status, &proto);
        FUZZ_CHECK(r == 0, "the job's status cannot be served: %d", r);
        convert_status_free(proto);

        /* Written and read again, it is the same job. */
        text = write_job(j, &text_size);
        r = read_job(&m, text, text_size, &again);
        FUZZ_CHECK(r == 0, "written back, it does not read: %d\n%s", r, text);
        text2 = write_job(again, &text2_size);
        FUZZ_CHECK(text_size == text2_size && memcmp(text, text2, text_size) == 0,
                   "written, read and written again, it differs:\n%s\n---\n%s", text, text2);
        return 0;
}
