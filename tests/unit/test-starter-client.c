/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* jobrunnerd's client of jobrunner-starter (daemon/starter-client.c)
 * against a starter played by the test on a real socket: what a request
 * packet holds (the magic, a sealed memfd with the job id and the spec, the
 * two pipe write ends); replies matched to requests in order; at most
 * STARTER_WIRE_MAX_PENDING unanswered; a lost connection (the sent ones
 * lost, the waiting ones sent again on a new one); a starter that is not
 * there; cancellation; and no descriptor left open. */

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "convert.h"
#include "leak-check.h"
#include "macro.h"
#include "starter-client.h"
#include "starter-wire.h"
#include "starter.pb-c.h"

#define S(x) ((char *) (x))
#define MAX_DONE 64

static char dir[] = "/tmp/test-starter-client-XXXXXX";
static char socket_path[sizeof(dir) + 32];
static int listen_fd = -EBADF;
static sd_event *event;
static StarterClient *client;
static jr_unit_starter ops;
static int out_pipe[2] = { -EBADF, -EBADF }, err_pipe[2] = { -EBADF, -EBADF };
static int fds_at_start;

/* What done() was told, in order. */
static struct {
        int cookie;
        int error;
        char message[256];
} done_calls[MAX_DONE];
static size_t n_done;

static int count_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        int n = 0;

        cr_assert_not_null(d);
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

static void listen_socket(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        cr_assert_geq(listen_fd, 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", socket_path);
        cr_assert_eq(bind(listen_fd, (struct sockaddr *) &sa, sizeof(sa)), 0, "%m");
        cr_assert_eq(listen(listen_fd, 8), 0);
}

static void setup(void) {
        fds_at_start = count_fds();
        cr_assert_not_null(mkdtemp(dir));
        snprintf(socket_path, sizeof(socket_path), "%s/starter.sock", dir);
        listen_socket();
        cr_assert_eq(sd_event_new(&event), 0);
        cr_assert_eq(starter_client_new(event, socket_path, &client), 0);
        ops = starter_client_ops(client);
        cr_assert_eq(pipe2(out_pipe, O_CLOEXEC), 0);
        cr_assert_eq(pipe2(err_pipe, O_CLOEXEC), 0);
        n_done = 0;
}

static void teardown(void) {
        client = starter_client_free(client);
        event = sd_event_unref(event);
        safe_close(listen_fd);
        for (size_t i = 0; i < 2; i++) {
                out_pipe[i] = safe_close(out_pipe[i]);
                err_pipe[i] = safe_close(err_pipe[i]);
        }
        unlink(socket_path);
        rmdir(dir);
        strcpy(dir, "/tmp/test-starter-client-XXXXXX");
        cr_expect_eq(count_fds(), fds_at_start, "a descriptor was left open");
        abort_on_leaks();
}

TestSuite(starter_client, .init = setup, .fini = teardown, .timeout = 30);

static void on_done(void *cookie, int error, const char *message) {
        cr_assert_lt(n_done, MAX_DONE);
        done_calls[n_done].cookie = (int) (intptr_t) cookie;
        done_calls[n_done].error = error;
        snprintf(done_calls[n_done].message, sizeof(done_calls[n_done].message), "%s", message ?: "");
        n_done++;
}

static void *start(int cookie) {
        char *argv[] = { S("/bin/echo"), S("hello"), NULL };
        jr_spec spec = { .argv = argv, .memory_max = 64u << 20, .network = JR_NETWORK_HOST };
        char id[JR_ID_STRING_MAX];
        void *handle = NULL;

        snprintf(id, sizeof(id), "%032x", cookie);
        cr_assert_eq(ops.start(ops.userdata, id, &spec, out_pipe[1], err_pipe[1], -1, on_done,
                               (void *) (intptr_t) cookie, &handle), 0);
        cr_assert_not_null(handle);
        return handle;
}

/* Runs the client's loop until nothing happens for a while. */
static void settle(void) {
        while (sd_event_run(event, 50 * 1000) > 0)
                ;
}

static int accept_client(void) {
        int fd;

        settle();
        fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        cr_assert_geq(fd, 0, "the client did not connect: %m");
        return fd;
}

/* One request as the starter receives it; the descriptors are checked and
 * closed here.  Returns its job id's number, or -EAGAIN for none. */
static int receive_request(int conn) {
        char data[16], control[CMSG_SPACE(sizeof(int) * (STARTER_WIRE_N_FDS + 1))];
        struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = sizeof(control) };
        Jobrunner__Starter__V1__StartUnitRequest *req;
        int fds[STARTER_WIRE_N_FDS], seals, cookie;
        _cleanup_free_ uint8_t *buf = NULL;
        struct cmsghdr *cm;
        struct stat st;
        ssize_t n;

        settle();
        n = recvmsg(conn, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EAGAIN)
                return -EAGAIN;
        cr_assert_eq(n, STARTER_WIRE_MAGIC_LEN, "%zd: %m", n);
        cr_assert_eq(memcmp(data, STARTER_WIRE_MAGIC, STARTER_WIRE_MAGIC_LEN), 0);
        cm = CMSG_FIRSTHDR(&mh);
        cr_assert_not_null(cm);
        cr_assert_eq(cm->cmsg_type, SCM_RIGHTS);
        cr_assert_eq(cm->cmsg_len, CMSG_LEN(sizeof(fds)), "not exactly three descriptors");
        memcpy(fds, CMSG_DATA(cm), sizeof(fds));

        /* The request: a memfd that can no longer change. */
        seals = fcntl(fds[STARTER_WIRE_FD_REQUEST], F_GET_SEALS);
        cr_assert_geq(seals, 0, "not a memfd");
        cr_assert_eq(seals & (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK), F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK);
        cr_assert_eq(fstat(fds[STARTER_WIRE_FD_REQUEST], &st), 0);
        buf = malloc((size_t) st.st_size + 1);
        cr_assert_eq(pread(fds[STARTER_WIRE_FD_REQUEST], buf, (size_t) st.st_size, 0), st.st_size);
        req = jobrunner__starter__v1__start_unit_request__unpack(NULL, (size_t) st.st_size, buf);
        cr_assert_not_null(req);
        cr_assert_eq(strlen(req->job_id), 32);
        cookie = (int) strtol(req->job_id, NULL, 16);
        cr_assert_not_null(req->spec);
        cr_assert_eq(req->spec->n_argv, 2);
        cr_expect_str_eq(req->spec->argv[1], "hello");
        cr_assert_not_null(req->spec->limits);
        cr_expect_eq(req->spec->limits->memory_max_bytes, 64u << 20);
        jobrunner__starter__v1__start_unit_request__free_unpacked(req, NULL);

        /* The pipes' write ends: what is written comes out of ours. */
        for (int s = STARTER_WIRE_FD_STDOUT; s <= STARTER_WIRE_FD_STDERR; s++) {
                int rd = s == STARTER_WIRE_FD_STDOUT ? out_pipe[0] : err_pipe[0];
                char c = 0;

                cr_assert_eq(fcntl(fds[s], F_GETFL) & O_ACCMODE, O_WRONLY);
                cr_assert_eq(write(fds[s], "x", 1), 1);
                cr_assert_eq(read(rd, &c, 1), 1);
                cr_assert_eq(c, 'x');
        }
        for (size_t i = 0; i < STARTER_WIRE_N_FDS; i++)
                close(fds[i]);
        return cookie;
}

static void reply(int conn, int error, const char *message, const char *job_path) {
        Jobrunner__Starter__V1__StartUnitReply r = JOBRUNNER__STARTER__V1__START_UNIT_REPLY__INIT;
        uint8_t buf[STARTER_WIRE_REPLY_MAX];
        size_t n;

        r.error = error;
        r.message = S(message ?: "");
        r.job_path = S(job_path ?: "");
        memcpy(buf, STARTER_WIRE_MAGIC, STARTER_WIRE_MAGIC_LEN);
        n = STARTER_WIRE_MAGIC_LEN + jobrunner__starter__v1__start_unit_reply__pack(&r, buf + STARTER_WIRE_MAGIC_LEN);
        cr_assert_eq(send(conn, buf, n, MSG_NOSIGNAL), (ssize_t) n);
        settle();
}

Test(starter_client, one_start_and_its_answer) {
        _cleanup_close_ int conn = -EBADF;

        start(7);
        cr_assert_eq(n_done, 0, "done() ran before start() returned");
        conn = accept_client();
        cr_assert_eq(receive_request(conn), 7);
        cr_assert_eq(n_done, 0);
        reply(conn, 0, NULL, "/org/freedesktop/systemd1/job/42");
        cr_assert_eq(n_done, 1);
        cr_expect_eq(done_calls[0].cookie, 7);
        cr_expect_eq(done_calls[0].error, 0);
        cr_expect_str_eq(done_calls[0].message, "/org/freedesktop/systemd1/job/42");
}

Test(starter_client, refusals_keep_their_reason) {
        _cleanup_close_ int conn = -EBADF;

        start(1);
        start(2);
        conn = accept_client();
        cr_assert_eq(receive_request(conn), 1);
        cr_assert_eq(receive_request(conn), 2);
        reply(conn, -EPERM, "user root is not in RunAsUsers=", NULL);
        /* A positive number is no errno: a refusal all the same. */
        reply(conn, 5, "", NULL);
        cr_assert_eq(n_done, 2);
        cr_expect_eq(done_calls[0].cookie, 1);
        cr_expect_eq(done_calls[0].error, -EPERM);
        cr_expect_str_eq(done_calls[0].message, "user root is not in RunAsUsers=");
        cr_expect_eq(done_calls[1].cookie, 2);
        cr_expect_eq(done_calls[1].error, -EIO);
        cr_expect_str_eq(done_calls[1].message, "jobrunner-starter refused the job");
}

Test(starter_client, replies_answer_requests_in_order_and_at_most_16_wait) {
        _cleanup_close_ int conn = -EBADF;
        int next = 0;

        for (int i = 0; i < 20; i++)
                start(100 + i);
        conn = accept_client();
        for (int i = 0; i < STARTER_WIRE_MAX_PENDING; i++)
                cr_assert_eq(receive_request(conn), 100 + i);
        cr_assert_eq(receive_request(conn), -EAGAIN, "more than %d requests unanswered", STARTER_WIRE_MAX_PENDING);

        /* Each answer lets one more go. */
        for (int i = 0; i < 20; i++) {
                reply(conn, 0, NULL, NULL);
                if (STARTER_WIRE_MAX_PENDING + i < 20)
                        cr_assert_eq(receive_request(conn), 100 + STARTER_WIRE_MAX_PENDING + i);
        }
        cr_assert_eq(n_done, 20);
        for (size_t i = 0; i < n_done; i++, next++) {
                cr_expect_eq(done_calls[i].cookie, 100 + next);
                cr_expect_eq(done_calls[i].error, 0);
        }
}

Test(starter_client, a_lost_connection_loses_the_sent_and_resends_the_waiting) {
        int conn;

        for (int i = 0; i < 18; i++)
                start(i);
        conn = accept_client();
        for (int i = 0; i < STARTER_WIRE_MAX_PENDING; i++)
                cr_assert_eq(receive_request(conn), i);
        close(conn);
        settle();
        /* The 16 sent may or may not have been started: the library asks
         * systemd. */
        cr_assert_eq(n_done, STARTER_WIRE_MAX_PENDING);
        for (size_t i = 0; i < n_done; i++) {
                cr_expect_eq(done_calls[i].cookie, (int) i);
                cr_expect_eq(done_calls[i].error, JR_UNIT_START_LOST);
        }
        /* The two that waited go on a new connection. */
        conn = accept_client();
        cr_assert_eq(receive_request(conn), 16);
        cr_assert_eq(receive_request(conn), 17);
        reply(conn, 0, NULL, NULL);
        reply(conn, 0, NULL, NULL);
        cr_assert_eq(n_done, 18);
        cr_expect_eq(done_calls[17].cookie, 17);
        cr_expect_eq(done_calls[17].error, 0);
        close(conn);
}

Test(starter_client, a_starter_that_is_not_there_refuses_with_the_reason) {
        listen_fd = safe_close(listen_fd);
        unlink(socket_path);
        start(3);
        start(4);
        settle();
        cr_assert_eq(n_done, 2);
        cr_expect_eq(done_calls[0].error, -ENOENT);
        cr_expect(strstr(done_calls[0].message, "cannot reach jobrunner-starter at "), "%s", done_calls[0].message);
        cr_expect(strstr(done_calls[0].message, socket_path), "%s", done_calls[0].message);
        cr_expect_eq(done_calls[1].cookie, 4);

        /* Once it is back, starts work again. */
        listen_socket();
        start(5);
        {
                _cleanup_close_ int conn = accept_client();

                cr_assert_eq(receive_request(conn), 5);
                reply(conn, 0, NULL, NULL);
        }
        cr_assert_eq(n_done, 3);
        cr_expect_eq(done_calls[2].error, 0);
}

Test(starter_client, cancelled_requests_are_never_answered) {
        _cleanup_close_ int conn = -EBADF;
        void *sent, *waiting;

        sent = start(1);
        conn = accept_client();
        cr_assert_eq(receive_request(conn), 1);
        for (int i = 0; i < STARTER_WIRE_MAX_PENDING - 1; i++) {
                start(10 + i);
                cr_assert_eq(receive_request(conn), 10 + i);
        }
        waiting = start(2);     /* the 17th: not sent yet */
        start(3);
        settle();
        ops.cancel(ops.userdata, sent);
        ops.cancel(ops.userdata, waiting);

        /* The cancelled one's answer still comes first and is dropped;
         * the waiting cancelled one is never sent. */
        reply(conn, 0, NULL, NULL);
        cr_assert_eq(n_done, 0);
        cr_assert_eq(receive_request(conn), 3);
        for (int i = 0; i < STARTER_WIRE_MAX_PENDING; i++)
                reply(conn, 0, NULL, NULL);
        cr_assert_eq(n_done, STARTER_WIRE_MAX_PENDING);
        cr_expect_eq(done_calls[0].cookie, 10);
        cr_expect_eq(done_calls[n_done - 1].cookie, 3);
}

Test(starter_client, an_answer_nobody_asked_for_drops_the_connection) {
        _cleanup_close_ int conn = -EBADF;

        start(1);
        conn = accept_client();
        cr_assert_eq(receive_request(conn), 1);
        reply(conn, 0, NULL, NULL);
        reply(conn, 0, NULL, NULL);     /* one too many */
        cr_assert_eq(n_done, 1);
        /* The client hung up. */
        cr_assert_eq(recv(conn, (char[1]) {}, 1, MSG_DONTWAIT), 0);
}

Test(starter_client, requests_waiting_at_free_are_dropped_unanswered) {
        start(1);
        start(2);
        client = starter_client_free(client);
        settle();
        cr_assert_eq(n_done, 0);
}
