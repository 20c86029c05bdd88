/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jobrunner-init as the main process of a transient service, configured as
 * libjobrunner will configure it: Type=notify, NotifyAccess=main,
 * KillMode=control-group, DynamicUser=yes, NoNewPrivileges=yes, and with
 * --pid-namespace the ambient CAP_SYS_ADMIN it needs for the namespaces.
 * What systemd records about the unit must be the truth about the command. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include "macro.h"
#include "transient-unit.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_SERVICE "org.freedesktop.systemd1.Service"
#define CAP_SYS_ADMIN_MASK (UINT64_C(1) << 21)
/* Generous for TCG; only a job that never lets go of its stdout needs it. */
#define OUTPUT_TIMEOUT_MS (60 * 1000)

typedef struct Job {
        bool pid_namespace;
        const char *script;     /* run by /bin/sh -c, or else: */
        const char *path;       /* a command without arguments, or else: */
        const char *command;    /* a command on stdin (--command-from-stdin), */
        size_t command_len;     /* as libjobrunner writes it (lib/init/command.h) */
        bool capture;           /* stdout (and stderr) into a pipe we read */

        /* filled by run_job() */
        int stdout_fd;
        int command_fd;
        int start;              /* transient_unit_start()'s return */
        char *result;           /* the unit's Result= */
        int32_t code;           /* ExecMainCode: CLD_EXITED, CLD_KILLED, ... */
        int32_t status;         /* ExecMainStatus: exit code or signal */
        int32_t status_errno;
        char *status_text;
        char *output;
} Job;

static void job_done(Job *j) {
        free(j->result);
        free(j->status_text);
        free(j->output);
}

static const char *mode(const Job *j) {
        return j->pid_namespace ? "--pid-namespace" : "direct";
}

/* ExecStartEx= with "no-env-expand": with plain ExecStart= systemd would
 * expand $$ and ${...} in the script before the shell ever sees it. */
static int append_exec_start_literal(sd_bus_message *m, const char *const argv[]) {
        int r;

        r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "ExecStartEx");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a(sasas)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sasas)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'r', "sasas");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", argv[0]);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, (char **) argv);
        if (r >= 0)
                r = sd_bus_message_append(m, "as", 1, "no-env-expand");
        for (int i = 0; r >= 0 && i < 4; i++)
                r = sd_bus_message_close_container(m);
        return r;
}

static int append_job_properties(sd_bus_message *m, void *userdata) {
        const Job *j = userdata;
        const char *argv[8];
        size_t n = 0;
        int r;

        argv[n++] = getenv("JOBRUNNER_INIT");
        if (j->pid_namespace)
                argv[n++] = "--pid-namespace";
        if (j->command)
                argv[n++] = "--command-from-stdin";
        else
                argv[n++] = "--";
        if (j->command)
                ;
        else if (j->script) {
                argv[n++] = "/bin/sh";
                argv[n++] = "-c";
                argv[n++] = j->script;
        } else
                argv[n++] = j->path;
        argv[n] = NULL;

        r = append_exec_start_literal(m, argv);
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)",
                                          "Type", "s", "notify",
                                          "NotifyAccess", "s", "main",
                                          "KillMode", "s", "control-group",
                                          "DynamicUser", "b", true,
                                          "NoNewPrivileges", "b", true);
        if (r >= 0 && j->pid_namespace)
                r = sd_bus_message_append(m, "(sv)(sv)",
                                          "AmbientCapabilities", "t", CAP_SYS_ADMIN_MASK,
                                          "CapabilityBoundingSet", "t", CAP_SYS_ADMIN_MASK);
        if (r >= 0 && j->capture)
                r = sd_bus_message_append(m, "(sv)", "StandardOutputFileDescriptor", "h", j->stdout_fd);
        if (r >= 0 && j->command)
                r = sd_bus_message_append(m, "(sv)", "StandardInputFileDescriptor", "h", j->command_fd);
        return r;
}

/* Reads fd to EOF, i.e. until no process holds the write end any more. */
static char *read_all(int fd) {
        char *buf = NULL, chunk[4096];
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        ssize_t n;

        cr_assert_not_null(f);
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };

                cr_assert_eq(poll(&p, 1, OUTPUT_TIMEOUT_MS), 1,
                             "no EOF on the job's stdout after %d ms: a process of the job outlived it",
                             OUTPUT_TIMEOUT_MS);
                n = read(fd, chunk, sizeof(chunk));
                cr_assert_geq(n, 0, "read: %m");
                if (n == 0)
                        break;
                fwrite(chunk, 1, (size_t) n, f);
        }
        fclose(f);
        return buf;
}

static void run_job(Job *j) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_close_pair_ int pipefd[2] = { -EBADF, -EBADF };
        _cleanup_free_ char *name = NULL, *path = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_id128_t id;

        cr_assert_not_null(getenv("JOBRUNNER_INIT"), "JOBRUNNER_INIT is not set");
        /* A fresh unit name per job: units of earlier runs may linger. */
        cr_assert_geq(sd_id128_randomize(&id), 0);
        cr_assert_gt(asprintf(&name, "jobrunner-test-init-" SD_ID128_FORMAT_STR ".service",
                              SD_ID128_FORMAT_VAL(id)), 0);
        cr_assert_geq(sd_bus_path_encode("/org/freedesktop/systemd1/unit", name, &path), 0);

        _cleanup_close_ int command_fd = -EBADF;

        j->command_fd = -EBADF;
        if (j->command) {
                command_fd = memfd_create("jobrunner-command", MFD_CLOEXEC);
                cr_assert_geq(command_fd, 0);
                cr_assert_eq(write(command_fd, j->command, j->command_len), (ssize_t) j->command_len);
                j->command_fd = command_fd;
        }
        j->stdout_fd = -EBADF;
        if (j->capture) {
                cr_assert_geq(pipe2(pipefd, O_CLOEXEC), 0);
                j->stdout_fd = pipefd[1];
        }
        cr_assert_geq(sd_bus_open_system(&bus), 0);
        j->start = transient_unit_start(bus, name, append_job_properties, j);
        if (j->capture) {
                /* Ours is the last write end outside the unit. */
                pipefd[1] = safe_close(pipefd[1]);
                j->output = read_all(pipefd[0]);
        }
        cr_assert_geq(transient_unit_wait(bus, name, &j->result), 0);

        cr_assert_geq(sd_bus_get_property_trivial(bus, SD_DEST, path, SD_SERVICE, "ExecMainCode",
                                                  &error, 'i', &j->code), 0);
        cr_assert_geq(sd_bus_get_property_trivial(bus, SD_DEST, path, SD_SERVICE, "ExecMainStatus",
                                                  &error, 'i', &j->status), 0);
        cr_assert_geq(sd_bus_get_property_trivial(bus, SD_DEST, path, SD_SERVICE, "StatusErrno",
                                                  &error, 'i', &j->status_errno), 0);
        cr_assert_geq(sd_bus_get_property_string(bus, SD_DEST, path, SD_SERVICE, "StatusText",
                                                 &error, &j->status_text), 0);
        sd_bus_error_free(&error);

        printf("%s [%s] %s: start=%d result=%s code=%d status=%d status_text='%s' output='%s'\n",
               name, mode(j), j->script ?: j->path ?: "(stdin)", j->start, j->result, j->code, j->status,
               j->status_text, j->output ?: "");
}

Test(init, pid_namespace_shows_only_the_job) {
        Job j = {
                .pid_namespace = true,
                /* Builtins only: no fork, so the command is all there is
                 * besides our init. */
                .script = "echo $$; for p in /proc/[0-9]*; do echo ${p#/proc/}; done",
                .capture = true,
        };

        run_job(&j);
        cr_assert_eq(j.start, 0);
        cr_assert_str_eq(j.result, "success");
        /* $$ is 2, then /proc lists PID 1 (our init) and 2 (the command). */
        cr_assert_str_eq(j.output, "2\n1\n2\n");
        job_done(&j);
}

Test(init, exit_code_propagates) {
        for (int ns = 0; ns <= 1; ns++) {
                Job j = { .pid_namespace = ns, .script = "exit 3" };

                run_job(&j);
                cr_assert_eq(j.start, 0, "[%s]", mode(&j));
                cr_assert_str_eq(j.result, "exit-code", "[%s]", mode(&j));
                cr_assert_eq(j.code, CLD_EXITED, "[%s]", mode(&j));
                cr_assert_eq(j.status, 3, "[%s]", mode(&j));
                job_done(&j);
        }
}

Test(init, death_by_signal_propagates) {
        static const struct {
                const char *script;
                int sig;
        } cases[] = {
                { "kill -TERM $$", SIGTERM },
                { "kill -KILL $$", SIGKILL },
        };

        for (int ns = 0; ns <= 1; ns++)
                for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                        Job j = { .pid_namespace = ns, .script = cases[i].script };

                        run_job(&j);
                        cr_assert_eq(j.start, 0, "[%s] %s", mode(&j), j.script);
                        cr_assert_eq(j.code, CLD_KILLED, "[%s] %s", mode(&j), j.script);
                        cr_assert_eq(j.status, cases[i].sig, "[%s] %s", mode(&j), j.script);
                        /* systemd counts SIGTERM as a clean exit, SIGKILL not. */
                        cr_assert_str_eq(j.result, cases[i].sig == SIGKILL ? "signal" : "success",
                                         "[%s] %s", mode(&j), j.script);
                        job_done(&j);
                }
}

Test(init, missing_binary_fails_the_start) {
        for (int ns = 0; ns <= 1; ns++) {
                Job j = { .pid_namespace = ns, .path = "/nonexistent/jobrunner-command" };

                run_job(&j);
                cr_assert_lt(j.start, 0, "[%s] the start job succeeded", mode(&j));
                cr_assert_str_eq(j.status_text,
                                 "cannot execute /nonexistent/jobrunner-command: No such file or directory",
                                 "[%s]", mode(&j));
                cr_assert_eq(j.status_errno, ENOENT, "[%s]", mode(&j));
                cr_assert_eq(j.code, CLD_EXITED, "[%s]", mode(&j));
                cr_assert_eq(j.status, 203, "[%s]", mode(&j));
                job_done(&j);
        }
}

/* The way libjobrunner runs every job: the command, its arguments and
 * environment on stdin, which the command then finds to be /dev/null; and
 * a start that fails, with the reason, if what comes is not a command. */
#define STDIN_COMMAND(s) s, sizeof(s) - 1
Test(init, command_from_stdin) {
        for (int ns = 0; ns <= 1; ns++) {
                Job j = { .pid_namespace = ns, .capture = true,
                          .command = STDIN_COMMAND("jobrunner-command 1\n" "4\0" "1\0"
                                                   "/bin/sh\0" "-c\0" "printf '%s|' \"$0\" \"$X\"; cat\0" "$HOME\0"
                                                   "X=${y} z\0") },
                    bad = { .pid_namespace = ns, .command = STDIN_COMMAND("jobrunner-command 1\n" "2\0" "0\0"
                                                                          "/bin/true\0") };

                run_job(&j);
                cr_assert_eq(j.start, 0, "[%s]", mode(&j));
                cr_assert_str_eq(j.result, "success", "[%s]", mode(&j));
                cr_assert_str_eq(j.output, "$HOME|${y} z|", "[%s]", mode(&j));
                job_done(&j);

                run_job(&bad);
                cr_assert_lt(bad.start, 0, "[%s] the start job succeeded", mode(&bad));
                cr_assert_str_eq(bad.status_text, "cannot read the command from standard input: Bad message",
                                 "[%s]", mode(&bad));
                cr_assert_eq(bad.status_errno, EBADMSG, "[%s]", mode(&bad));
                job_done(&bad);
        }
}

/* setsid -f forks, so the sleeper is orphaned as soon as setsid returns and
 * belongs to our init (subreaper, or PID 1 of the namespace).  After we kill
 * it, only our init can reap it; the loop waits until it is gone. */
#define ORPHAN_SCRIPT \
        "setsid -f sleep 1000 >/dev/null 2>&1; " \
        "kids() { cat /proc/$PPID/task/$PPID/children; }; " \
        "set -- $(kids); echo adopted $#; " \
        "for k; do [ $k = $$ ] || kill $k; done; " \
        "i=0; while [ \"$(kids)\" != \"$$ \" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; " \
        "set -- $(kids); echo left $#"

Test(init, orphan_is_adopted_and_reaped) {
        for (int ns = 0; ns <= 1; ns++) {
                Job j = { .pid_namespace = ns, .script = ORPHAN_SCRIPT, .capture = true };

                run_job(&j);
                cr_assert_eq(j.start, 0, "[%s]", mode(&j));
                cr_assert_str_eq(j.output, "adopted 2\nleft 1\n", "[%s]", mode(&j));
                cr_assert_str_eq(j.result, "success", "[%s]", mode(&j));
                job_done(&j);
        }
}

Test(init, daemonized_grandchild_does_not_outlive_the_job) {
        for (int ns = 0; ns <= 1; ns++) {
                /* The sleeper holds the job's stdout: read_all() sees EOF only
                 * once it is dead. */
                Job j = {
                        .pid_namespace = ns,
                        .script = "setsid -f sleep 1000; echo started",
                        .capture = true,
                };

                run_job(&j);
                cr_assert_eq(j.start, 0, "[%s]", mode(&j));
                cr_assert_str_eq(j.output, "started\n", "[%s]", mode(&j));
                cr_assert_str_eq(j.result, "success", "[%s]", mode(&j));
                job_done(&j);
        }
}

Test(init, command_has_no_capabilities) {
        Job j = {
                .pid_namespace = true,
                /* The command's own status ($$), read by a builtin. */
                .script = "while read -r k v; do case $k in Cap*) echo $k $v;; esac; done </proc/$$/status",
                .capture = true,
        };

        run_job(&j);
        cr_assert_eq(j.start, 0);
        cr_assert_str_eq(j.output,
                         "CapInh: 0000000000000000\n"
                         "CapPrm: 0000000000000000\n"
                         "CapEff: 0000000000000000\n"
                         "CapBnd: 0000000000200000\n"   /* proves the unit had the grant */
                         "CapAmb: 0000000000000000\n");
        job_done(&j);
}
