/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command.h"
#include "io-util.h"
#include "macro.h"
#include "strv.h"

#define COMMAND_MAGIC "jobrunner-command 1\n"

int command_fd_new(char *const *argv, char *const *env) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t argc = strv_length(argv), envc = strv_length(env), size;
        char head[sizeof(COMMAND_MAGIC) + 2 * 21], *p;
        int n, r;

        if (argc == 0)
                return -EINVAL;
        n = snprintf(head, sizeof(head), COMMAND_MAGIC "%zu%c%zu%c", argc, 0, envc, 0);
        size = (size_t) n;
        for (size_t i = 0; i < argc; i++)
                size += strlen(argv[i]) + 1;
        for (size_t i = 0; i < envc; i++)
                size += strlen(env[i]) + 1;

        /* One write, so that a failure leaves nothing half done. */
        buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        p = mempcpy(buf, head, (size_t) n);
        for (size_t i = 0; i < argc; i++)
                p = stpcpy(p, argv[i]) + 1;
        for (size_t i = 0; i < envc; i++)
                p = stpcpy(p, env[i]) + 1;

        fd = memfd_create("jobrunner-command", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = write_all(fd, buf, size);
        if (r < 0)
                return r;
        return TAKE_FD(fd);
}

/* Reads all of fd from offset 0: the descriptor is shared with whoever
 * passed it, so its offset is not ours to rely on. */
static int read_whole(int fd, size_t max, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t size = 0;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        if ((uint64_t) st.st_size > max)
                return -E2BIG;
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (size < (size_t) st.st_size) {
                ssize_t k = pread(fd, buf + size, (size_t) st.st_size - size, (off_t) size);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EBADMSG;        /* shrunk meanwhile */
                size += (size_t) k;
        }
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

/* The decimal count at *p, which must end in a NUL before end. */
static int read_count(const char **p, const char *end, size_t *ret) {
        const char *nul = memchr(*p, 0, (size_t) (end - *p));
        uint64_t v = 0;

        if (!nul || nul == *p || nul - *p > 19)
                return -EBADMSG;
        for (const char *c = *p; c < nul; c++) {
                if (*c < '0' || *c > '9')
                        return -EBADMSG;
                v = v * 10 + (uint64_t) (*c - '0');
        }
        *p = nul + 1;
        *ret = (size_t) v;
        return 0;
}

/* Points l[0..n) at the next n strings from *p; each must end before end. */
static int take_strings(const char **p, const char *end, size_t n, char **l) {
        for (size_t i = 0; i < n; i++) {
                const char *nul = memchr(*p, 0, (size_t) (end - *p));

                if (!nul)
                        return -EBADMSG;
                l[i] = (char *) *p;
                *p = nul + 1;
        }
        l[n] = NULL;
        return 0;
}

int command_read(int fd, size_t max, Command *ret) {
        _cleanup_(command_done) Command c = {};
        const char *p, *end;
        size_t size = 0, argc, envc;
        int r;

        r = read_whole(fd, max, &c.buf, &size);
        if (r < 0)
                return r;
        p = c.buf;
        end = c.buf + size;
        if (size < strlen(COMMAND_MAGIC) || memcmp(p, COMMAND_MAGIC, strlen(COMMAND_MAGIC)) != 0)
                return -EBADMSG;
        p += strlen(COMMAND_MAGIC);
        r = read_count(&p, end, &argc);
        if (r >= 0)
                r = read_count(&p, end, &envc);
        if (r < 0)
                return r;
        /* Every string takes at least its NUL: larger counts cannot be. */
        if (argc == 0 || argc > (size_t) (end - p) || envc > (size_t) (end - p) - argc)
                return -EBADMSG;

        c.argv = calloc(argc + 1, sizeof(char *));
        c.env = calloc(envc + 1, sizeof(char *));
        if (!c.argv || !c.env)
                return -ENOMEM;
        r = take_strings(&p, end, argc, c.argv);
        if (r >= 0)
                r = take_strings(&p, end, envc, c.env);
        if (r < 0)
                return r;
        if (p != end)
                return -EBADMSG;
        *ret = c;
        c = (Command) {};
        return 0;
}

void command_done(Command *c) {
        free(c->argv);
        free(c->env);
        free(c->buf);
        *c = (Command) {};
}

/* Whether env sets the variable of entry e ("NAME=value"). */
static bool env_sets(char *const *env, const char *e) {
        size_t n = strcspn(e, "=");

        for (; env && *env; env++)
                if (strncmp(*env, e, n) == 0 && (*env)[n] == '=')
                        return true;
        return false;
}

char **command_environment(char *const *base, char *const *env) {
        size_t nb = strv_length(base), ne = strv_length(env), n = 0;
        char **l = calloc(nb + ne + 1, sizeof(char *));

        if (!l)
                return NULL;
        /* base is systemd's handful of variables; env may be large, but
         * it is scanned once per variable of base. */
        for (size_t i = 0; i < nb; i++)
                if (strncmp(base[i], "NOTIFY_SOCKET=", strlen("NOTIFY_SOCKET=")) != 0 && !env_sets(env, base[i]))
                        l[n++] = base[i];
        for (size_t i = 0; i < ne; i++)
                l[n++] = env[i];
        l[n] = NULL;
        return l;
}

/* ---- the command and a stdin pipe through one descriptor ------------------ */

#define STDIN_MAGIC "jobrunner-stdin 1\n"

/* The one message: its words and room for exactly two descriptors. */
typedef struct StdinMessage {
        char data[sizeof(STDIN_MAGIC)];
        struct iovec iov;
        struct msghdr msg;
        /* Last: clang reads CMSG_SPACE() as a size that is not constant. */
        union {
                struct cmsghdr header;
                char buf[CMSG_SPACE(2 * sizeof(int))];
        } control;
} StdinMessage;

static void stdin_message_init(StdinMessage *m, size_t data_len) {
        memset(m, 0, sizeof(*m));
        m->iov = (struct iovec) { .iov_base = m->data, .iov_len = data_len };
        m->msg = (struct msghdr) {
                .msg_iov = &m->iov,
                .msg_iovlen = 1,
                .msg_control = &m->control,
                .msg_controllen = sizeof(m->control.buf),
        };
}

int command_socket_new(int command_fd, int stdin_fd) {
        _cleanup_close_pair_ int pair[2] = { -EBADF, -EBADF };
        StdinMessage m;
        struct cmsghdr *cmsg;
        int fds[2] = { command_fd, stdin_fd };

        if (command_fd < 0 || stdin_fd < 0)
                return -EBADF;
        /* SEQPACKET: one message, read whole or not at all. */
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;
        stdin_message_init(&m, strlen(STDIN_MAGIC));
        memcpy(m.data, STDIN_MAGIC, strlen(STDIN_MAGIC));
        cmsg = &m.control.header;       /* CMSG_FIRSTHDR() of this buffer */
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(fds));
        memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
        if (sendmsg(pair[1], &m.msg, MSG_NOSIGNAL) < 0)
                return -errno;
        /* The descriptors wait in pair[0]'s queue, whoever holds it, until
         * jobrunner-init takes them; nothing more will come. */
        (void) shutdown(pair[0], SHUT_WR);
        return TAKE_FD(pair[0]);
}

int command_socket_receive(int fd, int *ret_command_fd, int *ret_stdin_fd) {
        StdinMessage m;
        struct cmsghdr *cmsg;
        int fds[2] = { -EBADF, -EBADF };
        size_t n_fds = 0;
        ssize_t n;

        stdin_message_init(&m, sizeof(m.data));
        do
                n = recvmsg(fd, &m.msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return errno == EAGAIN ? -EBADMSG : -errno;
        cmsg = CMSG_FIRSTHDR(&m.msg);
        if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
                n_fds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                memcpy(fds, CMSG_DATA(cmsg), (n_fds < ELEMENTSOF(fds) ? n_fds : ELEMENTSOF(fds)) * sizeof(int));
        }
        if ((m.msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) || n_fds != 2 || (size_t) n != strlen(STDIN_MAGIC) ||
            memcmp(m.data, STDIN_MAGIC, strlen(STDIN_MAGIC)) != 0) {
                for (size_t i = 0; i < (n_fds < ELEMENTSOF(fds) ? n_fds : ELEMENTSOF(fds)); i++)
                        safe_close(fds[i]);
                return -EBADMSG;
        }
        *ret_command_fd = fds[0];
        *ret_stdin_fd = fds[1];
        return 0;
}
