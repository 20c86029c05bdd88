/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A StartUnitRequest as jobrunner-starter receives it from jobrunnerd,
 * which it does not trust: the packet's bytes and the descriptors that
 * came with it, through starter_request_parse() (starter/request.c) under
 * one of a few administrator's policies.
 *
 * Input: a byte whose low four bits choose the policy and whose high four
 * the descriptors (mostly the two pipe write ends the protocol wants,
 * sometimes something else), then the message.
 *
 * What it accepts must be what the starter may start: a valid job id, a
 * spec that validates again, a named user only if the policy lists it,
 * every cap and isolation switch of the policy kept (checked here on their
 * own, not by the code under test), and the two pipe write ends given.  A
 * refusal says why, with a documented errno, and leaves the result alone.
 * Everything opened here is closed, so that every input runs the same. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "convert.h"
#include "fuzz.h"
#include "macro.h"
#include "request.h"
#include "starter.pb-c.h"

/* The administrators' policies, compiled in: no files. */
static const char *const policies[] = {
        "",
        "RunAsUsers=root nobody builder\n",
        "MaxMemory=256M\nMaxTasks=100\nMaxCPUQuota=150%\n",
        "RunAsUsers=nobody\nAllowHostNetwork=no\nAllowNoPIDNamespace=no\nAllowNoPrivateMounts=no\n"
                "AllowNoPrivateTmp=no\n",
        "RunAsUsers=nobody builder\nMaxMemory=1G\nMaxTasks=4194304\nMaxCPUQuota=100000%\n"
                "AllowHostNetwork=no\nAllowNoPrivateTmp=no\n",
};

/* The descriptors that come with the message. */
typedef enum FdsKind {
        FDS_PIPES,              /* what jobrunnerd sends for the spec: stdout's and stderr's write
                                 * ends and a stdin pipe's read end, or a terminal's slave twice */
        FDS_READ_END,           /* stdout's read end instead */
        FDS_MEMFD,              /* a file instead of stderr's pipe */
        FDS_SOCKET,             /* a socket instead of stdout's pipe */
        FDS_ONE,
        FDS_THREE,
        FDS_NONE,
        _FDS_KIND_MAX,
} FdsKind;

/* Nine in sixteen inputs get the right descriptors, so that most reach
 * the end. */
static FdsKind fds_kind(uint8_t b) {
        unsigned k = b >> 4;

        return k < 9 ? FDS_PIPES : (FdsKind) ((k - 9) % (_FDS_KIND_MAX - 1) + 1);
}

typedef struct Fds {
        int out[2], err[2], in[2], other[2];
        int fds[3];
        size_t n;
} Fds;

/* What the spec in the message asks for, as jobrunnerd knows it. */
static void spec_wants(const uint8_t *data, size_t size, bool *ret_stdin, bool *ret_terminal) {
        Jobrunner__Starter__V1__StartUnitRequest *m = jobrunner__starter__v1__start_unit_request__unpack(NULL, size,
                                                                                                      data);

        *ret_stdin = m && m->spec && m->spec->stdin == JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_PIPE;
        *ret_terminal = m && m->spec && m->spec->terminal;
        if (m)
                jobrunner__starter__v1__start_unit_request__free_unpacked(m, NULL);
}

/* A terminal's slave in out[1] and err[1], its master in out[0]. */
static void open_terminal(Fds *f) {
        char name[64];

        f->out[0] = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        FUZZ_CHECK(f->out[0] >= 0 && grantpt(f->out[0]) == 0 && unlockpt(f->out[0]) == 0 &&
                   ptsname_r(f->out[0], name, sizeof name) == 0, "a pseudo-terminal: %m");
        f->out[1] = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        f->err[1] = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        FUZZ_CHECK(f->out[1] >= 0 && f->err[1] >= 0, "%s: %m", name);
}

static void fds_open(Fds *f, FdsKind kind, bool want_stdin, bool want_terminal) {
        *f = (Fds) { .out = { -EBADF, -EBADF }, .err = { -EBADF, -EBADF }, .in = { -EBADF, -EBADF },
                     .other = { -EBADF, -EBADF } };
        if (want_terminal && kind == FDS_PIPES)
                open_terminal(f);
        else
                FUZZ_CHECK(pipe2(f->out, O_CLOEXEC) == 0 && pipe2(f->err, O_CLOEXEC) == 0, "pipe2: %m");
        FUZZ_CHECK(pipe2(f->in, O_CLOEXEC) == 0, "pipe2: %m");
        f->fds[0] = f->out[1];
        f->fds[1] = f->err[1];
        f->fds[2] = f->err[1];
        f->n = 2;
        if (want_stdin && kind == FDS_PIPES) {
                f->fds[2] = f->in[0];
                f->n = 3;
        }

        switch (kind) {
        case FDS_PIPES:
                break;
        case FDS_READ_END:
                f->fds[0] = f->out[0];
                break;
        case FDS_MEMFD:
                f->other[0] = memfd_create("not-a-pipe", MFD_CLOEXEC);
                FUZZ_CHECK(f->other[0] >= 0, "memfd_create: %m");
                f->fds[1] = f->other[0];
                break;
        case FDS_SOCKET:
                FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, f->other) == 0, "socketpair: %m");
                f->fds[0] = f->other[0];
                break;
        case FDS_ONE:
                f->n = 1;
                break;
        case FDS_THREE:
                f->n = 3;
                break;
        case FDS_NONE:
                f->n = 0;
                break;
        default:
                FUZZ_CHECK(false, "descriptors %d", (int) kind);
        }
}

static void fds_close(Fds *f) {
        close_pairp(&f->out);
        close_pairp(&f->err);
        close_pairp(&f->in);
        close_pairp(&f->other);
}

static void load_policy(uint8_t b, StarterPolicy *ret) {
        const char *text = policies[(b & 0x0f) % ELEMENTSOF(policies)];
        _cleanup_fclose_ FILE *f = fuzz_open_input(text, strlen(text));
        jr_error e = {};

        FUZZ_CHECK(starter_policy_parse(f, STARTER_POLICY_PATH_DEFAULT, ret, &e) == 0, "policy: %s", e.message);
}

/* The policy's caps and switches, as the administrator means them. */
static void check_policy_kept(const StarterPolicy *p, const jr_spec *s) {
        bool memory_limited = s->memory_max != 0 && s->memory_max != JR_UNLIMITED;
        bool tasks_limited = s->tasks_max != 0 && s->tasks_max != JR_UNLIMITED;

        FUZZ_CHECK(!s->user || starter_policy_allows_user(p, s->user), "user %s is not listed", s->user);
        FUZZ_CHECK(p->max_memory == STARTER_NO_CAP || (memory_limited && s->memory_max <= p->max_memory),
                   "memory_max %" PRIu64 " under MaxMemory=%" PRIu64, s->memory_max, p->max_memory);
        FUZZ_CHECK(p->max_tasks == STARTER_NO_CAP || (tasks_limited && s->tasks_max <= p->max_tasks),
                   "tasks_max %" PRIu64 " under MaxTasks=%" PRIu64, s->tasks_max, p->max_tasks);
        FUZZ_CHECK(p->max_cpu_quota_percent == STARTER_NO_CAP ||
                   (s->cpu_quota_percent != 0 && s->cpu_quota_percent <= p->max_cpu_quota_percent),
                   "cpu_quota_percent %" PRIu32 " under MaxCPUQuota=%" PRIu64 "%%", s->cpu_quota_percent,
                   p->max_cpu_quota_percent);
        FUZZ_CHECK(p->allow_host_network || s->network != JR_NETWORK_HOST, "host network");
        FUZZ_CHECK(p->allow_no_pid_namespace || s->pid_namespace != JR_TOGGLE_OFF, "no PID namespace");
        FUZZ_CHECK(p->allow_no_private_mounts || s->private_mounts != JR_TOGGLE_OFF, "no private mounts");
        FUZZ_CHECK(p->allow_no_private_tmp || s->private_tmp != JR_TOGGLE_OFF, "no private /tmp");
}

/* As request.h lists them. */
static bool documented_error(int r) {
        switch (r) {
        case -EMSGSIZE:
        case -EBADMSG:
        case -EINVAL:
        case -E2BIG:
        case -EPERM:
        case -ENODEV:
        case -EBADF:
        case -ENOMEM:
                return true;
        default:
                return false;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(starter_policy_done) StarterPolicy policy = {};
        StarterRequest req, before;
        bool want_stdin, want_terminal;
        FdsKind kind;
        jr_error e = {};
        Fds f;
        int r;

        if (size < 1)
                return 0;
        kind = fds_kind(data[0]);
        load_policy(data[0], &policy);
        spec_wants(data + 1, size - 1, &want_stdin, &want_terminal);
        fds_open(&f, kind, want_stdin, want_terminal);

        memset(&req, 0xa5, sizeof req);
        before = req;
        r = starter_request_parse(data + 1, size - 1, f.fds, f.n, &policy, &req, &e);
        if (r < 0) {
                FUZZ_CHECK(e.error == r && e.message[0], "error %d without a message (e.error %d)", r, e.error);
                FUZZ_CHECK(documented_error(r), "undocumented error %d: %s", r, e.message);
                FUZZ_CHECK(memcmp(&req, &before, sizeof req) == 0, "the result was changed on error %d", r);
                FUZZ_CHECK(r != -EBADF || kind != FDS_PIPES, "the right descriptors refused: %s", e.message);
        } else {
                jr_validate_options options = { .allow_named_user = req.spec.user != NULL };
                jr_error e2 = {};

                FUZZ_CHECK(r == 0, "returned %d", r);
                FUZZ_CHECK(kind == FDS_PIPES, "descriptors of kind %d accepted", (int) kind);
                FUZZ_CHECK(req.stdout_fd == f.out[1] && req.stderr_fd == f.err[1], "not the descriptors given");
                FUZZ_CHECK(req.stdin_fd == (want_stdin ? f.in[0] : -EBADF), "not the stdin given");
                FUZZ_CHECK(req.spec.terminal == want_terminal, "terminal %d", req.spec.terminal);
                FUZZ_CHECK(convert_job_id_is_valid(req.job_id), "job id \"%.40s\"", req.job_id);
                FUZZ_CHECK(jr_spec_validate(&req.spec, &options, &e2) == 0, "the spec does not validate: %s",
                           e2.message);
                check_policy_kept(&policy, &req.spec);
                starter_request_done(&req);
        }

        fds_close(&f);
        return 0;
}
