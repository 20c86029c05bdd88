/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* jobrunner-starter's server: jobrunnerd's connections on the listening
 * socket, their requests (common/starter-wire.h) checked and handed to a
 * UnitStarter, and the replies, in order.  Everything runs on one sd-event
 * loop.
 *
 * Each connection's peer is checked right after accept() (peer.h); one that
 * is not jobrunnerd is closed unheard.  A packet that is no valid request
 * gets a reply with the error, never a disconnect, so that the daemon learns
 * why.  Every descriptor received is closed on every path.
 *
 * A start handed to systemd is never cancelled because its connection
 * closed: the connection is closed, its replies dropped, but it is kept
 * until systemd has answered every start it asked for, so that each one is
 * sent and completes whether or not anyone still waits for it (jobrunnerd
 * learns the truth from systemd).  Requests the peer sent but the starter
 * had not read yet are not started. */

#include <stdint.h>
#include <sys/types.h>

#include "policy.h"
#include "unit-starter.h"

typedef struct sd_event sd_event;

/* Connections at once, those closed but still waiting for systemd
 * included; jobrunnerd needs one. */
#define STARTER_SERVER_MAX_CONNECTIONS_DEFAULT 8
/* The starter exits after this long without a connection; socket
 * activation starts it again at the next connect(). */
#define STARTER_SERVER_IDLE_USEC_DEFAULT (60u * 1000000u)

typedef struct StarterServer StarterServer;

/* The server has stopped serving: error 0 after idle_usec without any
 * connection, or a negative errno when it cannot accept any more.  The
 * caller exits its loop; the server does nothing more until freed. */
typedef void (*StarterServerDone)(void *userdata, int error);

typedef struct StarterServerConfig {
        int listen_fd;                  /* AF_UNIX SOCK_SEQPACKET, listening; taken over, even on failure */
        UnitStarter *starter;           /* borrowed */
        const StarterPolicy *policy;    /* borrowed */
        uid_t peer_uid;                 /* jobrunnerd's user */
        const char *peer_cgroup_line;   /* copied; e.g. "0::/system.slice/jobrunner.service" */
        unsigned max_connections;       /* 0 = STARTER_SERVER_MAX_CONNECTIONS_DEFAULT */
        uint64_t idle_usec;             /* 0 = STARTER_SERVER_IDLE_USEC_DEFAULT; UINT64_MAX = never */
        StarterServerDone on_done;
        void *userdata;
} StarterServerConfig;

int starter_server_new(sd_event *event, const StarterServerConfig *config, StarterServer **ret);
/* Closes everything; starts still waiting for systemd are cancelled (their
 * units may still start). */
StarterServer *starter_server_free(StarterServer *s);
static inline void starter_server_freep(StarterServer **s) {
        starter_server_free(*s);
}

/* Connections open or waiting for systemd, for tests. */
unsigned starter_server_connections(const StarterServer *s);
