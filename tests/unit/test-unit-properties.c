/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command.h"
#include "jobrunner.h"
#include "macro.h"
#include "unit-properties.h"

#define ID "0123456789abcdef0123456789abcdef"
#define INIT "/usr/libexec/jobrunner-init"

static char *argv_ls[] = { (char *) "/bin/ls", (char *) "-l", (char *) "$HOME", NULL };
static UnitProperties props;

static void fini(void) {
        unit_properties_done(&props);
}

TestSuite(unit_properties, .fini = fini);

static UnitPropertiesInput input(const jr_spec *spec) {
        return (UnitPropertiesInput) { .spec = spec, .job_id = ID, .slice = "jobrunner.slice",
                                       .cgroup = "/jobrunner.slice/jobrunner-" ID ".service", .init_path = INIT,
                                       .stop_timeout_usec = 10 * 1000 * 1000, .stdout_fd = 7, .stderr_fd = 8,
                                       .stdin_fd = -EBADF };
}

static void build(const jr_spec *spec) {
        UnitPropertiesInput in = input(spec);
        jr_error e = {};

        cr_assert_eq(unit_properties_build(&in, &props, &e), 0, "%s", e.message);
}

static const UnitProperty *get(const char *name, UnitPropertyType type) {
        const UnitProperty *p = unit_properties_find(&props, name);

        cr_assert_not_null(p, "%s missing", name);
        cr_assert_eq(p->type, type, "%s has type %d", name, p->type);
        return p;
}

static void expect_string(const char *name, const char *value) {
        cr_expect_str_eq(get(name, UNIT_PROP_STRING)->string, value, "%s", name);
}
static void expect_bool(const char *name, bool value) {
        cr_expect_eq(get(name, UNIT_PROP_BOOL)->boolean, value, "%s", name);
}
static void expect_u64(const char *name, uint64_t value) {
        cr_expect_eq(get(name, UNIT_PROP_U64)->u64, value, "%s = %" PRIu64 ", expected %" PRIu64, name,
                     get(name, UNIT_PROP_U64)->u64, value);
}
static void expect_absent(const char *name) {
        cr_expect_null(unit_properties_find(&props, name), "%s should be absent", name);
}
static void expect_strv(char **l, const char *const *want) {
        size_t i = 0;
        for (; want[i]; i++) {
                cr_assert_not_null(l[i], "entry %zu missing, expected %s", i, want[i]);
                cr_expect_str_eq(l[i], want[i]);
        }
        cr_expect_null(l[i], "extra entry %zu: %s", i, l[i]);
}

/* What jobrunner-init reads from its standard input. */
static void expect_command(char **argv, char **env) {
        _cleanup_(command_done) Command c = {};
        char *none[] = { NULL };

        cr_assert_geq(props.command_fd, 0);
        cr_assert_eq(command_read(props.command_fd, COMMAND_SIZE_MAX, &c), 0);
        expect_strv(c.argv, (const char *const *) argv);
        expect_strv(c.env, (const char *const *) (env ?: none));
}

Test(unit_properties, defaults) {
        jr_spec s = { .argv = argv_ls };

        build(&s);
        cr_expect(strncmp(get("Description", UNIT_PROP_STRING)->string, "jobrunner job " ID ": /bin/ls -l $HOME", 200) == 0,
                  "%s", get("Description", UNIT_PROP_STRING)->string);
        expect_bool("RemainAfterExit", true);
        expect_absent("AddRef");
        expect_string("CollectMode", "inactive");
        expect_string("Type", "notify");
        expect_string("NotifyAccess", "main");

        const UnitProperty *x = get("ExecStart", UNIT_PROP_EXEC);
        cr_expect_str_eq(x->exec.path, INIT);
        expect_strv(x->exec.argv, (const char *const[]) { INIT, "--pid-namespace", "--command-from-stdin", NULL });
        expect_command(argv_ls, NULL);
        expect_absent("ExecStartEx");
        expect_absent("Environment");
        expect_absent("WorkingDirectory");

        expect_bool("DynamicUser", true);
        expect_absent("User");
        expect_bool("NoNewPrivileges", true);
        expect_u64("AmbientCapabilities", UINT64_C(1) << CAP_SYS_ADMIN);
        expect_u64("CapabilityBoundingSet", UINT64_C(1) << CAP_SYS_ADMIN);

        expect_string("Slice", "jobrunner.slice");
        expect_bool("CPUAccounting", true);
        expect_bool("MemoryAccounting", true);
        expect_bool("IOAccounting", true);
        expect_bool("TasksAccounting", true);
        expect_u64("MemorySwapMax", 0);
        expect_absent("CPUQuotaPerSecUSec");
        expect_absent("CPUWeight");
        expect_absent("MemoryMax");
        expect_absent("IOWeight");
        expect_absent("IOReadBandwidthMax");
        expect_absent("IOWriteBandwidthMax");
        expect_absent("TasksMax");

        expect_bool("PrivateNetwork", true);
        expect_bool("PrivateMounts", true);
        expect_bool("PrivateTmp", true);

        /* Nothing of other jobs to see. */
        expect_string("ProtectProc", "invisible");
        expect_strv(get("InaccessiblePaths", UNIT_PROP_STRV)->strv,
                    (const char *const[]) { "-/run/systemd/transient", "-/run/dbus/system_bus_socket", NULL });
        const UnitProperty *t = get("TemporaryFileSystem", UNIT_PROP_TMPFS);
        cr_expect_str_eq(t->tmpfs.path, "/sys/fs/cgroup");
        cr_expect_str_eq(t->tmpfs.options, "ro");
        const UnitProperty *bind = get("BindReadOnlyPaths", UNIT_PROP_BIND);
        cr_expect_str_eq(bind->bind.source, "/sys/fs/cgroup/jobrunner.slice/jobrunner-" ID ".service");
        cr_expect_str_eq(bind->bind.destination, bind->bind.source);
        cr_expect_not(bind->bind.ignore_missing);

        expect_string("KillMode", "control-group");
        expect_u64("TimeoutStopUSec", 10 * 1000 * 1000);
        expect_string("OOMPolicy", "kill");
        expect_bool("SendSIGKILL", true);

        expect_absent("StandardInput");
        cr_expect_eq(get("StandardInputFileDescriptor", UNIT_PROP_FD)->fd, props.command_fd);
        cr_expect_eq(get("StandardOutputFileDescriptor", UNIT_PROP_FD)->fd, 7);
        cr_expect_eq(get("StandardErrorFileDescriptor", UNIT_PROP_FD)->fd, 8);

        for (size_t i = 0; i < props.n; i++) {
                cr_expect_not_null(unit_property_signature(props.items[i].type));
                for (size_t j = i + 1; j < props.n; j++)
                        cr_expect_str_neq(props.items[i].name, props.items[j].name, "duplicate property");
        }
}

Test(unit_properties, signatures) {
        cr_expect_str_eq(unit_property_signature(UNIT_PROP_STRING), "s");
        cr_expect_str_eq(unit_property_signature(UNIT_PROP_BOOL), "b");
        cr_expect_str_eq(unit_property_signature(UNIT_PROP_U64), "t");
        cr_expect_str_eq(unit_property_signature(UNIT_PROP_STRV), "as");
        cr_expect_str_eq(unit_property_signature(UNIT_PROP_EXEC), "a(sasb)");
        cr_expect_str_eq(unit_property_signature(UNIT_PROP_IO_BANDWIDTH), "a(st)");
        cr_expect_str_eq(unit_property_signature(UNIT_PROP_FD), "h");
        cr_expect_str_eq(unit_property_signature(UNIT_PROP_TMPFS), "a(ss)");
        cr_expect_str_eq(unit_property_signature(UNIT_PROP_BIND), "a(ssbt)");
        cr_expect_null(unit_property_signature(_UNIT_PROP_TYPE_MAX));
}

Test(unit_properties, every_limit_converted) {
        jr_io_limit io[] = {
                { (char *) "/dev/vda", 1000, 0 },
                { (char *) "/dev/vdb", 0, 2000 },
                { (char *) "/dev/vdc", 3000, 4000 },
        };
        jr_spec s = { .argv = argv_ls, .cpu_quota_percent = 50, .cpu_weight = 200, .memory_max = 64 << 20,
                      .io_weight = 300, .tasks_max = 42, .io_limits = io, .n_io_limits = ELEMENTSOF(io) };

        build(&s);
        expect_u64("CPUQuotaPerSecUSec", 500000);
        expect_u64("CPUWeight", 200);
        expect_u64("MemoryMax", 64 << 20);
        expect_u64("MemorySwapMax", 0);
        expect_u64("IOWeight", 300);
        expect_u64("TasksMax", 42);

        const UnitProperty *r = get("IOReadBandwidthMax", UNIT_PROP_IO_BANDWIDTH);
        cr_assert_eq(r->io.n, 2);
        cr_expect_str_eq(r->io.items[0].device, "/dev/vda");
        cr_expect_eq(r->io.items[0].bps, 1000);
        cr_expect_str_eq(r->io.items[1].device, "/dev/vdc");
        cr_expect_eq(r->io.items[1].bps, 3000);
        cr_expect_neq(r->io.items[0].device, io[0].device, "the list owns copies");

        const UnitProperty *w = get("IOWriteBandwidthMax", UNIT_PROP_IO_BANDWIDTH);
        cr_assert_eq(w->io.n, 2);
        cr_expect_str_eq(w->io.items[0].device, "/dev/vdb");
        cr_expect_eq(w->io.items[0].bps, 2000);
        cr_expect_str_eq(w->io.items[1].device, "/dev/vdc");
        cr_expect_eq(w->io.items[1].bps, 4000);
}

Test(unit_properties, extremes_and_unlimited) {
        jr_spec s = { .argv = argv_ls, .cpu_quota_percent = JR_CPU_QUOTA_PERCENT_MAX, .memory_max = JR_UNLIMITED,
                      .tasks_max = JR_UNLIMITED, .cpu_weight = JR_WEIGHT_MAX, .io_weight = JR_WEIGHT_MIN };

        build(&s);
        expect_u64("CPUQuotaPerSecUSec", UINT64_C(1000000000));
        expect_u64("MemoryMax", UINT64_MAX);
        expect_u64("TasksMax", UINT64_MAX);
        expect_u64("CPUWeight", 10000);
        expect_u64("IOWeight", 1);
}

Test(unit_properties, env_wd_and_isolation_off) {
        char *env[] = { (char *) "A=1", (char *) "B=x y", NULL };
        jr_spec s = { .argv = argv_ls, .env = env, .working_directory = (char *) "/srv", .user = (char *) "nobody",
                      .network = JR_NETWORK_HOST, .private_mounts = JR_TOGGLE_OFF, .private_tmp = JR_TOGGLE_OFF };

        build(&s);
        expect_command(argv_ls, env);
        expect_absent("Environment");
        expect_string("WorkingDirectory", "/srv");
        expect_string("User", "nobody");
        expect_absent("DynamicUser");
        expect_bool("PrivateNetwork", false);
        expect_bool("PrivateMounts", false);
        expect_bool("PrivateTmp", false);
        expect_u64("AmbientCapabilities", UINT64_C(1) << CAP_SYS_ADMIN);
        /* The host's mounts as they are: no mount namespace to confine in. */
        expect_absent("ProtectProc");
        expect_absent("InaccessiblePaths");
        expect_absent("TemporaryFileSystem");
        expect_absent("BindReadOnlyPaths");
}

Test(unit_properties, network_none_explicit) {
        jr_spec s = { .argv = argv_ls, .network = JR_NETWORK_NONE, .private_mounts = JR_TOGGLE_ON, .private_tmp = JR_TOGGLE_ON };

        build(&s);
        expect_bool("PrivateNetwork", true);
        expect_bool("PrivateMounts", true);
        expect_bool("PrivateTmp", true);
}

Test(unit_properties, pid_namespace_off) {
        jr_spec s = { .argv = argv_ls, .pid_namespace = JR_TOGGLE_OFF };

        build(&s);
        expect_strv(get("ExecStart", UNIT_PROP_EXEC)->exec.argv,
                    (const char *const[]) { INIT, "--command-from-stdin", NULL });
        expect_absent("AmbientCapabilities");
        expect_absent("CapabilityBoundingSet");
        expect_bool("DynamicUser", true);
}

Test(unit_properties, pid_namespace_on_explicitly) {
        jr_spec s = { .argv = argv_ls, .pid_namespace = JR_TOGGLE_ON };

        build(&s);
        cr_expect_str_eq(get("ExecStart", UNIT_PROP_EXEC)->exec.argv[1], "--pid-namespace");
        expect_u64("AmbientCapabilities", UINT64_C(1) << CAP_SYS_ADMIN);
}

Test(unit_properties, named_user_root_gets_no_ambient_caps) {
        jr_spec s = { .argv = argv_ls, .user = (char *) "root" };

        build(&s);
        expect_string("User", "root");
        expect_absent("DynamicUser");
        expect_bool("NoNewPrivileges", true);
        cr_expect_str_eq(get("ExecStart", UNIT_PROP_EXEC)->exec.argv[1], "--pid-namespace");
        expect_absent("AmbientCapabilities");
        expect_absent("CapabilityBoundingSet");
}

Test(unit_properties, fds_carried_or_left_out) {
        jr_spec s = { .argv = argv_ls };
        UnitPropertiesInput in = input(&s);

        in.stdout_fd = 0;
        in.stderr_fd = -1;
        cr_assert_eq(unit_properties_build(&in, &props, NULL), 0);
        cr_expect_eq(get("StandardOutputFileDescriptor", UNIT_PROP_FD)->fd, 0);
        expect_absent("StandardErrorFileDescriptor");
}

Test(unit_properties, description_is_escaped_and_cut_on_a_character) {
        char arg[400];
        memset(arg, 'a', sizeof arg);
        /* 'é' (2 bytes) straddles the 200-byte cut of the command line:
         * it takes bytes 199 and 200 of it. */
        size_t at = 199 - strlen("/bin/echo \"x y\\n\" ");
        memcpy(arg + at, "é", 2);
        arg[sizeof arg - 1] = 0;
        char *argv[] = { (char *) "/bin/echo", (char *) "x y\n", arg, NULL };
        jr_spec s = { .argv = argv };

        build(&s);
        const char *d = get("Description", UNIT_PROP_STRING)->string;
        const char *prefix = "jobrunner job " ID ": /bin/echo \"x y\\n\" aaa";
        cr_expect(strncmp(d, prefix, strlen(prefix)) == 0, "%s", d);
        size_t n = strlen(d);
        cr_expect(n >= 3 && strcmp(d + n - 3, "…") == 0, "ends with an ellipsis: %s", d);
        cr_expect(n - 3 - strlen("jobrunner job " ID ": ") <= 200, "length %zu", n);
        cr_expect((unsigned char) d[n - 4] == 'a', "cut before the 'é', not in it");
}

Test(unit_properties, bad_input) {
        jr_spec s = { .argv = argv_ls }, empty = {};
        UnitPropertiesInput in = input(&s);
        jr_error e = {};

        in.init_path = "jobrunner-init";
        cr_expect_eq(unit_properties_build(&in, &props, &e), -EINVAL);
        cr_expect(strstr(e.message, "init path"));
        cr_expect_eq(props.n, 0);
        cr_expect_lt(props.command_fd, 0);
        in.init_path = "/opt/$HOME/jobrunner-init";     /* systemd would expand it */
        cr_expect_eq(unit_properties_build(&in, &props, &e), -EINVAL);
        in = input(&s);
        in.slice = NULL;
        cr_expect_eq(unit_properties_build(&in, &props, &e), -EINVAL);
        in = input(&empty);
        cr_expect_eq(unit_properties_build(&in, &props, &e), -EINVAL);
        cr_expect_eq(unit_properties_build(NULL, &props, &e), -EINVAL);
}

/* A terminal: its slave is stdout and stderr, jobrunner-init is told, and
 * the command's memfd stays the standard input it reads first. */
Test(unit_properties, terminal) {
        jr_spec s = { .argv = argv_ls, .terminal = true };
        UnitPropertiesInput in = input(&s);
        jr_error e = {};

        in.stderr_fd = in.stdout_fd;
        cr_assert_eq(unit_properties_build(&in, &props, &e), 0, "%s", e.message);
        expect_strv(get("ExecStart", UNIT_PROP_EXEC)->exec.argv,
                    (const char *const[]) { INIT, "--pid-namespace", "--terminal", "--command-from-stdin", NULL });
        cr_expect_eq(get("StandardOutputFileDescriptor", UNIT_PROP_FD)->fd, 7);
        cr_expect_eq(get("StandardErrorFileDescriptor", UNIT_PROP_FD)->fd, 7);
        cr_expect_eq(get("StandardInputFileDescriptor", UNIT_PROP_FD)->fd, props.command_fd);
        expect_command(argv_ls, NULL);
}

Test(unit_properties, terminal_refuses_other_descriptors) {
        jr_spec s = { .argv = argv_ls, .terminal = true };
        UnitPropertiesInput in = input(&s);
        jr_error e = {};

        in.stderr_fd = -EBADF;
        cr_expect_eq(unit_properties_build(&in, &props, &e), -EINVAL);
        cr_expect(strstr(e.message, "terminal"), "%s", e.message);
        in.stderr_fd = in.stdout_fd;
        in.stdin_fd = 9;
        cr_expect_eq(unit_properties_build(&in, &props, &e), -EINVAL);
}

/* A stdin pipe: standard input is a socket passing the command and the
 * pipe, which jobrunner-init takes apart. */
Test(unit_properties, stdin_pipe) {
        _cleanup_close_pair_ int in_pipe[2] = { -EBADF, -EBADF };
        _cleanup_close_ int command_fd = -EBADF, stdin_fd = -EBADF;
        _cleanup_(command_done) Command c = {};
        jr_spec s = { .argv = argv_ls, .stdin_mode = JR_STDIN_PIPE };
        UnitPropertiesInput in = input(&s);
        struct stat st;
        jr_error e = {};

        cr_assert_eq(pipe2(in_pipe, O_CLOEXEC), 0);
        in.stdin_fd = in_pipe[0];
        cr_assert_eq(unit_properties_build(&in, &props, &e), 0, "%s", e.message);
        expect_strv(get("ExecStart", UNIT_PROP_EXEC)->exec.argv,
                    (const char *const[]) { INIT, "--pid-namespace", "--command-from-stdin", NULL });
        cr_expect_eq(get("StandardInputFileDescriptor", UNIT_PROP_FD)->fd, props.command_fd);
        cr_assert_eq(fstat(props.command_fd, &st), 0);
        cr_assert(S_ISSOCK(st.st_mode), "standard input is no socket");
        cr_assert_eq(command_socket_receive(props.command_fd, &command_fd, &stdin_fd), 0);
        cr_assert_eq(command_read(command_fd, COMMAND_SIZE_MAX, &c), 0);
        expect_strv(c.argv, (const char *const *) argv_ls);

        /* A pipe's read end without the mode, and the mode without it. */
        unit_properties_done(&props);
        s.stdin_mode = JR_STDIN_DEFAULT;
        cr_expect_eq(unit_properties_build(&in, &props, &e), -EINVAL);
        s.stdin_mode = JR_STDIN_PIPE;
        in.stdin_fd = -EBADF;
        cr_expect_eq(unit_properties_build(&in, &props, &e), -EINVAL);
}
