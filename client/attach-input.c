/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "attach.h"
#include "attach-input.h"
#include "jobrunner.pb-c.h"
#include "tty-raw.h"

typedef Jobrunner__V1__AttachRequest AttachRequest;

int attach_input_init(AttachInput *in, int in_fd, bool pipe, bool raw) {
        *in = (AttachInput) { .in_fd = in_fd, .pipe = pipe, .raw = raw, .wake = { -1, -1 }, .resize_fd = -1 };
        atomic_init(&in->stop, false);
        atomic_init(&in->closed, false);
        atomic_init(&in->detached, false);
        atomic_init(&in->local_eof, false);
        atomic_init(&in->in_flight, false);
        atomic_init(&in->sent_call, 0);
        atomic_init(&in->sent_before, 0);

        in->buf = malloc(ATTACH_INPUT_MAX);
        /* A Ctrl-P held back from the last read may come first. */
        in->out = malloc(ATTACH_INPUT_MAX + 1);
        if (!in->buf || !in->out)
                return -ENOMEM;
        if (pipe2(in->wake, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        if (raw) {
                in->resize_fd = tty_resize_fd();
                if (in->resize_fd < 0)
                        return in->resize_fd;
        }
        return 0;
}

void attach_input_done(AttachInput *in) {
        attach_input_stop(in);
        if (in->wake[0] >= 0)
                (void) close(in->wake[0]);
        if (in->wake[1] >= 0)
                (void) close(in->wake[1]);
        free(in->buf);
        free(in->out);
        in->buf = in->out = NULL;
        in->wake[0] = in->wake[1] = -1;
}

/* 1 once taken, 0 if the call is over (the bytes then may or may not have
 * arrived), or a negative errno. */
static int send_input(AttachInput *in, const uint8_t *data, size_t len) {
        AttachRequest req = JOBRUNNER__V1__ATTACH_REQUEST__INIT;
        int r;

        if (len == 0)
                return 1;
        req.event_case = JOBRUNNER__V1__ATTACH_REQUEST__EVENT_INPUT;
        req.input = (ProtobufCBinaryData) { .len = len, .data = (uint8_t *) data };
        atomic_store(&in->in_flight, true);
        r = conn_bidi_send(in->call, &req.base, NULL);
        atomic_store(&in->in_flight, false);
        if (r > 0)
                atomic_fetch_add(&in->sent_call, len);
        else if (!atomic_load(&in->closed))
                in->unsure += len;
        return r;
}

static int send_end(AttachInput *in) {
        Jobrunner__V1__EndOfInput eoi = JOBRUNNER__V1__END_OF_INPUT__INIT;
        AttachRequest req = JOBRUNNER__V1__ATTACH_REQUEST__INIT;
        int r;

        req.event_case = JOBRUNNER__V1__ATTACH_REQUEST__EVENT_END_OF_INPUT;
        req.end_of_input = &eoi;
        r = conn_bidi_send(in->call, &req.base, NULL);
        if (r <= 0)
                return r;
        /* Nothing more will come from us. */
        return conn_bidi_close_send(in->call, NULL);
}

static int send_resize(AttachInput *in) {
        Jobrunner__V1__TerminalSize size = JOBRUNNER__V1__TERMINAL_SIZE__INIT;
        AttachRequest req = JOBRUNNER__V1__ATTACH_REQUEST__INIT;
        unsigned rows, columns;

        if (tty_get_size(in->in_fd, &rows, &columns) < 0)
                return 1;
        size.rows = rows;
        size.columns = columns;
        req.event_case = JOBRUNNER__V1__ATTACH_REQUEST__EVENT_RESIZE;
        req.resize = &size;
        return conn_bidi_send(in->call, &req.base, NULL);
}

/* The bytes just read: with a raw terminal, without the detach keys.
 * 1 to go on, 0 to stop. */
static int forward(AttachInput *in, size_t n) {
        bool detach = false;
        size_t m = n;
        const uint8_t *data = in->buf;
        int r;

        if (in->raw) {
                m = detach_keys_scan(&in->keys, in->buf, n, in->out, &detach);
                data = in->out;
        }
        r = send_input(in, data, m);
        if (r <= 0)
                return 0;
        if (detach) {
                atomic_store(&in->detached, true);
                /* The call's end is the session's signal to leave. */
                conn_bidi_cancel(in->call);
                return 0;
        }
        return 1;
}

/* The local input ended.  1 to go on waiting (for resizes, or to be
 * stopped), 0 to stop. */
static int local_end(AttachInput *in) {
        uint8_t held;

        atomic_store(&in->local_eof, true);
        if (in->raw) {
                /* A terminal has no end of input: the job decides. */
                if (detach_keys_flush(&in->keys, &held) > 0)
                        (void) send_input(in, &held, 1);
                return 1;
        }
        if (in->pipe)
                (void) send_end(in);
        return 0;
}

static void *input_thread(void *userdata) {
        AttachInput *in = userdata;

        if (atomic_load(&in->local_eof) && in->pipe && !atomic_load(&in->closed))
                (void) send_end(in);

        while (!atomic_load(&in->stop) && !atomic_load(&in->closed)) {
                struct pollfd p[3] = {
                        { .fd = in->wake[0], .events = POLLIN },
                        { .fd = atomic_load(&in->local_eof) ? -1 : in->in_fd, .events = POLLIN },
                        { .fd = in->resize_fd, .events = POLLIN },
                };
                ssize_t n;

                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        in->error = -errno;
                        break;
                }
                if (p[0].revents)
                        continue;       /* looks at stop and closed again */
                if (p[2].revents && tty_resize_drain() && send_resize(in) <= 0)
                        break;
                if (!p[1].revents)
                        continue;

                n = read(in->in_fd, in->buf, ATTACH_INPUT_MAX);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n < 0 && !(in->raw && errno == EIO)) {
                        in->error = -errno;
                        break;
                }
                if (n <= 0) {
                        /* EIO: the terminal hung up, its end of input. */
                        if (local_end(in) == 0)
                                break;
                        continue;
                }
                if (forward(in, (size_t) n) == 0)
                        break;
        }
        if (in->error < 0)
                /* The session reports it once the call is over. */
                conn_bidi_cancel(in->call);
        return NULL;
}

int attach_input_start(AttachInput *in, ConnBidi *call) {
        int r;

        in->call = call;
        atomic_store(&in->stop, false);
        /* Counted from the start of this call; what the last break caught
         * was sent all the same. */
        atomic_fetch_add(&in->sent_before, atomic_exchange(&in->sent_call, 0) + in->unsure);
        in->unsure = 0;
        tty_resize_drain();
        r = -pthread_create(&in->thread, NULL, input_thread, in);
        if (r < 0)
                return r;
        in->running = true;
        return 0;
}

void attach_input_wake(AttachInput *in) {
        if (in->wake[1] >= 0)
                (void) !write(in->wake[1], "", 1);
}

void attach_input_stop(AttachInput *in) {
        char buf[64];

        if (!in->running)
                return;
        atomic_store(&in->stop, true);
        attach_input_wake(in);
        (void) pthread_join(in->thread, NULL);
        in->running = false;
        in->call = NULL;
        while (read(in->wake[0], buf, sizeof(buf)) > 0)
                ;
}

bool attach_input_pending(AttachInput *in) {
        int n = 0;

        if (atomic_load(&in->in_flight))
                return true;
        if (atomic_load(&in->local_eof))
                return false;
        return ioctl(in->in_fd, FIONREAD, &n) >= 0 && n > 0;
}
