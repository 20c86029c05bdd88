/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "fd-store.h"
#include "log.h"
#include "macro.h"

static const char *const stream_names[] = {
        [JR_STREAM_STDOUT] = "stdout",
        [JR_STREAM_STDERR] = "stderr",
        [JR_STREAM_STDIN]  = "stdin",
};

static const char *stream_name(jr_stream s) {
        return (size_t) s < ELEMENTSOF(stream_names) && stream_names[s] ? stream_names[s] : "unknown";
}

void fd_store_on_pipe(const char *job_id, jr_stream stream, int fd, void *userdata) {
        char message[128];
        int r;

        (void) userdata;
        if (!getenv("NOTIFY_SOCKET"))
                return;

        if (fd >= 0) {
                /* FDPOLL=0: systemd must keep the read end when the job's
                 * last writer closes it.  By default it drops a stored fd on
                 * EPOLLHUP, which a pipe reports as soon as the job has
                 * ended, with its last output still unread in it: a job that
                 * ended while no daemon ran would lose what the daemon had
                 * not read yet.  We remove every pipe ourselves once it is
                 * read to EOF, and the manager removes those of jobs it no
                 * longer knows. */
                snprintf(message, sizeof(message), "FDSTORE=1\nFDPOLL=0\nFDNAME=job-%s-%s", job_id,
                         stream_name(stream));
                r = sd_pid_notify_with_fds(0, false, message, &fd, 1);
        } else {
                snprintf(message, sizeof(message), "FDSTOREREMOVE=1\nFDNAME=job-%s-%s", job_id, stream_name(stream));
                r = sd_notify(false, message);
        }
        if (r < 0)
                /* The job runs regardless; only a restart would now lose
                 * this stream's output. */
                log_warning_errno(r, "cannot %s the %s pipe of job %s in systemd's fd store",
                                  fd >= 0 ? "keep" : "drop", stream_name(stream), job_id);
}

static int parse_name(const char *name, jr_pipe *ret) {
        char id[JR_ID_STRING_MAX], stream[8];
        int n = 0;

        if (sscanf(name, "job-%32[0-9a-f]-%6[a-z]%n", id, stream, &n) != 2 || name[n] != '\0' ||
            strlen(id) != JR_ID_STRING_MAX - 1)
                return -EINVAL;
        for (size_t s = 0; s < ELEMENTSOF(stream_names); s++)
                if (stream_names[s] && strcmp(stream, stream_names[s]) == 0) {
                        ret->stream = (jr_stream) s;
                        memcpy(ret->job_id, id, sizeof(id));
                        return 0;
                }
        return -EINVAL;
}

int fd_store_pipes_from(char **names, int *fds, size_t n, jr_pipe **ret) {
        _cleanup_free_ jr_pipe *pipes = NULL;
        size_t k = 0;

        pipes = calloc(n ? n : 1, sizeof(jr_pipe));
        if (!pipes) {
                for (size_t i = 0; i < n; i++)
                        safe_close(fds[i]);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                if (parse_name(names[i], &pipes[k]) < 0) {
                        log_warning("closing \"%s\" from systemd's fd store: not a pipe of ours", names[i]);
                        safe_close(fds[i]);
                        continue;
                }
                pipes[k++].fd = fds[i];
        }
        *ret = TAKE_PTR(pipes);
        return (int) k;
}
