/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A job's input: the write end of its stdin pipe, or its terminal's
 * master, written by one jr_input at a time.
 *
 * Nothing is buffered here: jr_input_write() writes what the pipe or the
 * terminal takes now and says how much, and the caller keeps the rest and
 * waits for the wake.  So a job that reads slowly holds back its writer,
 * not the daemon's memory.  A terminal's master takes about 4 KiB before
 * its line discipline stops it (N_TTY's buffer), a pipe 64 KiB. */

#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "job.h"
#include "log.h"
#include "macro.h"

#define TERMINAL_SIZE_MAX 65535u

struct jr_input {
        jr_job *job;                    /* NULL once the job is freed */
        jr_input_wake_t wake;
        void *userdata;
        sd_event_source *writable;      /* while a write found the input full */
        sd_event_source *closed;        /* a wake owed for the close */
        uint64_t bytes;
};

static void job_report_input(jr_job *j, int fd) {
        jr_manager *m = j->manager;

        if (m->on_pipe && j->spec.stdin_mode == JR_STDIN_PIPE)
                m->on_pipe(j->id, JR_STREAM_STDIN, fd, m->pipe_userdata);
}

void job_input_set(jr_job *j, int fd) {
        safe_close(j->input_fd);
        j->input_fd = fd;
}

static int on_closed(sd_event_source *s, void *userdata) {
        jr_input *in = userdata;

        (void) s;
        in->closed = sd_event_source_disable_unref(in->closed);
        in->wake(in, in->userdata);
        return 0;
}

/* Closes the job's input; its holder, if any, hears of it on the next turn
 * of the loop, never from inside one of its own calls. */
static void input_close(jr_job *j) {
        jr_input *in = j->input;

        if (j->input_fd < 0)
                return;
        j->input_fd = safe_close(j->input_fd);
        job_report_input(j, -EBADF);
        if (!in)
                return;
        in->writable = sd_event_source_disable_unref(in->writable);
        if (in->wake && !in->closed &&
            sd_event_add_defer(j->manager->event, &in->closed, on_closed, in) < 0)
                log_warning("job %s: cannot tell the holder of its input that it closed", j->id);
}

void job_input_end(jr_job *j) {
        input_close(j);
}

void job_input_free(jr_job *j) {
        if (j->input)
                j->input->job = NULL;
        j->input = NULL;
        j->input_fd = safe_close(j->input_fd);
}

static bool job_has_input(const jr_job *j) {
        return j->spec.stdin_mode == JR_STDIN_PIPE || j->spec.terminal;
}

int jr_input_new(jr_job *j, jr_input_wake_t wake, void *userdata, jr_input **ret, jr_error *e) {
        jr_input *in;

        if (!j || !ret)
                return jr_error_set(e, -EINVAL, "no job");
        if (!job_has_input(j))
                return jr_error_set(e, -ENOTCONN, "job %s was started without an input (no stdin pipe, no terminal)",
                                    j->id);
        if (j->input)
                return jr_error_set(e, -EBUSY, "another client holds the input of job %s", j->id);
        in = calloc(1, sizeof(jr_input));
        if (!in)
                return jr_error_set(e, -ENOMEM, "out of memory");
        *in = (jr_input) { .job = j, .wake = wake, .userdata = userdata };
        j->input = in;
        *ret = in;
        return 0;
}

static int on_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        jr_input *in = userdata;

        (void) s;
        (void) fd;
        (void) revents;
        /* One wake per full write: the caller writes again, and a full
         * input arms the source anew. */
        in->writable = sd_event_source_disable_unref(in->writable);
        if (in->wake)
                in->wake(in, in->userdata);
        return 0;
}

ssize_t jr_input_write(jr_input *in, const void *buf, size_t size) {
        jr_job *j = in->job;
        ssize_t n;
        int r;

        if (!j || j->input_fd < 0)
                return -EPIPE;
        if (size == 0)
                return 0;
        do
                n = write(j->input_fd, buf, size);
        while (n < 0 && errno == EINTR);
        if (n > 0) {
                in->bytes += (uint64_t) n;
                return n;
        }
        if (n < 0 && errno != EAGAIN) {
                /* EPIPE: nobody reads the pipe any more; EIO: the
                 * terminal's slave is closed everywhere. */
                if (errno != EPIPE && errno != EIO)
                        log_debug_errno(errno, "job %s: cannot write its input, closing it", j->id);
                input_close(j);
                /* Woken by the close already: the caller learns it here. */
                in->closed = sd_event_source_disable_unref(in->closed);
                return -EPIPE;
        }
        if (!in->writable) {
                r = sd_event_add_io(j->manager->event, &in->writable, j->input_fd, EPOLLOUT, on_writable, in);
                if (r < 0)
                        return r;
        }
        return 0;
}

int jr_input_close(jr_input *in) {
        jr_job *j = in->job;

        if (j && j->spec.terminal)
                return -ENOTTY;
        if (j)
                input_close(j);
        if (in->closed)
                in->closed = sd_event_source_disable_unref(in->closed);
        return 0;
}

bool jr_input_is_closed(const jr_input *in) {
        return !in->job || in->job->input_fd < 0;
}

int jr_input_resize(jr_input *in, unsigned rows, unsigned columns) {
        jr_job *j = in->job;
        struct winsize ws = {};

        if (j && !j->spec.terminal)
                return -ENOTTY;
        if (rows == 0 || columns == 0 || rows > TERMINAL_SIZE_MAX || columns > TERMINAL_SIZE_MAX)
                return -EINVAL;
        if (!j || j->input_fd < 0)
                return -EPIPE;
        ws.ws_row = (unsigned short) rows;
        ws.ws_col = (unsigned short) columns;
        /* The kernel sends SIGWINCH to the terminal's foreground process
         * group when the size changes. */
        if (ioctl(j->input_fd, TIOCSWINSZ, &ws) < 0)
                return -errno;
        return 0;
}

uint64_t jr_input_get_bytes(const jr_input *in) {
        return in->bytes;
}

jr_input *jr_input_free(jr_input *in) {
        if (!in)
                return NULL;
        if (in->job && in->job->input == in)
                in->job->input = NULL;
        sd_event_source_disable_unref(in->writable);
        sd_event_source_disable_unref(in->closed);
        free(in);
        return NULL;
}
