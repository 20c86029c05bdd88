/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* starter-probe: a hostile client of jobrunner-starter, for the VM tests.
 * It connects to the starter's socket and sends one kind of request, as a
 * compromised jobrunnerd (or something posing as one) could, then prints
 * what came back, one line per request:
 *
 *   reply ERROR MESSAGE      the starter's StartUnitReply
 *   closed                   the starter hung up without a reply
 *
 * Usage: starter-probe SOCKET KIND JOB_ID [COUNT]
 *
 * KIND:
 *   valid        a request the default policy allows (/bin/true, 512M)
 *   root         the same, run as User=root
 *   memory       the same, with MemoryMax= 64 GiB
 *   host-network the same, on the host's network
 *   bad-id       JOB_ID used as is, whatever it is (a forged unit name)
 *   garbage      the memfd holds bytes that are no StartUnitRequest
 *   no-magic     a packet whose data is not the magic
 *   no-fds       the magic alone, no descriptors
 *   one-fd       the request's memfd without the pipes
 *   read-ends    the pipes' read ends instead of their write ends
 *   unsealed     the request in a memfd that can still change
 *   file         the request in a regular file, not a memfd
 *   oversize     a sealed memfd larger than any valid request
 *   flood        COUNT garbage requests as fast as the socket takes them
 *
 * Exit status: 0 when every request got its reply or the connection
 * closed; 1 on a local error. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "starter-packet.h"
#include "starter-wire.h"
#include "starter.pb-c.h"


static void die(const char *what) {
        fprintf(stderr, "starter-probe: %s: %s\n", what, strerror(errno));
        exit(1);
}

static int sealed_memfd(const void *data, size_t len, bool seal) {
        int fd = starter_test_memfd(data, len, seal ? F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK : 0);

        if (fd < 0) {
                errno = -fd;
                die("memfd");
        }
        return fd;
}

/* The serialized request of kind for job_id, into *ret (malloc()ed). */
static size_t request_bytes(const char *kind, const char *job_id, uint8_t **ret) {
        StarterTestSpec spec = {
                /* Under any MaxMemory= of at least 512M. */
                .memory_max_bytes = strcmp(kind, "memory") == 0 ? UINT64_C(64) << 30 : UINT64_C(512) << 20,
                .user = strcmp(kind, "root") == 0 ? "root" : NULL,
                .host_network = strcmp(kind, "host-network") == 0,
        };
        size_t n = starter_test_pack_request(job_id, &spec, ret);

        if (!*ret)
                die("malloc");
        return n;
}

static int connect_to(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

        if (fd < 0)
                die("socket");
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                die("connect");
        return fd;
}

/* Returns false when the starter has hung up (errno says how) or the
 * socket is full (EAGAIN). */
static bool send_packet(int sock, const void *data, size_t len, const int *fds, size_t n_fds, int flags) {
        int r = starter_test_send(sock, data, len, fds, n_fds, flags);

        if (r == -EPIPE || r == -ECONNRESET || r == -EAGAIN) {
                errno = -r;
                return false;
        }
        if (r < 0) {
                errno = -r;
                die("sendmsg");
        }
        return true;
}

/* COUNT garbage requests, sent as fast as the socket takes them while the
 * replies are read as they come: the starter's limits must hold, not the
 * client's manners. */
static int flood(int sock, const int *fds, size_t count) {
        size_t sent = 0, replies = 0;
        bool closed = false;

        while (!closed && replies < count) {
                struct pollfd p = { .fd = sock, .events = POLLIN | (sent < count ? POLLOUT : 0) };

                if (poll(&p, 1, 30000) <= 0)
                        break;
                if (p.revents & POLLOUT) {
                        if (send_packet(sock, STARTER_WIRE_MAGIC, STARTER_WIRE_MAGIC_LEN, fds, 3, MSG_DONTWAIT))
                                sent++;
                        else if (errno != EAGAIN)
                                closed = true;
                }
                if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
                        uint8_t buf[STARTER_WIRE_REPLY_MAX + 64];
                        ssize_t n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);

                        if (n > 0)
                                replies++;
                        else if (n == 0 || errno != EAGAIN)
                                closed = true;
                }
        }
        printf("flood sent %zu replies %zu%s\n", sent, replies, closed ? " closed" : "");
        return 0;
}

/* Prints one reply; returns false when the starter has hung up. */
static bool print_reply(int sock) {
        uint8_t buf[STARTER_WIRE_REPLY_MAX + 64];
        Jobrunner__Starter__V1__StartUnitReply *reply;
        ssize_t n = recv(sock, buf, sizeof(buf), 0);

        if (n < 0 && errno != ECONNRESET)
                die("recv");
        if (n <= 0) {
                printf("closed\n");
                return false;
        }
        if ((size_t) n < STARTER_WIRE_MAGIC_LEN || memcmp(buf, STARTER_WIRE_MAGIC, STARTER_WIRE_MAGIC_LEN) != 0) {
                printf("bad-reply\n");
                return false;
        }
        reply = jobrunner__starter__v1__start_unit_reply__unpack(NULL, (size_t) n - STARTER_WIRE_MAGIC_LEN,
                                                               buf + STARTER_WIRE_MAGIC_LEN);
        if (!reply) {
                printf("bad-reply\n");
                return false;
        }
        printf("reply %d %s\n", reply->error, reply->error == 0 ? reply->job_path : reply->message);
        jobrunner__starter__v1__start_unit_reply__free_unpacked(reply, NULL);
        return true;
}

int main(int argc, char *argv[]) {
        const char *kind, *job_id;
        uint8_t *req = NULL;
        size_t len, count = 1;
        int sock, out[2], err[2], fds[3];

        if (argc < 4) {
                fprintf(stderr, "Usage: starter-probe SOCKET KIND JOB_ID [COUNT]\n");
                return 1;
        }
        kind = argv[2];
        job_id = argv[3];
        if (argc > 4)
                count = strtoul(argv[4], NULL, 10);
        setvbuf(stdout, NULL, _IOLBF, 0);

        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
                die("pipe2");
        len = request_bytes(kind, job_id, &req);
        fds[1] = out[1];
        fds[2] = err[1];
        if (strcmp(kind, "garbage") == 0 || strcmp(kind, "flood") == 0)
                fds[0] = sealed_memfd("\xff\xff\xff\xff garbage", 12, true);
        else if (strcmp(kind, "unsealed") == 0)
                fds[0] = sealed_memfd(req, len, false);
        else if (strcmp(kind, "file") == 0) {
                char path[] = "/tmp/starter-probe-XXXXXX";

                fds[0] = mkostemp(path, O_CLOEXEC);
                if (fds[0] < 0 || write(fds[0], req, len) != (ssize_t) len)
                        die("mkostemp");
                unlink(path);
        } else if (strcmp(kind, "oversize") == 0) {
                fds[0] = sealed_memfd(NULL, 0, false);
                if (ftruncate(fds[0], 64 << 20) < 0 ||
                    fcntl(fds[0], F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK) < 0)
                        die("ftruncate");
        } else
                fds[0] = sealed_memfd(req, len, true);
        if (strcmp(kind, "read-ends") == 0) {
                fds[1] = out[0];
                fds[2] = err[0];
        }

        sock = connect_to(argv[1]);
        if (strcmp(kind, "flood") == 0)
                return flood(sock, fds, count);
        for (size_t i = 0; i < count; i++) {
                bool ok;

                if (strcmp(kind, "no-magic") == 0)
                        ok = send_packet(sock, "XXXX", 4, fds, 3, 0);
                else if (strcmp(kind, "no-fds") == 0)
                        ok = send_packet(sock, STARTER_WIRE_MAGIC, STARTER_WIRE_MAGIC_LEN, NULL, 0, 0);
                else if (strcmp(kind, "one-fd") == 0)
                        ok = send_packet(sock, STARTER_WIRE_MAGIC, STARTER_WIRE_MAGIC_LEN, fds, 1, 0);
                else
                        ok = send_packet(sock, STARTER_WIRE_MAGIC, STARTER_WIRE_MAGIC_LEN, fds, 3, 0);
                if (!ok) {
                        printf("closed\n");
                        break;
                }
                if (!print_reply(sock))
                        break;
        }
        free(req);
        return 0;
}
