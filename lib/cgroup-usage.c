/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-usage.h"
#include "macro.h"

/* Reads a small cgroup file into buf, NUL-terminated. */
static int read_small(int dirfd, const char *name, char *buf, size_t size) {
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return 0;
}

static int read_u64(int dirfd, const char *name, uint64_t *ret) {
        char buf[64];
        int r;

        r = read_small(dirfd, name, buf, sizeof(buf));
        if (r < 0)
                return r;
        if (sscanf(buf, "%" SCNu64, ret) != 1)
                return -EBADMSG;
        return 0;
}

/* "key value" lines, as in cpu.stat. */
static int read_keyed(int dirfd, const char *name, const char *key, uint64_t *ret) {
        char buf[4096];
        size_t klen = strlen(key);
        int r;

        r = read_small(dirfd, name, buf, sizeof(buf));
        if (r < 0)
                return r;
        for (char *line = buf, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
                        return sscanf(line + klen + 1, "%" SCNu64, ret) == 1 ? 0 : -EBADMSG;
        }
        return -ENODATA;
}

/* io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N ..." per device; summed. */
static int read_io(int dirfd, uint64_t *ret_read, uint64_t *ret_write) {
        _cleanup_close_ int fd = openat(dirfd, "io.stat", O_RDONLY | O_CLOEXEC);
        _cleanup_fclose_ FILE *f = NULL;
        char word[128];

        if (fd < 0)
                return -errno;
        f = fdopen(fd, "re");
        if (!f)
                return -errno;
        TAKE_FD(fd);

        *ret_read = *ret_write = 0;
        while (fscanf(f, "%127s", word) == 1) {
                uint64_t v;

                if (sscanf(word, "rbytes=%" SCNu64, &v) == 1)
                        *ret_read += v;
                else if (sscanf(word, "wbytes=%" SCNu64, &v) == 1)
                        *ret_write += v;
        }
        return 0;
}

int cgroup_read_usage(const char *root, const char *cgroup, jr_usage *ret) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int dirfd = -EBADF;
        jr_usage u = {};
        uint64_t usec;

        if (asprintf(&path, "%s/%s", root, cgroup[0] == '/' ? cgroup + 1 : cgroup) < 0)
                return -ENOMEM;
        dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return -errno;

        /* Each controller's file is optional: a slice may not delegate it. */
        if (read_keyed(dirfd, "cpu.stat", "usage_usec", &usec) >= 0)
                u.cpu_usage_ns = usec * 1000;
        (void) read_u64(dirfd, "memory.current", &u.memory_current);
        (void) read_u64(dirfd, "memory.peak", &u.memory_peak);   /* Linux ≥ 5.19 */
        (void) read_io(dirfd, &u.io_read_bytes, &u.io_write_bytes);
        (void) read_u64(dirfd, "pids.current", &u.tasks_current);

        *ret = u;
        return 0;
}
