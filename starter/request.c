/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One StartUnitRequest from jobrunnerd, unpacked and checked (see
 * request.h). */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "convert.h"
#include "macro.h"
#include "request.h"
#include "starter.pb-c.h"

#define QUOTE_MAX 80

/* s for a message: quoted, printable ASCII, cut.  The id and the user come
 * from the request, anything may be in them. */
static const char *quote(const char *s, char buf[static QUOTE_MAX]) {
        size_t o = 0;

        buf[o++] = '"';
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;

                if (o + 4 + strlen("\"...") + 1 > QUOTE_MAX) {
                        memcpy(buf + o, "\"...", strlen("\"...") + 1);
                        return buf;
                }
                if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\')
                        o += (size_t) snprintf(buf + o, QUOTE_MAX - o, "\\x%02x", c);
                else
                        buf[o++] = (char) c;
        }
        buf[o++] = '"';
        buf[o] = 0;
        return buf;
}

static const char *file_type(mode_t m) {
        return S_ISREG(m) ? "regular file" : S_ISSOCK(m) ? "socket" : S_ISCHR(m) ? "character device" :
                S_ISBLK(m) ? "block device" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symbolic link" :
                "file of unknown type";
}

/* The job's end of one of its output pipes: what systemd will hand it as
 * its stdout or stderr.  Anything else (a file, a socket, a read end) would
 * let jobrunnerd give the job something other than a pipe it reads. */
static int check_pipe_write_end(int fd, const char *what, jr_error *e) {
        struct stat st;
        int flags;

        if (fstat(fd, &st) < 0)
                return jr_error_set(e, -EBADF, "%s: file descriptor %d is not open: %s", what, fd, strerror(errno));
        if (!S_ISFIFO(st.st_mode))
                return jr_error_set(e, -EBADF, "%s: a %s, not a pipe", what, file_type(st.st_mode));
        flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return jr_error_set(e, -EBADF, "%s: cannot read the file status flags: %s", what, strerror(errno));
        if (flags & O_PATH)
                return jr_error_set(e, -EBADF, "%s: an O_PATH descriptor of a pipe, not its write end", what);
        if ((flags & O_ACCMODE) != O_WRONLY)
                return jr_error_set(e, -EBADF, "%s: %s, not its write end", what,
                                    (flags & O_ACCMODE) == O_RDONLY ? "the read end of a pipe" :
                                    "a pipe opened for reading and writing");
        return 0;
}

static int check_fds(const int *fds, size_t n_fds, jr_error *e) {
        int r;

        if (n_fds != 2 || !fds)
                return jr_error_set(e, -EBADF, "%zu file descriptors came with the request, not 2: the write ends "
                                    "of the job's stdout and stderr pipes", fds ? n_fds : 0);
        r = check_pipe_write_end(fds[0], "stdout", e);
        if (r < 0)
                return r;
        return check_pipe_write_end(fds[1], "stderr", e);
}

static void request_freep(Jobrunner__Starter__V1__StartUnitRequest **m) {
        if (*m)
                protobuf_c_message_free_unpacked(&(*m)->base, NULL);
}

int starter_request_parse(const void *data, size_t len, const int *fds, size_t n_fds, const StarterPolicy *policy,
                          StarterRequest *ret, jr_error *e) {
        _cleanup_(request_freep) Jobrunner__Starter__V1__StartUnitRequest *m = NULL;
        _cleanup_(jr_spec_done) jr_spec spec = {};
        jr_validate_options options = {};
        char q[QUOTE_MAX];
        int r;

        if (!policy)
                return jr_error_set(e, -EINVAL, "no policy");
        if (!data && len > 0)
                return jr_error_set(e, -EINVAL, "no data");

        /* Refused before protobuf-c allocates anything for it. */
        if (len > STARTER_REQUEST_MAX_BYTES)
                return jr_error_set(e, -EMSGSIZE, "the request is %zu bytes, more than any valid one (%u)", len,
                                    STARTER_REQUEST_MAX_BYTES);
        /* protobuf-c keeps fields it does not know aside (unknown_fields)
         * and they are freed with the message: nothing reads them, so an
         * older starter applies only the spec it understands. */
        m = jobrunner__starter__v1__start_unit_request__unpack(NULL, len, data);
        if (!m)
                return jr_error_set(e, -EBADMSG, "not a StartUnitRequest message");

        if (!convert_job_id_is_valid(m->job_id))
                return jr_error_set(e, -EINVAL, "job_id %s: not a job id (32 lowercase hex digits)",
                                    quote(m->job_id ?: "", q));

        r = convert_spec_from_proto(m->spec, &spec, e);
        if (r < 0)
                return r;

        /* A named user is the administrator's to grant, never jobrunnerd's:
         * jr_spec_validate() may allow it only once the policy lists it. */
        if (spec.user) {
                if (!starter_policy_allows_user(policy, spec.user))
                        return jr_error_set(e, -EPERM, "user %s: not allowed by the administrator (RunAsUsers= in "
                                            "%.200s does not list it)", quote(spec.user, q), policy->path);
                options.allow_named_user = true;
        }
        r = jr_spec_validate(&spec, &options, e);
        if (r < 0)
                return r;
        r = starter_policy_check_spec(policy, &spec, e);
        if (r < 0)
                return r;

        r = check_fds(fds, n_fds, e);
        if (r < 0)
                return r;

        *ret = (StarterRequest) {
                .spec = spec,
                .stdout_fd = fds[0],
                .stderr_fd = fds[1],
        };
        spec = (jr_spec) {};
        memcpy(ret->job_id, m->job_id, JR_ID_STRING_MAX);
        return 0;
}

void starter_request_done(StarterRequest *r) {
        if (!r)
                return;
        jr_spec_done(&r->spec);
        *r = (StarterRequest) { .stdout_fd = -EBADF, .stderr_fd = -EBADF };
}
