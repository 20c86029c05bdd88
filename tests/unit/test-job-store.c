/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Job metadata survives a save/load round trip, whatever its strings hold. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "job-store.h"
#include "macro.h"
#include "strv.h"

/* The library's fsync() calls, through -Wl,--wrap=fsync. */
static unsigned n_fsync;
int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __wrap_fsync(int fd) {
        n_fsync++;
        return __real_fsync(fd);
}

static const char *const tricky[] = {
        "plain", "", "with space", "new\nline", "back\\slash", "\\n literally", "tab\there",
        "\x01\x1f\x7f", "ünïcödé ✓", "=equals=", "trailing\\",
};

Test(job_store, escape_round_trips) {
        for (size_t i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
                char *text = NULL, *line, *back;
                size_t len = 0;
                FILE *f = open_memstream(&text, &len);

                cr_assert_eq(job_store_write_value(f, "k", tricky[i]), 0);
                fclose(f);
                cr_assert_eq(strchr(text, '\n'), text + len - 1, "one line only for %s", tricky[i]);
                text[len - 1] = '\0';
                line = text + 2;        /* after "k=" */
                cr_assert_eq(job_store_unescape(line, &back), 0);
                cr_assert_str_eq(back, tricky[i]);
                free(back);
                free(text);
        }
}

Test(job_store, bad_escapes_are_refused) {
        char *out;

        cr_assert_eq(job_store_unescape("\\q", &out), -EBADMSG);
        cr_assert_eq(job_store_unescape("\\x0", &out), -EBADMSG);
        cr_assert_eq(job_store_unescape("\\x00", &out), -EBADMSG);   /* no NUL inside a C string */
}

/* A job of a new manager over a new state directory, its directory made;
 * state is the directory's path. */
static jr_job *new_job(jr_manager *m, char state[static 40], const jr_spec *spec) {
        char jobs[128];
        jr_job *j;

        snprintf(state, 40, "/tmp/jobrunner-store-test.XXXXXX");
        cr_assert_not_null(mkdtemp(state));
        *m = (jr_manager) { .state_dir = state, .slice = (char *) "jobrunner.slice" };
        snprintf(jobs, sizeof(jobs), "%s/jobs", state);
        cr_assert_eq(mkdir(jobs, 0700), 0);
        cr_assert_eq(job_new(m, "0123456789abcdef0123456789abcdef", "alice", spec, &j), 0);
        cr_assert_eq(mkdir(j->dir, 0700), 0);
        return j;
}

static void remove_state(const char *state) {
        char cmd[256];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
        (void) !system(cmd);
}

Test(job_store, a_job_round_trips) {
        char state[40];
        char *argv[] = { (char *) "/bin/echo", (char *) "a\nb", (char *) "$HOME", NULL };
        char *env[] = { (char *) "A=1", (char *) "B=x y", NULL };
        jr_io_limit io = { .device = (char *) "/dev/vda", .read_bps = 10, .write_bps = 20 };
        jr_spec spec = { .argv = argv, .env = env, .working_directory = (char *) "/srv",
                         .memory_max = 1u << 30, .cpu_quota_percent = 150, .io_limits = &io, .n_io_limits = 1,
                         .tasks_max = JR_UNLIMITED, .network = JR_NETWORK_HOST, .pid_namespace = JR_TOGGLE_OFF };
        jr_manager m;
        jr_job *j = new_job(&m, state, &spec), *back;
        j->state = JR_STATE_STOPPED;
        j->signal = 15;
        j->killed_after_grace = true;
        j->stopped_by = strdup("bob");
        j->start_time_us = 1700000000000000;
        j->usage.memory_peak = 12345;
        j->start_queued = true;
        j->output_eof = OUTPUT_STREAM_BIT(OUTPUT_STREAM_STDERR);
        cr_assert_eq(job_store_save(j), 0);

        cr_assert_eq(job_store_load(&m, j->id, &back), 0);
        cr_assert_str_eq(back->owner, "alice");
        cr_assert_str_eq(back->spec.argv[1], "a\nb");
        cr_assert_str_eq(back->spec.argv[2], "$HOME");
        cr_assert_null(back->spec.argv[3]);
        cr_assert_str_eq(back->spec.env[1], "B=x y");
        cr_assert_str_eq(back->spec.working_directory, "/srv");
        cr_assert_eq(back->spec.memory_max, 1u << 30);
        cr_assert_eq(back->spec.cpu_quota_percent, 150);
        cr_assert_eq(back->spec.tasks_max, JR_UNLIMITED);
        cr_assert_eq(back->spec.network, JR_NETWORK_HOST);
        cr_assert_eq(back->spec.pid_namespace, JR_TOGGLE_OFF);
        cr_assert_eq(back->spec.n_io_limits, 1);
        cr_assert_str_eq(back->spec.io_limits[0].device, "/dev/vda");
        cr_assert_eq(back->spec.io_limits[0].write_bps, 20);
        cr_assert_eq(back->state, JR_STATE_STOPPED);
        cr_assert_eq(back->signal, 15);
        cr_assert(back->killed_after_grace);
        cr_assert_str_eq(back->stopped_by, "bob");
        cr_assert_eq(back->start_time_us, 1700000000000000);
        cr_assert_eq(back->usage.memory_peak, 12345);
        cr_assert(back->start_queued);
        /* stdout was not read to its end: the next daemon reads on. */
        cr_assert_eq(back->output_eof, OUTPUT_STREAM_BIT(OUTPUT_STREAM_STDERR));

        job_free(back);
        job_free(j);
        remove_state(state);
}

/* A file written before output_eof existed: a finished job's output counts
 * as complete, a running job's streams as open. */
Test(job_store, files_without_output_eof) {
        static const struct {
                jr_state state;
                unsigned output_eof;
        } cases[] = {
                { JR_STATE_EXITED, OUTPUT_STREAMS_ALL },
                { JR_STATE_RUNNING, 0 },
        };
        char state[] = "/tmp/jobrunner-store-test.XXXXXX", path[256];
        jr_manager m = { .state_dir = state, .slice = (char *) "jobrunner.slice" };
        const char *id = "0123456789abcdef0123456789abcdef";

        cr_assert_not_null(mkdtemp(state));
        snprintf(path, sizeof(path), "%s/jobs", state);
        cr_assert_eq(mkdir(path, 0700), 0);
        snprintf(path, sizeof(path), "%s/jobs/%s", state, id);
        cr_assert_eq(mkdir(path, 0700), 0);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                jr_job *back;
                FILE *f;

                snprintf(path, sizeof(path), "%s/jobs/%s/" JOB_STORE_FILE, state, id);
                f = fopen(path, "we");
                cr_assert_not_null(f);
                fprintf(f, "id=%s\nowner=alice\nargv=/bin/true\nstate=%d\n", id, (int) cases[i].state);
                cr_assert_eq(fclose(f), 0);

                cr_assert_eq(job_store_load(&m, id, &back), 0);
                cr_assert_eq(back->output_eof, cases[i].output_eof, "state %d: output_eof %u",
                             (int) cases[i].state, back->output_eof);
                job_free(back);
        }
        remove_state(state);
}

/* A job's file goes to the disk once systemd has queued its start (not
 * before: that would delay the start) and when the job has ended, not on
 * each change in between: an fsync costs milliseconds on the daemon's only
 * thread. */
Test(job_store, only_the_queued_and_the_final_saves_are_synced) {
        char state[40];
        char *argv[] = { (char *) "/bin/true", NULL };
        jr_spec spec = { .argv = argv };
        jr_manager m;
        jr_job *j = new_job(&m, state, &spec), *back;

        n_fsync = 0;
        cr_assert_eq(job_store_save(j), 0);
        cr_assert_eq(n_fsync, 0, "the new file: %u fsyncs", n_fsync);
        j->start_queued = true;
        cr_assert_eq(job_store_save(j), 0);
        cr_assert_eq(n_fsync, 1, "the start queued: %u fsyncs", n_fsync);
        j->state = JR_STATE_RUNNING;
        cr_assert_eq(job_store_save(j), 0);
        j->stop_requested = true;
        cr_assert_eq(job_store_save(j), 0);
        cr_assert_eq(n_fsync, 1, "changes while it runs: %u fsyncs", n_fsync);
        j->state = JR_STATE_STOPPED;
        cr_assert_eq(job_store_save(j), 0);
        cr_assert_eq(n_fsync, 2, "its end: %u fsyncs", n_fsync);

        /* Loaded, the file exists: a running job's changes are not synced. */
        cr_assert_eq(job_store_load(&m, j->id, &back), 0);
        back->state = JR_STATE_RUNNING;
        cr_assert_eq(job_store_save(back), 0);
        cr_assert_eq(n_fsync, 2);

        job_free(back);
        job_free(j);
        remove_state(state);
}

static int read_text(const char *text) {
        jr_manager m = { .state_dir = (char *) "/nonexistent", .slice = (char *) "jobrunner.slice" };
        FILE *f = fmemopen((void *) text, strlen(text), "r");
        jr_job *j;
        int r;

        cr_assert_not_null(f);
        cr_assert_eq(job_new(&m, "0123456789abcdef0123456789abcdef", NULL, NULL, &j), 0);
        r = job_store_read(j, f);
        fclose(f);
        job_free(j);
        return r;
}

/* A damaged file whose job the daemon could not serve is refused, not
 * loaded: found by fuzzing, an unknown network mode or toggle made every
 * status and List that showed the job fail. */
Test(job_store, damaged_files_are_refused) {
        cr_expect_eq(read_text("argv=/bin/true\nstate=3\n"), 0);
        cr_expect_eq(read_text("argv=/bin/true\nstate=3\nnetwork=3\n"), -EBADMSG);
        cr_expect_eq(read_text("argv=/bin/true\nstate=3\npid_namespace=3\n"), -EBADMSG);
        cr_expect_eq(read_text("argv=/bin/true\nstate=3\nprivate_tmp=7\n"), -EBADMSG);
        cr_expect_eq(read_text("argv=/bin/true\nstate=0\n"), -EBADMSG);
        cr_expect_eq(read_text("argv=/bin/true\nstate=8\n"), -EBADMSG);
        cr_expect_eq(read_text("state=3\n"), -EBADMSG);
}

/* Found by fuzzing: the device of an IO limit was written unescaped, so
 * that a backslash (udev's by-label names escape spaces as \x20) or a line
 * break came back as another path. */
Test(job_store, io_devices_round_trip) {
        static const char *const devices[] = { "/dev/disk/by-label/My\\x20Disk", "/dev/a\nb", "/dev/a\\" };
        jr_manager m = { .state_dir = (char *) "/nonexistent", .slice = (char *) "jobrunner.slice" };
        char *argv[] = { (char *) "/bin/true", NULL };

        for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
                jr_io_limit io = { .device = (char *) devices[i], .read_bps = 1 };
                jr_spec spec = { .argv = argv, .io_limits = &io, .n_io_limits = 1 };
                char *text = NULL;
                size_t size = 0;
                FILE *f = open_memstream(&text, &size);
                jr_job *j, *back;

                cr_assert_eq(job_new(&m, "0123456789abcdef0123456789abcdef", "alice", &spec, &j), 0);
                cr_assert_eq(job_store_write(j, f), 0);
                fclose(f);
                f = fmemopen(text, size, "r");
                cr_assert_eq(job_new(&m, "0123456789abcdef0123456789abcdef", NULL, NULL, &back), 0);
                cr_assert_eq(job_store_read(back, f), 0);
                cr_assert_eq(back->spec.n_io_limits, 1);
                cr_expect_str_eq(back->spec.io_limits[0].device, devices[i]);
                fclose(f);
                free(text);
                job_free(back);
                job_free(j);
        }
}

/* As many entries as execve() takes come back, every one in its place (a
 * job file is read in time linear in them). */
Test(job_store, the_most_entries_round_trip) {
        char state[40];
        size_t n = JR_EXEC_ENTRIES_MAX - 3;
        _cleanup_(strv_freep) char **argv = calloc(n + 1, sizeof(char *));
        char *env[] = { (char *) "A=1", (char *) "B=", NULL };
        jr_manager m;
        jr_spec spec = { .argv = argv, .env = env };
        jr_job *j, *back;

        cr_assert_not_null(argv);
        argv[0] = strdup("/bin/true");
        for (size_t i = 1; i < n; i++)
                cr_assert_geq(asprintf(&argv[i], "%zu", i), 0);
        j = new_job(&m, state, &spec);
        j->state = JR_STATE_EXITED;
        cr_assert_eq(job_store_save(j), 0);

        cr_assert_eq(job_store_load(&m, j->id, &back), 0);
        for (size_t i = 0; i < n; i++)
                cr_assert_str_eq(back->spec.argv[i], argv[i], "argv[%zu]", i);
        cr_assert_null(back->spec.argv[n]);
        cr_assert_str_eq(back->spec.env[0], "A=1");
        cr_assert_str_eq(back->spec.env[1], "B=");
        cr_assert_null(back->spec.env[2]);

        job_free(back);
        job_free(j);
        remove_state(state);
}
