/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "logs-cursor.h"
#include "logs-output.h"
#include "macro.h"
#include "print.h"

void logs_output_init(LogsOutput *o, int out_fd, int err_fd, bool json) {
        *o = (LogsOutput) { .out_fd = out_fd, .err_fd = err_fd, .json = json, .err_at_line_start = true };
}

static int out_write(LogsOutput *o, int fd, const void *data, size_t len) {
        if (o->write)
                return o->write(o->write_userdata, fd, data, len);
        return write_all(fd, data, len);
}

/* A JSON line built in memory, written in one piece. */
static int write_json_line(LogsOutput *o, int fd, void (*build)(JsonWriter *w, const void *arg), const void *arg) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        JsonWriter w;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        json_init(&w, f);
        build(&w, arg);
        fputc('\n', f);
        if (fclose(f) != 0)
                return -ENOMEM;
        return out_write(o, fd, buf, size);
}

typedef struct Event {
        const char *type;
        int stream;
        uint64_t offset, length;
        int reason;
        const uint8_t *data;
        const JobStatus *job;
} Event;

static void build_event(JsonWriter *w, const void *arg) {
        const Event *ev = arg;

        json_begin_object(w);
        json_kv_string(w, "type", ev->type);
        if (ev->job) {
                json_key(w, "job");
                json_job_status(w, ev->job);
        } else {
                json_kv_string(w, "stream", stream_name(ev->stream));
                json_kv_uint(w, "offset", ev->offset);
                if (ev->data) {
                        json_key(w, "data");
                        json_base64(w, ev->data, (size_t) ev->length);
                } else {
                        json_kv_uint(w, "length", ev->length);
                        json_kv_string(w, "reason", gap_reason_name(ev->reason));
                }
        }
        json_end_object(w);
}

static LogsGap *pending_gap(LogsOutput *o, int stream) {
        if (stream != JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT &&
            stream != JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR)
                return NULL;
        return &o->pending[stream];
}

static int flush_gap(LogsOutput *o, int stream);

int logs_output_chunk(LogsOutput *o, int stream, uint64_t offset, const uint8_t *data, size_t len) {
        int r;

        if (len == 0)
                return 0;
        r = flush_gap(o, stream);
        if (r < 0)
                return r;
        if (o->json)
                return write_json_line(o, o->out_fd, build_event,
                                       &(Event) { .type = "chunk", .stream = stream, .offset = offset,
                                                  .length = len, .data = data });

        if (stream == JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR && !o->merge) {
                r = out_write(o, o->err_fd, data, len);
                if (r >= 0)
                        o->err_at_line_start = data[len - 1] == '\n';
                return r;
        }
        return out_write(o, o->out_fd, data, len);
}

/* A terminal in raw mode moves down a line on LF without going back to
 * the first column: each line must end with CR LF there. */
static char *crlf_lines(const char *text) {
        size_t n = 0, len = strlen(text);
        char *s, *p;

        for (const char *q = text; *q; q++)
                n += *q == '\n';
        s = malloc(len + n + 1);
        if (!s)
                return NULL;
        p = s;
        for (const char *q = text; *q; q++) {
                if (*q == '\n')
                        *p++ = '\r';
                *p++ = *q;
        }
        *p = 0;
        return s;
}

static int notice(LogsOutput *o, const char *text) {
        _cleanup_free_ char *line = NULL, *raw = NULL;
        int n;

        /* On a raw terminal the job's output shares the screen with us
         * without telling where its line stands: always a line of its own. */
        n = asprintf(&line, "%sjobrunner: %s\n", o->err_at_line_start && !o->crlf ? "" : "\n", text);
        if (n < 0)
                return -ENOMEM;
        o->err_at_line_start = true;
        if (o->crlf) {
                raw = crlf_lines(line);
                if (!raw)
                        return -ENOMEM;
                return out_write(o, o->err_fd, raw, strlen(raw));
        }
        return out_write(o, o->err_fd, line, (size_t) n);
}

static int write_gap(LogsOutput *o, int stream, uint64_t offset, uint64_t length, int reason) {
        _cleanup_free_ char *text = NULL;

        if (o->json)
                return write_json_line(o, o->out_fd, build_event,
                                       &(Event) { .type = "gap", .stream = stream, .offset = offset,
                                                  .length = length, .reason = reason });
        text = format_gap_notice(stream, offset, length, reason);
        if (!text)
                return -ENOMEM;
        return notice(o, text);
}

static int flush_gap(LogsOutput *o, int stream) {
        LogsGap *g = pending_gap(o, stream);

        if (!g || !g->set)
                return 0;
        g->set = false;
        return write_gap(o, stream, g->offset, g->length, g->reason);
}

int logs_output_gap(LogsOutput *o, int stream, uint64_t offset, uint64_t length, int reason) {
        LogsGap *g = pending_gap(o, stream);
        int r;

        if (!g)
                return write_gap(o, stream, offset, length, reason);
        if (g->set && length > 0 && g->reason == reason && g->offset + g->length == offset) {
                g->length += length;
                return 0;
        }
        r = flush_gap(o, stream);
        if (r < 0)
                return r;
        if (length == 0)
                return write_gap(o, stream, offset, length, reason);
        *g = (LogsGap) { .set = true, .offset = offset, .length = length, .reason = reason, .order = ++o->order };
        return 0;
}

int logs_output_flush(LogsOutput *o) {
        const int out = JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT,
                  err = JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR;
        bool err_first = o->pending[err].set && (!o->pending[out].set || o->pending[err].order < o->pending[out].order);
        int r;

        r = flush_gap(o, err_first ? err : out);
        if (r >= 0)
                r = flush_gap(o, err_first ? out : err);
        return r;
}

int logs_output_end(LogsOutput *o, const JobStatus *j) {
        int r;

        r = logs_output_flush(o);
        if (r < 0 || !o->json)
                return r;
        return write_json_line(o, o->out_fd, build_event, &(Event) { .type = "end", .job = j });
}

int logs_output_notice(LogsOutput *o, const char *format, ...) {
        _cleanup_free_ char *text = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&text, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return notice(o, text);
}

int logs_output_json(LogsOutput *o, void (*build)(JsonWriter *w, const void *arg), const void *arg) {
        return write_json_line(o, o->out_fd, build, arg);
}
