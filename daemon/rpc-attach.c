/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Attach: a job's output as Logs with follow streams it (the output pump),
 * and, for the call that holds it, the job's input.
 *
 * Backpressure: the client's next message is read only once the job has
 * taken all of the previous input, so a call holds at most one message
 * (ATTACH_INPUT_MAX bytes) and a job that reads slowly slows its client
 * down.  One message is in flight towards the client: output and the one
 * input_closed share it, input_closed going first. */

#include <stdlib.h>
#include <string.h>

#include "output-pump.h"
#include "rpc.h"

/* The API's bound on AttachRequest.input. */
#define ATTACH_INPUT_MAX (64u * 1024u)

typedef struct AttachCall {
        Call *call;
        OutputPump pump;

        jr_input *input;                /* NULL: the call does not hold the job's input */
        bool reading;                   /* until the client's half-close */
        bool end_of_input;              /* the client ended the input: more is its mistake */
        bool input_closed;              /* from here on, input is discarded */
        bool input_closed_pending;      /* input_closed waits for the message in flight */

        /* The input message being written: the rest waits for the job. */
        size_t held_size, held_done;
        uint8_t held[ATTACH_INPUT_MAX];
} AttachCall;

static AttachCall *attach_call_free(AttachCall *a) {
        /* The job's input stays open for the next holder. */
        jr_input_free(a->input);
        output_pump_close(&a->pump);
        free(a);
        return NULL;
}

static void attach_finish(AttachCall *a, JrCode code, const char *message) {
        call_finish(a->call, NULL, code, message);
        attach_call_free(a);
}

/* ---- towards the client ---------------------------------------------------- */

static int send_input_closed(AttachCall *a) {
        Jobrunner__V1__AttachResponse response = JOBRUNNER__V1__ATTACH_RESPONSE__INIT;
        Jobrunner__V1__InputClosed closed = JOBRUNNER__V1__INPUT_CLOSED__INIT;

        closed.input_bytes = jr_input_get_bytes(a->input);
        response.event_case = JOBRUNNER__V1__ATTACH_RESPONSE__EVENT_INPUT_CLOSED;
        response.input_closed = &closed;
        a->input_closed_pending = false;
        return call_send(a->call, &response.base);
}

/* Sends what is next: the pending input_closed, else the follower's next
 * event; ends the call after END. */
static void attach_pump(AttachCall *a) {
        const char *message = NULL;
        int r;

        if (call_send_in_flight(a->call))
                return;         /* on_sent comes back */

        /* A job that ended closed its input: say so before its END, even
         * if the wake that tells has not come yet. */
        if (a->input && !a->input_closed && jr_input_is_closed(a->input)) {
                a->input_closed = true;
                a->input_closed_pending = true;
        }
        if (a->input_closed_pending) {
                r = send_input_closed(a);
                if (r < 0)
                        attach_finish(a, jr_code_from_errno(r), "cannot send input_closed");
                return;
        }

        r = output_pump_send(&a->pump, a->call, &jobrunner__v1__attach_response__descriptor, &message);
        if (r < 0)
                attach_finish(a, jr_code_from_errno(r), message);
        else if (r == OUTPUT_PUMP_END)
                /* The status follows the last message; a receive still in
                 * flight is the call layer's to drop. */
                attach_finish(a, JR_CODE_OK, NULL);
}

/* The input no longer takes bytes: tell the holder once, before any more
 * output. */
static void attach_input_closed(AttachCall *a) {
        if (a->input_closed)
                return;
        a->input_closed = true;
        a->input_closed_pending = true;
        attach_pump(a);
}

/* ---- from the client ------------------------------------------------------- */

/* Asks for the client's next message, unless it sends no more.  Returns 0,
 * or a negative errno once the call is finished. */
static int attach_read_next(AttachCall *a) {
        int r;

        if (!a->reading)
                return 0;
        r = call_recv(a->call);
        if (r == -EPIPE) {
                a->reading = false;
                return 0;
        }
        if (r < 0) {
                attach_finish(a, jr_code_from_errno(r), "cannot read the next message");
                return r;
        }
        return 0;
}

/* Writes what the job takes of the held message; once all of it is written
 * (or the input closed under it, which discards the rest), reads the next
 * message.  The wake brings us back when the job takes more. */
static void attach_write_held(AttachCall *a) {
        bool closed = false;

        while (a->held_done < a->held_size) {
                ssize_t n = jr_input_write(a->input, a->held + a->held_done, a->held_size - a->held_done);

                if (n == 0)
                        return;         /* the wake follows */
                if (n == -EPIPE) {
                        closed = true;
                        break;
                }
                if (n < 0) {
                        call_set_audit_input_bytes(a->call, jr_input_get_bytes(a->input));
                        return attach_finish(a, jr_code_from_errno((int) n), "cannot write to the job's input");
                }
                a->held_done += (size_t) n;
        }
        a->held_size = a->held_done = 0;
        call_set_audit_input_bytes(a->call, jr_input_get_bytes(a->input));

        if (attach_read_next(a) < 0)
                return;
        if (closed || jr_input_is_closed(a->input))
                attach_input_closed(a);
}

static void on_input_wake(jr_input *in, void *userdata) {
        AttachCall *a = userdata;

        if (a->held_size > 0)
                attach_write_held(a);
        else if (jr_input_is_closed(in))
                attach_input_closed(a);
}

static void attach_input(AttachCall *a, const ProtobufCBinaryData *data) {
        if (data->len == 0 || data->len > ATTACH_INPUT_MAX)
                return attach_finish(a, JR_CODE_INVALID_ARGUMENT, "input: must hold 1..65536 bytes");
        if (!a->input)
                return attach_finish(a, JR_CODE_FAILED_PRECONDITION,
                                     "input: this call does not hold the job's input (start.input)");
        if (a->end_of_input)
                return attach_finish(a, JR_CODE_FAILED_PRECONDITION, "input: sent after end_of_input");
        if (a->input_closed) {
                /* The job closed its input or ended: discarded, as the API
                 * says, but read on so that the client is not blocked. */
                (void) attach_read_next(a);
                return;
        }

        memcpy(a->held, data->data, data->len);
        a->held_size = data->len;
        a->held_done = 0;
        attach_write_held(a);
}

static void attach_resize(AttachCall *a, const Jobrunner__V1__TerminalSize *size) {
        int r;

        if (!a->input)
                return attach_finish(a, JR_CODE_FAILED_PRECONDITION,
                                     "resize: this call does not hold the job's input (start.input)");
        r = jr_input_resize(a->input, size->rows, size->columns);
        if (r == -ENOTTY)
                return attach_finish(a, JR_CODE_FAILED_PRECONDITION, "resize: the job has no terminal");
        if (r == -EINVAL)
                return attach_finish(a, JR_CODE_INVALID_ARGUMENT, "resize: rows and columns must be 1..65535");
        /* Any other failure is a terminal that is gone with its job: there
         * is nothing left to resize, and input_closed tells the client. */
        (void) attach_read_next(a);
}

static void attach_end_of_input(AttachCall *a) {
        int r;

        if (!a->input)
                return attach_finish(a, JR_CODE_FAILED_PRECONDITION,
                                     "end_of_input: this call does not hold the job's input (start.input)");
        r = jr_input_close(a->input);
        if (r == -ENOTTY)
                return attach_finish(a, JR_CODE_FAILED_PRECONDITION,
                                     "end_of_input: a terminal has no end of input (send Ctrl-D, byte 0x04)");
        if (r < 0 && r != -EPIPE)
                return attach_finish(a, jr_code_from_errno(r), "cannot close the job's input");
        a->end_of_input = true;
        if (attach_read_next(a) < 0)
                return;
        attach_input_closed(a);
}

static void on_message(Call *call, const ProtobufCMessage *message, void *userdata) {
        const Jobrunner__V1__AttachRequest *req = (const Jobrunner__V1__AttachRequest *) message;
        AttachCall *a = userdata;

        (void) call;
        if (!req) {
                /* The client sends no more; the output goes on. */
                a->reading = false;
                return;
        }
        switch (req->event_case) {
        case JOBRUNNER__V1__ATTACH_REQUEST__EVENT_INPUT:
                return attach_input(a, &req->input);
        case JOBRUNNER__V1__ATTACH_REQUEST__EVENT_RESIZE:
                return attach_resize(a, req->resize);
        case JOBRUNNER__V1__ATTACH_REQUEST__EVENT_END_OF_INPUT:
                return attach_end_of_input(a);
        case JOBRUNNER__V1__ATTACH_REQUEST__EVENT_START:
                return attach_finish(a, JR_CODE_INVALID_ARGUMENT, "start: only the first message may be start");
        default:
                return attach_finish(a, JR_CODE_INVALID_ARGUMENT, "an AttachRequest must set one event");
        }
}

/* ---- the call -------------------------------------------------------------- */

static void on_wake(jr_follower *f, void *userdata) {
        (void) f;
        attach_pump(userdata);
}

static void on_sent(Call *call, void *userdata) {
        (void) call;
        attach_pump(userdata);
}

static void on_abort(Call *call, void *userdata) {
        (void) call;
        attach_call_free(userdata);
}

/* Takes the job's input for the call, and sets the terminal's size.  On
 * failure the call is finished. */
static int attach_take_input(AttachCall *a, jr_job *j, const Jobrunner__V1__AttachStart *start) {
        jr_error e = {};
        int r;

        if (!start->input) {
                if (start->terminal_size) {
                        call_finish(a->call, NULL, JR_CODE_FAILED_PRECONDITION,
                                    "start.terminal_size: only with start.input, by the holder of the input");
                        return -EPERM;
                }
                return 0;
        }

        r = jr_input_new(j, on_input_wake, a, &a->input, &e);
        if (r == -EBUSY)
                call_finish(a->call, NULL, JR_CODE_FAILED_PRECONDITION, "another client holds the job's input");
        else if (r == -ENOTCONN)
                call_finish(a->call, NULL, JR_CODE_FAILED_PRECONDITION, "the job was started without an input");
        else if (r < 0)
                call_finish_errno(a->call, r, e.message);
        if (r < 0)
                return r;

        if (start->terminal_size) {
                r = jr_input_resize(a->input, start->terminal_size->rows, start->terminal_size->columns);
                if (r == -ENOTTY)
                        call_finish(a->call, NULL, JR_CODE_FAILED_PRECONDITION,
                                    "start.terminal_size: the job has no terminal");
                else if (r == -EINVAL)
                        call_finish(a->call, NULL, JR_CODE_INVALID_ARGUMENT,
                                    "start.terminal_size: rows and columns must be 1..65535");
                else
                        r = 0;  /* a terminal gone with its job: input_closed tells */
                if (r < 0)
                        return r;
        }
        return 0;
}

void rpc_attach(Call *call, const ProtobufCMessage *request, void *userdata) {
        const Jobrunner__V1__AttachRequest *req = (const Jobrunner__V1__AttachRequest *) request;
        const Jobrunner__V1__AttachStart *start;
        Daemon *d = userdata;
        AttachCall *a;
        jr_job *j;

        /* Every Attach record counts its input, none at all included. */
        call_set_audit_input_bytes(call, 0);
        if (req->event_case != JOBRUNNER__V1__ATTACH_REQUEST__EVENT_START || !req->start) {
                call_finish(call, NULL, JR_CODE_INVALID_ARGUMENT, "the first message must be start");
                return;
        }
        start = req->start;
        j = rpc_find_job(call, d, start->id, AUTHZ_METHOD_ATTACH);
        if (!j)
                return;

        a = calloc(1, sizeof(AttachCall));
        if (!a) {
                call_finish_errno(call, -ENOMEM, NULL);
                return;
        }
        a->call = call;
        if (attach_take_input(a, j, start) < 0) {
                attach_call_free(a);
                return;         /* finished */
        }
        if (output_pump_open(&a->pump, call, d, j, start->stdout_offset, start->stderr_offset, JR_STREAMS_ALL,
                             on_wake, a) < 0) {
                attach_call_free(a);
                return;         /* finished */
        }
        call_set_handlers(call, on_sent, on_abort, a);
        call_set_message_handler(call, on_message);

        a->reading = true;
        if (attach_read_next(a) < 0)
                return;
        if (a->input && jr_input_is_closed(a->input))
                /* A job whose input closed before this call took it. */
                attach_input_closed(a);
        /* The follower's first wake starts the output. */
}
