/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "error.h"

/* Ctrl-C for commands that must react to it (run): the first SIGINT (or
 * SIGTERM) is only recorded, for the blocking loops to notice; the second
 * ends the process at once with CLI_EXIT_INTERRUPTED, after writing
 * last_words (may be NULL; kept by pointer, so it may be filled in later)
 * to stderr.  Without interrupt_install() the signals keep their default
 * action: the process ends. */
int interrupt_install(const char *last_words);

/* Whether a first Ctrl-C came and was not acknowledged yet by the calling
 * thread: every thread that waits (one per host of a fan-out) sees it. */
bool interrupt_requested(void);
/* Whether a first Ctrl-C came, acknowledged or not, by any thread. */
bool interrupt_received(void);
/* The first Ctrl-C was handled by the calling thread:
 * interrupt_requested() is false again there (and the next Ctrl-C still
 * ends the process). */
void interrupt_acknowledge(void);

/* What the blocking loops do on a first Ctrl-C: acknowledge it, then ask
 * on_interrupt (a command's choice; NULL: stop).  0 to go on waiting,
 * -EINTR to stop, or another negative errno with e set. */
int interrupt_handle(int (*on_interrupt)(void *userdata, CliError *e), void *userdata, CliError *e);
