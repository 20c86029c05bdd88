/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <endian.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench-util.h"
#include "load-ended.h"
#include "load-output.h"

/* lib/output-store.h's record header, little-endian. */
#define RECORD_HEADER_SIZE 24
#define RECORD_DATA 1

/* lib/job.h's JR_STATE_EXITED and the stream bits of output_eof. */
#define STATE_EXITED 3
#define OUTPUT_EOF_ALL ((1u << 1) | (1u << 2))

static void random_id(char ret[static 33]) {
        uint8_t b[16];

        if (getrandom(b, sizeof(b), 0) != sizeof(b))
                die("getrandom: %m");
        for (size_t i = 0; i < sizeof(b); i++)
                snprintf(ret + 2 * i, 3, "%02x", b[i]);
}

static void put_record(uint8_t *p, unsigned stream, uint32_t length) {
        uint32_t len = htole32(length);

        memset(p, 0, RECORD_HEADER_SIZE);
        p[0] = RECORD_DATA;
        p[1] = (uint8_t) stream;
        memcpy(p + 4, &len, sizeof(len));       /* offset 0, no gap */
}

static void write_file(int dirfd, const char *name, const void *data, size_t size, const LoadEndedJobs *spec) {
        _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

        if (fd < 0)
                die("cannot create %s: %m", name);
        if (write(fd, data, size) != (ssize_t) size)
                die("cannot write %s: %m", name);
        if (fchown(fd, spec->uid, spec->gid) < 0)
                die("cannot chown %s: %m", name);
}

/* Both streams' output, one record each. */
static size_t build_output(uint8_t *buf, size_t size, unsigned index, unsigned lines, size_t *ret_out,
                           size_t *ret_err) {
        char line[LOAD_LINE_MAX];
        size_t n = RECORD_HEADER_SIZE, out = 0, err;

        for (unsigned k = 0; k < lines; k++) {
                size_t l = load_stdout_line(line, index, k);

                if (n + l > size)
                        die("load-ended: output too large");
                memcpy(buf + n, line, l);
                n += l;
                out += l;
        }
        put_record(buf, 1, (uint32_t) out);
        err = load_stderr_line(line, index);
        if (n + RECORD_HEADER_SIZE + err > size)
                die("load-ended: output too large");
        put_record(buf + n, 2, (uint32_t) err);
        memcpy(buf + n + RECORD_HEADER_SIZE, line, err);
        *ret_out = out;
        *ret_err = err;
        return n + RECORD_HEADER_SIZE + err;
}

/* The keys lib/job-store.c's job_store_save() writes, in its order. */
static size_t build_job_file(char *buf, size_t size, const char *id, const char *owner, const LoadEndedJobs *spec,
                             unsigned index, uint64_t start_us, size_t out, size_t err) {
        int n = snprintf(buf, size,
                         "id=%s\nowner=%s\nargv=%s\nargv=%u\nargv=%u\n"
                         "cpu_quota_percent=0\ncpu_weight=0\nmemory_max=0\nio_weight=0\ntasks_max=0\n"
                         "network=0\npid_namespace=0\nprivate_mounts=0\nprivate_tmp=0\n"
                         "state=%d\nstart_queued=1\nstart_job_done=1\nstart_job_result=done\n"
                         "stop_requested=0\nstop_signalled=0\nkill_at_us=0\nexit_code=0\nsignal=0\n"
                         "oom_killed=0\nkilled_after_grace=0\nstart_time_us=%" PRIu64 "\nend_time_us=%" PRIu64 "\n"
                         "cpu_usage_ns=1000000\nmemory_peak=1048576\nio_read_bytes=0\nio_write_bytes=0\n"
                         "stdout_bytes=%zu\nstderr_bytes=%zu\noutput_truncated=0\noutput_eof=%u\n",
                         id, owner, spec->job_path, index, spec->lines, STATE_EXITED, start_us,
                         start_us + 1000000, out, err, OUTPUT_EOF_ALL);

        if (n < 0 || (size_t) n >= size)
                die("load-ended: job file too large");
        return (size_t) n;
}

void load_make_ended_jobs(const LoadEndedJobs *spec) {
        _cleanup_free_ char *jobs = xasprintf("%s/jobs", spec->state_dir);
        _cleanup_close_ int jobs_fd = open(jobs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        size_t n_owners = 0;

        if (jobs_fd < 0)
                die("cannot open %s: %m", jobs);
        while (spec->owners[n_owners])
                n_owners++;

        for (unsigned i = 0; i < spec->n; i++) {
                unsigned index = spec->first_index + i;
                uint64_t start_us = spec->start_us + spec->span_us * i / spec->n;
                uint8_t output[4096];
                char file[2048], id[33];
                size_t out, err, output_size, file_size;
                _cleanup_close_ int dir_fd = -EBADF;

                random_id(id);
                if (mkdirat(jobs_fd, id, 0700) < 0)
                        die("cannot create %s/%s: %m", jobs, id);
                if (fchownat(jobs_fd, id, spec->uid, spec->gid, 0) < 0)
                        die("cannot chown %s/%s: %m", jobs, id);
                dir_fd = openat(jobs_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dir_fd < 0)
                        die("cannot open %s/%s: %m", jobs, id);

                output_size = build_output(output, sizeof(output), index, spec->lines, &out, &err);
                file_size = build_job_file(file, sizeof(file), id, spec->owners[i % n_owners], spec, index,
                                           start_us, out, err);
                write_file(dir_fd, "output.log", output, output_size, spec);
                write_file(dir_fd, "job", file, file_size, spec);
        }
}
