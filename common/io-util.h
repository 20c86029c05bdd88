/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* write(2) all of it, on EINTR again.  0 or a negative errno (-EPIPE when
 * the reader went away). */
int write_all(int fd, const void *data, size_t len);
