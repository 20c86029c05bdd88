/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* jobrunner-starter's server (starter/server.c) over a real listening
 * SOCK_SEQPACKET socket, with a UnitStarter that delegates to a fake: the
 * fake records what it is asked and answers when the test says so.  A valid
 * request starts a unit and its reply comes when the fake answers; replies
 * keep the order of the requests; every kind of bad packet gets its errno
 * and starts nothing; received descriptors are closed; a connection is not
 * read past STARTER_WIRE_MAX_PENDING waiting starts; a peer that is not
 * jobrunnerd starts nothing; starts outlive their connection; the server
 * says when it has been idle.  And the peer check's cgroup matcher, on
 * strings and on a /proc of the test's own. */

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "leak-check.h"
#include "macro.h"
#include "net-check.h"
#include "peer.h"
#include "request.h"
#include "server.h"
#include "starter-packet.h"
#include "starter-wire.h"
#include "starter.pb-c.h"

#define S(x) ((char *) (x))
#define ID(n) "0123456789abcdef0123456789abcd" n
#define MAX_CALLS 64

/* ---- the fake starter ----------------------------------------------------- */

typedef struct FakeCall {
        char job_id[JR_ID_STRING_MAX];
        ino_t out_ino, err_ino;
        jr_unit_start_done_t done;
        void *cookie;
        bool answered, cancelled;
} FakeCall;

static struct {
        FakeCall calls[MAX_CALLS];
        unsigned n;
        int refuse;                     /* start() fails with this */
        bool auto_answer;               /* answer every call on the next turn of the loop */
        int auto_error;
        sd_event_source *defer;
} fake;

static ino_t inode_of(int fd) {
        struct stat st;

        cr_assert_eq(fstat(fd, &st), 0);
        return st.st_ino;
}

static void answer(unsigned i, int error, const char *message) {
        FakeCall *c = &fake.calls[i];

        cr_assert_lt(i, fake.n);
        cr_assert(!c->answered && !c->cancelled, "call %u answered twice", i);
        c->answered = true;
        c->done(c->cookie, error, message);
}

static int on_auto_answer(sd_event_source *s, void *userdata) {
        (void) s, (void) userdata;
        for (unsigned i = 0; i < fake.n; i++)
                if (!fake.calls[i].answered && !fake.calls[i].cancelled)
                        answer(i, fake.auto_error, fake.auto_error < 0 ? "refused by the fake" : "/job/auto");
        return 0;
}

static int fake_start(void *userdata, const char *job_id, const jr_spec *spec, int stdout_fd, int stderr_fd,
                      int stdin_fd, jr_unit_start_done_t done, void *cookie, void **ret_handle) {
        FakeCall *c;

        (void) userdata;
        cr_assert_lt(stdin_fd, 0, "no stdin pipe was asked for");
        if (fake.refuse < 0)
                return fake.refuse;
        cr_assert_lt(fake.n, MAX_CALLS);
        cr_assert_not_null(spec->argv);
        cr_assert_str_eq(spec->argv[0], "/bin/true");
        c = &fake.calls[fake.n++];
        *c = (FakeCall) { .out_ino = inode_of(stdout_fd), .err_ino = inode_of(stderr_fd), .done = done,
                          .cookie = cookie };
        snprintf(c->job_id, sizeof c->job_id, "%s", job_id);
        if (fake.auto_answer)
                cr_assert_geq(sd_event_source_set_enabled(fake.defer, SD_EVENT_ONESHOT), 0);
        *ret_handle = c;
        return 0;
}

static void fake_cancel(void *userdata, void *handle) {
        (void) userdata;
        ((FakeCall *) handle)->cancelled = true;
}

/* ---- the server and its client ---------------------------------------------- */

static sd_event *event;
static UnitStarter *starter;
static StarterServer *server;
static StarterPolicy policy;
static char own_cgroup[PATH_MAX];
static struct sockaddr_un address;
static socklen_t address_len;
static int listen_fd = -EBADF;
static int client = -EBADF;
static int done_calls, done_error;

static void on_done(void *userdata, int error) {
        (void) userdata;
        done_calls++;
        done_error = error;
}

/* The test's own line in /proc/self/cgroup, the unified one if any. */
static void read_own_cgroup(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
        char line[PATH_MAX];

        cr_assert_not_null(f);
        own_cgroup[0] = 0;
        while (fgets(line, sizeof line, f)) {
                line[strcspn(line, "\n")] = 0;
                if (own_cgroup[0] == 0 || strncmp(line, "0::", 3) == 0)
                        snprintf(own_cgroup, sizeof own_cgroup, "%s", line);
        }
        cr_assert_neq(own_cgroup[0], 0);
}

static void setup(void) {
        static const char text[] = "# the defaults\n";
        FILE *f = fmemopen((void *) text, strlen(text), "r");
        jr_error e = {};

        fake = (typeof(fake)) {};
        done_calls = 0;
        cr_assert_eq(sd_event_new(&event), 0);
        cr_assert_eq(sd_event_add_defer(event, &fake.defer, on_auto_answer, NULL), 0);
        cr_assert_eq(sd_event_source_set_enabled(fake.defer, SD_EVENT_OFF), 0);
        cr_assert_eq(unit_starter_new_delegated(&(jr_unit_starter) { .start = fake_start, .cancel = fake_cancel },
                                                &starter), 0);
        cr_assert_not_null(f);
        cr_assert_eq(starter_policy_parse(f, "/etc/jobrunner/starter.conf", &policy, &e), 0, "%s", e.message);
        fclose(f);
        read_own_cgroup();

        /* An abstract address the kernel picks: no file to clean up. */
        listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        cr_assert_geq(listen_fd, 0);
        cr_assert_eq(bind(listen_fd, (struct sockaddr *) &(struct sockaddr_un) { .sun_family = AF_UNIX },
                          sizeof(sa_family_t)), 0);
        cr_assert_eq(listen(listen_fd, 16), 0);
        address_len = sizeof address;
        cr_assert_eq(getsockname(listen_fd, (struct sockaddr *) &address, &address_len), 0);
}

static void teardown(void) {
        client = safe_close(client);
        server = starter_server_free(server);
        listen_fd = safe_close(listen_fd);
        starter = unit_starter_free(starter);
        fake.defer = sd_event_source_disable_unref(fake.defer);
        event = sd_event_unref(event);
        starter_policy_done(&policy);
        abort_on_leaks();
}

TestSuite(starter_server, .init = setup, .fini = teardown, .timeout = 60);

static void start_server_with(uid_t uid, const char *cgroup_line, unsigned max_connections, uint64_t idle_usec) {
        cr_assert_eq(starter_server_new(event, &(StarterServerConfig) {
                        .listen_fd = TAKE_FD(listen_fd),
                        .starter = starter,
                        .policy = &policy,
                        .peer_uid = uid,
                        .peer_cgroup_line = cgroup_line,
                        .max_connections = max_connections,
                        .idle_usec = idle_usec,
                        .on_done = on_done,
                }, &server), 0);
}

static void start_server(void) {
        start_server_with(getuid(), own_cgroup, 0, UINT64_MAX);
}

/* Everything the loop has to do now, without waiting. */
static void settle(void) {
        for (unsigned i = 0; i < 10000; i++) {
                int r = sd_event_run(event, 0);

                cr_assert_geq(r, 0);
                if (r == 0)
                        return;
        }
        cr_assert_fail("the loop never settles");
}

static int connect_client(void) {
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        cr_assert_geq(fd, 0);
        cr_assert_eq(connect(fd, (struct sockaddr *) &address, address_len), 0, "connect: %m");
        settle();
        return fd;
}

static int send_packet(int fd, const void *data, size_t len, const int *fds, size_t n_fds) {
        return starter_test_send(fd, data, len, fds, n_fds, MSG_DONTWAIT);
}

/* A StartUnitRequest as jobrunnerd packs it: /bin/true as job id. */
static size_t pack_request(const char *job_id, uint8_t **ret) {
        size_t size = starter_test_pack_request(job_id, NULL, ret);

        cr_assert_not_null(*ret);
        return size;
}

/* A memfd holding data, with these seals. */
static int memfd_with(const void *data, size_t size, int seals) {
        int fd = starter_test_memfd(data, size, seals);

        cr_assert_geq(fd, 0, "memfd: %s", strerror(-fd));
        return fd;
}

static int request_memfd(const char *job_id) {
        _cleanup_free_ uint8_t *packed = NULL;
        size_t size = pack_request(job_id, &packed);

        return memfd_with(packed, size, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
}

/* The job's pipes, whose write ends go with a request. */
typedef struct Pipes {
        int out[2], err[2];
        ino_t out_ino, err_ino;
} Pipes;

static void pipes_open(Pipes *p) {
        cr_assert_eq(pipe2(p->out, O_CLOEXEC), 0);
        cr_assert_eq(pipe2(p->err, O_CLOEXEC), 0);
        p->out_ino = inode_of(p->out[1]);
        p->err_ino = inode_of(p->err[1]);
}

static void pipes_close(Pipes *p) {
        close_pairp(&p->out);
        close_pairp(&p->err);
}

/* Sends request_fd (taken) and two fresh pipes' write ends on fd; their
 * inodes in *ret if not NULL. */
static void send_with(int fd, int request_fd, Pipes *ret) {
        Pipes p;

        pipes_open(&p);
        cr_assert_eq(send_packet(fd, STARTER_WIRE_MAGIC, STARTER_WIRE_MAGIC_LEN,
                                 (int[]) { request_fd, p.out[1], p.err[1] }, 3), 0);
        safe_close(request_fd);
        pipes_close(&p);
        if (ret)
                *ret = p;
}

static void send_request(int fd, const char *job_id, Pipes *ret) {
        send_with(fd, request_memfd(job_id), ret);
}

typedef struct Reply {
        int error;
        char message[STARTER_WIRE_MESSAGE_MAX + 1];
        char job_path[STARTER_WIRE_MESSAGE_MAX + 1];
} Reply;

/* The next reply on fd after the loop settled: 0, or -EAGAIN if none. */
static int recv_reply(int fd, Reply *ret) {
        uint8_t buf[STARTER_WIRE_REPLY_MAX + 1];
        Jobrunner__Starter__V1__StartUnitReply *m;
        ssize_t n;

        settle();
        n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0)
                return -errno;
        cr_assert_leq(n, STARTER_WIRE_REPLY_MAX);
        cr_assert_geq(n, STARTER_WIRE_MAGIC_LEN);
        cr_assert_eq(memcmp(buf, STARTER_WIRE_MAGIC, STARTER_WIRE_MAGIC_LEN), 0, "a reply without the magic");
        m = jobrunner__starter__v1__start_unit_reply__unpack(NULL, (size_t) n - STARTER_WIRE_MAGIC_LEN,
                                                             buf + STARTER_WIRE_MAGIC_LEN);
        cr_assert_not_null(m, "not a StartUnitReply");
        *ret = (Reply) { .error = m->error };
        snprintf(ret->message, sizeof ret->message, "%s", m->message);
        snprintf(ret->job_path, sizeof ret->job_path, "%s", m->job_path);
        protobuf_c_message_free_unpacked(&m->base, NULL);
        return 0;
}

static void expect_reply(int fd, int error, const char *says) {
        Reply r;

        cr_assert_eq(recv_reply(fd, &r), 0, "no reply");
        cr_expect_eq(r.error, error, "%d, not %d: %s", r.error, error, r.message);
        if (error < 0)
                cr_expect_eq(strncmp(r.message, says, strlen(says)), 0, "'%s', not '%s...'", r.message, says);
        else
                cr_expect_str_eq(r.job_path, says);
}

static void expect_no_reply(int fd) {
        Reply r;

        cr_expect_eq(recv_reply(fd, &r), -EAGAIN, "an unexpected reply: %d %s", r.error, r.message);
}

/* ---- requests ------------------------------------------------------------- */

Test(starter_server, valid) {
        Pipes p;

        start_server();
        client = connect_client();
        cr_expect_eq(starter_server_connections(server), 1);
        send_request(client, ID("01"), &p);
        expect_no_reply(client);
        cr_assert_eq(fake.n, 1);
        cr_expect_str_eq(fake.calls[0].job_id, ID("01"));
        cr_expect_eq(fake.calls[0].out_ino, p.out_ino);
        cr_expect_eq(fake.calls[0].err_ino, p.err_ino);
        answer(0, 0, "/org/freedesktop/systemd1/job/7");
        expect_reply(client, 0, "/org/freedesktop/systemd1/job/7");

        /* Answered on a later turn of the loop, as systemd does. */
        fake.auto_answer = true;
        send_request(client, ID("02"), NULL);
        expect_reply(client, 0, "/job/auto");
        fake.auto_error = -EIO;
        send_request(client, ID("03"), NULL);
        expect_reply(client, -EIO, "refused by the fake");
        cr_expect_eq(fake.n, 3);

        /* Without a job path the reply packs to nothing but the magic. */
        fake.auto_answer = false;
        send_request(client, ID("04"), NULL);
        settle();
        answer(3, 0, NULL);
        expect_reply(client, 0, "");
}

/* The UnitStarter cannot even ask: the reply says so. */
Test(starter_server, start_fails) {
        start_server();
        client = connect_client();
        fake.refuse = -ENOMEM;
        send_request(client, ID("01"), NULL);
        expect_reply(client, -ENOMEM, "cannot ask for jobrunner-" ID("01") ".service to be started");
        cr_expect_eq(fake.n, 0);
}

Test(starter_server, replies_in_order) {
        start_server();
        client = connect_client();
        for (int i = 0; i < 4; i++)
                send_request(client, i == 0 ? ID("00") : i == 1 ? ID("01") : i == 2 ? ID("02") : ID("03"), NULL);
        settle();
        cr_assert_eq(fake.n, 4);
        cr_expect_str_eq(fake.calls[3].job_id, ID("03"));

        answer(2, 0, "/job/2");
        answer(3, -EIO, "three");
        expect_no_reply(client);
        answer(0, 0, "/job/0");
        expect_reply(client, 0, "/job/0");
        expect_no_reply(client);
        answer(1, 0, "/job/1");
        expect_reply(client, 0, "/job/1");
        expect_reply(client, 0, "/job/2");
        expect_reply(client, -EIO, "three");
        expect_no_reply(client);
}

/* A message is cut to the wire's bound, never inside a UTF-8 character. */
Test(starter_server, long_message) {
        char message[2 * STARTER_WIRE_MESSAGE_MAX];
        Reply r;

        memset(message, 'x', sizeof message);
        /* "é" across the bound. */
        message[STARTER_WIRE_MESSAGE_MAX - 1] = (char) 0xc3;
        message[STARTER_WIRE_MESSAGE_MAX] = (char) 0xa9;
        message[sizeof message - 1] = 0;
        start_server();
        client = connect_client();
        send_request(client, ID("01"), NULL);
        settle();
        answer(0, -EIO, message);
        cr_assert_eq(recv_reply(client, &r), 0);
        cr_expect_eq(r.error, -EIO);
        cr_expect_eq(strlen(r.message), STARTER_WIRE_MESSAGE_MAX - 1);
        cr_expect_eq(strspn(r.message, "x"), STARTER_WIRE_MESSAGE_MAX - 1);
}

/* ---- packets that are no request ---------------------------------------------- */

typedef struct BadCase {
        const char *name;
        int error;
        const char *says;
} BadCase;

/* Sends what the case names on client; every descriptor the test made is
 * closed again at once. */
static void send_bad(const char *name) {
        _cleanup_free_ uint8_t *packed = NULL;
        size_t size = pack_request(ID("0b"), &packed);
        const int seals = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK;
        int fds[5] = { -EBADF, -EBADF, -EBADF, -EBADF, -EBADF };
        size_t n = 3;
        const char *data = STARTER_WIRE_MAGIC;
        size_t len = STARTER_WIRE_MAGIC_LEN;
        char big[100] = "JRS1";
        Pipes p;

        pipes_open(&p);
        fds[1] = p.out[1];
        fds[2] = p.err[1];
        if (strcmp(name, "other magic") == 0)
                data = "JRS2";
        else if (strcmp(name, "magic and more") == 0)
                len = STARTER_WIRE_MAGIC_LEN + 1, data = "JRS1x";
        else if (strcmp(name, "truncated") == 0)
                data = big, len = sizeof big;
        else if (strcmp(name, "empty") == 0)
                data = "", len = 0, n = 0;
        else if (strcmp(name, "no fds") == 0)
                n = 0;
        else if (strcmp(name, "2 fds") == 0)
                n = 2;
        else if (strcmp(name, "4 fds") == 0)
                n = 4, fds[3] = p.out[0];
        else if (strcmp(name, "5 fds") == 0)
                n = 5, fds[3] = p.out[0], fds[4] = p.err[0];

        if (strcmp(name, "regular file") == 0) {
                char path[] = "/tmp/jr-test-starter-server.XXXXXX";

                fds[0] = mkostemp(path, O_CLOEXEC);
                cr_assert_geq(fds[0], 0);
                cr_assert_eq(unlink(path), 0);
                cr_assert_eq(write(fds[0], packed, size), (ssize_t) size);
        } else if (strcmp(name, "pipe") == 0)
                fds[0] = dup(p.out[0]);         /* empty: a read would block */
        else if (strcmp(name, "unsealed") == 0)
                fds[0] = memfd_with(packed, size, 0);
        else if (strcmp(name, "write seal only") == 0)
                fds[0] = memfd_with(packed, size, F_SEAL_WRITE);
        else if (strcmp(name, "oversize") == 0) {
                fds[0] = memfd_with(packed, size, 0);
                cr_assert_eq(ftruncate(fds[0], STARTER_REQUEST_MAX_BYTES + 1), 0);
                cr_assert_eq(fcntl(fds[0], F_ADD_SEALS, seals), 0);
        } else if (strcmp(name, "garbage") == 0)
                fds[0] = memfd_with("\xff\xff\xff\xff", 4, seals);
        else if (strcmp(name, "stdout read end") == 0) {
                fds[0] = memfd_with(packed, size, seals);
                fds[1] = p.out[0];
        } else
                fds[0] = memfd_with(packed, size, seals);

        cr_assert_eq(send_packet(client, data, len, fds, n), 0, "%s", name);
        safe_close(fds[0]);
        pipes_close(&p);
}

Test(starter_server, bad_packets) {
        static const BadCase cases[] = {
                { "other magic", -EBADMSG, "not a request packet" },
                { "magic and more", -EBADMSG, "not a request packet" },
                { "truncated", -EBADMSG, "not a request packet" },
                { "empty", -EBADMSG, "not a request packet" },
                { "no fds", -EBADF, "0 file descriptors came with the request, not 3" },
                { "2 fds", -EBADF, "2 file descriptors came with the request, not 3" },
                { "4 fds", -EBADF, "3 file descriptors came with the request, not 2" },
                { "5 fds", -EBADF, "5 file descriptors came with the request, not 3 or 4" },
                { "regular file", -EBADF, "request: not a memfd" },
                { "pipe", -EBADF, "request: not a memfd" },
                { "unsealed", -EBADF, "request: the memfd is not sealed against writing growing shrinking" },
                { "write seal only", -EBADF, "request: the memfd is not sealed against growing shrinking" },
                { "oversize", -EMSGSIZE, "request: 2" },
                { "garbage", -EBADMSG, "not a StartUnitRequest message" },
                { "stdout read end", -EBADF, "stdout: the read end of a pipe" },
        };
        unsigned before;

        start_server();
        client = connect_client();
        before = net_check_count_fds();
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                send_bad(cases[i].name);
                expect_reply(client, cases[i].error, cases[i].says);
                cr_expect_eq(net_check_count_fds(), before, "%s: descriptors left open", cases[i].name);
        }
        /* Still served after all that. */
        cr_expect_eq(fake.n, 0);
        send_request(client, ID("01"), NULL);
        settle();
        cr_expect_eq(fake.n, 1);
        answer(0, 0, "/job/1");
        expect_reply(client, 0, "/job/1");
        cr_expect_eq(net_check_count_fds(), before);
}

/* ---- flow control ------------------------------------------------------------- */

Test(starter_server, at_most_max_pending) {
        char id[JR_ID_STRING_MAX];

        start_server();
        client = connect_client();
        for (int i = 0; i <= STARTER_WIRE_MAX_PENDING; i++) {
                snprintf(id, sizeof id, ID("%02x"), i);
                send_request(client, id, NULL);
        }
        settle();
        cr_assert_eq(fake.n, STARTER_WIRE_MAX_PENDING, "%u read", fake.n);

        /* One answered: the next one is read. */
        answer(0, 0, "/job/0");
        expect_reply(client, 0, "/job/0");
        cr_assert_eq(fake.n, STARTER_WIRE_MAX_PENDING + 1);
        cr_expect_str_eq(fake.calls[STARTER_WIRE_MAX_PENDING].job_id, ID("10"));
        for (unsigned i = fake.n; i-- > 1;)
                answer(i, 0, "/job/n");
        for (int i = 1; i <= STARTER_WIRE_MAX_PENDING; i++)
                expect_reply(client, 0, "/job/n");
        expect_no_reply(client);
}

/* ---- connections -------------------------------------------------------------- */

/* The connection was closed on the peer: its end reads EOF, or a reset. */
static void expect_closed(int fd) {
        char c;
        ssize_t n;

        settle();
        n = recv(fd, &c, 1, MSG_DONTWAIT);
        cr_expect(n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE)), "still open: %zd %m", n);
}

Test(starter_server, wrong_uid) {
        start_server_with(getuid() + 1, own_cgroup, 0, UINT64_MAX);
        client = connect_client();
        cr_expect_eq(starter_server_connections(server), 0);
        expect_closed(client);
        (void) send_packet(client, STARTER_WIRE_MAGIC, STARTER_WIRE_MAGIC_LEN, NULL, 0);
        settle();
        cr_expect_eq(fake.n, 0);
}

Test(starter_server, wrong_cgroup) {
        start_server_with(getuid(), "0::/system.slice/jobrunner.service", 0, UINT64_MAX);
        if (strcmp(own_cgroup, "0::/system.slice/jobrunner.service") == 0)
                cr_skip_test("the test runs in jobrunner.service");
        client = connect_client();
        cr_expect_eq(starter_server_connections(server), 0);
        expect_closed(client);
        cr_expect_eq(fake.n, 0);
}

Test(starter_server, max_connections) {
        int a = -EBADF, b = -EBADF;

        start_server_with(getuid(), own_cgroup, 2, UINT64_MAX);
        a = connect_client();
        b = connect_client();
        client = connect_client();
        cr_expect_eq(starter_server_connections(server), 2);
        expect_closed(client);
        /* The others still work. */
        send_request(b, ID("0b"), NULL);
        settle();
        answer(0, 0, "/job/b");
        expect_reply(b, 0, "/job/b");
        safe_close(a);
        safe_close(b);
        settle();
        cr_expect_eq(starter_server_connections(server), 0);
}

/* Starts are never cancelled with their connection: it stays until each
 * one is answered, and every descriptor is closed once it goes. */
Test(starter_server, peer_goes_first) {
        unsigned before = net_check_count_fds();

        start_server();
        client = connect_client();
        send_request(client, ID("01"), NULL);
        send_request(client, ID("02"), NULL);
        send_request(client, ID("03"), NULL);
        settle();
        cr_assert_eq(fake.n, 3);
        answer(1, 0, "/job/1");
        client = safe_close(client);
        settle();
        cr_expect_eq(starter_server_connections(server), 1);
        cr_expect(!fake.calls[0].cancelled && !fake.calls[2].cancelled);
        answer(2, 0, "/job/2");
        settle();
        cr_expect_eq(starter_server_connections(server), 1);
        answer(0, 0, "/job/0");
        settle();
        cr_expect_eq(starter_server_connections(server), 0);
        /* The server's listening socket is the one the test made. */
        cr_expect_eq(net_check_count_fds(), before);
}

/* A peer that stops sending still gets its replies. */
Test(starter_server, peer_shuts_down_sending) {
        start_server();
        client = connect_client();
        send_request(client, ID("01"), NULL);
        settle();
        cr_assert_eq(shutdown(client, SHUT_WR), 0);
        settle();
        cr_expect_eq(starter_server_connections(server), 1);
        answer(0, 0, "/job/0");
        expect_reply(client, 0, "/job/0");
        expect_closed(client);
        cr_expect_eq(starter_server_connections(server), 0);
}

/* The server goes with its starts: they are cancelled. */
Test(starter_server, free_cancels) {
        start_server();
        client = connect_client();
        send_request(client, ID("01"), NULL);
        settle();
        server = starter_server_free(server);
        cr_expect(fake.calls[0].cancelled);
}

Test(starter_server, idle) {
        start_server_with(getuid(), own_cgroup, 0, 20 * 1000);
        client = connect_client();
        /* Not while connected. */
        for (int i = 0; i < 5; i++)
                cr_assert_geq(sd_event_run(event, 10 * 1000), 0);
        cr_expect_eq(done_calls, 0);
        client = safe_close(client);
        for (int i = 0; i < 100 && done_calls == 0; i++)
                cr_assert_geq(sd_event_run(event, 10 * 1000), 0);
        cr_expect_eq(done_calls, 1);
        cr_expect_eq(done_error, 0);
        /* Done: the next connection waits for the next starter. */
        client = connect_client();
        cr_expect_eq(starter_server_connections(server), 0);
}

/* ---- the peer check's cgroup matcher ----------------------------------------- */

#define LINE "0::/system.slice/jobrunner.service"

Test(starter_peer, cgroup_line) {
        static const struct {
                const char *text;
                bool has;
        } cases[] = {
                { LINE "\n", true },
                { LINE, true },
                { "12:pids:/system.slice/jobrunner.service\n" LINE "\n", true },
                { LINE "\n1:name=systemd:/x\n", true },
                { "", false },
                { "\n", false },
                { LINE "/sub\n", false },
                { LINE ".d\n", false },
                { "0::/system.slice/jobrunner.servic\n", false },
                { " " LINE "\n", false },
                { LINE " \n", false },
                { "1:" LINE "\n", false },
                { "0::/system.slice/jobrunner-starter.service\n", false },
                { "0::/system.slice/jobrunner-0123.service\n", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                cr_expect_eq(starter_peer_cgroup_has_line(cases[i].text, strlen(cases[i].text), LINE), cases[i].has,
                             "'%s'", cases[i].text);
        /* Only the length given counts. */
        cr_expect(!starter_peer_cgroup_has_line(LINE, strlen(LINE) - 1, LINE));
        cr_expect(!starter_peer_cgroup_has_line("x\n" LINE, 2, LINE));
}

static void write_file(const char *path, const char *text, size_t len) {
        FILE *f = fopen(path, "we");

        cr_assert_not_null(f, "%s: %m", path);
        cr_assert_eq(fwrite(text, 1, len, f), len);
        cr_assert_eq(fclose(f), 0);
}

Test(starter_peer, proc_root, .fini = abort_on_leaks) {
        char root[] = "/tmp/jr-test-starter-peer.XXXXXX", dir[64], file[96];
        _cleanup_free_ char *big = malloc(STARTER_PEER_CGROUP_MAX + 1);
        jr_error e = {};

        cr_assert_not_null(mkdtemp(root));
        snprintf(dir, sizeof dir, "%s/42", root);
        snprintf(file, sizeof file, "%s/cgroup", dir);
        cr_assert_eq(mkdir(dir, 0700), 0);

        cr_expect_eq(starter_peer_check_cgroup(root, 42, 1000, LINE, &e), -ESRCH);
        cr_expect_str_eq(e.message, "peer pid 42 uid 1000: the process is gone");
        write_file(file, LINE "\n", strlen(LINE "\n"));
        cr_expect_eq(starter_peer_check_cgroup(root, 42, 1000, LINE, &e), 0, "%s", e.message);
        write_file(file, "0::/user.slice\n", strlen("0::/user.slice\n"));
        cr_expect_eq(starter_peer_check_cgroup(root, 42, 1000, LINE, &e), -EPERM);
        cr_expect_str_eq(e.message, "peer pid 42 uid 1000: not in the cgroup of \"" LINE "\"");

        /* At the bound it is read; past it, refused. */
        cr_assert_not_null(big);
        memset(big, '\n', STARTER_PEER_CGROUP_MAX + 1);
        memcpy(big + STARTER_PEER_CGROUP_MAX - strlen(LINE), LINE, strlen(LINE));
        write_file(file, big, STARTER_PEER_CGROUP_MAX);
        cr_expect_eq(starter_peer_check_cgroup(root, 42, 1000, LINE, &e), 0, "%s", e.message);
        write_file(file, big, STARTER_PEER_CGROUP_MAX + 1);
        cr_expect_eq(starter_peer_check_cgroup(root, 42, 1000, LINE, &e), -EFBIG);

        cr_assert_eq(unlink(file), 0);
        cr_assert_eq(rmdir(dir), 0);
        cr_assert_eq(rmdir(root), 0);
}

/* The test's own connection: its uid and cgroup pass, another uid does not. */
Test(starter_peer, own_socket, .fini = abort_on_leaks) {
        _cleanup_close_pair_ int pair[2] = { -EBADF, -EBADF };
        jr_error e = {};

        read_own_cgroup();
        cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
        cr_expect_eq(starter_peer_check(pair[0], getuid(), own_cgroup, &e), 0, "%s", e.message);
        cr_expect_eq(starter_peer_check(pair[0], getuid() + 1, own_cgroup, &e), -EPERM);
        cr_expect_eq(strstr(e.message, ": not uid ") != NULL, true, "%s", e.message);
        cr_expect_eq(starter_peer_check(pair[0], getuid(), "0::/nowhere", &e), -EPERM);
}
