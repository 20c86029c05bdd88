/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The bytes of a request, out of the memfd jobrunnerd sends with it (see
 * common/starter-wire.h).  The seals are what make them the request: the
 * sender can change neither them nor their size while or after the starter
 * reads them. */

#include <fcntl.h>
#include <stddef.h>

#include "jobrunner.h"

#define STARTER_PAYLOAD_SEALS_REQUIRED (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK)

/* Checks fd before reading anything from it, so that nothing it is can make
 * the starter wait: a memfd (anything else has no seals, or cannot have
 * these) sealed with at least STARTER_PAYLOAD_SEALS_REQUIRED, of at most
 * STARTER_REQUEST_MAX_BYTES.  Then reads it all from offset 0 into a new
 * buffer (*ret_data, freed by the caller; never NULL on success, even when
 * empty).
 *
 * Returns 0, or a negative errno with e filled: -EBADF (not a memfd, not
 * sealed so, not readable), -EMSGSIZE (too large), -EIO (shorter than it
 * said), -ENOMEM. */
int starter_payload_read(int fd, void **ret_data, size_t *ret_size, jr_error *e);
