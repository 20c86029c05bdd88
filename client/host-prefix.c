/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-prefix.h"
#include "io-util.h"
#include "macro.h"

void host_sink_init(HostSink *s, int out_fd, int err_fd, bool json) {
        *s = (HostSink) { .out_fd = out_fd, .err_fd = err_fd, .json = json };
        pthread_mutex_init(&s->lock, NULL);
}

void host_sink_done(HostSink *s) {
        pthread_mutex_destroy(&s->lock);
}

int host_output_init(HostOutput *h, HostSink *sink, const char *name, size_t width) {
        *h = (HostOutput) { .sink = sink };
        /* Context names are [A-Za-z0-9._-] (config-file.h): nothing to
         * escape in JSON. */
        if (asprintf(&h->prefix, "%-*s | ", (int) width, name) < 0) {
                h->prefix = NULL;
                return -ENOMEM;
        }
        if (asprintf(&h->json_prefix, "{\"host\":\"%s\",", name) < 0) {
                h->json_prefix = NULL;
                host_output_done(h);
                return -ENOMEM;
        }
        return 0;
}

void host_output_done(HostOutput *h) {
        free(h->prefix);
        free(h->json_prefix);
        free(h->partial[0]);
        free(h->partial[1]);
        *h = (HostOutput) {};
}

/* Grows a buffer to hold len more bytes. */
static int append(char **buf, size_t *n, size_t *size, const void *data, size_t len) {
        /* data may be NULL then (no partial line): memcpy() may not see it. */
        if (len == 0)
                return 0;
        if (*n + len > *size) {
                size_t m = *size * 2 > *n + len ? *size * 2 : *n + len;
                char *p = realloc(*buf, m);

                if (!p)
                        return -ENOMEM;
                *buf = p;
                *size = m;
        }
        memcpy(*buf + *n, data, len);
        *n += len;
        return 0;
}

/* One line (with its newline) and its prefix into the buffer: a JSON
 * object's opening brace becomes the "host" member's. */
static int append_line(HostOutput *h, bool json, const char *head, size_t head_len, const char *line, size_t len,
                       char **buf, size_t *n, size_t *size) {
        const char *first = head_len > 0 ? head : line;
        int r;

        if (json && first[0] == '{') {
                r = append(buf, n, size, h->json_prefix, strlen(h->json_prefix));
                if (r >= 0 && head_len > 0)
                        r = append(buf, n, size, head + 1, head_len - 1);
                if (r >= 0)
                        r = append(buf, n, size, head_len > 0 ? line : line + 1, head_len > 0 ? len : len - 1);
                return r;
        }
        r = append(buf, n, size, h->prefix, strlen(h->prefix));
        if (r >= 0)
                r = append(buf, n, size, head, head_len);
        if (r >= 0)
                r = append(buf, n, size, line, len);
        return r;
}

int host_output_write(void *userdata, int fd, const void *data, size_t len) {
        HostOutput *h = userdata;
        HostSink *s = h->sink;
        unsigned k = fd == s->err_fd ? 1 : 0;
        bool json = s->json && k == 0;
        _cleanup_free_ char *buf = NULL;
        const char *p = data, *end = p + len;
        size_t n = 0, size = 0;
        int r;

        /* The complete lines, prefixed, in one buffer. */
        for (;;) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));

                if (!nl)
                        break;
                r = append_line(h, json, h->partial[k], h->partial_len[k], p, (size_t) (nl + 1 - p), &buf, &n,
                                &size);
                if (r < 0)
                        return r;
                h->partial_len[k] = 0;
                p = nl + 1;
        }
        /* The rest waits for its newline. */
        if (p < end) {
                size_t psize = h->partial_len[k];

                /* Exact sizes: partial lines are rare and short. */
                r = append(&h->partial[k], &h->partial_len[k], &psize, p, (size_t) (end - p));
                if (r < 0)
                        return r;
        }
        if (n == 0)
                return 0;

        pthread_mutex_lock(&s->lock);
        r = write_all(k == 1 ? s->err_fd : s->out_fd, buf, n);
        pthread_mutex_unlock(&s->lock);
        return r;
}

int host_output_flush(HostOutput *h) {
        int r = 0;

        for (unsigned k = 0; k < 2 && r >= 0; k++)
                if (h->partial_len[k] > 0)
                        r = host_output_write(h, k == 1 ? h->sink->err_fd : h->sink->out_fd, "\n", 1);
        return r;
}
