/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logs: a job's output from the requested offsets, then live, through the
 * output pump that Attach shares (output-pump.h). */

#include <stdlib.h>

#include "output-pump.h"
#include "rpc.h"

typedef struct LogsCall {
        Call *call;
        bool follow;
        OutputPump pump;
} LogsCall;

static void logs_call_free(LogsCall *l) {
        output_pump_close(&l->pump);
        free(l);
}

static void logs_finish(LogsCall *l, JrCode code, const char *message) {
        call_finish(l->call, NULL, code, message);
        logs_call_free(l);
}

/* Sends the follower's next event; ends the call after END, or when there
 * is nothing more now and the caller does not follow. */
static void logs_pump(LogsCall *l) {
        const char *message = NULL;
        int r;

        if (call_send_in_flight(l->call))
                return;

        r = output_pump_send(&l->pump, l->call, &jobrunner__v1__logs_response__descriptor, &message);
        if (r < 0)
                logs_finish(l, jr_code_from_errno(r), message);
        else if (r == OUTPUT_PUMP_END || (r == OUTPUT_PUMP_IDLE && !l->follow))
                /* After END the status follows the last message. */
                logs_finish(l, JR_CODE_OK, NULL);
        /* IDLE: the follower wakes us; SENT: on_sent does. */
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
        LogsCall *l;
        unsigned streams;
        jr_job *j;

        j = rpc_find_job(call, d, req->id, AUTHZ_METHOD_LOGS);
        if (!j)
                return;
        if (streams_from_proto(req->stream, &streams) < 0) {
                call_finish(call, NULL, JR_CODE_INVALID_ARGUMENT, "stream: unknown output stream");
                return;
        }

        l = malloc(sizeof(LogsCall));
        if (!l) {
                call_finish_errno(call, -ENOMEM, NULL);
                return;
        }
        l->call = call;
        l->follow = req->follow;
        if (output_pump_open(&l->pump, call, d, j, req->stdout_offset, req->stderr_offset, streams, on_wake,
                             l) < 0) {
                free(l);
                return;         /* finished */
        }
        call_set_handlers(call, on_sent, on_abort, l);
        /* The follower's first wake starts the stream. */
}
