/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One StartUnitRequest from jobrunnerd, unpacked and checked (see
 * request.h). */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

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
                S_ISBLK(m) ? "block device" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symbolic link" : S_ISFIFO(m) ? "pipe" :
                "file of unknown type";
}

/* The job's end of one of its pipes: what systemd will hand it as its
 * stdout, stderr or stdin.  Anything else (a file, a socket, the other
 * end) would let jobrunnerd give the job something other than a pipe it
 * reads or writes. */
static int check_pipe_end(int fd, int accmode, const char *what, jr_error *e) {
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
                return jr_error_set(e, -EBADF, "%s: an O_PATH descriptor of a pipe, not its %s end", what,
                                    accmode == O_WRONLY ? "write" : "read");
        if ((flags & O_ACCMODE) != accmode)
                return jr_error_set(e, -EBADF, "%s: %s, not its %s end", what,
                                    (flags & O_ACCMODE) == O_RDONLY ? "the read end of a pipe" :
                                    (flags & O_ACCMODE) == O_WRONLY ? "the write end of a pipe" :
                                    "a pipe opened for reading and writing",
                                    accmode == O_WRONLY ? "write" : "read");
        return 0;
}

/* Unix 98 pseudo-terminal slaves: majors 136..143 (UNIX98_PTY_SLAVE_MAJOR
 * and the 7 after it, Documentation/admin-guide/devices.txt). */
#define PTY_SLAVE_MAJOR_MIN 136u
#define PTY_SLAVE_MAJOR_MAX 143u

/* A terminal job's stdout and stderr: one pseudo-terminal slave, read and
 * written.  Never another character device: a disk's node would hand the
 * job the disk. */
static int check_terminal(int out_fd, int err_fd, jr_error *e) {
        struct stat out, err;
        int flags;

        if (fstat(out_fd, &out) < 0 || fstat(err_fd, &err) < 0)
                return jr_error_set(e, -EBADF, "terminal: a file descriptor is not open: %s", strerror(errno));
        if (!S_ISCHR(out.st_mode) || major(out.st_rdev) < PTY_SLAVE_MAJOR_MIN ||
            major(out.st_rdev) > PTY_SLAVE_MAJOR_MAX)
                return jr_error_set(e, -EBADF, "terminal: a %s, not a pseudo-terminal's slave",
                                    S_ISCHR(out.st_mode) ? "character device of another kind" : file_type(out.st_mode));
        if (err.st_mode != out.st_mode || err.st_rdev != out.st_rdev || err.st_dev != out.st_dev ||
            err.st_ino != out.st_ino)
                return jr_error_set(e, -EBADF, "terminal: stdout and stderr are not the same terminal");
        for (int i = 0; i < 2; i++) {
                flags = fcntl(i == 0 ? out_fd : err_fd, F_GETFL);
                if (flags < 0 || (flags & O_PATH) || (flags & O_ACCMODE) != O_RDWR)
                        return jr_error_set(e, -EBADF, "terminal: not opened for reading and writing");
        }
        return 0;
}

static int check_fds(const jr_spec *spec, const int *fds, size_t n_fds, jr_error *e) {
        size_t want = spec->stdin_mode == JR_STDIN_PIPE ? 3 : 2;
        int r;

        if (n_fds != want || !fds)
                return jr_error_set(e, -EBADF, "%zu file descriptors came with the request, not %zu: the job's "
                                    "stdout and stderr%s", fds ? n_fds : 0, want,
                                    want == 3 ? " and the read end of its stdin pipe" : "");
        if (spec->terminal)
                return check_terminal(fds[0], fds[1], e);
        r = check_pipe_end(fds[0], O_WRONLY, "stdout", e);
        if (r >= 0)
                r = check_pipe_end(fds[1], O_WRONLY, "stderr", e);
        if (r >= 0 && want == 3)
                r = check_pipe_end(fds[2], O_RDONLY, "stdin", e);
        return r;
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

        r = check_fds(&spec, fds, n_fds, e);
        if (r < 0)
                return r;

        *ret = (StarterRequest) {
                .spec = spec,
                .stdout_fd = fds[0],
                .stderr_fd = fds[1],
                .stdin_fd = n_fds > 2 ? fds[2] : -EBADF,
        };
        spec = (jr_spec) {};
        memcpy(ret->job_id, m->job_id, JR_ID_STRING_MAX);
        return 0;
}

void starter_request_done(StarterRequest *r) {
        if (!r)
                return;
        jr_spec_done(&r->spec);
        *r = (StarterRequest) { .stdout_fd = -EBADF, .stderr_fd = -EBADF, .stdin_fd = -EBADF };
}
