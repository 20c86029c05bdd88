/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Packets of jobrunnerd to jobrunner-starter (common/starter-wire.h), as the
 * tests build them: the starter's unit test and the hostile probe of the
 * VM test. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STARTER_PACKET_MAX_FDS 8

typedef struct StarterTestSpec {
        const char *user;               /* NULL: none */
        uint64_t memory_max_bytes;      /* 0: none */
        bool host_network;
} StarterTestSpec;

/* The serialized StartUnitRequest of job_id, /bin/true with spec (NULL: the
 * defaults), into *ret (malloc()ed).  Returns its size, or 0 and *ret NULL
 * when out of memory. */
size_t starter_test_pack_request(const char *job_id, const StarterTestSpec *spec, uint8_t **ret);

/* A memfd holding data, with these seals (0: none).  Returns it or -errno. */
int starter_test_memfd(const void *data, size_t size, int seals);

/* One packet of data with n_fds (at most STARTER_PACKET_MAX_FDS)
 * descriptors as SCM_RIGHTS; flags for sendmsg() besides MSG_NOSIGNAL.
 * Returns 0 or -errno. */
int starter_test_send(int fd, const void *data, size_t len, const int *fds, size_t n_fds, int flags);
