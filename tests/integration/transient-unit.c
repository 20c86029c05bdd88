/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "transient-unit.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT "org.freedesktop.systemd1.Unit"

struct job_wait {
        const char *unit;
        bool done;
        char result[32];
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct job_wait *w = userdata;
        const char *path, *unit, *result;
        uint32_t id;
        int r;

        (void) error;
        r = sd_bus_message_read(m, "uoss", &id, &path, &unit, &result);
        if (r < 0)
                return r;
        if (strcmp(unit, w->unit) == 0) {
                w->done = true;
                snprintf(w->result, sizeof(w->result), "%s", result);
        }
        return 0;
}

static int process_until(sd_bus *bus, const bool *flag) {
        int r;

        for (;;) {
                while ((r = sd_bus_process(bus, NULL)) > 0)
                        ;
                if (r < 0)
                        return r;
                if (*flag)
                        return 0;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0)
                        return r;
        }
}

int append_exec_start(sd_bus_message *m, char *const argv[]) {
        int r;

        r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "ExecStart");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a(sasb)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sasb)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'r', "sasb");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", argv[0]);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, (char **) argv);
        if (r >= 0)
                r = sd_bus_message_append(m, "b", false);
        for (int i = 0; r >= 0 && i < 4; i++)
                r = sd_bus_message_close_container(m);
        return r;
}

int transient_unit_start(sd_bus *bus, const char *name, append_properties_t append_properties,
                         void *userdata) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        struct job_wait w = { .unit = name };
        int r;

        /* Without Subscribe() systemd sends no unit or job signals. */
        r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", &error, NULL, NULL);
        sd_bus_error_free(&error);
        if (r < 0)
                return r;

        /* Before the call: a fast job could otherwise finish unseen. */
        r = sd_bus_match_signal(bus, &slot, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved", on_job_removed, &w);
        if (r < 0)
                return r;

        r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", name, "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)(sv)",
                                          "Description", "s", "jobrunner integration test",
                                          "AddRef", "b", true,
                                          "CollectMode", "s", "inactive-or-failed");
        if (r >= 0)
                r = append_properties(m, userdata);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r >= 0)
                r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0 && sd_bus_error_is_set(&error))
                fprintf(stderr, "StartTransientUnit(%s): %s\n", name, error.message);
        /* The message holds duplicates of any fds in it: drop it now, or a
         * pipe passed to the unit never reaches EOF. */
        sd_bus_message_unref(m);
        sd_bus_message_unref(reply);
        sd_bus_error_free(&error);
        if (r < 0)
                return r;

        r = process_until(bus, &w.done);
        if (r < 0)
                return r;
        if (strcmp(w.result, "done") != 0) {
                fprintf(stderr, "start job of %s ended with '%s'\n", name, w.result);
                return -EIO;
        }
        return 0;
}

struct state_wait {
        bool changed;
};

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct state_wait *w = userdata;

        (void) m;
        (void) error;
        w->changed = true;
        return 0;
}

static int get_unit_string(sd_bus *bus, const char *path, const char *iface, const char *prop, char **ret) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_get_property_string(bus, SD_DEST, path, iface, prop, &error, ret);
        sd_bus_error_free(&error);
        return r;
}

int transient_unit_wait(sd_bus *bus, const char *name, char **ret_result) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_free_ char *path = NULL;
        struct state_wait w = {};
        int r;

        r = sd_bus_path_encode(SD_PATH "/unit", name, &path);
        if (r < 0)
                return r;
        r = sd_bus_match_signal(bus, &slot, SD_DEST, path, "org.freedesktop.DBus.Properties",
                                "PropertiesChanged", on_properties_changed, &w);
        if (r < 0)
                return r;

        /* Read the state first, then sleep only until the next signal: a
         * change between the read and the wait wakes sd_bus_wait(). */
        for (;;) {
                _cleanup_free_ char *state = NULL;

                r = get_unit_string(bus, path, SD_UNIT, "ActiveState", &state);
                if (r < 0)
                        return r;
                if (strcmp(state, "inactive") == 0 || strcmp(state, "failed") == 0)
                        break;
                w.changed = false;
                r = process_until(bus, &w.changed);
                if (r < 0)
                        return r;
        }

        return get_unit_string(bus, path, "org.freedesktop.systemd1.Service", "Result", ret_result);
}
