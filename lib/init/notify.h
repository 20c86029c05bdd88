/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* systemd's notification protocol (sd_notify(3)), the part jobrunner-init
 * needs.  Our own rather than libsystemd's: the protocol is a datagram on
 * $NOTIFY_SOCKET, documented as stable for exactly this use, and
 * libsystemd would bring six more shared libraries (libgcrypt, liblzma,
 * libzstd, liblz4, libcap, libgpg-error) for the dynamic loader to map and
 * relocate before every job can start. */

#include <stdint.h>

#include "macro.h"

/* Sends state (e.g. "READY=1") to $NOTIFY_SOCKET.  1 when sent, 0 when
 * there is no $NOTIFY_SOCKET, or -errno. */
int notify_send(const char *state);
int notify_sendf(const char *format, ...) _printf_(1, 2);

/* Waits until systemd has read everything sent before (BARRIER=1 with a
 * pipe whose EOF answers it), at most timeout_usec.  1, 0 without
 * $NOTIFY_SOCKET, or -errno (-ETIMEDOUT). */
int notify_barrier(uint64_t timeout_usec);
