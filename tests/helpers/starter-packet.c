/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Packets of jobrunnerd to jobrunner-starter, for the tests (see
 * starter-packet.h). */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "macro.h"
#include "starter-packet.h"
#include "starter.pb-c.h"

size_t starter_test_pack_request(const char *job_id, const StarterTestSpec *o, uint8_t **ret) {
        Jobrunner__V1__Limits limits = JOBRUNNER__V1__LIMITS__INIT;
        Jobrunner__V1__Isolation isolation = JOBRUNNER__V1__ISOLATION__INIT;
        Jobrunner__V1__JobSpec spec = JOBRUNNER__V1__JOB_SPEC__INIT;
        Jobrunner__Starter__V1__StartUnitRequest req = JOBRUNNER__STARTER__V1__START_UNIT_REQUEST__INIT;
        char *argv[] = { (char *) "/bin/true" };
        size_t size;

        spec.n_argv = 1;
        spec.argv = argv;
        spec.limits = &limits;
        spec.isolation = &isolation;
        if (o) {
                spec.user = (char *) o->user;
                limits.memory_max_bytes = o->memory_max_bytes;
                if (o->host_network)
                        isolation.network = JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_HOST;
        }
        req.job_id = (char *) job_id;
        req.spec = &spec;
        size = jobrunner__starter__v1__start_unit_request__get_packed_size(&req);
        *ret = malloc(size ?: 1);
        if (!*ret)
                return 0;
        return jobrunner__starter__v1__start_unit_request__pack(&req, *ret);
}

int starter_test_memfd(const void *data, size_t size, int seals) {
        _cleanup_close_ int fd = memfd_create("starter-test-request", MFD_CLOEXEC | MFD_ALLOW_SEALING);

        if (fd < 0)
                return -errno;
        if (size > 0 && write(fd, data, size) != (ssize_t) size)
                return errno ? -errno : -EIO;
        if (seals && fcntl(fd, F_ADD_SEALS, seals) < 0)
                return -errno;
        return TAKE_FD(fd);
}

int starter_test_send(int fd, const void *data, size_t len, const int *fds, size_t n_fds, int flags) {
        union {
                struct cmsghdr align;
                uint8_t buf[CMSG_SPACE(sizeof(int) * STARTER_PACKET_MAX_FDS)];
        } control = {};
        struct iovec iov = { .iov_base = (void *) data, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (n_fds > STARTER_PACKET_MAX_FDS)
                return -E2BIG;
        if (n_fds > 0) {
                struct cmsghdr *cm;

                mh.msg_control = &control;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
        }
        return sendmsg(fd, &mh, MSG_NOSIGNAL | flags) < 0 ? -errno : 0;
}
