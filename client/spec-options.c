/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "env-keys.h"
#include "exec-limits.h"
#include "macro.h"
#include "parse.h"
#include "spec-options.h"

const char spec_options_help[] =
        "Limits (cgroup v2, as systemd's resource-control settings):\n"
        "  --cpu PERCENT%         CPU time quota in percent of one CPU; 200% is two\n"
        "                         CPUs (CPUQuota=)\n"
        "  --cpu-weight N         relative CPU weight, 1..10000, default 100\n"
        "                         (CPUWeight=)\n"
        "  --memory SIZE          hard memory limit: bytes, or K, M, G, T (base 1024),\n"
        "                         or 'infinity'; at least 1M (MemoryMax=)\n"
        "  --io-weight N          relative IO weight, 1..10000, default 100 (IOWeight=)\n"
        "  --io-read-bps DEVICE=RATE, --io-write-bps DEVICE=RATE\n"
        "                         bandwidth of a block device of the server, in bytes\n"
        "                         per second, K, M, G, T base 1000 as in systemd;\n"
        "                         repeatable (IOReadBandwidthMax=, IOWriteBandwidthMax=)\n"
        "  --tasks N              maximum processes and threads, or 'infinity'\n"
        "                         (TasksMax=)\n"
        "\n"
        "Isolation (everything isolated by default):\n"
        "  --network none|host    loopback only (default), or the host's network\n"
        "  --[no-]pid-namespace   own PID namespace (default: yes)\n"
        "  --[no-]private-mounts  own mount namespace (default: yes; 'no' needs --user)\n"
        "  --[no-]private-tmp     private /tmp and /var/tmp (default: yes; 'no' needs\n"
        "                         --user)\n"
        "\n"
        "Environment:\n"
        "  -e, --env KEY=VALUE    an environment variable of the job; repeatable.\n"
        "                         Nothing is inherited from this shell.  Everyone who\n"
        "                         may see the job can read it: no secrets.\n"
        "  --cwd DIR              working directory on the server (default: /)\n"
        "  --user NAME            run as this existing user of the server (admins\n"
        "                         only; default: a fresh dynamic user)\n"
        "\n"
        "Input:\n"
        "  -i, --interactive      the job's stdin is a pipe that 'attach -i' writes to\n"
        "                         (run: this command's stdin, its end included);\n"
        "                         default: /dev/null\n"
        "  -t, --tty              the job runs on a terminal of the server, its stdout\n"
        "                         and stderr merged into stdout; with -i, run and\n"
        "                         attach connect it to this terminal, in raw mode\n";

void spec_args_init(SpecArgs *a) {
        *a = (SpecArgs) {
                .spec = JOBRUNNER__V1__JOB_SPEC__INIT,
                .limits = JOBRUNNER__V1__LIMITS__INIT,
                .isolation = JOBRUNNER__V1__ISOLATION__INIT,
        };
}

void spec_args_done(SpecArgs *a) {
        for (size_t i = 0; i < a->n_io; i++)
                free(a->io[i].device);
        free(a->io);
        free(a->io_ptrs);
        free(a->env);
        spec_args_init(a);
}

static int io_limit(SpecArgs *a, const char *option, const char *arg, bool write, CliError *e) {
        Jobrunner__V1__IoDeviceLimit *l = NULL, *io;
        const char *device;
        size_t len;
        uint64_t rate;
        int r;

        r = parse_io_limit(option, arg, &device, &len, &rate, e);
        if (r < 0)
                return r;

        /* One entry per device, with both directions. */
        for (size_t i = 0; i < a->n_io; i++)
                if (strlen(a->io[i].device) == len && strncmp(a->io[i].device, device, len) == 0)
                        l = &a->io[i];
        if (!l) {
                io = realloc(a->io, (a->n_io + 1) * sizeof(*io));
                if (!io)
                        return cli_error_oom(e);
                a->io = io;
                l = &a->io[a->n_io];
                *l = (Jobrunner__V1__IoDeviceLimit) JOBRUNNER__V1__IO_DEVICE_LIMIT__INIT;
                l->device = strndup(device, len);
                if (!l->device)
                        return cli_error_oom(e);
                a->n_io++;
        }

        if ((write ? l->write_bytes_per_second : l->read_bytes_per_second) != 0)
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL, "%s given twice for %s", option, l->device);
        if (write)
                l->write_bytes_per_second = rate;
        else
                l->read_bytes_per_second = rate;
        a->has_limits = true;
        return 0;
}

static void toggle(SpecArgs *a, Jobrunner__V1__Toggle *field, bool on) {
        *field = on ? JOBRUNNER__V1__TOGGLE__TOGGLE_ON : JOBRUNNER__V1__TOGGLE__TOGGLE_OFF;
        a->has_isolation = true;
}

bool input_option(int opt, bool *interactive, bool *tty) {
        if (opt == ARG_INTERACTIVE)
                *interactive = true;
        else if (opt == ARG_TTY)
                *tty = true;
        else
                return false;
        return true;
}

int spec_args_option(SpecArgs *a, int opt, const char *arg, CliError *e) {
        int r = 0, network;

        switch (opt) {
        case ARG_CPU:
                r = parse_cpu_quota(arg, &a->limits.cpu_quota_percent, e);
                a->has_limits = true;
                break;
        case ARG_CPU_WEIGHT:
                r = parse_weight("CPU weight", arg, &a->limits.cpu_weight, e);
                a->has_limits = true;
                break;
        case ARG_MEMORY:
                r = parse_memory(arg, &a->limits.memory_max_bytes, e);
                a->has_limits = true;
                break;
        case ARG_IO_WEIGHT:
                r = parse_weight("IO weight", arg, &a->limits.io_weight, e);
                a->has_limits = true;
                break;
        case ARG_IO_READ_BPS:
                r = io_limit(a, "--io-read-bps", arg, false, e);
                break;
        case ARG_IO_WRITE_BPS:
                r = io_limit(a, "--io-write-bps", arg, true, e);
                break;
        case ARG_TASKS:
                r = parse_tasks(arg, &a->limits.tasks_max, e);
                a->has_limits = true;
                break;
        case ARG_NETWORK:
                r = parse_network(arg, &network, e);
                if (r >= 0) {
                        a->isolation.network = (Jobrunner__V1__NetworkMode) network;
                        a->has_isolation = true;
                }
                break;
        case ARG_PID_NAMESPACE:
        case ARG_NO_PID_NAMESPACE:
                toggle(a, &a->isolation.pid_namespace, opt == ARG_PID_NAMESPACE);
                break;
        case ARG_PRIVATE_MOUNTS:
        case ARG_NO_PRIVATE_MOUNTS:
                toggle(a, &a->isolation.private_mounts, opt == ARG_PRIVATE_MOUNTS);
                break;
        case ARG_PRIVATE_TMP:
        case ARG_NO_PRIVATE_TMP:
                toggle(a, &a->isolation.private_tmp, opt == ARG_PRIVATE_TMP);
                break;
        case ARG_CWD:
                r = check_working_directory(arg, e);
                a->spec.working_directory = (char *) arg;
                break;
        case ARG_INTERACTIVE:
        case ARG_TTY:
                (void) input_option(opt, &a->interactive, &a->tty);
                break;
        case ARG_USER:
                if (!arg || !arg[0])
                        return cli_error(e, CLI_EXIT_USAGE, -EINVAL, "--user needs a user name");
                a->spec.user = (char *) arg;
                break;
        case ARG_ENV: {
                char **env;

                r = parse_env(arg, e);
                if (r < 0)
                        return r;
                /* Doubling: a command line may hold tens of thousands. */
                if (a->n_env == a->size_env) {
                        size_t n = a->size_env ? 2 * a->size_env : 8;

                        env = reallocarray(a->env, n, sizeof(char *));
                        if (!env)
                                return cli_error_oom(e);
                        a->env = env;
                        a->size_env = n;
                }
                a->env[a->n_env++] = (char *) arg;
                break;
        }
        default:
                return 0;
        }
        return r < 0 ? r : 1;
}

/* Adds what execve() makes of each string of l to *total (see
 * common/exec-limits.h); refuses a string longer than it takes. */
static int add_exec_size(char *const *l, size_t n, bool env, uint64_t *total, CliError *e) {
        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(l[i]);

                if (len > EXEC_STRING_MAX) {
                        if (env)
                                return cli_error(e, CLI_EXIT_USAGE, -E2BIG,
                                                 "the environment variable %.*s is %zu bytes long; a job takes at "
                                                 "most %u (the kernel's MAX_ARG_STRLEN, with the NUL)",
                                                 (int) strcspn(l[i], "="), l[i], len, EXEC_STRING_MAX);
                        return cli_error(e, CLI_EXIT_USAGE, -E2BIG,
                                         "argument %zu of the job is %zu bytes long; a job takes at most %u (the "
                                         "kernel's MAX_ARG_STRLEN, with the NUL)", i, len, EXEC_STRING_MAX);
                }
                *total += len + 1 + EXEC_POINTER_SIZE;
        }
        return 0;
}

int spec_args_finish(SpecArgs *a, char **argv, size_t argc, CliError *e) {
        bool named_user = a->spec.user && a->spec.user[0];
        uint64_t total = 0;
        size_t dup, first;
        int r;

        if (argc == 0)
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                 "nothing to run: give the program's absolute path and its arguments after '--'");
        r = check_argv0(argv[0], e);
        if (r < 0)
                return r;

        r = add_exec_size(argv, argc, false, &total, e);
        if (r >= 0)
                r = add_exec_size(a->env, a->n_env, true, &total, e);
        if (r < 0)
                return r;
        if (total > EXEC_BYTES_MAX)
                return cli_error(e, CLI_EXIT_USAGE, -E2BIG,
                                 "the job's arguments and environment come to %" PRIu64 " bytes as execve() counts "
                                 "them (each string, its NUL and an %u-byte pointer); a job takes at most %u",
                                 total, EXEC_POINTER_SIZE, EXEC_BYTES_MAX);

        r = env_find_duplicate(a->env, a->n_env, &dup, &first);
        if (r < 0)
                return cli_error_oom(e);
        if (r > 0)
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL, "the environment variable %.*s is given twice",
                                 (int) strcspn(a->env[dup], "="), a->env[dup]);

        /* The server would refuse these too, but less directly. */
        if (!named_user && a->isolation.private_mounts == JOBRUNNER__V1__TOGGLE__TOGGLE_OFF)
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                 "--no-private-mounts needs --user: a job of a dynamic user always has its own "
                                 "mount namespace");
        if (!named_user && a->isolation.private_tmp == JOBRUNNER__V1__TOGGLE__TOGGLE_OFF)
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                 "--no-private-tmp needs --user: a job of a dynamic user always has a private /tmp");

        a->spec.argv = argv;
        a->spec.n_argv = argc;
        a->spec.env = a->env;
        a->spec.n_env = a->n_env;

        if (a->n_io > 0) {
                free(a->io_ptrs);
                a->io_ptrs = calloc(a->n_io, sizeof(*a->io_ptrs));
                if (!a->io_ptrs)
                        return cli_error_oom(e);
                for (size_t i = 0; i < a->n_io; i++)
                        a->io_ptrs[i] = &a->io[i];
                a->limits.io_device_limits = a->io_ptrs;
                a->limits.n_io_device_limits = a->n_io;
        }
        /* The terminal is the job's input: the API wants stdin unset then. */
        a->spec.terminal = a->tty;
        a->spec.stdin = a->interactive && !a->tty ? JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_PIPE :
                                                    JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_UNSPECIFIED;
        a->spec.limits = a->has_limits ? &a->limits : NULL;
        a->spec.isolation = a->has_isolation ? &a->isolation : NULL;
        return 0;
}
