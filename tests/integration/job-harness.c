/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job-harness.h"
#include "macro.h"

void harness_setup(Harness *h) {
        harness_setup_config(h, (jr_manager_config) {});
}

void harness_setup_config(Harness *h, jr_manager_config config) {
        *h = (Harness) {};
        snprintf(h->state_dir, sizeof(h->state_dir), "/var/lib/jobrunner-test.XXXXXX");
        cr_assert_not_null(mkdtemp(h->state_dir));

        cr_assert_geq(sd_event_new(&h->event), 0);
        cr_assert_geq(sd_bus_open_system(&h->bus), 0);
        cr_assert_geq(sd_bus_attach_event(h->bus, h->event, 0), 0);
        harness_new_manager(h, config);
}

void harness_new_manager(Harness *h, jr_manager_config config) {
        jr_error e = {};

        config.state_dir = h->state_dir;
        config.init_path = getenv("JOBRUNNER_INIT");
        cr_assert_not_null(config.init_path, "JOBRUNNER_INIT is not set");
        cr_assert_geq(jr_manager_new(h->event, h->bus, &config, &h->manager, &e), 0, "jr_manager_new: %s", e.message);
}

void harness_teardown(Harness *h) {
        jr_manager_free(h->manager);
        sd_bus_flush_close_unref(h->bus);
        sd_event_unref(h->event);
}

jr_spec harness_spec(char **argv) {
        return (jr_spec) { .argv = argv };
}

jr_job *harness_start_as(Harness *h, const jr_spec *spec, bool allow_named_user) {
        jr_error e = {};
        jr_job *j = NULL;

        cr_assert_geq(jr_manager_start(h->manager, spec, "tester",
                                       &(jr_validate_options) { .allow_named_user = allow_named_user }, &j, &e),
                      0, "jr_manager_start: %s", e.message);
        cr_assert_not_null(j);
        return j;
}

jr_job *harness_start(Harness *h, const jr_spec *spec) {
        return harness_start_as(h, spec, false);
}

void harness_run_until(Harness *h, bool (*cond)(void *userdata), void *userdata) {
        while (!cond(userdata))
                cr_assert_geq(sd_event_run(h->event, UINT64_MAX), 0);
}

static bool is_final(void *userdata) {
        return jr_state_is_final(jr_job_get_state(userdata));
}

static bool is_started(void *userdata) {
        return jr_job_get_state(userdata) != JR_STATE_STARTING;
}

void harness_wait_final(Harness *h, jr_job *j) {
        harness_run_until(h, is_final, j);
}

void harness_wait_started(Harness *h, jr_job *j) {
        harness_run_until(h, is_started, j);
}

struct reader {
        jr_follower *follower;
        FILE *out, *err;
        bool ended;
};

static void on_wake(jr_follower *f, void *userdata) {
        (void) f;
        (void) userdata;        /* the loop below reads on every iteration */
}

static bool drain(void *userdata) {
        struct reader *r = userdata;
        static char buf[65536];
        jr_output_event ev;
        int n;

        while ((n = jr_follower_next(r->follower, &ev, buf, sizeof(buf))) > 0) {
                if (ev.type == JR_OUTPUT_END) {
                        r->ended = true;
                        break;
                }
                if (ev.type == JR_OUTPUT_DATA)
                        fwrite(buf, 1, ev.length, ev.stream == JR_STREAM_STDOUT ? r->out : r->err);
        }
        cr_assert_geq(n, 0, "jr_follower_next: %s", strerror(-n));
        return r->ended;
}

void harness_read_output(Harness *h, jr_job *j, char **ret_out, size_t *ret_out_len,
                         char **ret_err, size_t *ret_err_len) {
        struct reader r = {};
        jr_error e = {};

        r.out = open_memstream(ret_out, ret_out_len);
        r.err = open_memstream(ret_err, ret_err_len);
        cr_assert(r.out && r.err);
        cr_assert_geq(jr_follower_new(j, 0, 0, JR_STREAMS_ALL, on_wake, &r, &r.follower, &e), 0,
                      "jr_follower_new: %s", e.message);
        harness_run_until(h, drain, &r);
        jr_follower_free(r.follower);
        fclose(r.out);
        fclose(r.err);
}

struct needle_wait {
        struct reader reader;
        char *out;
        size_t len;
        const char *needle;
};

static bool found_needle(void *userdata) {
        struct needle_wait *w = userdata;

        drain(&w->reader);
        fflush(w->reader.out);
        return w->out && strstr(w->out, w->needle);
}

void harness_wait_output(Harness *h, jr_job *j, const char *needle) {
        struct needle_wait w = { .needle = needle };
        char *err = NULL;
        size_t err_len;
        jr_error e = {};

        w.reader.out = open_memstream(&w.out, &w.len);
        w.reader.err = open_memstream(&err, &err_len);
        cr_assert(w.reader.out && w.reader.err);
        cr_assert_geq(jr_follower_new(j, 0, 0, JR_STREAMS_ALL, on_wake, NULL, &w.reader.follower, &e), 0,
                      "jr_follower_new: %s", e.message);
        harness_run_until(h, found_needle, &w);
        jr_follower_free(w.reader.follower);
        fclose(w.reader.out);
        fclose(w.reader.err);
        free(w.out);
        free(err);
}

char *harness_cgroup_dir(jr_job *j) {
        char *dir;

        cr_assert_gt(asprintf(&dir, "/sys/fs/cgroup/jobrunner.slice/jobrunner-%s.service", jr_job_get_id(j)), 0);
        return dir;
}

const char *harness_read_file(const char *dir, const char *name) {
        static char buf[4096];
        char path[512];
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "re");
        cr_assert_not_null(f, "cannot open %s", path);
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return buf;
}

jr_job *harness_start_ready(Harness *h, char **argv, jr_status *ret_status) {
        jr_spec spec = harness_spec(argv);
        jr_job *j = harness_start(h, &spec);

        harness_wait_output(h, j, "ready");
        if (ret_status)
                cr_assert_eq(jr_job_get_status(j, ret_status), 0);
        return j;
}
