/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/convert.c: the protobuf-c messages <-> libjobrunner types.  Run
 * under ASan (-Dsanitizers=true), which also catches leaks and bad frees of
 * the status tree. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "daemon-config.h"
#include "macro.h"

#define S(x) ((char *) (x))

#include "leak-check.h"
TestSuite(convert, .fini = abort_on_leaks);

/* ---- convert_spec_from_proto ------------------------------------------------ */

/* A request with every field set, built from literals as protobuf-c would
 * hand it to us. */
typedef struct FullSpec {
        char *argv[3], *env[2];
        Jobrunner__V1__IoDeviceLimit io[2];
        Jobrunner__V1__IoDeviceLimit *iop[2];
        Jobrunner__V1__Limits limits;
        Jobrunner__V1__Isolation isolation;
        Jobrunner__V1__JobSpec spec;
} FullSpec;

static void full_spec_init(FullSpec *f) {
        *f = (FullSpec) {
                .argv = { S("/bin/echo"), S("héllo wörld"), S("") },
                .env = { S("A=1"), S("TAB=a\tb") },
                .io = { JOBRUNNER__V1__IO_DEVICE_LIMIT__INIT, JOBRUNNER__V1__IO_DEVICE_LIMIT__INIT },
                .limits = JOBRUNNER__V1__LIMITS__INIT,
                .isolation = JOBRUNNER__V1__ISOLATION__INIT,
                .spec = JOBRUNNER__V1__JOB_SPEC__INIT,
        };
        f->io[0].device = S("/dev/vda");
        f->io[0].read_bytes_per_second = 1000;
        f->io[1].device = S("/dev/vdb");
        f->io[1].write_bytes_per_second = 2000;
        f->iop[0] = &f->io[0];
        f->iop[1] = &f->io[1];

        f->limits.cpu_quota_percent = 150;
        f->limits.cpu_weight = 200;
        f->limits.memory_max_bytes = UINT64_C(256) << 20;
        f->limits.io_weight = 300;
        f->limits.n_io_device_limits = 2;
        f->limits.io_device_limits = f->iop;
        f->limits.tasks_max = 64;

        f->isolation.network = JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_HOST;
        f->isolation.pid_namespace = JOBRUNNER__V1__TOGGLE__TOGGLE_OFF;
        f->isolation.private_mounts = JOBRUNNER__V1__TOGGLE__TOGGLE_ON;
        f->isolation.private_tmp = JOBRUNNER__V1__TOGGLE__TOGGLE_UNSPECIFIED;

        f->spec.n_argv = 3;
        f->spec.argv = f->argv;
        f->spec.n_env = 2;
        f->spec.env = f->env;
        f->spec.working_directory = S("/srv/work");
        f->spec.user = S("nobody");
        f->spec.limits = &f->limits;
        f->spec.isolation = &f->isolation;
        f->spec.stdin = JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_PIPE;
}

/* Packs m and unpacks it again, as the wire would. */
static ProtobufCMessage *through_the_wire(const ProtobufCMessage *m) {
        size_t n = protobuf_c_message_get_packed_size(m);
        _cleanup_free_ uint8_t *buf = malloc(n ? n : 1);
        ProtobufCMessage *back;

        cr_assert_not_null(buf);
        cr_assert_eq(protobuf_c_message_pack(m, buf), n);
        back = protobuf_c_message_unpack(m->descriptor, NULL, n, buf);
        cr_assert_not_null(back);
        return back;
}

static void expect_specs_equal(const Jobrunner__V1__JobSpec *a, const Jobrunner__V1__JobSpec *b) {
        cr_assert_eq(a->n_argv, b->n_argv);
        for (size_t i = 0; i < a->n_argv; i++)
                cr_expect_str_eq(a->argv[i], b->argv[i], "argv[%zu]", i);
        cr_assert_eq(a->n_env, b->n_env);
        for (size_t i = 0; i < a->n_env; i++)
                cr_expect_str_eq(a->env[i], b->env[i], "env[%zu]", i);
        cr_expect_str_eq(a->working_directory, b->working_directory);
        cr_expect_str_eq(a->user, b->user);

        cr_assert_eq(!a->limits, !b->limits);
        if (a->limits) {
                cr_expect_eq(a->limits->cpu_quota_percent, b->limits->cpu_quota_percent);
                cr_expect_eq(a->limits->cpu_weight, b->limits->cpu_weight);
                cr_expect_eq(a->limits->memory_max_bytes, b->limits->memory_max_bytes);
                cr_expect_eq(a->limits->io_weight, b->limits->io_weight);
                cr_expect_eq(a->limits->tasks_max, b->limits->tasks_max);
                cr_assert_eq(a->limits->n_io_device_limits, b->limits->n_io_device_limits);
                for (size_t i = 0; i < a->limits->n_io_device_limits; i++) {
                        const Jobrunner__V1__IoDeviceLimit *x = a->limits->io_device_limits[i],
                                                           *y = b->limits->io_device_limits[i];
                        cr_expect_str_eq(x->device, y->device);
                        cr_expect_eq(x->read_bytes_per_second, y->read_bytes_per_second);
                        cr_expect_eq(x->write_bytes_per_second, y->write_bytes_per_second);
                }
        }

        cr_expect_eq(a->stdin, b->stdin);
        cr_expect_eq(a->terminal, b->terminal);

        cr_assert_eq(!a->isolation, !b->isolation);
        if (a->isolation) {
                cr_expect_eq(a->isolation->network, b->isolation->network);
                cr_expect_eq(a->isolation->pid_namespace, b->isolation->pid_namespace);
                cr_expect_eq(a->isolation->private_mounts, b->isolation->private_mounts);
                cr_expect_eq(a->isolation->private_tmp, b->isolation->private_tmp);
        }
}

Test(convert, full_spec_from_proto) {
        _cleanup_(jr_spec_done) jr_spec spec = {};
        jr_error e = {};
        FullSpec f;

        full_spec_init(&f);
        cr_assert_eq(convert_spec_from_proto(&f.spec, &spec, &e), 0, "%s", e.message);

        cr_assert_not_null(spec.argv);
        cr_expect_str_eq(spec.argv[0], "/bin/echo");
        cr_expect_str_eq(spec.argv[1], "héllo wörld");
        cr_expect_str_eq(spec.argv[2], "");
        cr_expect_null(spec.argv[3]);
        cr_expect_neq(spec.argv[0], f.argv[0], "argv must be copied");
        cr_assert_not_null(spec.env);
        cr_expect_str_eq(spec.env[0], "A=1");
        cr_expect_str_eq(spec.env[1], "TAB=a\tb");
        cr_expect_null(spec.env[2]);
        cr_expect_str_eq(spec.working_directory, "/srv/work");
        cr_expect_str_eq(spec.user, "nobody");

        cr_expect_eq(spec.cpu_quota_percent, 150);
        cr_expect_eq(spec.cpu_weight, 200);
        cr_expect_eq(spec.memory_max, UINT64_C(256) << 20);
        cr_expect_eq(spec.io_weight, 300);
        cr_expect_eq(spec.tasks_max, 64);
        cr_assert_eq(spec.n_io_limits, 2);
        cr_expect_str_eq(spec.io_limits[0].device, "/dev/vda");
        cr_expect_eq(spec.io_limits[0].read_bps, 1000);
        cr_expect_eq(spec.io_limits[0].write_bps, 0);
        cr_expect_str_eq(spec.io_limits[1].device, "/dev/vdb");
        cr_expect_eq(spec.io_limits[1].read_bps, 0);
        cr_expect_eq(spec.io_limits[1].write_bps, 2000);

        cr_expect_eq(spec.network, JR_NETWORK_HOST);
        cr_expect_eq(spec.pid_namespace, JR_TOGGLE_OFF);
        cr_expect_eq(spec.private_mounts, JR_TOGGLE_ON);
        cr_expect_eq(spec.private_tmp, JR_TOGGLE_DEFAULT);
        cr_expect_eq(spec.stdin_mode, JR_STDIN_PIPE);
        cr_expect(!spec.terminal);
        cr_expect_eq(e.error, 0);
}

Test(convert, full_spec_round_trips_through_status) {
        _cleanup_(jr_spec_done) jr_spec spec = {};
        Jobrunner__V1__JobStatus *s = NULL;
        jr_status st = { .id = "0123456789abcdef0123456789abcdef", .state = JR_STATE_RUNNING };
        jr_error e = {};
        FullSpec f;

        full_spec_init(&f);
        cr_assert_eq(convert_spec_from_proto(&f.spec, &spec, &e), 0, "%s", e.message);
        st.spec = &spec;
        cr_assert_eq(convert_status_to_proto(&st, &s), 0);
        cr_assert_not_null(s->spec);
        expect_specs_equal(s->spec, &f.spec);
        convert_status_free(s);
}

/* What jobrunnerd sends jobrunner-starter: the starter must rebuild the very
 * spec the daemon validated. */
Test(convert, spec_round_trips_on_its_own) {
        _cleanup_(jr_spec_done) jr_spec spec = {}, again = {};
        Jobrunner__V1__JobSpec *out = NULL;
        jr_error e = {};
        FullSpec f;

        full_spec_init(&f);
        cr_assert_eq(convert_spec_from_proto(&f.spec, &spec, &e), 0, "%s", e.message);
        cr_assert_eq(convert_spec_to_proto(&spec, &out), 0);
        cr_assert(protobuf_c_message_check(&out->base));
        expect_specs_equal(out, &f.spec);
        cr_assert_eq(convert_spec_from_proto(out, &again, &e), 0, "%s", e.message);
        cr_expect_str_eq(again.argv[0], spec.argv[0]);
        cr_expect_eq(again.memory_max, spec.memory_max);
        cr_expect_eq(again.n_io_limits, spec.n_io_limits);
        cr_expect_eq(again.network, spec.network);
        cr_expect_eq(again.stdin_mode, JR_STDIN_PIPE);
        cr_expect(!again.terminal);
        convert_spec_proto_free(out);
}

/* A terminal job's spec reaches the starter as the daemon took it, through
 * the packed StartUnitRequest's JobSpec. */
Test(convert, terminal_round_trips_through_the_wire) {
        _cleanup_(jr_spec_done) jr_spec spec = {}, again = {};
        Jobrunner__V1__JobSpec *out = NULL, *back;
        jr_error e = {};
        FullSpec f;

        full_spec_init(&f);
        f.spec.stdin = JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_UNSPECIFIED;
        f.spec.terminal = true;
        cr_assert_eq(convert_spec_from_proto(&f.spec, &spec, &e), 0, "%s", e.message);
        cr_expect_eq(spec.stdin_mode, JR_STDIN_DEFAULT);
        cr_expect(spec.terminal);
        cr_assert_eq(convert_spec_to_proto(&spec, &out), 0);

        back = (Jobrunner__V1__JobSpec *) through_the_wire(&out->base);
        expect_specs_equal(back, &f.spec);
        cr_assert_eq(convert_spec_from_proto(back, &again, &e), 0, "%s", e.message);
        cr_expect(again.terminal);
        cr_expect_eq(again.stdin_mode, JR_STDIN_DEFAULT);
        jobrunner__v1__job_spec__free_unpacked(back, NULL);
        convert_spec_proto_free(out);
}

Test(convert, stdin_modes_both_ways) {
        static const struct {
                Jobrunner__V1__StdinMode proto;
                jr_stdin mode;
        } modes[] = {
                { JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_UNSPECIFIED, JR_STDIN_DEFAULT },
                { JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_NULL, JR_STDIN_NULL },
                { JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_PIPE, JR_STDIN_PIPE },
        };

        for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
                _cleanup_(jr_spec_done) jr_spec spec = {};
                Jobrunner__V1__JobSpec *out = NULL;
                jr_error e = {};
                FullSpec f;

                full_spec_init(&f);
                f.spec.stdin = modes[i].proto;
                cr_assert_eq(convert_spec_from_proto(&f.spec, &spec, &e), 0, "%s", e.message);
                cr_expect_eq(spec.stdin_mode, modes[i].mode);
                cr_assert_eq(convert_spec_to_proto(&spec, &out), 0);
                cr_expect_eq(out->stdin, modes[i].proto);
                cr_expect(!out->terminal);
                convert_spec_proto_free(out);
        }
}

Test(convert, spec_with_bad_stdin_mode_is_not_sent) {
        char *argv[] = { S("/bin/cat"), NULL };
        jr_spec spec = { .argv = argv, .stdin_mode = 9 };
        Jobrunner__V1__JobSpec *out = NULL;

        cr_expect_eq(convert_spec_to_proto(&spec, &out), -EINVAL);
        cr_expect_null(out);
}

Test(convert, round_trip_survives_the_wire) {
        _cleanup_(jr_spec_done) jr_spec spec = {};
        Jobrunner__V1__JobStatus *s = NULL, *back;
        jr_status st = { .id = "0123456789abcdef0123456789abcdef", .state = JR_STATE_EXITED };
        jr_error e = {};
        FullSpec f;

        full_spec_init(&f);
        cr_assert_eq(convert_spec_from_proto(&f.spec, &spec, &e), 0, "%s", e.message);
        st.spec = &spec;
        cr_assert_eq(convert_status_to_proto(&st, &s), 0);
        cr_assert(protobuf_c_message_check(&s->base));

        back = (Jobrunner__V1__JobStatus *) through_the_wire(&s->base);
        expect_specs_equal(back->spec, &f.spec);
        cr_expect_str_eq(back->id, "0123456789abcdef0123456789abcdef");
        jobrunner__v1__job_status__free_unpacked(back, NULL);
        convert_status_free(s);
}

Test(convert, minimal_spec_gets_defaults) {
        _cleanup_(jr_spec_done) jr_spec spec = {};
        char *argv[] = { S("/bin/true") };
        Jobrunner__V1__JobSpec in = JOBRUNNER__V1__JOB_SPEC__INIT;
        jr_error e = {};

        in.n_argv = 1;
        in.argv = argv;
        cr_assert_eq(convert_spec_from_proto(&in, &spec, &e), 0, "%s", e.message);
        cr_expect_str_eq(spec.argv[0], "/bin/true");
        cr_expect_null(spec.argv[1]);
        cr_expect_null(spec.env, "no env entries: NULL");
        cr_expect_null(spec.working_directory, "empty working_directory: NULL");
        cr_expect_null(spec.user, "empty user: NULL");
        cr_expect_eq(spec.cpu_quota_percent, 0);
        cr_expect_eq(spec.memory_max, 0);
        cr_expect_eq(spec.n_io_limits, 0);
        cr_expect_null(spec.io_limits);
        cr_expect_eq(spec.network, JR_NETWORK_DEFAULT);
        cr_expect_eq(spec.pid_namespace, JR_TOGGLE_DEFAULT);
        cr_expect_eq(spec.private_mounts, JR_TOGGLE_DEFAULT);
        cr_expect_eq(spec.private_tmp, JR_TOGGLE_DEFAULT);
}

Test(convert, empty_argv_is_left_to_validation) {
        _cleanup_(jr_spec_done) jr_spec spec = {};
        Jobrunner__V1__JobSpec in = JOBRUNNER__V1__JOB_SPEC__INIT;
        jr_error e = {};

        cr_assert_eq(convert_spec_from_proto(&in, &spec, &e), 0, "%s", e.message);
        cr_assert_not_null(spec.argv);
        cr_expect_null(spec.argv[0]);
        cr_expect_eq(jr_spec_validate(&spec, NULL, &e), -EINVAL);
        cr_expect_str_eq(e.message, "argv: must contain at least one entry");
}

/* Each bad field fails the whole conversion with a message naming it, and
 * leaves *ret as it was. */
typedef void (*spoil_t)(FullSpec *f);

static void expect_failure(spoil_t spoil, int error, const char *message) {
        jr_spec spec = { .cpu_weight = 4242 };
        jr_error e = {};
        FullSpec f;

        full_spec_init(&f);
        spoil(&f);
        cr_expect_eq(convert_spec_from_proto(&f.spec, &spec, &e), error, "expected %d for \"%s\"", error, message);
        cr_expect_eq(e.error, error);
        cr_expect_str_eq(e.message, message);
        cr_expect_eq(spec.cpu_weight, 4242, "*ret untouched");
        cr_expect_null(spec.argv, "*ret untouched");
}

static void bad_utf8_argv(FullSpec *f) {
        f->argv[2] = S("ab\xff");
}
static void overlong_argv(FullSpec *f) {
        f->argv[1] = S("\xc0\xaf");
}
static void surrogate_env(FullSpec *f) {
        f->env[0] = S("A=\xed\xa0\x80");
}
static void bad_working_directory(FullSpec *f) {
        f->spec.working_directory = S("/tmp/\xfe");
}
static void bad_user(FullSpec *f) {
        f->spec.user = S("\xef\xbf\xbe");     /* U+FFFE, a noncharacter */
}
static void bad_device(FullSpec *f) {
        f->io[1].device = S("/dev/\x80");
}

Test(convert, bad_strings_name_their_field) {
        expect_failure(bad_utf8_argv, -EINVAL, "argv[2]: not valid UTF-8 at byte 2");
        expect_failure(overlong_argv, -EINVAL, "argv[1]: not valid UTF-8 at byte 0");
        expect_failure(surrogate_env, -EINVAL, "env[0]: not valid UTF-8 at byte 2");
        expect_failure(bad_working_directory, -EINVAL, "working_directory: not valid UTF-8 at byte 5");
        expect_failure(bad_user, -EINVAL, "user: not valid UTF-8 at byte 0");
        expect_failure(bad_device, -EINVAL, "limits.io_device_limits[1].device: not valid UTF-8 at byte 5");
}

static char *long_string;

static void too_long_env(FullSpec *f) {
        f->env[1] = long_string;
}

Test(convert, too_long_string) {
        long_string = malloc(JR_STRING_MAX + 2);
        cr_assert_not_null(long_string);
        memset(long_string, 'x', JR_STRING_MAX + 1);
        long_string[0] = 'X';
        long_string[1] = '=';
        long_string[JR_STRING_MAX + 1] = 0;
        expect_failure(too_long_env, -E2BIG, "env[1]: longer than 131071 bytes (the kernel's MAX_ARG_STRLEN, with the NUL)");
        free(long_string);
}

static void bad_network(FullSpec *f) {
        f->isolation.network = 7;
}
static void bad_pid_namespace(FullSpec *f) {
        f->isolation.pid_namespace = 3;
}
static void bad_private_mounts(FullSpec *f) {
        f->isolation.private_mounts = -1;
}
static void bad_private_tmp(FullSpec *f) {
        f->isolation.private_tmp = 100;
}
static void bad_stdin(FullSpec *f) {
        f->spec.stdin = 3;
}
static void negative_stdin(FullSpec *f) {
        f->spec.stdin = -2;
}
static void terminal_with_pipe(FullSpec *f) {
        f->spec.terminal = true;
}
static void terminal_with_null(FullSpec *f) {
        f->spec.terminal = true;
        f->spec.stdin = JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_NULL;
}

Test(convert, unknown_enum_values) {
        expect_failure(bad_network, -EINVAL, "isolation.network: unknown NetworkMode value 7");
        expect_failure(bad_pid_namespace, -EINVAL, "isolation.pid_namespace: unknown Toggle value 3");
        expect_failure(bad_private_mounts, -EINVAL, "isolation.private_mounts: unknown Toggle value -1");
        expect_failure(bad_private_tmp, -EINVAL, "isolation.private_tmp: unknown Toggle value 100");
        expect_failure(bad_stdin, -EINVAL, "stdin: unknown StdinMode value 3");
        expect_failure(negative_stdin, -EINVAL, "stdin: unknown StdinMode value -2");
}

Test(convert, terminal_takes_no_stdin_mode) {
        expect_failure(terminal_with_pipe, -EINVAL,
                       "stdin with terminal: a terminal job's input is its terminal; leave stdin unset");
        expect_failure(terminal_with_null, -EINVAL,
                       "stdin with terminal: a terminal job's input is its terminal; leave stdin unset");
}

static void too_many_devices(FullSpec *f) {
        f->limits.n_io_device_limits = JR_IO_DEVICES_MAX + 1;
}
/* The counts are checked before the arrays are read. */
static void too_many_argv(FullSpec *f) {
        f->spec.n_argv = JR_EXEC_ENTRIES_MAX + 1;
        f->spec.n_env = 0;
}
static void too_many_argv_and_env(FullSpec *f) {
        f->spec.n_argv = JR_EXEC_ENTRIES_MAX - 1;
        f->spec.n_env = 2;
}
static void missing_device_entry(FullSpec *f) {
        f->iop[1] = NULL;
}

Test(convert, counts_and_holes) {
        expect_failure(too_many_devices, -E2BIG, "limits.io_device_limits: 65 entries, at most 64 devices");
        expect_failure(too_many_argv, -E2BIG, "argv and env: 231197 entries, more than execve() can take (231196: "
                                              "each string costs at least its NUL and an 8-byte pointer of the "
                                              "2080768 bytes it takes)");
        expect_failure(too_many_argv_and_env, -E2BIG, "argv and env: 231197 entries, more than execve() can take "
                                                      "(231196: each string costs at least its NUL and an 8-byte "
                                                      "pointer of the 2080768 bytes it takes)");
        expect_failure(missing_device_entry, -EINVAL, "limits.io_device_limits[1]: missing");
}

/* The largest specs the library takes, as StartRequests: gRPC's limit on
 * requests (DAEMON_MAX_REQUEST_BYTES_DEFAULT) must let them all through. */
static size_t start_request_size(char **argv, size_t n_argv, bool long_paths) {
        static char path[PATH_MAX], user[32];
        Jobrunner__V1__StartRequest req = JOBRUNNER__V1__START_REQUEST__INIT;
        Jobrunner__V1__IoDeviceLimit io[JR_IO_DEVICES_MAX], *iop[JR_IO_DEVICES_MAX];
        FullSpec f;

        full_spec_init(&f);
        f.spec.argv = argv;
        f.spec.n_argv = n_argv;
        f.spec.n_env = 0;
        memset(path, 'p', sizeof(path) - 1);
        path[0] = '/';
        memset(user, 'u', sizeof(user) - 1);
        if (long_paths) {
                for (size_t i = 0; i < JR_IO_DEVICES_MAX; i++) {
                        io[i] = (Jobrunner__V1__IoDeviceLimit) JOBRUNNER__V1__IO_DEVICE_LIMIT__INIT;
                        io[i].device = path;
                        io[i].read_bytes_per_second = io[i].write_bytes_per_second = UINT64_MAX;
                        iop[i] = &io[i];
                }
                f.limits.io_device_limits = iop;
                f.limits.n_io_device_limits = JR_IO_DEVICES_MAX;
                f.limits.memory_max_bytes = f.limits.tasks_max = UINT64_MAX;
                f.limits.cpu_quota_percent = f.limits.cpu_weight = f.limits.io_weight = UINT32_MAX;
                f.spec.working_directory = path;
                f.spec.user = user;
        }
        req.spec = &f.spec;
        return jobrunner__v1__start_request__get_packed_size(&req);
}

Test(convert, the_largest_specs_fit_in_a_request) {
        static char longest[JR_STRING_MAX + 1], rest[JR_STRING_MAX + 1];
        static char *argv[JR_EXEC_ENTRIES_MAX + 1];
        size_t exec = 0, n = 0, size;

        /* All the bytes execve() takes, in the longest strings. */
        memset(longest, 'x', JR_STRING_MAX);
        while (exec + JR_STRING_MAX + 1 + JR_EXEC_POINTER_SIZE <= JR_EXEC_BYTES_MAX) {
                argv[n++] = longest;
                exec += JR_STRING_MAX + 1 + JR_EXEC_POINTER_SIZE;
        }
        memset(rest, 'y', JR_EXEC_BYTES_MAX - exec - 1 - JR_EXEC_POINTER_SIZE);
        argv[n++] = rest;
        size = start_request_size(argv, n, true);
        cr_log_info("longest strings: %zu bytes", size);
        cr_assert_leq(size, DAEMON_MAX_REQUEST_BYTES_DEFAULT, "%zu", size);

        /* The most strings, empty. */
        for (n = 0; n < JR_EXEC_ENTRIES_MAX; n++)
                argv[n] = S("");
        size = start_request_size(argv, n, true);
        cr_log_info("most strings: %zu bytes", size);
        cr_assert_leq(size, DAEMON_MAX_REQUEST_BYTES_DEFAULT, "%zu", size);
}

Test(convert, empty_device_stays_a_string) {
        _cleanup_(jr_spec_done) jr_spec spec = {};
        jr_error e = {};
        FullSpec f;

        full_spec_init(&f);
        f.io[0].device = S("");
        cr_assert_eq(convert_spec_from_proto(&f.spec, &spec, &e), 0, "%s", e.message);
        cr_expect_str_eq(spec.io_limits[0].device, "");
}

Test(convert, missing_spec) {
        jr_spec spec = {};
        jr_error e = {};

        cr_expect_eq(convert_spec_from_proto(NULL, &spec, &e), -EINVAL);
        cr_expect_str_eq(e.message, "spec: missing");
}

/* ---- convert_status_to_proto ---------------------------------------------- */

Test(convert, status_with_every_field) {
        char *argv[] = { S("/usr/bin/sleep"), S("10"), NULL };
        jr_io_limit io = { .device = S("/dev/sda"), .read_bps = 5, .write_bps = 6 };
        jr_spec spec = {
                .argv = argv,
                .working_directory = S("/"),
                .memory_max = JR_UNLIMITED,
                .io_limits = &io,
                .n_io_limits = 1,
                .network = JR_NETWORK_NONE,
                .private_tmp = JR_TOGGLE_OFF,
        };
        jr_status st = {
                .id = "00112233445566778899aabbccddeeff",
                .owner = "alice",
                .unit = "jobrunner-00112233445566778899aabbccddeeff.service",
                .spec = &spec,
                .state = JR_STATE_STOPPED,
                .exit_code = 0,
                .signal = SIGKILL,
                .oom_killed = true,
                .stopped_by = "bob",
                .killed_after_grace = true,
                .failure_reason = "not really",
                .start_time_us = UINT64_C(1700000000000000),
                .end_time_us = UINT64_C(1700000001000000),
                .usage = { 1, 2, 3, 4, 5, 6 },
                .stdout_bytes = UINT64_C(5000000000),
                .stderr_bytes = 7,
                .output_truncated = true,
                .followers = 3,
        };
        Jobrunner__V1__JobStatus *s = NULL;

        cr_assert_eq(convert_status_to_proto(&st, &s), 0);
        cr_expect_str_eq(s->id, "00112233445566778899aabbccddeeff");
        cr_expect_str_eq(s->owner, "alice");
        cr_expect_str_eq(s->unit_name, "jobrunner-00112233445566778899aabbccddeeff.service");
        cr_expect_eq(s->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED);
        cr_expect_eq(s->exit_code, 0);
        cr_expect_eq(s->signal, 9);
        cr_expect_str_eq(s->signal_name, "SIGKILL");
        cr_expect(s->oom_killed);
        cr_expect_str_eq(s->stopped_by, "bob");
        cr_expect(s->killed_after_grace);
        cr_expect_str_eq(s->failure_reason, "not really");
        cr_expect_eq(s->start_time_us, INT64_C(1700000000000000));
        cr_expect_eq(s->end_time_us, INT64_C(1700000001000000));
        cr_assert_not_null(s->usage);
        cr_expect_eq(s->usage->cpu_usage_ns, 1);
        cr_expect_eq(s->usage->memory_current_bytes, 2);
        cr_expect_eq(s->usage->memory_peak_bytes, 3);
        cr_expect_eq(s->usage->io_read_bytes, 4);
        cr_expect_eq(s->usage->io_write_bytes, 5);
        cr_expect_eq(s->usage->tasks_current, 6);
        cr_expect_eq(s->stdout_bytes, UINT64_C(5000000000));
        cr_expect_eq(s->stderr_bytes, 7);
        cr_expect(s->output_truncated);
        cr_expect_eq(s->followers, 3);

        cr_assert_not_null(s->spec);
        cr_assert_eq(s->spec->n_argv, 2);
        cr_expect_str_eq(s->spec->argv[0], "/usr/bin/sleep");
        cr_expect_str_eq(s->spec->argv[1], "10");
        cr_expect_eq(s->spec->n_env, 0);
        cr_expect_str_eq(s->spec->working_directory, "/");
        cr_expect_str_eq(s->spec->user, "");
        cr_assert_not_null(s->spec->limits);
        cr_expect_eq(s->spec->limits->memory_max_bytes, UINT64_MAX);
        cr_expect_eq(s->spec->limits->cpu_weight, 0);
        cr_assert_eq(s->spec->limits->n_io_device_limits, 1);
        cr_expect_str_eq(s->spec->limits->io_device_limits[0]->device, "/dev/sda");
        cr_expect_eq(s->spec->limits->io_device_limits[0]->read_bytes_per_second, 5);
        cr_expect_eq(s->spec->limits->io_device_limits[0]->write_bytes_per_second, 6);
        cr_assert_not_null(s->spec->isolation);
        cr_expect_eq(s->spec->isolation->network, JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_NONE);
        cr_expect_eq(s->spec->isolation->pid_namespace, JOBRUNNER__V1__TOGGLE__TOGGLE_UNSPECIFIED);
        cr_expect_eq(s->spec->isolation->private_tmp, JOBRUNNER__V1__TOGGLE__TOGGLE_OFF);
        cr_expect(protobuf_c_message_check(&s->base));
        convert_status_free(s);
}

Test(convert, unset_status_fields_stay_unset) {
        char *argv[] = { S("/bin/true"), S(""), NULL };
        char *env[] = { S("EMPTY="), NULL };
        jr_spec spec = { .argv = argv, .env = env };
        jr_status st = { .id = "00112233445566778899aabbccddeeff", .state = JR_STATE_STARTING, .spec = &spec };
        Jobrunner__V1__JobStatus *s = NULL;

        cr_assert_eq(convert_status_to_proto(&st, &s), 0);
        cr_expect_eq(s->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_STARTING);
        cr_expect_str_eq(s->owner, "");
        cr_expect_str_eq(s->unit_name, "");
        cr_expect_str_eq(s->signal_name, "");
        cr_expect_str_eq(s->stopped_by, "");
        cr_expect_str_eq(s->failure_reason, "");
        cr_expect_eq(s->start_time_us, 0);
        cr_assert_eq(s->spec->n_argv, 2);
        cr_expect_str_eq(s->spec->argv[1], "", "an empty argument is echoed");
        cr_assert_eq(s->spec->n_env, 1);
        cr_expect_str_eq(s->spec->env[0], "EMPTY=");
        cr_expect_str_eq(s->spec->working_directory, "");
        cr_expect_null(s->spec->limits, "no limits: no Limits message");
        cr_expect_null(s->spec->isolation, "default isolation: no Isolation message");
        cr_assert_not_null(s->usage);
        /* The empty strings are ours to free (ASan checks it). */
        convert_status_free(s);
}

Test(convert, status_without_spec) {
        jr_status st = { .id = "00112233445566778899aabbccddeeff", .state = JR_STATE_FAILED_TO_START };
        Jobrunner__V1__JobStatus *s = NULL;

        cr_assert_eq(convert_status_to_proto(&st, &s), 0);
        cr_expect_null(s->spec);
        cr_expect_eq(s->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START);
        convert_status_free(s);
        convert_status_free(NULL);
}

Test(convert, status_with_bad_state) {
        jr_status st = { .state = 0 };
        Jobrunner__V1__JobStatus *s = NULL;

        cr_expect_eq(convert_status_to_proto(&st, &s), -EINVAL);
        cr_expect_null(s);
        st.state = 99;
        cr_expect_eq(convert_status_to_proto(&st, &s), -EINVAL);
}

Test(convert, status_with_bad_spec_enum_is_freed) {
        char *argv[] = { S("/bin/true"), NULL };
        jr_spec spec = { .argv = argv, .network = 42 };
        jr_status st = { .state = JR_STATE_RUNNING, .owner = "alice", .spec = &spec };
        Jobrunner__V1__JobStatus *s = NULL;

        /* Fails after much of the tree was built: ASan checks it is freed. */
        cr_expect_eq(convert_status_to_proto(&st, &s), -EINVAL);
        cr_expect_null(s);
}

Test(convert, times_past_int64_are_clamped) {
        jr_status st = { .state = JR_STATE_EXITED, .start_time_us = UINT64_MAX, .end_time_us = (uint64_t) INT64_MAX };
        Jobrunner__V1__JobStatus *s = NULL;

        cr_assert_eq(convert_status_to_proto(&st, &s), 0);
        cr_expect_eq(s->start_time_us, INT64_MAX);
        cr_expect_eq(s->end_time_us, INT64_MAX);
        convert_status_free(s);
}

/* ---- enums and small helpers ---------------------------------------------- */

Test(convert, signal_names) {
        char buf[CONVERT_SIGNAL_NAME_MAX];

        cr_expect_str_eq(convert_signal_name(0, buf), "");
        cr_expect_str_eq(convert_signal_name(-9, buf), "");
        cr_expect_str_eq(convert_signal_name(SIGKILL, buf), "SIGKILL");
        cr_expect_str_eq(convert_signal_name(SIGTERM, buf), "SIGTERM");
        cr_expect_str_eq(convert_signal_name(SIGSEGV, buf), "SIGSEGV");
        cr_expect_str_eq(convert_signal_name(SIGABRT, buf), "SIGABRT");
        cr_expect_str_eq(convert_signal_name(SIGHUP, buf), "SIGHUP");
        cr_expect_str_eq(convert_signal_name(SIGRTMIN, buf), "SIGRTMIN+0");
        cr_expect_str_eq(convert_signal_name(SIGRTMIN + 3, buf), "SIGRTMIN+3");
        cr_expect_str_eq(convert_signal_name(1000, buf), "");
}

Test(convert, status_signal_name) {
        jr_status st = { .state = JR_STATE_KILLED, .signal = SIGTERM };
        Jobrunner__V1__JobStatus *s = NULL;

        cr_assert_eq(convert_status_to_proto(&st, &s), 0);
        cr_expect_eq(s->signal, SIGTERM);
        cr_expect_str_eq(s->signal_name, "SIGTERM");
        convert_status_free(s);
}

Test(convert, states_both_ways) {
        static const struct {
                jr_state jr;
                int proto;
        } table[] = {
                { JR_STATE_STARTING,        JOBRUNNER__V1__JOB_STATE__JOB_STATE_STARTING },
                { JR_STATE_RUNNING,         JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING },
                { JR_STATE_EXITED,          JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED },
                { JR_STATE_KILLED,          JOBRUNNER__V1__JOB_STATE__JOB_STATE_KILLED },
                { JR_STATE_OOM_KILLED,      JOBRUNNER__V1__JOB_STATE__JOB_STATE_OOM_KILLED },
                { JR_STATE_STOPPED,         JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED },
                { JR_STATE_FAILED_TO_START, JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START },
        };
        jr_state s = JR_STATE_RUNNING;

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                jr_state back = 0;

                cr_expect_eq(convert_state_to_proto(table[i].jr), table[i].proto);
                cr_expect_eq(convert_state_from_proto(table[i].proto, &back), 0);
                cr_expect_eq(back, table[i].jr);
        }
        cr_expect_eq(convert_state_from_proto(JOBRUNNER__V1__JOB_STATE__JOB_STATE_UNSPECIFIED, &s), -EINVAL);
        cr_expect_eq(convert_state_from_proto(8, &s), -EINVAL);
        cr_expect_eq(convert_state_from_proto(-1, &s), -EINVAL);
        cr_expect_eq(s, JR_STATE_RUNNING, "untouched on failure");
        cr_expect_eq(convert_state_to_proto(0), -EINVAL);
        cr_expect_eq(convert_state_to_proto(8), -EINVAL);
}

Test(convert, job_ids) {
        cr_expect(convert_job_id_is_valid("0123456789abcdef0123456789abcdef"));
        cr_expect(convert_job_id_is_valid("ffffffffffffffffffffffffffffffff"));
        cr_expect_not(convert_job_id_is_valid(NULL));
        cr_expect_not(convert_job_id_is_valid(""));
        cr_expect_not(convert_job_id_is_valid("0123456789abcdef0123456789abcde"), "31 digits");
        cr_expect_not(convert_job_id_is_valid("0123456789abcdef0123456789abcdef0"), "33 digits");
        cr_expect_not(convert_job_id_is_valid("0123456789ABCDEF0123456789abcdef"), "upper case");
        cr_expect_not(convert_job_id_is_valid("0123456789abcdeg0123456789abcdef"));
        cr_expect_not(convert_job_id_is_valid("0123456789abcdef-123456789abcdef"));
        cr_expect_not(convert_job_id_is_valid("../../../../../../../etc/passwd0"));
        cr_expect_not(convert_job_id_is_valid(" 123456789abcdef0123456789abcdef"));
}

Test(convert, log_enums) {
        cr_expect_eq(convert_stream_to_proto(JR_STREAM_STDOUT), JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT);
        cr_expect_eq(convert_stream_to_proto(JR_STREAM_STDERR), JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR);
        cr_expect_eq(convert_stream_to_proto(0), -EINVAL);
        cr_expect_eq(convert_gap_reason_to_proto(JR_GAP_TRUNCATED),
                     JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_OUTPUT_TRUNCATED);
        cr_expect_eq(convert_gap_reason_to_proto(JR_GAP_DAEMON_DOWN),
                     JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_DAEMON_DOWN);
        cr_expect_eq(convert_gap_reason_to_proto(JR_GAP_IO_ERROR),
                     JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_IO_ERROR);
        cr_expect_eq(convert_gap_reason_to_proto(0), -EINVAL);
        cr_expect_eq(convert_gap_reason_to_proto(4), -EINVAL);
}
