/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The output of a command fanned out over several hosts (contexts), all
 * written from the hosts' threads into one stdout and one stderr: each
 * complete line gets its host's prefix ("web-1 | ", names padded to the
 * longest), whole lines are written under one lock so that hosts never
 * interleave inside a line, and the bytes are otherwise unchanged.  A
 * line's start without its newline waits, per host and stream, for the
 * rest; at the host's end it is written with a newline added.  With JSON,
 * each line of an object on stdout gets a "host" member first instead. */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct HostSink {
        pthread_mutex_t lock;
        int out_fd, err_fd;
        bool json;                      /* the lines on out_fd are JSON objects */
} HostSink;

void host_sink_init(HostSink *s, int out_fd, int err_fd, bool json);
void host_sink_done(HostSink *s);

typedef struct HostOutput {
        HostSink *sink;
        char *prefix;                   /* "web-1 | " */
        char *json_prefix;              /* "{\"host\":\"web-1\"," */
        char *partial[2];               /* of out_fd, err_fd */
        size_t partial_len[2];
} HostOutput;

/* width: the longest name's length, for the prefixes to line up. */
int host_output_init(HostOutput *h, HostSink *sink, const char *name, size_t width);
void host_output_done(HostOutput *h);

/* Writes len bytes meant for fd (the sink's out_fd or err_fd): 0 or a
 * negative errno of write(2).  The signature of LogsOutput.write. */
int host_output_write(void *userdata, int fd, const void *data, size_t len);

/* Ends the lines left unfinished. */
int host_output_flush(HostOutput *h);
