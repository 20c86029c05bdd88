/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/systemd-unit.c's queue of calls against a fake systemd on the other
 * end of a socket pair: how many calls and systemd jobs it lets out at once.
 * Every systemd job we queue costs one of PID 1's match rules until it is
 * done, and PID 1 drops off the bus when it has none left. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>

#include "macro.h"
#include "systemd-unit.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"

/* The fake: answers every call at once; a job-creating call gets a job
 * whose JobRemoved only comes when the test sends it. */
typedef struct Fake {
        sd_bus *server, *client;
        unsigned starts, stops, get_alls, kills;
        unsigned next_job;
        unsigned replies;               /* the library's handlers called */
} Fake;

static Fake fake;

static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *member = sd_bus_message_get_member(m);
        _cleanup_free_ char *job = NULL;
        uint8_t type = 0;
        int r;

        (void) userdata, (void) error;
        if (sd_bus_message_get_type(m, &type) < 0 || type != SD_BUS_MESSAGE_METHOD_CALL || !member)
                return 0;
        if (strcmp(member, "StartTransientUnit") == 0 || strcmp(member, "StopUnit") == 0) {
                if (member[2] == 'a')
                        fake.starts++;
                else
                        fake.stops++;
                cr_assert_geq(asprintf(&job, SD_PATH "/job/%u", ++fake.next_job), 0);
                r = sd_bus_reply_method_return(m, "o", job);
        } else if (strcmp(member, "GetAll") == 0) {
                fake.get_alls++;
                r = sd_bus_reply_method_return(m, "a{sv}", 0);
        } else if (strcmp(member, "KillUnit") == 0) {
                fake.kills++;
                r = sd_bus_reply_method_return(m, "");
        } else
                return 0;       /* Subscribe, ResetFailedUnit: no reply expected */
        cr_assert_geq(r, 0);
        return 1;
}

static void job_removed(unsigned job) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = NULL;

        cr_assert_geq(asprintf(&path, SD_PATH "/job/%u", job), 0);
        cr_assert_geq(sd_bus_message_new_signal(fake.server, &m, SD_PATH, SD_DEST ".Manager", "JobRemoved"), 0);
        cr_assert_geq(sd_bus_message_append(m, "uoss", job, path, "jobrunner-x.service", "done"), 0);
        /* No bus daemon stamps the sender here; the library's match wants it. */
        cr_assert_geq(sd_bus_message_set_sender(m, SD_DEST), 0);
        cr_assert_geq(sd_bus_send(fake.server, m, NULL), 0);
}

/* Both ends until neither has anything left to do. */
static void settle(void) {
        int a, b;

        do {
                a = sd_bus_process(fake.server, NULL);
                b = sd_bus_process(fake.client, NULL);
                cr_assert_geq(a, 0);
                cr_assert_geq(b, 0);
                (void) sd_bus_flush(fake.server);
                (void) sd_bus_flush(fake.client);
                if (a == 0 && b == 0) {
                        /* Data may still be on its way through the socket. */
                        a = sd_bus_wait(fake.server, 1000) > 0 ? sd_bus_process(fake.server, NULL) : 0;
                        b = sd_bus_wait(fake.client, 1000) > 0 ? sd_bus_process(fake.client, NULL) : 0;
                }
        } while (a > 0 || b > 0);
}

static void on_reply(void *userdata, const char *error, UnitUpdate *update) {
        (void) userdata, (void) update;
        cr_assert_null(error, "%s", error);
        fake.replies++;
}

static void ignore_job_removed(void *userdata, const char *unit, const char *result) {
        (void) userdata, (void) unit, (void) result;
}

static void ignore_properties_changed(void *userdata, const char *unit, UnitUpdate *update) {
        (void) userdata, (void) unit, (void) update;
}

static UnitBus *setup(void) {
        static const UnitBusHandlers handlers = {
                .job_removed = ignore_job_removed,
                .properties_changed = ignore_properties_changed,
        };
        sd_id128_t id;
        int fds[2];
        UnitBus *b;

        fake = (Fake) {};
        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        cr_assert_geq(sd_id128_randomize(&id), 0);
        cr_assert_geq(sd_bus_new(&fake.server), 0);
        cr_assert_geq(sd_bus_set_fd(fake.server, fds[0], fds[0]), 0);
        cr_assert_geq(sd_bus_set_server(fake.server, true, id), 0);
        cr_assert_geq(sd_bus_add_filter(fake.server, NULL, on_message, NULL), 0);
        cr_assert_geq(sd_bus_start(fake.server), 0);
        cr_assert_geq(sd_bus_new(&fake.client), 0);
        cr_assert_geq(sd_bus_set_fd(fake.client, fds[1], fds[1]), 0);
        cr_assert_geq(sd_bus_start(fake.client), 0);

        cr_assert_geq(unit_bus_new(fake.client, &handlers, NULL, &b), 0);
        settle();
        return b;
}

static void teardown(UnitBus *b) {
        unit_bus_free(b);
        fake.client = sd_bus_flush_close_unref(fake.client);
        fake.server = sd_bus_flush_close_unref(fake.server);
}

Test(unit_bus, starts_wait_for_systemd_jobs_to_be_done) {
        UnitBus *b = setup();
        UnitProperties none = {};
        UnitCall *calls[100], *get_all = NULL;

        for (size_t i = 0; i < ELEMENTSOF(calls); i++)
                cr_assert_eq(unit_start_transient(b, "jobrunner-x.service", &none, on_reply, NULL, &calls[i]), 0);
        settle();
        /* Every reply came at once: the calls are not what is limited, the
         * jobs they created are. */
        cr_assert_eq(fake.starts, UNIT_BUS_MAX_JOBS, "%u starts let out before any job was done", fake.starts);
        cr_assert_eq(fake.replies, UNIT_BUS_MAX_JOBS);

        /* Reading another job's end does not wait behind them. */
        cr_assert_eq(unit_get_all(b, "jobrunner-y.service", UNIT_IFACE_UNIT, on_reply, NULL, &get_all), 0);
        settle();
        cr_assert_eq(fake.get_alls, 1);

        /* Each job done lets one more start out. */
        for (unsigned job = 1; job <= 10; job++)
                job_removed(job);
        settle();
        cr_assert_eq(fake.starts, UNIT_BUS_MAX_JOBS + 10);

        /* A JobRemoved of a job not ours changes nothing. */
        job_removed(1000);
        settle();
        cr_assert_eq(fake.starts, UNIT_BUS_MAX_JOBS + 10);

        /* Cancelling a waiting one frees nothing; the rest go as jobs end. */
        unit_call_free(calls[99]);
        for (unsigned job = 11; job <= 100; job++) {
                job_removed(job);
                settle();
        }
        cr_assert_eq(fake.starts, 99);
        cr_assert_eq(fake.replies, 99 + 1);
        teardown(b);
}

Test(unit_bus, a_release_is_a_stop_that_counts_as_a_job) {
        UnitBus *b = setup();
        UnitState exited, failed;

        unit_state_init(&exited);
        snprintf(exited.load_state, sizeof(exited.load_state), "loaded");
        snprintf(exited.active_state, sizeof(exited.active_state), "active");
        snprintf(exited.sub_state, sizeof(exited.sub_state), "exited");
        cr_assert(unit_state_has_ended(&exited));
        for (unsigned i = 0; i < UNIT_BUS_MAX_JOBS + 6; i++)
                cr_assert_eq(unit_release(b, "jobrunner-x.service", &exited), 0);
        settle();
        cr_assert_eq(fake.stops, UNIT_BUS_MAX_JOBS);

        /* A failed unit is reset (no job, no reply), one already gone is
         * left alone. */
        failed = exited;
        snprintf(failed.active_state, sizeof(failed.active_state), "failed");
        cr_assert_eq(unit_release(b, "jobrunner-x.service", &failed), 0);
        snprintf(failed.load_state, sizeof(failed.load_state), "not-found");
        cr_assert_eq(unit_release(b, "jobrunner-x.service", &failed), 0);
        job_removed(1);
        settle();
        cr_assert_eq(fake.stops, UNIT_BUS_MAX_JOBS + 1);
        teardown(b);
}
