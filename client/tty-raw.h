/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The local terminal of an attach session: raw mode (every byte typed goes
 * to the job's terminal, Ctrl-C included), its settings restored however
 * the process ends, and its size as it changes.  One terminal per process. */

#include <stdbool.h>

/* Saves fd's settings and puts the terminal into raw mode (as
 * cfmakeraw(3), output processing included: the job's terminal already
 * turned its newlines into CR LF).  From then on the saved settings come
 * back on tty_raw_restore(), at exit(), and on SIGTERM, SIGHUP, SIGQUIT
 * and SIGINT, whose handlers restore them and raise the signal again with
 * its default action.  -ENOTTY if fd is no terminal. */
int tty_raw_enter(int fd);

/* Restores the settings saved by tty_raw_enter(), once; idempotent and
 * async-signal-safe.  The signal handlers stay, harmless. */
void tty_raw_restore(void);

/* Whether the terminal is in raw mode now. */
bool tty_raw_active(void);

/* The size of the terminal fd, in *rows and *columns (both > 0); -ENOTTY
 * or another negative errno if it has none. */
int tty_get_size(int fd, unsigned *rows, unsigned *columns);

/* A file descriptor that becomes readable after a SIGWINCH (read it
 * empty, non-blocking, then ask tty_get_size()); installs the handler on
 * first use.  A negative errno on failure. */
int tty_resize_fd(void);
/* Empties the fd of tty_resize_fd(): whether a SIGWINCH came. */
bool tty_resize_drain(void);
