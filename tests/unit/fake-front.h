/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A TCP front door for the fake server (fake-server.h), to show a client
 * what a restarting daemon's socket shows it.  Each new connection is held
 * in the listening socket's backlog (nobody accepts it, so the TLS
 * handshake waits: systemd holding jobrunner.socket while no daemon runs),
 * closed at once (a daemon on its way out), or forwarded to the fake
 * server byte for byte; and the connections forwarded so far can be cut
 * (a daemon that goes away with calls open).
 *
 * One front per process, on a thread of its own. */

#include <stdbool.h>

typedef enum FakeFrontMode {
        FAKE_FRONT_HOLD,
        FAKE_FRONT_CLOSE,
        FAKE_FRONT_FORWARD,
} FakeFrontMode;

/* "127.0.0.1:<port>" of the front; valid after fake_front_start(). */
extern char fake_front_target[64];

/* Listens on 127.0.0.1, any port, in front of fake_server.port.  Asserts. */
void fake_front_start(FakeFrontMode mode);
/* Connections in the backlog now are treated by the new mode. */
void fake_front_set_mode(FakeFrontMode mode);
/* Closes the next n connections, then goes on in mode. */
void fake_front_close_next(unsigned n, FakeFrontMode then);
/* Connections closed by the front so far. */
unsigned fake_front_closed(void);
/* Connections waiting in the backlog now. */
unsigned fake_front_queued(void);
/* Closes both ends of every connection forwarded so far. */
void fake_front_cut(void);
/* Cuts everything and stops; a no-op if not started. */
void fake_front_stop(void);
