/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "convert.h"
#include "macro.h"
#include "output-pump.h"
#include "rpc.h"

int output_pump_open(OutputPump *p, Call *call, Daemon *d, jr_job *j, uint64_t stdout_offset,
                     uint64_t stderr_offset, unsigned streams, jr_follower_wake_t wake, void *userdata) {
        jr_status status;
        jr_error e = {};
        int r;

        p->job = j;
        p->follower = NULL;

        r = jr_job_get_known_status(j, &status);     /* for the follower count only */
        if (r < 0) {
                call_finish_errno(call, r, "cannot read the job's status");
                return r;
        }
        if (status.followers >= d->limits.max_followers_per_job) {
                call_finish(call, NULL, JR_CODE_RESOURCE_EXHAUSTED,
                            "too many open Logs and Attach calls on this job; retry later");
                return -EBUSY;
        }
        r = jr_follower_new(j, stdout_offset, stderr_offset, streams, wake, userdata, &p->follower, &e);
        if (r < 0) {
                call_finish_errno(call, r, e.message);
                return r;
        }
        return 0;
}

void output_pump_close(OutputPump *p) {
        p->follower = jr_follower_free(p->follower);
}

/* Points the response's oneof at value: through the descriptor, as the two
 * response types hold the same fields under the same names and numbers. */
static int set_event(ProtobufCMessage *response, const char *name, void *value) {
        const ProtobufCFieldDescriptor *f =
                protobuf_c_message_descriptor_get_field_by_name(response->descriptor, name);

        if (!f || !f->quantifier_offset)
                return -EINVAL;
        *(void **) ((char *) response + f->offset) = value;
        *(uint32_t *) ((char *) response + f->quantifier_offset) = f->id;
        return 0;
}

int output_pump_send(OutputPump *p, Call *call, const ProtobufCMessageDescriptor *response_type,
                     const char **ret_message) {
        Jobrunner__V1__LogChunk chunk = JOBRUNNER__V1__LOG_CHUNK__INIT;
        Jobrunner__V1__LogGap gap = JOBRUNNER__V1__LOG_GAP__INIT;
        _cleanup_free_ ProtobufCMessage *response = NULL;
        Jobrunner__V1__JobStatus *end = NULL;
        jr_output_event ev;
        int r;

        r = jr_follower_next(p->follower, &ev, p->buffer, sizeof(p->buffer));
        if (r < 0) {
                *ret_message = "cannot read the job's output";
                return r;
        }
        if (r == 0)
                return OUTPUT_PUMP_IDLE;

        response = malloc(response_type->sizeof_message);
        if (!response) {
                *ret_message = "cannot send the job's output";
                return -ENOMEM;
        }
        response_type->message_init(response);

        switch (ev.type) {
        case JR_OUTPUT_DATA:
                chunk.stream = convert_stream_to_proto(ev.stream);
                chunk.offset = ev.offset;
                chunk.data = (ProtobufCBinaryData) { .len = ev.length, .data = p->buffer };
                r = set_event(response, "chunk", &chunk);
                break;
        case JR_OUTPUT_GAP:
                gap.stream = convert_stream_to_proto(ev.stream);
                gap.offset = ev.offset;
                gap.length = ev.length;
                gap.reason = convert_gap_reason_to_proto(ev.gap_reason);
                r = set_event(response, "gap", &gap);
                break;
        case JR_OUTPUT_END:
                end = rpc_job_status(p->job, true);
                if (!end) {
                        *ret_message = "cannot read the job's status";
                        return -EIO;    /* INTERNAL */
                }
                r = set_event(response, "end", end);
                break;
        default:
                r = -EIO;
        }
        if (r >= 0)
                r = call_send(call, response);
        if (end)
                convert_status_free(end);
        if (r < 0) {
                *ret_message = "cannot send the job's output";
                return r;
        }
        return ev.type == JR_OUTPUT_END ? OUTPUT_PUMP_END : OUTPUT_PUMP_SENT;
}
