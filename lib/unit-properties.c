/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The spec as transient unit properties, one helper per concern, in the
 * manner of systemd's run.c and bus-unit-util.c.  Every property named here
 * is settable on a transient service in systemd 252. */

#include <errno.h>
#include <linux/capability.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "macro.h"
#include "strv.h"
#include "unit-properties.h"

#define DESCRIPTION_COMMAND_MAX 200     /* bytes of the command line in Description= */
#define PID_NAMESPACE_FLAG "--pid-namespace"
#define COMMAND_FLAG "--command-from-stdin"
#define TERMINAL_FLAG "--terminal"

const char *unit_property_signature(UnitPropertyType type) {
        static const char *const signatures[_UNIT_PROP_TYPE_MAX] = {
                [UNIT_PROP_STRING] = "s",
                [UNIT_PROP_BOOL] = "b",
                [UNIT_PROP_U64] = "t",
                [UNIT_PROP_STRV] = "as",
                [UNIT_PROP_EXEC] = "a(sasb)",
                [UNIT_PROP_IO_BANDWIDTH] = "a(st)",
                [UNIT_PROP_FD] = "h",
                [UNIT_PROP_TMPFS] = "a(ss)",
                [UNIT_PROP_BIND] = "a(ssbt)",
        };
        return (unsigned) type < _UNIT_PROP_TYPE_MAX ? signatures[type] : NULL;
}

/* The cgroup of a unit in our slice: "a-b.slice" lives in "a.slice", and so
 * on, as systemd nests slices by their dashes. */
int unit_cgroup_path(const char *slice, const char *unit, char **ret) {
        _cleanup_free_ char *path = strdup("");

        if (!path)
                return -ENOMEM;
        for (const char *dash = strchr(slice, '-'); dash; dash = strchr(dash + 1, '-')) {
                char *longer;

                if (asprintf(&longer, "%s/%.*s.slice", path, (int) (dash - slice), slice) < 0)
                        return -ENOMEM;
                free(path);
                path = longer;
        }
        if (asprintf(ret, "%s/%s/%s", path, slice, unit) < 0)
                return -ENOMEM;
        return 0;
}

/* ---- the list ----------------------------------------------------------- */

/* Collects properties with a sticky out-of-memory flag, so that each concern
 * below is a plain list; unit_properties_build() checks the flag once. */
typedef struct Builder {
        UnitProperties list;
        bool oom;
} Builder;

static void property_free(UnitProperty *it) {
        if (it->type == UNIT_PROP_STRING)
                free(it->string);
        else if (it->type == UNIT_PROP_STRV)
                strv_free(it->strv);
        else if (it->type == UNIT_PROP_EXEC) {
                free(it->exec.path);
                strv_free(it->exec.argv);
        } else if (it->type == UNIT_PROP_IO_BANDWIDTH) {
                for (size_t i = 0; i < it->io.n; i++)
                        free(it->io.items[i].device);
                free(it->io.items);
        } else if (it->type == UNIT_PROP_TMPFS) {
                free(it->tmpfs.path);
                free(it->tmpfs.options);
        } else if (it->type == UNIT_PROP_BIND) {
                free(it->bind.source);
                free(it->bind.destination);
        }
}

/* Appends p, which owns freshly allocated copies; a NULL among them means
 * an allocation failed. */
static void push(Builder *b, UnitProperty p) {
        bool missing = (p.type == UNIT_PROP_STRING && !p.string) || (p.type == UNIT_PROP_STRV && !p.strv) ||
                       (p.type == UNIT_PROP_EXEC && (!p.exec.path || !p.exec.argv)) ||
                       (p.type == UNIT_PROP_IO_BANDWIDTH && !p.io.items) ||
                       (p.type == UNIT_PROP_TMPFS && (!p.tmpfs.path || !p.tmpfs.options)) ||
                       (p.type == UNIT_PROP_BIND && (!p.bind.source || !p.bind.destination));
        UnitProperty *items = b->oom || missing ? NULL : reallocarray(b->list.items, b->list.n + 1, sizeof *items);

        if (!items) {
                property_free(&p);
                b->oom = true;
                return;
        }
        b->list.items = items;
        items[b->list.n++] = p;
}

#define PUSH(b, n, t, ...) push((b), (UnitProperty) { .name = (n), .type = (t), __VA_ARGS__ })
#define PUSH_STRING(b, n, v) PUSH(b, n, UNIT_PROP_STRING, .string = strdup(v))
#define PUSH_BOOL(b, n, v) PUSH(b, n, UNIT_PROP_BOOL, .boolean = (v))
#define PUSH_U64(b, n, v) PUSH(b, n, UNIT_PROP_U64, .u64 = (v))

/* (device, bps) for every IO limit with a non-zero read (or write) rate;
 * no property at all if there is none. */
static void push_io_bandwidth(Builder *b, const char *name, const jr_spec *spec, bool write) {
        UnitPropertyIO *items;
        size_t n = 0;

        for (size_t i = 0; i < spec->n_io_limits; i++)
                n += (write ? spec->io_limits[i].write_bps : spec->io_limits[i].read_bps) > 0;
        if (n == 0)
                return;
        items = calloc(n, sizeof *items);
        n = 0;
        for (size_t i = 0; items && i < spec->n_io_limits; i++) {
                uint64_t bps = write ? spec->io_limits[i].write_bps : spec->io_limits[i].read_bps;
                if (bps > 0 && !(items[n++] = (UnitPropertyIO) { strdup(spec->io_limits[i].device), bps }).device)
                        b->oom = true;
        }
        PUSH(b, name, UNIT_PROP_IO_BANDWIDTH, .io = { items, n });
}

/* ---- Description= ------------------------------------------------------- */

/* One argument as a shell-like word: quoted when it is empty or holds blanks,
 * quotes, backslashes or control characters, which are C-escaped. */
static void put_word(FILE *f, const char *s) {
        bool q = !*s || strpbrk(s, " \t'\"\\");

        for (const char *c = s; !q && *c; c++)
                q = (unsigned char) *c < 0x20 || *c == 0x7F;
        if (!q) {
                fputs(s, f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *c = (const unsigned char *) s; *c; c++) {
                if (*c == '"' || *c == '\\')
                        fprintf(f, "\\%c", *c);
                else if (*c == '\n')
                        fputs("\\n", f);
                else if (*c == '\t')
                        fputs("\\t", f);
                else if (*c < 0x20 || *c == 0x7F)
                        fprintf(f, "\\x%02x", *c);
                else
                        fputc(*c, f);
        }
        fputc('"', f);
}

static char *description_new(const char *job_id, char *const *argv) {
        _cleanup_free_ char *cmd = NULL;
        size_t len = 0;
        char *d = NULL;
        FILE *f = open_memstream(&cmd, &len);

        if (!f)
                return NULL;
        for (size_t i = 0; argv[i] && len <= DESCRIPTION_COMMAND_MAX; i++) {
                if (i > 0)
                        fputc(' ', f);
                put_word(f, argv[i]);
                fflush(f);
        }
        if (fclose(f) != 0 || !cmd)
                return NULL;
        if (len > DESCRIPTION_COMMAND_MAX) {
                /* Cut at a character boundary: D-Bus strings must be UTF-8. */
                size_t cut = DESCRIPTION_COMMAND_MAX;
                while (cut > 0 && ((unsigned char) cmd[cut] & 0xC0) == 0x80)
                        cut--;
                cmd[cut] = 0;
                if (asprintf(&d, "jobrunner job %s: %s…", job_id, cmd) < 0)
                        return NULL;
        } else if (asprintf(&d, "jobrunner job %s: %s", job_id, cmd) < 0)
                return NULL;
        return d;
}

/* ---- one helper per concern --------------------------------------------- */

static void add_lifecycle(Builder *b, const UnitPropertiesInput *in) {
        PUSH(b, "Description", UNIT_PROP_STRING, .string = description_new(in->job_id, in->spec->argv));
        /* The unit stays after its main process, failed or "active
         * (exited)", until the library has read its result and reset or
         * stopped it, even across a daemon restart.  Not AddRef=: systemd
         * watches the holder of every reference with a match rule of PID
         * 1's, which the bus caps at 512 (systemd-unit.h). */
        PUSH_BOOL(b, "RemainAfterExit", true);
        PUSH_STRING(b, "CollectMode", "inactive");
}

static void add_exec(Builder *b, const UnitPropertiesInput *in) {
        char *argv[5] = { (char *) in->init_path }, **a = argv + 1;

        if (in->spec->pid_namespace != JR_TOGGLE_OFF)
                *a++ = (char *) PID_NAMESPACE_FLAG;
        if (in->spec->terminal)
                *a++ = (char *) TERMINAL_FLAG;
        *a++ = (char *) COMMAND_FLAG;
        *a = NULL;

        PUSH_STRING(b, "Type", "notify");
        PUSH_STRING(b, "NotifyAccess", "main");
        /* The job's argv and environment go to jobrunner-init through its
         * standard input (add_output()), never through systemd's own
         * parsing: see init/command.h.  ExecStart= holds jobrunner-init's
         * words only, so that systemd has nothing of the job's to expand. */
        PUSH(b, "ExecStart", UNIT_PROP_EXEC, .exec = { strdup(in->init_path), strv_copy(argv) });
        if (in->spec->working_directory)
                PUSH_STRING(b, "WorkingDirectory", in->spec->working_directory);
}

static void add_identity(Builder *b, const UnitPropertiesInput *in) {
        const char *user = in->spec->user;

        if (user)
                PUSH_STRING(b, "User", user);
        else
                PUSH_BOOL(b, "DynamicUser", true);
        PUSH_BOOL(b, "NoNewPrivileges", true);
        /* jobrunner-init needs CAP_SYS_ADMIN to set up the PID namespace and
         * drops it before it executes the job; root has it anyway. */
        if (in->spec->pid_namespace != JR_TOGGLE_OFF && !(user && strcmp(user, "root") == 0)) {
                PUSH_U64(b, "AmbientCapabilities", UINT64_C(1) << CAP_SYS_ADMIN);
                PUSH_U64(b, "CapabilityBoundingSet", UINT64_C(1) << CAP_SYS_ADMIN);
        }
}

/* Numeric limits: left out when 0 ("not set"); JR_UNLIMITED is UINT64_MAX,
 * which systemd reads as "infinity". */
static const struct {
        const char *property;
        size_t offset, size;            /* of a uint32_t or uint64_t in jr_spec */
        uint64_t scale;
} cgroup_limits[] = {
        { "CPUQuotaPerSecUSec", offsetof(jr_spec, cpu_quota_percent), sizeof(uint32_t), 10000 }, /* % → µs per s */
        { "CPUWeight", offsetof(jr_spec, cpu_weight), sizeof(uint32_t), 1 },
        { "MemoryMax", offsetof(jr_spec, memory_max), sizeof(uint64_t), 1 },
        { "IOWeight", offsetof(jr_spec, io_weight), sizeof(uint32_t), 1 },
        { "TasksMax", offsetof(jr_spec, tasks_max), sizeof(uint64_t), 1 },
};

static void add_cgroup(Builder *b, const UnitPropertiesInput *in) {
        static const char *const accounting[] = { "CPUAccounting", "MemoryAccounting", "IOAccounting", "TasksAccounting" };

        PUSH_STRING(b, "Slice", in->slice);
        for (size_t i = 0; i < ELEMENTSOF(accounting); i++)
                PUSH_BOOL(b, accounting[i], true);
        for (size_t i = 0; i < ELEMENTSOF(cgroup_limits); i++) {
                const char *field = (const char *) in->spec + cgroup_limits[i].offset;
                uint32_t v32;
                uint64_t v;
                if (cgroup_limits[i].size == sizeof v32) {
                        memcpy(&v32, field, sizeof v32);
                        v = v32;
                } else
                        memcpy(&v, field, sizeof v);
                if (v != 0)
                        PUSH_U64(b, cgroup_limits[i].property, v == JR_UNLIMITED ? UINT64_MAX : v * cgroup_limits[i].scale);
        }
        PUSH_U64(b, "MemorySwapMax", 0); /* swap is always off */
        push_io_bandwidth(b, "IOReadBandwidthMax", in->spec, false);
        push_io_bandwidth(b, "IOWriteBandwidthMax", in->spec, true);
}

static void add_isolation(Builder *b, const UnitPropertiesInput *in) {
        PUSH_BOOL(b, "PrivateNetwork", in->spec->network != JR_NETWORK_HOST);
        PUSH_BOOL(b, "PrivateMounts", in->spec->private_mounts != JR_TOGGLE_OFF);
        PUSH_BOOL(b, "PrivateTmp", in->spec->private_tmp != JR_TOGGLE_OFF);
}

/* What other jobs must not see of this one, and this one of them: their
 * command lines, environments, processes and cgroups.  Each job runs as a
 * user of its own, so ProtectProc= hides the others' processes (and with
 * them /proc/PID/cmdline) even without a PID namespace.  Units'
 * descriptions, in their transient unit files and in systemd's D-Bus
 * properties, which any user may read, hold the start of their command
 * lines (argv and environment themselves never reach systemd, see
 * add_exec()): neither is reachable from a job.  /sys/fs/cgroup shows the
 * job its own cgroup only, at its own path, so that runtimes that read
 * their limits from it (JVMs, Go) still find them.  All of it needs a mount namespace of the job's own: a job that
 * shares the host's mounts (an admin's choice, for a named user) sees what
 * its user sees there. */
static void add_confinement(Builder *b, const UnitPropertiesInput *in) {
        static char *const inaccessible[] = { (char *) "-/run/systemd/transient",
                                              (char *) "-/run/dbus/system_bus_socket", NULL };

        if (in->spec->private_mounts == JR_TOGGLE_OFF)
                return;
        PUSH_STRING(b, "ProtectProc", "invisible");
        PUSH(b, "InaccessiblePaths", UNIT_PROP_STRV, .strv = strv_concat(inaccessible, NULL));
        PUSH(b, "TemporaryFileSystem", UNIT_PROP_TMPFS,
             .tmpfs = { strdup("/sys/fs/cgroup"), strdup("ro") });
        if (in->cgroup) {
                char *path = NULL;

                if (asprintf(&path, "/sys/fs/cgroup%s", in->cgroup) < 0)
                        path = NULL;
                PUSH(b, "BindReadOnlyPaths", UNIT_PROP_BIND,
                     .bind = { path, path ? strdup(path) : NULL, false });
        }
}

static void add_kill(Builder *b, const UnitPropertiesInput *in) {
        PUSH_STRING(b, "KillMode", "control-group");
        PUSH_U64(b, "TimeoutStopUSec", in->stop_timeout_usec);
        PUSH_STRING(b, "OOMPolicy", "kill");
        PUSH_BOOL(b, "SendSIGKILL", true);
}

static void add_output(Builder *b, const UnitPropertiesInput *in) {
        PUSH(b, "StandardInputFileDescriptor", UNIT_PROP_FD, .fd = b->list.command_fd);
        if (in->stdout_fd >= 0)
                PUSH(b, "StandardOutputFileDescriptor", UNIT_PROP_FD, .fd = in->stdout_fd);
        if (in->stderr_fd >= 0)
                PUSH(b, "StandardErrorFileDescriptor", UNIT_PROP_FD, .fd = in->stderr_fd);
}

/* ---- public ------------------------------------------------------------- */

int unit_properties_build(const UnitPropertiesInput *in, UnitProperties *ret, jr_error *e) {
        static void (*const concerns[])(Builder *, const UnitPropertiesInput *) = {
                add_lifecycle, add_exec, add_identity, add_cgroup, add_isolation, add_confinement, add_kill,
                add_output,
        };
        Builder b = { .list.command_fd = -EBADF };

        *ret = (UnitProperties) { .command_fd = -EBADF };
        if (!in || !in->spec || !in->spec->argv || !in->spec->argv[0])
                return jr_error_set(e, -EINVAL, "unit properties: no spec or an empty argv");
        if (!in->job_id || !in->job_id[0] || !in->slice || !in->slice[0])
                return jr_error_set(e, -EINVAL, "unit properties: no job id or slice");
        /* systemd expands "$NAME" in ExecStart= arguments. */
        if (!in->init_path || in->init_path[0] != '/' || strchr(in->init_path, '$'))
                return jr_error_set(e, -EINVAL, "unit properties: the init path must be absolute, without '$'");
        if (in->spec->n_io_limits > 0 && !in->spec->io_limits)
                return jr_error_set(e, -EINVAL, "unit properties: io_limits: no array");

        /* Which descriptors are one terminal is for whoever passes them to
         * check (jobrunner-starter does): here they are numbers. */
        if (in->spec->terminal && (in->stdin_fd >= 0 || in->stdout_fd < 0 || in->stderr_fd < 0))
                return jr_error_set(e, -EINVAL, "unit properties: a terminal is stdout and stderr, and no stdin pipe");
        if ((in->spec->stdin_mode == JR_STDIN_PIPE) != (in->stdin_fd >= 0))
                return jr_error_set(e, -EINVAL, "unit properties: a read end for a stdin pipe and only for one");

        b.list.command_fd = command_fd_new(in->spec->argv, in->spec->env);
        if (b.list.command_fd >= 0 && in->stdin_fd >= 0) {
                _cleanup_close_ int memfd = b.list.command_fd;

                b.list.command_fd = command_socket_new(memfd, in->stdin_fd);
        }
        if (b.list.command_fd < 0)
                return jr_error_set(e, b.list.command_fd, "cannot pass the command to jobrunner-init: %s",
                                    strerror(-b.list.command_fd));
        for (size_t i = 0; i < ELEMENTSOF(concerns); i++)
                concerns[i](&b, in);
        if (b.oom) {
                unit_properties_done(&b.list);
                return jr_error_set(e, -ENOMEM, "out of memory building the unit's properties");
        }
        *ret = b.list;
        return 0;
}

void unit_properties_done(UnitProperties *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++)
                property_free(&p->items[i]);
        free(p->items);
        safe_close(p->command_fd);
        *p = (UnitProperties) { .command_fd = -EBADF };
}

const UnitProperty *unit_properties_find(const UnitProperties *p, const char *name) {
        for (size_t i = 0; p && i < p->n; i++)
                if (strcmp(p->items[i].name, name) == 0)
                        return &p->items[i];
        return NULL;
}
