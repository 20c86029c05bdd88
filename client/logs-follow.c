/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "interrupt.h"
#include "jobs.h"
#include "jobrunner.pb-c.h"
#include "logs-follow.h"
#include "macro.h"
#include "status.h"

#define TAIL_WINDOW_FIRST (UINT64_C(64) * 1024)
#define TAIL_WINDOW_MAX (UINT64_C(64) * 1024 * 1024)

typedef Jobrunner__V1__LogsResponse LogsResponse;

static void logs_response_freep(LogsResponse **m) {
        if (*m)
                jobrunner__v1__logs_response__free_unpacked(*m, NULL);
}

int output_error(int r, CliError *e) {
        if (r == -EPIPE)
                /* Like a process killed by SIGPIPE, without the noise. */
                return cli_error(e, CLI_EXIT_SIGNAL_BASE + 13, r, "%s", "");
        return cli_error(e, CLI_EXIT_LOCAL, r, "cannot write the job's output: %s", strerror(-r));
}

/* Takes the end status out of m. */
static JobStatus *steal_end(LogsResponse *m) {
        JobStatus *j = m->end;

        m->end = NULL;
        m->event_case = JOBRUNNER__V1__LOGS_RESPONSE__EVENT__NOT_SET;
        return j;
}

int logs_deliver_chunk(const Jobrunner__V1__LogChunk *ch, LogsCursor *cursor, LogsOutput *out, CliError *e) {
        uint64_t missing;
        size_t skip;
        int r = 0;

        if (!logs_cursor_chunk(cursor, ch->stream, ch->offset, ch->data.len, &skip, &missing))
                return 0;
        if (missing > 0)
                r = logs_output_gap(out, ch->stream, ch->offset - missing, missing,
                                    JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_UNSPECIFIED);
        if (r >= 0)
                r = logs_output_chunk(out, ch->stream, ch->offset + skip, ch->data.data + skip, ch->data.len - skip);
        return r < 0 ? output_error(r, e) : 0;
}

int logs_deliver_gap(const Jobrunner__V1__LogGap *g, LogsCursor *cursor, LogsOutput *out, CliError *e) {
        uint64_t offset = g->offset, length = g->length;
        int r = 0;

        if (logs_cursor_gap(cursor, g->stream, &offset, &length))
                r = logs_output_gap(out, g->stream, offset, length, g->reason);
        return r < 0 ? output_error(r, e) : 0;
}

/* One message into the cursor and the output. */
static int deliver(LogsResponse *m, LogsCursor *cursor, LogsOutput *out, CliError *e) {
        if (m->event_case == JOBRUNNER__V1__LOGS_RESPONSE__EVENT_CHUNK && m->chunk)
                return logs_deliver_chunk(m->chunk, cursor, out, e);
        if (m->event_case == JOBRUNNER__V1__LOGS_RESPONSE__EVENT_GAP && m->gap)
                return logs_deliver_gap(m->gap, cursor, out, e);
        return 0;
}

static int open_logs(Conn *c, const char *id, int stream, bool follow, const LogsCursor *cursor, ConnStream **ret,
                     CliError *e) {
        Jobrunner__V1__LogsRequest req = JOBRUNNER__V1__LOGS_REQUEST__INIT;

        req.id = (char *) id;
        req.stream = stream;
        req.stdout_offset = cursor->next[JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT];
        req.stderr_offset = cursor->next[JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR];
        req.follow = follow;
        return conn_stream_open(c, "Logs", &req.base, &jobrunner__v1__logs_response__descriptor,
                                CONN_DEADLINE_LONG, ret, e);
}

int logs_await_server(Conn *c, const char *id, const char *what, Backoff *b, bool interruptible,
                        LogsOutput *out, const RpcStatus *lost, CliError *e) {
        Jobrunner__V1__GetStatusRequest req = JOBRUNNER__V1__GET_STATUS_REQUEST__INIT;

        req.id = (char *) id;
        (void) logs_output_notice(out, "lost the connection to the server (%s); reconnecting...", lost->details);
        for (;;) {
                _cleanup_(rpc_status_done) RpcStatus st = {};
                ProtobufCMessage *resp = NULL;
                int r;

                if (!backoff_wait(b, interruptible)) {
                        if (interruptible && interrupt_requested())
                                return -EINTR;
                        return cli_error(e, CLI_EXIT_UNAVAILABLE, -ETIMEDOUT,
                                         "the server did not come back within %" PRIu64 " minutes (%s)",
                                         BACKOFF_GIVE_UP_USEC / 60000000, lost->details);
                }
                /* A connection that waits in the backlog of the socket for
                 * the next daemon: wait on.  Only then the call, which gRPC
                 * would otherwise hold back until its deadline. */
                if (conn_wait_connected(c, CONN_DEADLINE_SHORT) == -ETIMEDOUT)
                        continue;
                r = conn_call(c, "GetStatus", &req.base, &jobrunner__v1__get_status_response__descriptor,
                              CONN_DEADLINE_SHORT, &st, &resp, e);
                if (r < 0)
                        return r;
                if (resp)
                        protobuf_c_message_free_unpacked(resp, NULL);
                if (st.code == JR_CODE_OK) {
                        (void) logs_output_notice(out, "reconnected");
                        return 0;
                }
                /* Or the deadline passed (CANCELLED: gRPC let it pass, and
                 * conn.c's pluck() cancelled the call): with no connection
                 * up the next daemon is not there yet; with one, it is
                 * there but still starting (re-attaching every job takes
                 * a while on a loaded host).  Either is part of the restart
                 * we are waiting out, within the same budget. */
                if (st.code != JR_CODE_UNAVAILABLE && st.code != JR_CODE_DEADLINE_EXCEEDED &&
                    st.code != JR_CODE_CANCELLED)
                        return conn_fail(c, &st, what, e);
        }
}

static int follow(Conn *c, const char *id, const LogsFollowOptions *o, LogsCursor *cursor, LogsOutput *out,
                  JobStatus **ret_end, CliError *e) {
        _cleanup_(job_status_freep) JobStatus *end = NULL;
        _cleanup_free_ char *what = NULL;
        Backoff b = {};
        int r;

        if (asprintf(&what, "job %s", id) < 0)
                return cli_error_oom(e);

        for (;;) {
                _cleanup_(conn_stream_freep) ConnStream *s = NULL;
                const RpcStatus *st;

                r = open_logs(c, id, o->stream, o->follow, cursor, &s, e);
                if (r < 0)
                        return r;

                for (;;) {
                        _cleanup_(logs_response_freep) LogsResponse *m = NULL;

                        r = conn_stream_next(s, o->interruptible, (ProtobufCMessage **) &m, e);
                        if (r == -EINTR) {
                                r = interrupt_handle(o->on_interrupt, o->userdata, e);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        if (r < 0)
                                return r;
                        if (r == 0)
                                break;

                        backoff_reset(&b);
                        if (m->event_case == JOBRUNNER__V1__LOGS_RESPONSE__EVENT_END && m->end) {
                                job_status_freep(&end);
                                end = steal_end(m);
                                continue;
                        }
                        r = deliver(m, cursor, out, e);
                        if (r < 0)
                                return r;
                }

                if (end) {
                        /* The output is complete, whatever came after. */
                        r = logs_output_end(out, end);
                        if (r < 0)
                                return output_error(r, e);
                        *ret_end = TAKE_PTR(end);
                        return 1;
                }
                st = conn_stream_status(s);
                if (st->code == JR_CODE_OK)
                        return 0;
                if (st->code == JR_CODE_CANCELLED && o->interruptible && interrupt_requested())
                        return -EINTR;
                if (st->code != JR_CODE_UNAVAILABLE || !conn_reached_server(c))
                        return conn_stream_fail(s, what, e);

                /* The daemon went away, most likely restarting: jobs and
                 * their output survive that.  Resume where we are. */
                r = logs_await_server(c, id, what, &b, o->interruptible, out, st, e);
                if (r == -EINTR)        /* Ctrl-C while waiting for the server */
                        r = interrupt_handle(o->on_interrupt, o->userdata, e);
                if (r < 0)
                        return r;
        }
}

int logs_follow(Conn *c, const char *id, const LogsFollowOptions *o, LogsCursor *cursor, LogsOutput *out,
                JobStatus **ret_end, CliError *e) {
        int r, q;

        r = follow(c, id, o, cursor, out, ret_end, e);
        /* No more output comes: the gaps held back are told, also before
         * an error. */
        q = logs_output_flush(out);
        if (q < 0 && r >= 0)
                return output_error(q, e);
        return r;
}

/* ---- tail -------------------------------------------------------------- */

typedef struct TailEvent {
        bool gap;
        uint64_t offset, length;
        int reason;
        size_t pos;                     /* where in the collected bytes it sits */
} TailEvent;

typedef struct Tail {
        uint8_t *buf;
        size_t len, size;
        TailEvent *events;
        size_t n_events, size_events;
        LogsCursor cursor;              /* for this collection only */
        JobStatus *end;
        /* The collection started inside a gap, which the server sent whole:
         * no stored output of the stream lies after gap_start. */
        bool inside_gap;
        uint64_t gap_start;
} Tail;

static void tail_done(Tail *t) {
        free(t->buf);
        free(t->events);
        job_status_freep(&t->end);
        *t = (Tail) {};
}

static int tail_add(Tail *t, bool gap, uint64_t offset, uint64_t length, int reason, const uint8_t *data) {
        if (t->n_events == t->size_events) {
                size_t n = t->size_events ? 2 * t->size_events : 64;
                TailEvent *p = realloc(t->events, n * sizeof(*p));

                if (!p)
                        return -ENOMEM;
                t->events = p;
                t->size_events = n;
        }
        if (!gap) {
                if (t->len + length > t->size) {
                        size_t n = t->size ? t->size : 64 * 1024;
                        uint8_t *p;

                        while (n < t->len + length)
                                n *= 2;
                        p = realloc(t->buf, n);
                        if (!p)
                                return -ENOMEM;
                        t->buf = p;
                        t->size = n;
                }
                memcpy(t->buf + t->len, data, (size_t) length);
        }
        t->events[t->n_events++] = (TailEvent) {
                .gap = gap, .offset = offset, .length = length, .reason = reason, .pos = t->len,
        };
        if (!gap)
                t->len += (size_t) length;
        return 0;
}

/* Everything stored of the stream from start on. */
static int tail_collect(Conn *c, const char *id, int stream, uint64_t start, Tail *t, CliError *e) {
        _cleanup_(conn_stream_freep) ConnStream *s = NULL;
        _cleanup_free_ char *what = NULL;
        const RpcStatus *st;
        int r;

        logs_cursor_init(&t->cursor, start, start);
        r = open_logs(c, id, stream, false, &t->cursor, &s, e);
        if (r < 0)
                return r;
        for (;;) {
                _cleanup_(logs_response_freep) LogsResponse *m = NULL;
                uint64_t missing;
                size_t skip;

                r = conn_stream_next(s, false, (ProtobufCMessage **) &m, e);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (m->event_case == JOBRUNNER__V1__LOGS_RESPONSE__EVENT_END && m->end) {
                        job_status_freep(&t->end);
                        t->end = steal_end(m);
                } else if (m->event_case == JOBRUNNER__V1__LOGS_RESPONSE__EVENT_CHUNK && m->chunk &&
                           (int) m->chunk->stream == stream &&
                           logs_cursor_chunk(&t->cursor, stream, m->chunk->offset, m->chunk->data.len, &skip,
                                             &missing)) {
                        if (missing > 0)
                                r = tail_add(t, true, m->chunk->offset - missing, missing, 0, NULL);
                        if (r >= 0 && skip < m->chunk->data.len)
                                r = tail_add(t, false, m->chunk->offset + skip, m->chunk->data.len - skip, 0,
                                             m->chunk->data.data + skip);
                } else if (m->event_case == JOBRUNNER__V1__LOGS_RESPONSE__EVENT_GAP && m->gap &&
                           (int) m->gap->stream == stream) {
                        uint64_t offset = m->gap->offset, length = m->gap->length;

                        if (t->n_events == 0 && offset < start) {
                                t->inside_gap = true;
                                t->gap_start = offset;
                        }
                        if (logs_cursor_gap(&t->cursor, stream, &offset, &length))
                                r = tail_add(t, true, offset, length, m->gap->reason, NULL);
                }
                if (r < 0)
                        return cli_error_oom(e);
        }
        st = conn_stream_status(s);
        if (st->code == JR_CODE_OK)
                return 0;
        if (asprintf(&what, "job %s", id) < 0)
                return cli_error_oom(e);
        return conn_stream_fail(s, what, e);
}

int logs_tail(Conn *c, const char *id, int stream, uint64_t end, uint64_t n, LogsCursor *cursor, LogsOutput *out,
              JobStatus **ret_end, CliError *e) {
        _cleanup_(tail_done) Tail t = {};
        uint64_t window = TAIL_WINDOW_FIRST, start, stored_end = end;
        size_t cut;
        int r;

        for (;;) {
                bool complete;

                start = stored_end > window ? stored_end - window : 0;
                tail_done(&t);
                r = tail_collect(c, id, stream, start, &t, e);
                if (r < 0)
                        return r;
                if (t.inside_gap && n > 0) {
                        /* E.g. all output past the cap: the lines are
                         * before the gap, and the gap is told whole. */
                        stored_end = t.gap_start;
                        continue;
                }
                cut = tail_start(t.buf, t.len, n, &complete);
                /* Lines longer than the largest window are cut short. */
                if (complete || start == 0 || window >= TAIL_WINDOW_MAX)
                        break;
                window *= 4;
        }

        for (size_t i = 0; i < t.n_events; i++) {
                const TailEvent *ev = &t.events[i];

                if (ev->gap) {
                        if (ev->pos >= cut && n > 0)
                                r = logs_output_gap(out, stream, ev->offset, ev->length, ev->reason);
                } else if (ev->pos + ev->length > cut) {
                        size_t skip = cut > ev->pos ? cut - ev->pos : 0;

                        r = logs_output_chunk(out, stream, ev->offset + skip, t.buf + ev->pos + skip,
                                              (size_t) ev->length - skip);
                }
                if (r < 0)
                        return output_error(r, e);
        }

        /* Follow on from where the collection ended. */
        cursor->next[stream] = t.cursor.next[stream];
        cursor->last_unknown_loss[stream] = t.cursor.last_unknown_loss[stream];
        if (ret_end)
                *ret_end = TAKE_PTR(t.end);
        return 0;
}
