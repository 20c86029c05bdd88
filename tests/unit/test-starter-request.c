/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What jobrunner-starter makes of a request from jobrunnerd
 * (starter/request.c): a valid one; bytes that are no request, or too
 * many; bad ids and specs; named users against RunAsUsers=; every cap and
 * isolation switch of the policy, refused above it and accepted at it; and
 * the descriptors that come with the request, which must be exactly the
 * write ends of two pipes. */

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "leak-check.h"
#include "macro.h"
#include "request.h"
#include "starter.pb-c.h"

#define S(x) ((char *) (x))
#define POLICY_PATH "/etc/jobrunner/starter.conf"
#define JOB_ID "0123456789abcdef0123456789abcdef"
#define GIB (UINT64_C(1) << 30)

/* The test's pipes: fds[] holds their write ends, as jobrunnerd sends
 * them. */
static int out_pipe[2] = { -EBADF, -EBADF }, err_pipe[2] = { -EBADF, -EBADF };
static int fds[2];

static void setup(void) {
        cr_assert_eq(pipe2(out_pipe, O_CLOEXEC), 0);
        cr_assert_eq(pipe2(err_pipe, O_CLOEXEC), 0);
        fds[0] = out_pipe[1];
        fds[1] = err_pipe[1];
}

static void teardown(void) {
        close_pairp(&out_pipe);
        close_pairp(&err_pipe);
        abort_on_leaks();
}

TestSuite(starter_request, .init = setup, .fini = teardown);

/* A request as jobrunnerd builds it: a minimal valid spec that tests
 * change before packing. */
typedef struct Request {
        char *argv[2];
        Jobrunner__V1__Limits limits;
        Jobrunner__V1__Isolation isolation;
        Jobrunner__V1__JobSpec spec;
        Jobrunner__Starter__V1__StartUnitRequest req;
        uint8_t *packed;
        size_t size;
} Request;

static void request_init(Request *r) {
        free(r->packed);
        *r = (Request) {
                .argv = { S("/bin/true"), S("--flag") },
                .limits = JOBRUNNER__V1__LIMITS__INIT,
                .isolation = JOBRUNNER__V1__ISOLATION__INIT,
                .spec = JOBRUNNER__V1__JOB_SPEC__INIT,
                .req = JOBRUNNER__STARTER__V1__START_UNIT_REQUEST__INIT,
        };
        r->spec.n_argv = 2;
        r->spec.argv = r->argv;
        r->spec.limits = &r->limits;
        r->spec.isolation = &r->isolation;
        r->req.job_id = S(JOB_ID);
        r->req.spec = &r->spec;
}

static void request_pack(Request *r) {
        free(r->packed);
        r->size = jobrunner__starter__v1__start_unit_request__get_packed_size(&r->req);
        r->packed = malloc(r->size ?: 1);
        cr_assert_not_null(r->packed);
        cr_assert_eq(jobrunner__starter__v1__start_unit_request__pack(&r->req, r->packed), r->size);
}

static void request_done(Request *r) {
        free(r->packed);
        r->packed = NULL;
}

static void policy_from(const char *text, StarterPolicy *p) {
        FILE *f = fmemopen((void *) text, strlen(text), "r");
        jr_error e = {};

        cr_assert_not_null(f);
        cr_assert_eq(starter_policy_parse(f, POLICY_PATH, p, &e), 0, "%s", e.message);
        fclose(f);
}

/* Parses r with the policy text and the test's two write ends. */
static int parse(Request *r, const char *policy_text, StarterRequest *ret, jr_error *e) {
        StarterPolicy p = {};
        int k;

        policy_from(policy_text, &p);
        request_pack(r);
        k = starter_request_parse(r->packed, r->size, fds, 2, &p, ret, e);
        starter_policy_done(&p);
        return k;
}

static void expect_accepted(Request *r, const char *policy_text) {
        StarterRequest got = {};
        jr_error e = {};

        cr_expect_eq(parse(r, policy_text, &got, &e), 0, "refused: %s", e.message);
        starter_request_done(&got);
}

/* Refused with error, a message that begins with says, and *ret
 * untouched. */
static void expect_refused(Request *r, const char *policy_text, int error, const char *says) {
        StarterRequest got, before;
        jr_error e = {};
        int k;

        memset(&got, 0x5a, sizeof got);
        before = got;
        k = parse(r, policy_text, &got, &e);
        cr_expect_eq(k, error, "%d, not %d: %s", k, error, e.message);
        cr_expect_eq(e.error, k);
        cr_expect_eq(strncmp(e.message, says, strlen(says)), 0, "'%s', not '%s...'", e.message, says);
        cr_expect_eq(memcmp(&got, &before, sizeof got), 0, "*ret was changed on failure");
}

/* ---- the message ---------------------------------------------------------- */

Test(starter_request, valid) {
        _cleanup_(request_done) Request r = {};
        StarterRequest got = {};
        jr_error e = {};

        request_init(&r);
        r.spec.working_directory = S("/srv");
        r.limits.memory_max_bytes = GIB;
        r.isolation.network = JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_HOST;
        cr_assert_eq(parse(&r, "", &got, &e), 0, "%s", e.message);
        cr_expect_str_eq(got.job_id, JOB_ID);
        cr_assert_not_null(got.spec.argv);
        cr_expect_str_eq(got.spec.argv[0], "/bin/true");
        cr_expect_str_eq(got.spec.argv[1], "--flag");
        cr_expect_null(got.spec.argv[2]);
        cr_expect_null(got.spec.env);
        cr_expect_str_eq(got.spec.working_directory, "/srv");
        cr_expect_null(got.spec.user);
        cr_expect_eq(got.spec.memory_max, GIB);
        cr_expect_eq(got.spec.network, JR_NETWORK_HOST);
        /* Borrowed: the very descriptors, still the caller's. */
        cr_expect_eq(got.stdout_fd, out_pipe[1]);
        cr_expect_eq(got.stderr_fd, err_pipe[1]);
        starter_request_done(&got);
        cr_expect_eq(got.stdout_fd, -EBADF);
        cr_expect_null(got.spec.argv);
        cr_expect_geq(fcntl(out_pipe[1], F_GETFD), 0, "starter_request_done() closed stdout");
        cr_expect_geq(fcntl(err_pipe[1], F_GETFD), 0, "starter_request_done() closed stderr");
}

/* protobuf-c skips what it does not know; so does the starter. */
Test(starter_request, unknown_field) {
        _cleanup_(request_done) Request r = {};
        _cleanup_free_ uint8_t *more = NULL;
        StarterPolicy p = {};
        StarterRequest got = {};
        jr_error e = {};

        request_init(&r);
        request_pack(&r);
        more = malloc(r.size + 2);
        cr_assert_not_null(more);
        memcpy(more, r.packed, r.size);
        more[r.size] = 15 << 3;         /* field 15, varint */
        more[r.size + 1] = 1;
        policy_from("", &p);
        cr_expect_eq(starter_request_parse(more, r.size + 2, fds, 2, &p, &got, &e), 0, "%s", e.message);
        starter_request_done(&got);
        starter_policy_done(&p);
}

Test(starter_request, garbage) {
        static const uint8_t bytes[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00 };
        StarterPolicy p = {};
        StarterRequest got = {};
        jr_error e = {};

        policy_from("", &p);
        cr_expect_eq(starter_request_parse(bytes, sizeof bytes, fds, 2, &p, &got, &e), -EBADMSG);
        cr_expect_str_eq(e.message, "not a StartUnitRequest message");
        /* A spec field whose length runs past the end. */
        cr_expect_eq(starter_request_parse("\x12\x10\x0a\x01/", 5, fds, 2, &p, &got, &e), -EBADMSG);
        /* Nothing at all: a message without an id. */
        cr_expect_eq(starter_request_parse(NULL, 0, fds, 2, &p, &got, &e), -EINVAL);
        cr_expect_str_eq(e.message, "job_id \"\": not a job id (32 lowercase hex digits)");
        starter_policy_done(&p);
}

Test(starter_request, oversize) {
        _cleanup_free_ uint8_t *zeros = calloc(1, STARTER_REQUEST_MAX_BYTES + 1);
        StarterPolicy p = {};
        StarterRequest got = {};
        jr_error e = {};

        cr_assert_not_null(zeros);
        policy_from("", &p);
        cr_expect_eq(starter_request_parse(zeros, STARTER_REQUEST_MAX_BYTES + 1, fds, 2, &p, &got, &e), -EMSGSIZE);
        cr_expect_eq(strncmp(e.message, "the request is ", strlen("the request is ")), 0, "%s", e.message);
        /* At the limit it is read (and zeros are no message). */
        cr_expect_eq(starter_request_parse(zeros, STARTER_REQUEST_MAX_BYTES, fds, 2, &p, &got, &e), -EBADMSG);
        starter_policy_done(&p);
}

Test(starter_request, bad_job_id) {
        static const char *const ids[] = {
                "", "0123", JOB_ID "0", "0123456789ABCDEF0123456789abcdef", "0123456789abcdef0123456789abcdeg",
                "../../../etc/passwd0123456789abc", "0123456789abcdef0123456789abcde\n",
        };

        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                _cleanup_(request_done) Request r = {};

                request_init(&r);
                r.req.job_id = S(ids[i]);
                expect_refused(&r, "", -EINVAL, "job_id \"");
        }
}

Test(starter_request, bad_job_id_is_quoted) {
        _cleanup_(request_done) Request r = {};
        StarterRequest got = {};
        jr_error e = {};

        request_init(&r);
        r.req.job_id = S("\x1b[31mred\"\\\xc3\xa9");
        cr_expect_eq(parse(&r, "", &got, &e), -EINVAL);
        cr_expect_str_eq(e.message, "job_id \"\\x1b[31mred\\x22\\x5c\\xc3\\xa9\": not a job id (32 lowercase hex digits)");
}

/* ---- the spec ------------------------------------------------------------- */

Test(starter_request, spec_refused) {
        _cleanup_(request_done) Request r = {};

        request_init(&r);
        r.req.spec = NULL;
        expect_refused(&r, "", -EINVAL, "spec: missing");

        /* convert_spec_from_proto()'s */
        request_init(&r);
        r.isolation.network = 7;
        expect_refused(&r, "", -EINVAL, "isolation.network: unknown NetworkMode value 7");

        /* jr_spec_validate()'s */
        request_init(&r);
        r.argv[0] = S("bin/true");
        expect_refused(&r, "", -EINVAL, "argv[0] \"bin/true\": must be an absolute path");
        request_init(&r);
        r.limits.cpu_weight = 10001;
        expect_refused(&r, "", -EINVAL, "cpu_weight 10001: must be at most 10000");
        /* A dynamic user always has its private /tmp, whatever the policy
         * allows. */
        request_init(&r);
        r.isolation.private_tmp = JOBRUNNER__V1__TOGGLE__TOGGLE_OFF;
        expect_refused(&r, "", -EINVAL, "private_tmp off: not possible with a dynamic user");
}

/* ---- named users ---------------------------------------------------------- */

Test(starter_request, root_only_when_listed) {
        _cleanup_(request_done) Request r = {};
        StarterRequest got = {};
        jr_error e = {};

        request_init(&r);
        r.spec.user = S("root");
        expect_refused(&r, "", -EPERM,
                       "user \"root\": not allowed by the administrator (RunAsUsers= in " POLICY_PATH
                       " does not list it)");
        expect_refused(&r, "RunAsUsers=rooter builder\n", -EPERM, "user \"root\": not allowed");

        cr_assert_eq(parse(&r, "RunAsUsers=builder root\n", &got, &e), 0, "%s", e.message);
        cr_expect_str_eq(got.spec.user, "root");
        starter_request_done(&got);
}

Test(starter_request, user_not_listed) {
        _cleanup_(request_done) Request r = {};

        request_init(&r);
        r.spec.user = S("mallory");
        expect_refused(&r, "RunAsUsers=builder root\n", -EPERM,
                       "user \"mallory\": not allowed by the administrator (RunAsUsers= in " POLICY_PATH);
        /* Names are not patterns, nor numbers. */
        r.spec.user = S("0");
        expect_refused(&r, "RunAsUsers=root\n", -EPERM, "user \"0\": not allowed");
        r.spec.user = S("buil*");
        expect_refused(&r, "RunAsUsers=builder\n", -EPERM, "user \"buil*\": not allowed");
        r.spec.user = S("builder\n");
        expect_refused(&r, "RunAsUsers=builder\n", -EPERM, "user \"builder\\x0a\": not allowed");
}

/* A listed user may turn off what a dynamic user cannot, unless the policy
 * says otherwise (below). */
Test(starter_request, listed_user_without_private_tmp) {
        _cleanup_(request_done) Request r = {};

        request_init(&r);
        r.spec.user = S("builder");
        r.isolation.private_tmp = JOBRUNNER__V1__TOGGLE__TOGGLE_OFF;
        r.isolation.private_mounts = JOBRUNNER__V1__TOGGLE__TOGGLE_OFF;
        expect_accepted(&r, "RunAsUsers=builder\n");
}

/* ---- the policy's caps and switches ---------------------------------------- */

Test(starter_request, max_memory) {
        static const char policy[] = "MaxMemory=4G\n";
        _cleanup_(request_done) Request r = {};

        request_init(&r);
        r.limits.memory_max_bytes = 8 * GIB;
        expect_refused(&r, policy, -EPERM,
                       "memory_max 8G is above the administrator's MaxMemory=4G in " POLICY_PATH);
        r.limits.memory_max_bytes = 4 * GIB + 1;
        expect_refused(&r, policy, -EPERM, "memory_max 4294967297 is above the administrator's MaxMemory=4G");
        r.limits.memory_max_bytes = 4 * GIB;
        expect_accepted(&r, policy);
        r.limits.memory_max_bytes = 1u << 20;
        expect_accepted(&r, policy);
        /* No limit is above any. */
        r.limits.memory_max_bytes = 0;
        expect_refused(&r, policy, -EPERM,
                       "memory_max: no limit is above the administrator's MaxMemory=4G in " POLICY_PATH
                       ": ask for 4G or less");
        r.limits.memory_max_bytes = JR_UNLIMITED;
        expect_refused(&r, policy, -EPERM, "memory_max: no limit is above");
        r.spec.limits = NULL;
        expect_refused(&r, policy, -EPERM, "memory_max: no limit is above");
        /* Without a cap, anything the library takes. */
        expect_accepted(&r, "MaxMemory=infinity\n");
}

Test(starter_request, max_tasks) {
        static const char policy[] = "MaxTasks=100\n";
        _cleanup_(request_done) Request r = {};

        request_init(&r);
        r.limits.tasks_max = 101;
        expect_refused(&r, policy, -EPERM, "tasks_max 101 is above the administrator's MaxTasks=100 in " POLICY_PATH);
        r.limits.tasks_max = 100;
        expect_accepted(&r, policy);
        r.limits.tasks_max = 0;
        expect_refused(&r, policy, -EPERM,
                       "tasks_max: systemd's default is above the administrator's MaxTasks=100 in " POLICY_PATH
                       ": ask for 100 or less");
        r.limits.tasks_max = JR_UNLIMITED;
        expect_refused(&r, policy, -EPERM, "tasks_max: no limit is above the administrator's MaxTasks=100");
        expect_accepted(&r, "");
}

Test(starter_request, max_cpu_quota) {
        static const char policy[] = "MaxCPUQuota=400%\n";
        _cleanup_(request_done) Request r = {};

        request_init(&r);
        r.limits.cpu_quota_percent = 401;
        expect_refused(&r, policy, -EPERM,
                       "cpu_quota_percent 401% is above the administrator's MaxCPUQuota=400% in " POLICY_PATH);
        r.limits.cpu_quota_percent = 400;
        expect_accepted(&r, policy);
        r.limits.cpu_quota_percent = 0;
        expect_refused(&r, policy, -EPERM,
                       "cpu_quota_percent: no quota is above the administrator's MaxCPUQuota=400% in " POLICY_PATH
                       ": ask for 400% or less");
}

Test(starter_request, host_network) {
        _cleanup_(request_done) Request r = {};

        request_init(&r);
        r.isolation.network = JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_HOST;
        expect_refused(&r, "AllowHostNetwork=no\n", -EPERM,
                       "network host: not allowed by the administrator (AllowHostNetwork=no in " POLICY_PATH ")");
        expect_accepted(&r, "AllowHostNetwork=yes\n");
        expect_accepted(&r, "");
        r.isolation.network = JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_NONE;
        expect_accepted(&r, "AllowHostNetwork=no\n");
        r.isolation.network = JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_UNSPECIFIED;
        expect_accepted(&r, "AllowHostNetwork=no\n");
}

Test(starter_request, isolation_switches) {
        static const char all_no[] = "RunAsUsers=builder\nAllowNoPIDNamespace=no\nAllowNoPrivateMounts=no\n"
                "AllowNoPrivateTmp=no\n";
        _cleanup_(request_done) Request r = {};

        request_init(&r);
        r.spec.user = S("builder");
        r.isolation.pid_namespace = JOBRUNNER__V1__TOGGLE__TOGGLE_OFF;
        expect_refused(&r, all_no, -EPERM,
                       "pid_namespace off: not allowed by the administrator (AllowNoPIDNamespace=no in " POLICY_PATH
                       ")");
        expect_accepted(&r, "RunAsUsers=builder\n");

        request_init(&r);
        r.spec.user = S("builder");
        r.isolation.private_mounts = JOBRUNNER__V1__TOGGLE__TOGGLE_OFF;
        expect_refused(&r, all_no, -EPERM,
                       "private_mounts off: not allowed by the administrator (AllowNoPrivateMounts=no in "
                       POLICY_PATH ")");
        expect_accepted(&r, "RunAsUsers=builder\n");

        request_init(&r);
        r.spec.user = S("builder");
        r.isolation.private_tmp = JOBRUNNER__V1__TOGGLE__TOGGLE_OFF;
        expect_refused(&r, all_no, -EPERM,
                       "private_tmp off: not allowed by the administrator (AllowNoPrivateTmp=no in " POLICY_PATH ")");
        expect_accepted(&r, "RunAsUsers=builder\n");

        /* Turned on, or left to the default: nothing to allow. */
        request_init(&r);
        r.spec.user = S("builder");
        r.isolation.pid_namespace = JOBRUNNER__V1__TOGGLE__TOGGLE_ON;
        r.isolation.private_mounts = JOBRUNNER__V1__TOGGLE__TOGGLE_ON;
        expect_accepted(&r, all_no);
}

/* ---- the descriptors ------------------------------------------------------ */

/* The request r with these descriptors. */
static int parse_fds(Request *r, const int *with, size_t n, jr_error *e) {
        StarterPolicy p = {};
        StarterRequest got = {};
        int k;

        policy_from("", &p);
        request_pack(r);
        k = starter_request_parse(r->packed, r->size, with, n, &p, &got, e);
        starter_policy_done(&p);
        if (k == 0)
                starter_request_done(&got);
        return k;
}

Test(starter_request, fd_count) {
        _cleanup_(request_done) Request r = {};
        int three[3] = { out_pipe[1], err_pipe[1], err_pipe[1] };
        jr_error e = {};

        request_init(&r);
        cr_expect_eq(parse_fds(&r, NULL, 0, &e), -EBADF);
        cr_expect_str_eq(e.message, "0 file descriptors came with the request, not 2: the job's stdout and stderr");
        cr_expect_eq(parse_fds(&r, fds, 1, &e), -EBADF);
        cr_expect_eq(strncmp(e.message, "1 file descriptors came", 23), 0, "%s", e.message);
        cr_expect_eq(parse_fds(&r, three, 3, &e), -EBADF);
        cr_expect_eq(strncmp(e.message, "3 file descriptors came", 23), 0, "%s", e.message);
        cr_expect_eq(parse_fds(&r, NULL, 2, &e), -EBADF);
        cr_expect_eq(parse_fds(&r, fds, 2, &e), 0, "%s", e.message);
}

Test(starter_request, read_end) {
        _cleanup_(request_done) Request r = {};
        jr_error e = {};

        request_init(&r);
        cr_expect_eq(parse_fds(&r, (int[]) { out_pipe[0], err_pipe[1] }, 2, &e), -EBADF);
        cr_expect_str_eq(e.message, "stdout: the read end of a pipe, not its write end");
        cr_expect_eq(parse_fds(&r, (int[]) { out_pipe[1], err_pipe[0] }, 2, &e), -EBADF);
        cr_expect_str_eq(e.message, "stderr: the read end of a pipe, not its write end");
}

Test(starter_request, pipe_reopened) {
        _cleanup_(request_done) Request r = {};
        _cleanup_close_ int rdwr = -EBADF, path = -EBADF;
        char proc[64];
        jr_error e = {};

        request_init(&r);
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", out_pipe[1]);
        rdwr = open(proc, O_RDWR | O_CLOEXEC);
        cr_assert_geq(rdwr, 0, "%s: %m", proc);
        cr_expect_eq(parse_fds(&r, (int[]) { rdwr, err_pipe[1] }, 2, &e), -EBADF);
        cr_expect_str_eq(e.message, "stdout: a pipe opened for reading and writing, not its write end");

        path = open(proc, O_PATH | O_CLOEXEC);
        cr_assert_geq(path, 0, "%s: %m", proc);
        cr_expect_eq(parse_fds(&r, (int[]) { out_pipe[1], path }, 2, &e), -EBADF);
        cr_expect_str_eq(e.message, "stderr: an O_PATH descriptor of a pipe, not its write end");
}

Test(starter_request, not_a_pipe) {
        _cleanup_(request_done) Request r = {};
        _cleanup_close_pair_ int sockets[2] = { -EBADF, -EBADF };
        _cleanup_close_ int file = -EBADF, null = -EBADF;
        char name[] = "/tmp/jr-test-starter-request.XXXXXX";
        jr_error e = {};

        request_init(&r);
        file = mkostemp(name, O_CLOEXEC);
        cr_assert_geq(file, 0);
        (void) unlink(name);
        cr_expect_eq(parse_fds(&r, (int[]) { file, err_pipe[1] }, 2, &e), -EBADF);
        cr_expect_str_eq(e.message, "stdout: a regular file, not a pipe");

        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets), 0);
        cr_expect_eq(parse_fds(&r, (int[]) { out_pipe[1], sockets[0] }, 2, &e), -EBADF);
        cr_expect_str_eq(e.message, "stderr: a socket, not a pipe");

        null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        cr_assert_geq(null, 0);
        cr_expect_eq(parse_fds(&r, (int[]) { null, err_pipe[1] }, 2, &e), -EBADF);
        cr_expect_str_eq(e.message, "stdout: a character device, not a pipe");

        cr_expect_eq(parse_fds(&r, (int[]) { -1, err_pipe[1] }, 2, &e), -EBADF);
        cr_expect_eq(strncmp(e.message, "stdout: file descriptor -1 is not open", 38), 0, "%s", e.message);
}

/* The checks run in the documented order: a bad spec is reported, not the
 * descriptors. */
Test(starter_request, spec_before_fds) {
        _cleanup_(request_done) Request r = {};
        jr_error e = {};

        request_init(&r);
        r.argv[0] = S("true");
        cr_expect_eq(parse_fds(&r, NULL, 0, &e), -EINVAL);
        cr_expect_eq(strncmp(e.message, "argv[0]", 7), 0, "%s", e.message);
}

/* ---- a stdin pipe and a terminal ------------------------------------------ */

Test(starter_request, stdin_pipe) {
        _cleanup_(request_done) Request r = {};
        _cleanup_close_pair_ int in[2] = { -EBADF, -EBADF };
        jr_error e = {};

        cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
        request_init(&r);
        r.spec.stdin = JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_PIPE;
        cr_expect_eq(parse_fds(&r, (int[]) { out_pipe[1], err_pipe[1], in[0] }, 3, &e), 0, "%s", e.message);
        /* The read end, and only with a stdin pipe. */
        cr_expect_eq(parse_fds(&r, (int[]) { out_pipe[1], err_pipe[1], in[1] }, 3, &e), -EBADF);
        cr_expect_str_eq(e.message, "stdin: the write end of a pipe, not its read end");
        cr_expect_eq(parse_fds(&r, fds, 2, &e), -EBADF);
        cr_expect_str_eq(e.message, "2 file descriptors came with the request, not 3: the job's stdout and stderr "
                         "and the read end of its stdin pipe");
        r.spec.stdin = JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_NULL;
        cr_expect_eq(parse_fds(&r, (int[]) { out_pipe[1], err_pipe[1], in[0] }, 3, &e), -EBADF);
}

Test(starter_request, terminal) {
        _cleanup_(request_done) Request r = {};
        _cleanup_close_ int master = -EBADF, slave = -EBADF, slave2 = -EBADF, other_master = -EBADF,
                other_slave = -EBADF, slave_ro = -EBADF, null = -EBADF;
        char name[64];
        jr_error e = {};

        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        cr_assert_geq(master, 0);
        cr_assert_eq(grantpt(master), 0);
        cr_assert_eq(unlockpt(master), 0);
        cr_assert_eq(ptsname_r(master, name, sizeof name), 0);
        slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        slave2 = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        slave_ro = open(name, O_RDONLY | O_NOCTTY | O_CLOEXEC);
        cr_assert(slave >= 0 && slave2 >= 0 && slave_ro >= 0);
        other_master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        cr_assert_geq(other_master, 0);
        cr_assert_eq(grantpt(other_master), 0);
        cr_assert_eq(unlockpt(other_master), 0);
        cr_assert_eq(ptsname_r(other_master, name, sizeof name), 0);
        other_slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        cr_assert_geq(other_slave, 0);
        null = open("/dev/null", O_RDWR | O_CLOEXEC);
        cr_assert_geq(null, 0);

        request_init(&r);
        r.spec.terminal = true;
        /* One slave, through two descriptors. */
        cr_expect_eq(parse_fds(&r, (int[]) { slave, slave2 }, 2, &e), 0, "%s", e.message);
        cr_expect_eq(parse_fds(&r, (int[]) { slave, slave }, 2, &e), 0, "%s", e.message);
        cr_expect_eq(parse_fds(&r, (int[]) { slave, other_slave }, 2, &e), -EBADF);
        cr_expect_str_eq(e.message, "terminal: stdout and stderr are not the same terminal");
        cr_expect_eq(parse_fds(&r, (int[]) { master, master }, 2, &e), -EBADF);
        cr_expect_str_eq(e.message, "terminal: a character device of another kind, not a pseudo-terminal's slave");
        cr_expect_eq(parse_fds(&r, (int[]) { null, null }, 2, &e), -EBADF);
        cr_expect_eq(parse_fds(&r, (int[]) { out_pipe[1], err_pipe[1] }, 2, &e), -EBADF);
        cr_expect_str_eq(e.message, "terminal: a pipe, not a pseudo-terminal's slave");
        cr_expect_eq(parse_fds(&r, (int[]) { slave, slave_ro }, 2, &e), -EBADF);
        cr_expect_str_eq(e.message, "terminal: not opened for reading and writing");
        /* And a terminal is no pipe for a job without one. */
        r.spec.terminal = false;
        cr_expect_eq(parse_fds(&r, (int[]) { slave, slave2 }, 2, &e), -EBADF);
        cr_expect_str_eq(e.message, "stdout: a character device, not a pipe");
}
