/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A request's bytes out of its sealed memfd (see payload.h). */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "payload.h"
#include "request.h"

static int check_seals(int fd, jr_error *e) {
        int seals;

        /* Only shmem and hugetlbfs files answer F_GET_SEALS; a pipe, a
         * FIFO, a socket or a file elsewhere fail with EINVAL.  A shmem
         * file that is no memfd (in /dev/shm) is born with F_SEAL_SEAL,
         * so it can never carry the seals asked for below. */
        seals = fcntl(fd, F_GET_SEALS);
        if (seals < 0) {
                if (errno == EINVAL)
                        return jr_error_set(e, -EBADF, "request: not a memfd (it has no seals)");
                return jr_error_set(e, -EBADF, "request: cannot read the memfd's seals: %s", strerror(errno));
        }
        if ((seals & STARTER_PAYLOAD_SEALS_REQUIRED) != STARTER_PAYLOAD_SEALS_REQUIRED)
                return jr_error_set(e, -EBADF, "request: the memfd is not sealed against %s%s%s",
                                    seals & F_SEAL_WRITE ? "" : "writing ",
                                    seals & F_SEAL_GROW ? "" : "growing ",
                                    seals & F_SEAL_SHRINK ? "" : "shrinking");
        return 0;
}

int starter_payload_read(int fd, void **ret_data, size_t *ret_size, jr_error *e) {
        _cleanup_free_ uint8_t *data = NULL;
        struct stat st;
        size_t size, n = 0;
        int r;

        r = check_seals(fd, e);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return jr_error_set(e, -EBADF, "request: cannot stat the memfd: %s", strerror(errno));
        if (!S_ISREG(st.st_mode))
                return jr_error_set(e, -EBADF, "request: not a memfd (not a regular file)");
        if (st.st_size < 0 || (uintmax_t) st.st_size > STARTER_REQUEST_MAX_BYTES)
                return jr_error_set(e, -EMSGSIZE, "request: %jd bytes, more than any valid one (%u)",
                                    (intmax_t) st.st_size, STARTER_REQUEST_MAX_BYTES);
        size = (size_t) st.st_size;

        data = malloc(size ?: 1);
        if (!data)
                return jr_error_set(e, -ENOMEM, "request: out of memory for %zu bytes", size);
        /* pread: from offset 0 whatever the sender did with the file
         * offset it shares with us. */
        while (n < size) {
                ssize_t k = pread(fd, data + n, size - n, (off_t) n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return jr_error_set(e, errno == EBADF ? -EBADF : -EIO, "request: cannot read the memfd: %s",
                                            strerror(errno));
                }
                /* F_SEAL_SHRINK makes this impossible; still never a loop. */
                if (k == 0)
                        return jr_error_set(e, -EIO, "request: the memfd ended at %zu of its %zu bytes", n, size);
                n += (size_t) k;
        }

        *ret_data = TAKE_PTR(data);
        *ret_size = size;
        return 0;
}
