/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* jobrunnerd's side of jobrunner-starter: the jr_unit_starter that hands
 * each job's start to the privileged starter over its socket
 * (common/starter-wire.h), so that jobrunnerd itself needs no grant to
 * start units.
 *
 * One connection, opened at the first start and again after it breaks.
 * Requests go out in order, at most STARTER_WIRE_MAX_PENDING unanswered;
 * the rest wait here with their descriptors.  A reply answers the oldest
 * request.  When the connection breaks, the requests it carried get
 * JR_UNIT_START_LOST (the starter may have started them: the library asks
 * systemd), and the waiting ones go out on the next connection; when the
 * starter cannot be reached at all, they are refused. */

#include <systemd/sd-event.h>

#include "jobrunner.h"

typedef struct StarterClient StarterClient;

/* socket_path: where jobrunner-starter.socket listens.  Nothing connects
 * before the first start. */
int starter_client_new(sd_event *event, const char *socket_path, StarterClient **ret);
/* Requests still here are dropped without their done() being called. */
StarterClient *starter_client_free(StarterClient *c);
static inline void starter_client_freep(StarterClient **c) {
        starter_client_free(*c);
}

/* The jr_unit_starter for jr_manager_config.unit_starter; valid while c
 * lives. */
jr_unit_starter starter_client_ops(StarterClient *c);
