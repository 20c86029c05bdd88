/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logs: a job's output from the requested offsets, then live.
 *
 * One message is in flight per call: the next chunk is read from the job's
 * output file only once gRPC has taken the previous one, so a slow client
 * holds one buffer and a file position, never a copy of the job's output. */

#include <stdlib.h>

#include "convert.h"
#include "macro.h"
#include "rpc.h"

/* Stored output goes out in chunks of up to this much (the API allows
 * 1..65536 bytes per chunk). */
#define LOGS_CHUNK_MAX (64u * 1024u)

typedef struct LogsCall {
        Call *call;
        jr_job *job;
        jr_follower *follower;
        bool follow;
        uint8_t buffer[LOGS_CHUNK_MAX];
} LogsCall;

static void logs_call_free(LogsCall *l) {
        jr_follower_free(l->follower);
        free(l);
}

static void logs_finish(LogsCall *l, JrCode code, const char *message) {
        call_finish(l->call, NULL, code, message);
        logs_call_free(l);
}

/* Sends the follower's next event; ends the call after END, or when there
 * is nothing more now and the caller does not follow. */
static void logs_pump(LogsCall *l) {
        Jobrunner__V1__LogsResponse response = JOBRUNNER__V1__LOGS_RESPONSE__INIT;
        Jobrunner__V1__LogChunk chunk = JOBRUNNER__V1__LOG_CHUNK__INIT;
        Jobrunner__V1__LogGap gap = JOBRUNNER__V1__LOG_GAP__INIT;
        Jobrunner__V1__JobStatus *end = NULL;
        jr_output_event ev;
        int r;

        if (call_send_in_flight(l->call))
                return;

        r = jr_follower_next(l->follower, &ev, l->buffer, sizeof(l->buffer));
        if (r < 0)
                return logs_finish(l, jr_code_from_errno(r), "cannot read the job's output");
        if (r == 0) {
                if (!l->follow)
                        logs_finish(l, JR_CODE_OK, NULL);
                return;         /* the follower wakes us */
        }

        switch (ev.type) {
        case JR_OUTPUT_DATA:
                chunk.stream = convert_stream_to_proto(ev.stream);
                chunk.offset = ev.offset;
                chunk.data = (ProtobufCBinaryData) { .len = ev.length, .data = l->buffer };
                response.event_case = JOBRUNNER__V1__LOGS_RESPONSE__EVENT_CHUNK;
                response.chunk = &chunk;
                break;
        case JR_OUTPUT_GAP:
                gap.stream = convert_stream_to_proto(ev.stream);
                gap.offset = ev.offset;
                gap.length = ev.length;
                gap.reason = convert_gap_reason_to_proto(ev.gap_reason);
                response.event_case = JOBRUNNER__V1__LOGS_RESPONSE__EVENT_GAP;
                response.gap = &gap;
                break;
        case JR_OUTPUT_END:
                end = rpc_job_status(l->job, true);
                if (!end)
                        return logs_finish(l, JR_CODE_INTERNAL, "cannot read the job's status");
                response.event_case = JOBRUNNER__V1__LOGS_RESPONSE__EVENT_END;
                response.end = end;
                break;
        }

        r = call_send(l->call, &response.base);
        if (end)
                convert_status_free(end);
        if (r < 0)
                return logs_finish(l, jr_code_from_errno(r), "cannot send the job's output");
        if (ev.type == JR_OUTPUT_END)
                /* The status follows the last message. */
                logs_finish(l, JR_CODE_OK, NULL);
}

static void on_wake(jr_follower *f, void *userdata) {
        (void) f;
        logs_pump(userdata);
}

static void on_sent(Call *call, void *userdata) {
        (void) call;
        logs_pump(userdata);
}

static void on_abort(Call *call, void *userdata) {
        (void) call;
        logs_call_free(userdata);
}

static int streams_from_proto(Jobrunner__V1__OutputStream s, unsigned *ret) {
        switch (s) {
        case JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_UNSPECIFIED:
                *ret = JR_STREAMS_ALL;
                return 0;
        case JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT:
                *ret = 1u << JR_STREAM_STDOUT;
                return 0;
        case JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR:
                *ret = 1u << JR_STREAM_STDERR;
                return 0;
        default:
                return -EINVAL;
        }
}

void rpc_logs(Call *call, const ProtobufCMessage *request, void *userdata) {
        const Jobrunner__V1__LogsRequest *req = (const Jobrunner__V1__LogsRequest *) request;
        Daemon *d = userdata;
        jr_status status;
        jr_error e = {};
        LogsCall *l;
        unsigned streams;
        jr_job *j;
        int r;

        j = rpc_find_job(call, d, req->id, AUTHZ_METHOD_LOGS);
        if (!j)
                return;
        if (streams_from_proto(req->stream, &streams) < 0) {
                call_finish(call, NULL, JR_CODE_INVALID_ARGUMENT, "stream: unknown output stream");
                return;
        }
        r = jr_job_get_known_status(j, &status);     /* for the follower count only */
        if (r < 0) {
                call_finish_errno(call, r, "cannot read the job's status");
                return;
        }
        if (status.followers >= d->limits.max_followers_per_job) {
                call_finish(call, NULL, JR_CODE_RESOURCE_EXHAUSTED,
                            "too many open Logs calls on this job; retry later");
                return;
        }

        l = malloc(sizeof(LogsCall));
        if (!l) {
                call_finish_errno(call, -ENOMEM, NULL);
                return;
        }
        l->call = call;
        l->job = j;
        l->follow = req->follow;
        l->follower = NULL;
        r = jr_follower_new(j, req->stdout_offset, req->stderr_offset, streams, on_wake, l, &l->follower, &e);
        if (r < 0) {
                free(l);
                call_finish_errno(call, r, e.message);
                return;
        }
        call_set_handlers(call, on_sent, on_abort, l);
        /* The follower's first wake starts the stream. */
}
