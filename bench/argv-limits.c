/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* How large a job's command line and environment may be, measured on the path
 * libjobrunner starts a job: StartTransientUnit with the library's own unit
 * properties (unit-properties.c, sent by systemd-unit.c), systemd 252
 * executing jobrunner-init, and jobrunner-init's execve() of the command.
 * With "daemon-reload", systemd is also made to read back the unit file it
 * wrote while the job runs; the job must run on and end as it would have,
 * and the table says what systemd made of the unit (its LoadState, and
 * whether ExecStart= is still what was sent).
 *
 * Each trial runs "/bin/sh -c SCRIPT sh ARGS..." and succeeds if the job
 * printed exactly its ARGS (each with a NUL) and exited 0.  Each row
 * bisects the largest size for which a trial succeeds; the last table times
 * StartTransientUnit and the reload for many small arguments.  Run as root
 * on a systemd host (the test VM, see bench/argv-limits).
 *
 * Usage: argv-limits INIT_PATH [ROW]   (ROW: only the rows whose text holds it) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "strv.h"
#include "systemd-unit.h"

#define DIR "/run/argv-limits"
#define FIFO DIR "/go"
#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define ENTRY_MAX 65536                 /* bytes per generated entry, at most */

/* The job: its arguments, each with a NUL, then (with reload) it waits for
 * a line on the FIFO, so that the reload surely happens while it runs. */
static const char script_quit[] = "printf '%s\\0' \"$@\"";
static const char script_wait[] = "printf '%s\\0' \"$@\" && read -r x < " FIFO;

static sd_event *event;
static sd_bus *bus;
static UnitBus *unit_bus;
static const char *init_path;
static unsigned n_trials;

static struct {
        const char *unit;
        bool replied, removed;
        char error[256], result[32];
} current;

/* Of the last trial: how long systemd took to answer StartTransientUnit,
 * and the daemon-reload (0: none). */
static uint64_t start_usec, reload_usec;
/* What systemd made of the unit after the reload. */
static char after_reload[128];

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static void die(const char *what, int r) {
        fprintf(stderr, "argv-limits: %s: %s\n", what, strerror(r < 0 ? -r : r));
        exit(EXIT_FAILURE);
}

static void on_job_removed(void *userdata, const char *unit, const char *result) {
        (void) userdata;
        if (current.unit && strcmp(unit, current.unit) == 0) {
                current.removed = true;
                snprintf(current.result, sizeof(current.result), "%s", result);
        }
}

static void on_properties_changed(void *userdata, const char *unit, UnitUpdate *update) {
        (void) userdata;
        (void) unit;
        (void) update;
}

static void on_start_reply(void *userdata, const char *error, UnitUpdate *update) {
        (void) userdata;
        (void) update;
        current.replied = true;
        if (error)
                snprintf(current.error, sizeof(current.error), "%s", error);
}

/* ---- what a trial sends ---------------------------------------------------- */

/* A character class of the generated strings: systemd escapes some of them
 * when it writes the unit file. */
typedef struct Fill {
        const char *name;
        const char *unit;               /* repeated; lengths are cut to whole units */
} Fill;

static const Fill fill_plain = { "a", "a" };
/* Escaped in the unit file: control characters and every byte of a
 * multi-byte UTF-8 character become \ooo, four bytes each. */
static const Fill fills_escaped[] = {
        { "\\x01 (control)", "\x01" },
        { "é (UTF-8)", "\xc3\xa9" },
};

static char *make_string(const char *prefix, const Fill *f, size_t len) {
        size_t p = strlen(prefix), u = strlen(f->unit);
        char *s;

        len -= (len - p) % u;
        s = malloc(len + 1);
        if (!s)
                die("malloc", -ENOMEM);
        memcpy(s, prefix, p);
        for (size_t i = p; i < len; i += u)
                memcpy(s + i, f->unit, u);
        s[len] = 0;
        return s;
}

/* total bytes of strings (without their NULs) in entries of at most
 * entry_max bytes; count entries of one byte each if total is 0. */
static char **make_entries(bool env, const Fill *f, size_t total, size_t entry_max, size_t count) {
        size_t n = count > 0 ? count : (total + entry_max - 1) / entry_max;
        char **l = calloc(n + 1, sizeof(char *));

        if (!l)
                die("calloc", -ENOMEM);
        for (size_t i = 0; i < n; i++) {
                char prefix[32] = "";
                size_t len = count > 0 ? 1 : (i + 1 < n ? entry_max : total - i * entry_max);

                if (env)
                        snprintf(prefix, sizeof(prefix), "E%zu=", i);
                l[i] = make_string(prefix, f, len > strlen(prefix) ? len : strlen(prefix));
        }
        return l;
}

/* ---- one trial ------------------------------------------------------------ */

static int read_file(const char *path, char **ret, size_t *ret_len) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t size = 0, len = 0, k;

        if (!f)
                return -errno;
        do {
                if (len + 65536 > size) {
                        char *p = realloc(buf, size = len + 65536 * 4);
                        if (!p) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = p;
                }
                k = fread(buf + len, 1, size - len, f);
                len += k;
        } while (k > 0);
        *ret = buf;
        *ret_len = len;
        return 0;
}

static char *unit_path(const char *unit) {
        char *p = NULL;

        if (sd_bus_path_encode(SD_PATH "/unit", unit, &p) < 0)
                die("sd_bus_path_encode", -ENOMEM);
        return p;
}

static char *get_string(const char *unit, const char *iface, const char *name) {
        _cleanup_free_ char *path = unit_path(unit);
        sd_bus_error error = SD_BUS_ERROR_NULL;
        char *s = NULL;

        if (sd_bus_get_property_string(bus, SD_DEST, path, iface, name, &error, &s) < 0)
                s = strdup("?");
        sd_bus_error_free(&error);
        return s;
}

static int get_i32(const char *unit, const char *name) {
        _cleanup_free_ char *path = unit_path(unit);
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int32_t v = -1;

        (void) sd_bus_get_property_trivial(bus, SD_DEST, path, "org.freedesktop.systemd1.Service", name, &error,
                                           'i', &v);
        sd_bus_error_free(&error);
        return v;
}

/* ExecStart's argv as systemd has it now. */
static char **get_exec_argv(const char *unit) {
        _cleanup_free_ char *path = unit_path(unit);
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        char **argv = NULL;
        const char *p;
        int r;

        r = sd_bus_get_property(bus, SD_DEST, path, "org.freedesktop.systemd1.Service", "ExecStart", &error, &reply,
                                "a(sasbttttuii)");
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(sasbttttuii)");
        if (r > 0)
                r = sd_bus_message_enter_container(reply, 'r', "sasbttttuii");
        if (r > 0)
                r = sd_bus_message_read(reply, "s", &p);
        if (r > 0)
                (void) sd_bus_message_read_strv(reply, &argv);
        sd_bus_message_unref(reply);
        sd_bus_error_free(&error);
        return argv;
}

static bool strv_equal(char *const *a, char *const *b) {
        size_t i = 0;

        for (; a && b && a[i] && b[i]; i++)
                if (strcmp(a[i], b[i]) != 0)
                        return false;
        return a && b && !a[i] && !b[i];
}

/* Until the main process has ended: the unit remains after it
 * (RemainAfterExit=, "active"/"exited") or has failed. */
static void wait_ended(const char *unit) {
        for (;;) {
                _cleanup_free_ char *state = get_string(unit, "org.freedesktop.systemd1.Unit", "ActiveState");
                _cleanup_free_ char *sub = get_string(unit, "org.freedesktop.systemd1.Unit", "SubState");

                if (strcmp(state, "inactive") == 0 || strcmp(state, "failed") == 0 || strcmp(state, "?") == 0 ||
                    strcmp(sub, "exited") == 0)
                        return;
                usleep(20000);
        }
}

/* Lets systemd collect the unit, as the library does once it has read a
 * job's result. */
static void release_unit(const char *unit) {
        _cleanup_free_ char *load = get_string(unit, "org.freedesktop.systemd1.Unit", "LoadState");
        _cleanup_free_ char *active = get_string(unit, "org.freedesktop.systemd1.Unit", "ActiveState");
        UnitState state = {};

        snprintf(state.load_state, sizeof(state.load_state), "%s", load);
        snprintf(state.active_state, sizeof(state.active_state), "%s", active);
        (void) unit_release(unit_bus, unit, &state);
}

/* Lets a job that waits on the FIFO go on; false if it ended before. */
static bool release_job(const char *unit) {
        for (;;) {
                _cleanup_free_ char *state = NULL;
                int fd = open(FIFO, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

                if (fd >= 0) {
                        ssize_t k = write(fd, "\n", 1);
                        close(fd);
                        return k == 1;
                }
                if (errno != ENXIO)
                        die("open " FIFO, -errno);
                state = get_string(unit, "org.freedesktop.systemd1.Unit", "ActiveState");
                if (strcmp(state, "active") != 0 && strcmp(state, "activating") != 0)
                        return false;
                usleep(20000);
        }
}

/* Runs the job with args and env; true if it printed exactly args and
 * exited 0 (and, with reload, came through a daemon-reload intact).  why
 * gets the first thing that went wrong. */
static bool trial(char **args, char **env, bool reload, char *why, size_t why_size) {
        char *head[] = { (char *) "/bin/sh", (char *) "-c", (char *) (reload ? script_wait : script_quit),
                         (char *) "sh", NULL };
        _cleanup_(unit_properties_done) UnitProperties props = {};
        _cleanup_free_ char *unit = NULL, *out = NULL, *expect = NULL, *status = NULL, *result = NULL;
        _cleanup_close_ int out_fd = -EBADF, err_fd = -EBADF;
        char **argv = strv_concat(head, args);
        size_t out_len = 0, expect_len = 0;
        UnitCall *call;
        bool ok = false;
        jr_error e = {};
        int r;

        if (!argv || asprintf(&unit, "argv-limits-%u.service", ++n_trials) < 0)
                die("trial", -ENOMEM);
        out_fd = open(DIR "/out", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        err_fd = open(DIR "/err", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out_fd < 0 || err_fd < 0)
                die("open " DIR "/out", -errno);

        r = unit_properties_build(&(UnitPropertiesInput) {
                                          .spec = &(jr_spec) { .argv = argv, .env = env },
                                          .job_id = "argv-limits",
                                          .slice = "system.slice",
                                          .init_path = init_path,
                                          .stop_timeout_usec = 10000000,
                                          .stdout_fd = out_fd,
                                          .stderr_fd = err_fd,
                                          .stdin_fd = -EBADF,
                                  },
                                  &props, &e);
        if (r < 0)
                die(e.message, r);

        current = (typeof(current)) { .unit = unit };
        start_usec = now_usec();
        reload_usec = 0;
        after_reload[0] = 0;
        r = unit_start_transient(unit_bus, unit, &props, on_start_reply, NULL, &call);
        if (r < 0) {
                snprintf(why, why_size, "cannot send StartTransientUnit: %s", strerror(-r));
                goto done;
        }
        while (!current.replied)
                if ((r = sd_event_run(event, UINT64_MAX)) < 0)
                        die("sd_event_run", r);
        start_usec = now_usec() - start_usec;
        while (!current.error[0] && !current.removed)
                if ((r = sd_event_run(event, UINT64_MAX)) < 0)
                        die("sd_event_run", r);
        if (current.error[0]) {
                snprintf(why, why_size, "StartTransientUnit: %s", current.error);
                goto done;
        }

        if (reload && strcmp(current.result, "done") == 0) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_free_ char *load = NULL, *active = NULL;
                _cleanup_(strv_freep) char **after = NULL;
                const UnitProperty *exec = unit_properties_find(&props, "ExecStart");

                sd_bus_message *m = NULL;

                /* Under emulation a reload takes longer than D-Bus's
                 * default timeout of 25 s. */
                reload_usec = now_usec();
                r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "Reload");
                if (r >= 0)
                        r = sd_bus_call(bus, m, 600 * UINT64_C(1000000), &error, NULL);
                reload_usec = now_usec() - reload_usec;
                sd_bus_message_unref(m);
                sd_bus_error_free(&error);
                if (r < 0)
                        die("Reload", r);
                load = get_string(unit, "org.freedesktop.systemd1.Unit", "LoadState");
                active = get_string(unit, "org.freedesktop.systemd1.Unit", "ActiveState");
                after = get_exec_argv(unit);
                snprintf(after_reload, sizeof(after_reload), "LoadState=%s, ExecStart %s", load,
                         !after ? "unreadable" : strv_equal(after, exec->exec.argv) ? "as sent" : "differs");
                if (!release_job(unit) || strcmp(active, "active") != 0) {
                        snprintf(why, why_size, "after daemon-reload: ActiveState=%s, %s", active, after_reload);
                        wait_ended(unit);
                        goto done;
                }
        }

        wait_ended(unit);
        result = get_string(unit, "org.freedesktop.systemd1.Service", "Result");
        status = get_string(unit, "org.freedesktop.systemd1.Service", "StatusText");
        if (strcmp(current.result, "done") != 0 || strcmp(result, "success") != 0) {
                snprintf(why, why_size, "start job %s, Result=%s, exit status %d, \"%s\"", current.result, result,
                         get_i32(unit, "ExecMainStatus"), status);
                goto done;
        }

        for (size_t i = 0; args[i]; i++)
                expect_len += strlen(args[i]) + 1;
        expect = malloc(expect_len + 1);
        if (!expect)
                die("malloc", -ENOMEM);
        expect_len = 0;
        for (size_t i = 0; args[i]; i++) {
                memcpy(expect + expect_len, args[i], strlen(args[i]) + 1);
                expect_len += strlen(args[i]) + 1;
        }
        r = read_file(DIR "/out", &out, &out_len);
        if (r < 0)
                die("read " DIR "/out", r);
        ok = out_len == expect_len && memcmp(out, expect, out_len) == 0;
        if (!ok)
                snprintf(why, why_size, "the job printed %zu bytes, not the %zu expected", out_len, expect_len);

done:
        release_unit(unit);
        (void) sd_bus_flush(bus);
        strv_free(argv);
        current = (typeof(current)) {};
        return ok;
}

/* ---- rows ----------------------------------------------------------------- */

typedef struct Row {
        const char *what;
        bool env;                       /* the size is the environment's, argv is a few bytes */
        bool count;                     /* the size is a count of one-byte entries */
        bool single;                    /* the size is that of one entry */
        const Fill *fill;
        bool reload;
        size_t lo, hi;                  /* lo is expected to work, hi not */
} Row;

static bool row_trial(const Row *row, size_t size, char *why, size_t why_size) {
        _cleanup_(strv_freep) char **l = make_entries(row->env, row->fill, row->count ? 0 : size,
                                                      row->single ? size : ENTRY_MAX, row->count ? size : 0);
        char *small[] = { (char *) "x", NULL };

        return trial(row->env ? small : l, row->env ? l : NULL, row->reload, why, why_size);
}

static void run_row(const Row *row) {
        char why[512] = "", why_hi[512] = "", reload_lo[128];
        size_t lo = row->lo, hi = row->hi;

        if (!row_trial(row, lo, why, sizeof(why))) {
                printf("| %s | fails already at %zu: %s |\n", row->what, lo, why);
                fflush(stdout);
                return;
        }
        snprintf(reload_lo, sizeof(reload_lo), "%s", after_reload);
        if (row_trial(row, hi, why_hi, sizeof(why_hi))) {
                printf("| %s | more than %zu | | %s |\n", row->what, hi, after_reload);
                fflush(stdout);
                return;
        }
        while (hi - lo > 1) {
                size_t mid = lo + (hi - lo) / 2;

                why[0] = 0;
                if (row_trial(row, mid, why, sizeof(why))) {
                        lo = mid;
                        snprintf(reload_lo, sizeof(reload_lo), "%s", after_reload);
                } else {
                        hi = mid;
                        snprintf(why_hi, sizeof(why_hi), "%s", why);
                }
        }
        printf("| %s | %zu | %s | %s |\n", row->what, lo, why_hi, reload_lo);
        fflush(stdout);
}

/* systemd's work grows with the number of entries more than with their
 * size: how long it takes to take a job of many small arguments, and to
 * reload while it runs.  Stops once systemd needs more than 20 s, which
 * is close to D-Bus's default timeout of 25 s. */
static void run_counts(void) {
        static const size_t counts[] = { 1000, 10000, 40000, 160000 };

        printf("\n| arguments of 1 byte | StartTransientUnit | daemon-reload | result | after the reload |\n"
               "| --- | --- | --- | --- | --- |\n");
        fflush(stdout);
        for (size_t i = 0; i < ELEMENTSOF(counts); i++) {
                _cleanup_(strv_freep) char **l = make_entries(false, &fill_plain, 0, 1, counts[i]);
                char why[512] = "";
                bool ok = trial(l, NULL, true, why, sizeof(why));

                printf("| %zu | %.2f s | %.2f s | %s | %s |\n", counts[i], start_usec / 1e6, reload_usec / 1e6,
                       ok ? "ok" : why, after_reload);
                fflush(stdout);
                if (start_usec > 20 * 1000000 || reload_usec > 20 * 1000000)
                        break;
        }
}

int main(int argc, char *argv[]) {
        const UnitBusHandlers handlers = { on_job_removed, on_properties_changed };
        Row rows[64];
        size_t n = 0;
        int r;

        if (argc < 2 || argc > 3 || argv[1][0] != '/') {
                fprintf(stderr, "Usage: argv-limits INIT_PATH [ROW]\n");
                return EXIT_FAILURE;
        }
        init_path = argv[1];

        (void) mkdir(DIR, 0755);
        (void) unlink(FIFO);
        if (mkfifo(FIFO, 0666) < 0 || chmod(FIFO, 0666) < 0)
                die("mkfifo " FIFO, -errno);

        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, 0);
        if (r >= 0)
                r = unit_bus_new(bus, &handlers, NULL, &unit_bus);
        if (r < 0)
                die("connecting to systemd", r);

        rows[n++] = (Row) { "one argument: bytes", .single = true, .fill = &fill_plain, .lo = 1000, .hi = 262144 };
        rows[n++] = (Row) { "arguments of 64 KiB: bytes", .fill = &fill_plain, .lo = 1000, .hi = 4 << 20 };
        rows[n++] = (Row) { "arguments of 64 KiB, daemon-reload: bytes", .fill = &fill_plain, .reload = true,
                            .lo = 1000, .hi = 4 << 20 };
        for (size_t i = 0; i < ELEMENTSOF(fills_escaped); i++) {
                static char what[ELEMENTSOF(fills_escaped)][96];

                snprintf(what[i], sizeof(what[i]), "arguments of 64 KiB of %s, daemon-reload: bytes",
                         fills_escaped[i].name);
                rows[n++] = (Row) { what[i], .fill = &fills_escaped[i], .reload = true, .lo = 1000, .hi = 4 << 20 };
        }
        rows[n++] = (Row) { "environment, entries of 64 KiB: bytes", .env = true, .fill = &fill_plain,
                            .lo = 1000, .hi = 4 << 20 };
        rows[n++] = (Row) { "environment, entries of 64 KiB, daemon-reload: bytes", .env = true,
                            .fill = &fill_plain, .reload = true, .lo = 1000, .hi = 4 << 20 };

        printf("| what (the largest that works) | value | the next size up fails with | after the reload |\n"
               "| --- | --- | --- | --- |\n");
        fflush(stdout);
        for (size_t i = 0; i < n; i++)
                if (argc < 3 || strstr(rows[i].what, argv[2]))
                        run_row(&rows[i]);
        if (argc < 3 || strstr("count", argv[2]))
                run_counts();

        unit_bus_free(unit_bus);
        sd_bus_flush_close_unref(bus);
        sd_event_unref(event);
        (void) unlink(FIFO);
        return EXIT_SUCCESS;
}
