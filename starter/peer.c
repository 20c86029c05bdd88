/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whether a connection is jobrunnerd's (see peer.h). */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "macro.h"
#include "peer.h"

int starter_peer_credentials(int fd, pid_t *ret_pid, uid_t *ret_uid) {
        struct ucred cred = {};
        socklen_t len = sizeof cred;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return -errno;
        if (len != sizeof cred)
                return -EIO;
        *ret_pid = cred.pid;
        *ret_uid = cred.uid;
        return 0;
}

bool starter_peer_cgroup_has_line(const char *text, size_t len, const char *line) {
        size_t n = strlen(line);

        while (len > 0) {
                const char *nl = memchr(text, '\n', len);
                size_t l = nl ? (size_t) (nl - text) : len;

                if (l == n && memcmp(text, line, n) == 0)
                        return true;
                if (!nl)
                        break;
                len -= l + 1;
                text = nl + 1;
        }
        return false;
}

/* All of path, or -EFBIG past max: procfs files have no size to fstat. */
static ssize_t read_bounded(const char *path, char *buf, size_t max) {
        _cleanup_close_ int fd = -EBADF;
        size_t n = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t k = read(fd, buf + n, max + 1 - n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return (ssize_t) n;
                n += (size_t) k;
                if (n > max)
                        return -EFBIG;
        }
}

int starter_peer_check_cgroup(const char *proc_root, pid_t pid, uid_t uid, const char *want_cgroup_line,
                              jr_error *e) {
        _cleanup_free_ char *buf = NULL;
        char path[PATH_MAX];
        ssize_t n;

        if ((size_t) snprintf(path, sizeof path, "%s/%d/cgroup", proc_root, (int) pid) >= sizeof path)
                return jr_error_set(e, -ENAMETOOLONG, "peer pid %d uid %u: /proc path too long", (int) pid,
                                    (unsigned) uid);
        /* One more byte than the bound, to tell a file of exactly the bound
         * from a longer one. */
        buf = malloc(STARTER_PEER_CGROUP_MAX + 1);
        if (!buf)
                return jr_error_set(e, -ENOMEM, "out of memory");
        n = read_bounded(path, buf, STARTER_PEER_CGROUP_MAX);
        /* A process that is gone: its /proc directory is, or is going. */
        if (n == -ENOENT || n == -ESRCH)
                return jr_error_set(e, -ESRCH, "peer pid %d uid %u: the process is gone", (int) pid, (unsigned) uid);
        if (n == -EFBIG)
                return jr_error_set(e, -EFBIG, "peer pid %d uid %u: %s is larger than %u bytes", (int) pid,
                                    (unsigned) uid, path, STARTER_PEER_CGROUP_MAX);
        if (n < 0)
                return jr_error_set(e, (int) n, "peer pid %d uid %u: cannot read %s: %s", (int) pid, (unsigned) uid,
                                    path, strerror((int) -n));
        if (!starter_peer_cgroup_has_line(buf, (size_t) n, want_cgroup_line))
                return jr_error_set(e, -EPERM, "peer pid %d uid %u: not in the cgroup of \"%.200s\"", (int) pid,
                                    (unsigned) uid, want_cgroup_line);
        return 0;
}

int starter_peer_check(int fd, uid_t want_uid, const char *want_cgroup_line, jr_error *e) {
        pid_t pid;
        uid_t uid;
        int r;

        r = starter_peer_credentials(fd, &pid, &uid);
        if (r < 0)
                return jr_error_set(e, r, "cannot read the peer's credentials: %s", strerror(-r));
        if (uid != want_uid)
                return jr_error_set(e, -EPERM, "peer pid %d uid %u: not uid %u", (int) pid, (unsigned) uid,
                                    (unsigned) want_uid);
        /* A peer in another pid namespace (none here: the socket is the
         * host's) shows as pid 0. */
        if (pid <= 0)
                return jr_error_set(e, -EPERM, "peer pid %d uid %u: no pid to check", (int) pid, (unsigned) uid);
        return starter_peer_check_cgroup("/proc", pid, uid, want_cgroup_line, e);
}
