/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* For Criterion tests of servers on loopback. */

/* A TCP connection to 127.0.0.1:port, or a negative errno if connect()
 * fails (asserts that a socket can be made at all). */
int net_check_connect(uint16_t port);

/* The process' open file descriptors, as /proc/self/fd lists them (the
 * directory's own included): compare two counts, never one with a number. */
unsigned net_check_count_fds(void);
