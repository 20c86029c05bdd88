/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "attach-input.h"
#include "backoff.h"
#include "interrupt.h"
#include "jobs.h"
#include "logs-follow.h"
#include "status.h"
#include "tty-raw.h"

/* After a break, how often the input may still be held (by the broken call,
 * which the server has not seen end yet) before that is an error. */
#define HELD_RETRIES 20

typedef Jobrunner__V1__AttachResponse AttachResponse;

static void attach_response_freep(AttachResponse **m) {
        if (*m)
                jobrunner__v1__attach_response__free_unpacked(*m, NULL);
}

static int open_call(Conn *c, const AttachOptions *o, const LogsCursor *cursor, bool take_input, ConnBidi **ret,
                     CliError *e) {
        Jobrunner__V1__AttachRequest req = JOBRUNNER__V1__ATTACH_REQUEST__INIT;
        Jobrunner__V1__AttachStart start = JOBRUNNER__V1__ATTACH_START__INIT;
        Jobrunner__V1__TerminalSize size = JOBRUNNER__V1__TERMINAL_SIZE__INIT;
        unsigned rows, columns;

        start.id = (char *) o->id;
        start.stdout_offset = cursor->next[JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT];
        start.stderr_offset = cursor->next[JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR];
        start.input = take_input;
        /* Also on every re-attach: the size may have changed meanwhile. */
        if (take_input && o->raw && tty_get_size(o->in_fd, &rows, &columns) >= 0) {
                size.rows = rows;
                size.columns = columns;
                start.terminal_size = &size;
        }
        req.event_case = JOBRUNNER__V1__ATTACH_REQUEST__EVENT_START;
        req.start = &start;
        return conn_bidi_open(c, "Attach", &req.base, &jobrunner__v1__attach_response__descriptor, ret, e);
}

static void input_closed(const AttachOptions *o, AttachInput *in, const Jobrunner__V1__InputClosed *ic,
                         LogsOutput *out) {
        uint64_t sent = atomic_load(&in->sent_call);

        atomic_store(&in->closed, true);
        attach_input_wake(in);
        /* A terminal's input ends with its job, as a pipe's does without an
         * end of input: worth a word only if local input was left over. */
        if (!o->pipe || (ic->input_bytes >= sent && !attach_input_pending(in)))
                return;
        (void) logs_output_notice(out,
                                  "the input of job %s is closed: it took %" PRIu64 " bytes from this attachment, "
                                  "and local input remained that was not sent",
                                  o->id, ic->input_bytes);
}

/* Reads the call until it ends: 0 then, -EINTR when on_interrupt chose to
 * stop, or a negative errno with e set. */
static int receive(const AttachOptions *o, AttachInput *in, ConnBidi *call, Backoff *b, LogsCursor *cursor,
                   LogsOutput *out, JobStatus **end, CliError *e) {
        for (;;) {
                _cleanup_(attach_response_freep) AttachResponse *m = NULL;
                int r;

                r = conn_bidi_next(call, o->interruptible, (ProtobufCMessage **) &m, e);
                if (r == -EINTR) {
                        r = interrupt_handle(o->on_interrupt, o->userdata, e);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (r <= 0)
                        return r;

                backoff_reset(b);
                switch (m->event_case) {
                case JOBRUNNER__V1__ATTACH_RESPONSE__EVENT_CHUNK:
                        r = m->chunk ? logs_deliver_chunk(m->chunk, cursor, out, e) : 0;
                        break;
                case JOBRUNNER__V1__ATTACH_RESPONSE__EVENT_GAP:
                        r = m->gap ? logs_deliver_gap(m->gap, cursor, out, e) : 0;
                        break;
                case JOBRUNNER__V1__ATTACH_RESPONSE__EVENT_END:
                        job_status_freep(end);
                        *end = m->end;
                        m->end = NULL;
                        m->event_case = JOBRUNNER__V1__ATTACH_RESPONSE__EVENT__NOT_SET;
                        break;
                case JOBRUNNER__V1__ATTACH_RESPONSE__EVENT_INPUT_CLOSED:
                        if (m->input_closed)
                                input_closed(o, in, m->input_closed, out);
                        break;
                default:
                        /* A newer server's event: not ours to show. */
                        break;
                }
                if (r < 0)
                        return r;
        }
}

/* The connection broke while this call held the input: what reached the
 * job is not known, and the user must hear of it. */
static void tell_input_cut(const AttachOptions *o, AttachInput *in, LogsOutput *out) {
        uint64_t call = atomic_load(&in->sent_call) + in->unsure,
                 total = atomic_load(&in->sent_before) + call;

        if (call == 0 || atomic_load(&in->closed))
                return;
        (void) logs_output_notice(out,
                                  "the input of job %s may have been cut: %" PRIu64 " bytes of input were sent "
                                  "before the connection broke, and the last of them, still on their way then, "
                                  "may not have reached the job; %s once reconnected",
                                  o->id, total,
                                  atomic_load(&in->local_eof) && o->pipe ? "the end of the input is sent again" :
                                                                           "the rest of the input follows");
}

static int session(Conn *c, const AttachOptions *o, AttachInput *in, LogsCursor *cursor, LogsOutput *out,
                   JobStatus **ret_end, CliError *e) {
        _cleanup_(job_status_freep) JobStatus *end = NULL;
        char what[JOB_WHAT_MAX];
        unsigned held_retries = 0;
        bool broke = false;
        Backoff b = {}, held = {};
        int r;

        (void) job_what(o->id, what);
        for (;;) {
                _cleanup_(conn_bidi_freep) ConnBidi *call = NULL;
                bool take = o->input && !atomic_load(&in->closed);
                const RpcStatus *st;

                r = open_call(c, o, cursor, take, &call, e);
                if (r < 0)
                        return r;
                if (take) {
                        r = attach_input_start(in, call);
                        if (r < 0)
                                return cli_error(e, CLI_EXIT_LOCAL, r, "cannot start reading the input: %s",
                                                 strerror(-r));
                }

                r = receive(o, in, call, &b, cursor, out, &end, e);
                if (r < 0) {
                        /* The thread may be sending: the call's end stops it. */
                        conn_bidi_cancel(call);
                        attach_input_stop(in);
                        return r;
                }
                attach_input_stop(in);

                if (atomic_load(&in->detached))
                        return ATTACH_DETACHED;
                if (end) {
                        /* The output is complete, whatever came after. */
                        r = logs_output_end(out, end);
                        if (r < 0)
                                return output_error(r, e);
                        *ret_end = TAKE_PTR(end);
                        return 1;
                }
                if (in->error < 0)
                        return cli_error(e, CLI_EXIT_LOCAL, in->error, "cannot read the input for job %s: %s",
                                         o->id, strerror(-in->error));
                st = conn_bidi_status(call);
                if (st->code == JR_CODE_OK)
                        return 0;
                if (st->code == JR_CODE_CANCELLED && o->interruptible && interrupt_requested())
                        return -EINTR;
                /* A connection that broke without a daemon restart may
                 * leave the server holding the input for the old call
                 * until it sees that call end: wait a little for that. */
                if (st->code == JR_CODE_FAILED_PRECONDITION && take && broke && held_retries++ < HELD_RETRIES) {
                        if (held_retries == 1)
                                (void) logs_output_notice(out, "the input of job %s is still held by the broken "
                                                          "call; waiting for the server to release it", o->id);
                        if (!backoff_wait(&held, o->interruptible))
                                return o->interruptible && interrupt_requested() ? -EINTR :
                                                                                  conn_bidi_fail(call, what, e);
                        continue;
                }
                if (st->code != JR_CODE_UNAVAILABLE || !conn_reached_server(c))
                        return conn_bidi_fail(call, what, e);
                broke = true;
                held_retries = 0;
                backoff_reset(&held);

                /* The daemon went away, most likely restarting: the job,
                 * its output and the input it took survive that. */
                if (take)
                        tell_input_cut(o, in, out);
                r = logs_await_server(c, o->id, what, &b, o->interruptible, out, st, e);
                if (r == -EINTR)
                        r = interrupt_handle(o->on_interrupt, o->userdata, e);
                if (r < 0)
                        return r;
        }
}

int attach_session(Conn *c, const AttachOptions *o, LogsCursor *cursor, LogsOutput *out, JobStatus **ret_end,
                   CliError *e) {
        AttachInput in;
        int r, q;

        r = attach_input_init(&in, o->in_fd, o->pipe, o->raw && o->input);
        if (r < 0) {
                attach_input_done(&in);
                return cli_error(e, CLI_EXIT_LOCAL, r, "cannot prepare reading the input: %s", strerror(-r));
        }
        if (o->raw && o->input) {
                r = tty_raw_enter(o->in_fd);
                if (r < 0) {
                        attach_input_done(&in);
                        return cli_error(e, CLI_EXIT_LOCAL, r, "cannot put the terminal into raw mode: %s",
                                         strerror(-r));
                }
                out->crlf = true;
        }

        r = session(c, o, &in, cursor, out, ret_end, e);

        attach_input_done(&in);
        tty_raw_restore();
        out->crlf = false;
        /* No more output comes: the gaps held back are told, also before
         * an error. */
        q = logs_output_flush(out);
        if (q < 0 && r >= 0)
                return output_error(q, e);
        return r;
}

int attach_check_tty(Cli *cli, bool raw, CliError *e) {
        /* Raw mode needs a terminal to make raw; docker's words. */
        if (raw && !isatty(STDIN_FILENO))
                return cli_usage(cli, e, "the input device is not a TTY: -it connects this terminal to the job's; "
                                 "for input from a pipe or file, use -i alone");
        return 0;
}
