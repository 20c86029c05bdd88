/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A job's output as the API's messages, for the calls that stream it (Logs,
 * Attach): a follower from the requested offsets, read one event at a time
 * into the parts of a LogsResponse or AttachResponse, which hold the same
 * chunk, gap and end.
 *
 * One message is in flight per call: the caller asks for the next event only
 * once gRPC has taken the previous one, so a slow client holds one buffer
 * and a file position, never a copy of the job's output. */

#include "call.h"
#include "daemon.h"
#include "jobrunner.pb-c.h"

/* Stored output goes out in chunks of up to this much (the API allows
 * 1..65536 bytes per chunk). */
#define OUTPUT_CHUNK_MAX (64u * 1024u)

typedef struct OutputPump {
        jr_job *job;
        jr_follower *follower;
        uint8_t buffer[OUTPUT_CHUNK_MAX];
} OutputPump;

/* Opens the follower of j's streams (a set of 1 << jr_stream) from the
 * offsets, unless the job has max_followers_per_job already.  wake is the
 * follower's: it runs soon after, then whenever output_pump_send() was
 * OUTPUT_PUMP_IDLE and there is more.  On failure the call is finished (RESOURCE_EXHAUSTED,
 * OUT_OF_RANGE, ...) and a negative errno returned. */
int output_pump_open(OutputPump *p, Call *call, Daemon *d, jr_job *j, uint64_t stdout_offset,
                     uint64_t stderr_offset, unsigned streams, jr_follower_wake_t wake, void *userdata);
void output_pump_close(OutputPump *p);

/* What output_pump_send() did. */
enum {
        OUTPUT_PUMP_IDLE = 0,   /* nothing to send now: the wake follows */
        OUTPUT_PUMP_SENT = 1,   /* a chunk or a gap: on_sent comes */
        OUTPUT_PUMP_END = 2,    /* the last message: finish the call OK now */
};

/* Sends the follower's next event as a response_type message, a
 * LogsResponse or an AttachResponse, whose oneof holds chunk, gap and end
 * alike.  The caller checks that no message is in flight.  Returns one of
 * the above, or a negative errno with *ret_message saying what failed
 * (finish the call with it). */
int output_pump_send(OutputPump *p, Call *call, const ProtobufCMessageDescriptor *response_type,
                     const char **ret_message);
