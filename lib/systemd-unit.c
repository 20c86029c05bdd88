/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "systemd-unit.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT_PREFIX SD_PATH "/unit"

/* ---- properties → message ---------------------------------------------- */

static int append_exec(sd_bus_message *m, const UnitProperty *p) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "(sasas)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'r', "sasas");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", p->exec.path);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, p->exec.argv);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, p->exec.flags);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int append_io_bandwidth(sd_bus_message *m, const UnitProperty *p) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "(st)");
        for (size_t i = 0; r >= 0 && i < p->io.n; i++)
                r = sd_bus_message_append(m, "(st)", p->io.items[i].device, p->io.items[i].bps);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* One (sv) entry; the variant's signature comes from the property's type. */
static int append_property(sd_bus_message *m, const UnitProperty *p) {
        int r;

        r = sd_bus_message_open_container(m, 'r', "sv");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", p->name);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'v', unit_property_signature(p->type));
        if (r < 0)
                return r;

        switch (p->type) {
        case UNIT_PROP_STRING:
                r = sd_bus_message_append(m, "s", p->string);
                break;
        case UNIT_PROP_BOOL:
                r = sd_bus_message_append(m, "b", (int) p->boolean);
                break;
        case UNIT_PROP_U64:
                r = sd_bus_message_append(m, "t", p->u64);
                break;
        case UNIT_PROP_STRV:
                r = sd_bus_message_append_strv(m, p->strv);
                break;
        case UNIT_PROP_EXEC:
                r = append_exec(m, p);
                break;
        case UNIT_PROP_IO_BANDWIDTH:
                r = append_io_bandwidth(m, p);
                break;
        case UNIT_PROP_FD:
                /* sd-bus duplicates the fd into the message. */
                r = sd_bus_message_append(m, "h", p->fd);
                break;
        default:
                return -EINVAL;
        }
        if (r < 0)
                return r;

        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

int unit_start_transient(sd_bus *bus, const char *unit, const UnitProperties *props,
                         sd_bus_message_handler_t callback, void *userdata, sd_bus_slot **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "StartTransientUnit");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < props->n; i++) {
                r = append_property(m, &props->items[i]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return r;

        /* m goes out of scope right after: once the bus has written it,
         * nothing of ours holds the duplicated fds any more. */
        return sd_bus_call_async(bus, ret, m, callback, userdata, 0);
}

/* ---- state ← properties ------------------------------------------------- */

void unit_state_init(UnitState *s) {
        *s = (UnitState) {
                .cpu_usage_ns = UINT64_MAX,
                .io_read_bytes = UINT64_MAX,
                .io_write_bytes = UINT64_MAX,
        };
}

void unit_state_done(UnitState *s) {
        free(s->status_text);
        free(s->control_group);
        unit_state_init(s);
}

typedef enum FieldType {
        FIELD_CHARS,            /* char[] */
        FIELD_STRDUP,           /* char * */
        FIELD_I32,
        FIELD_U32,
        FIELD_U64,
} FieldType;

typedef struct Field {
        const char *name;
        const char *signature;
        FieldType type;
        size_t offset;
        size_t size;            /* FIELD_CHARS */
} Field;

#define CHARS(n, member) { n, "s", FIELD_CHARS, offsetof(UnitState, member), sizeof(((UnitState *) 0)->member) }
#define STRDUP(n, member) { n, "s", FIELD_STRDUP, offsetof(UnitState, member), 0 }
#define NUM(n, sig, t, member) { n, sig, t, offsetof(UnitState, member), 0 }

/* The properties of org.freedesktop.systemd1.Unit and .Service we track. */
static const Field fields[] = {
        CHARS("LoadState", load_state),
        CHARS("ActiveState", active_state),
        CHARS("Result", result),
        NUM("ExecMainCode", "i", FIELD_I32, exec_main_code),
        NUM("ExecMainStatus", "i", FIELD_I32, exec_main_status),
        NUM("MainPID", "u", FIELD_U32, main_pid),
        NUM("ExecMainStartTimestamp", "t", FIELD_U64, exec_main_start_us),
        NUM("ExecMainExitTimestamp", "t", FIELD_U64, exec_main_exit_us),
        NUM("InactiveEnterTimestamp", "t", FIELD_U64, inactive_enter_us),
        STRDUP("StatusText", status_text),
        NUM("StatusErrno", "i", FIELD_I32, status_errno),
        STRDUP("ControlGroup", control_group),
        NUM("CPUUsageNSec", "t", FIELD_U64, cpu_usage_ns),
        NUM("IOReadBytes", "t", FIELD_U64, io_read_bytes),
        NUM("IOWriteBytes", "t", FIELD_U64, io_write_bytes),
};

static const Field *find_field(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (strcmp(fields[i].name, name) == 0)
                        return &fields[i];
        return NULL;
}

static int apply_field(UnitState *s, const Field *f, sd_bus_message *m) {
        char *base = (char *) s + f->offset;
        const char *str;
        int r;

        switch (f->type) {
        case FIELD_CHARS:
                r = sd_bus_message_read(m, "s", &str);
                if (r >= 0)
                        snprintf(base, f->size, "%s", str);
                return r;
        case FIELD_STRDUP: {
                char **p = (char **) base, *copy;

                r = sd_bus_message_read(m, "s", &str);
                if (r < 0)
                        return r;
                copy = strdup(str);
                if (!copy)
                        return -ENOMEM;
                free(*p);
                *p = copy;
                return 0;
        }
        case FIELD_I32:
                return sd_bus_message_read_basic(m, 'i', base);
        case FIELD_U32:
                return sd_bus_message_read_basic(m, 'u', base);
        case FIELD_U64:
                return sd_bus_message_read_basic(m, 't', base);
        }
        return -EINVAL;
}

int unit_state_apply(UnitState *s, sd_bus_message *m) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name;
                const Field *f;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                f = find_field(name);
                if (f) {
                        r = sd_bus_message_enter_container(m, 'v', f->signature);
                        if (r < 0)
                                return r;
                        r = apply_field(s, f, m);
                        if (r < 0)
                                return r;
                        r = sd_bus_message_exit_container(m);
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

bool unit_state_is_inactive(const UnitState *s) {
        return strcmp(s->active_state, "inactive") == 0 || strcmp(s->active_state, "failed") == 0;
}

/* ---- calls and matches --------------------------------------------------- */

int unit_subscribe(sd_bus *bus) {
        return sd_bus_call_method_async(bus, NULL, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe",
                                        NULL, NULL, NULL);
}

int unit_match_job_removed(sd_bus *bus, sd_bus_message_handler_t handler, void *userdata,
                           sd_bus_slot **ret) {
        return sd_bus_match_signal(bus, ret, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved", handler, userdata);
}

int unit_match_properties(sd_bus *bus, const char *unit, sd_bus_message_handler_t handler,
                          void *userdata, sd_bus_slot **ret) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = sd_bus_path_encode(SD_UNIT_PREFIX, unit, &path);
        if (r < 0)
                return r;
        return sd_bus_match_signal(bus, ret, SD_DEST, path, "org.freedesktop.DBus.Properties",
                                   "PropertiesChanged", handler, userdata);
}

int unit_stop(sd_bus *bus, const char *unit, uint64_t timeout_usec,
              sd_bus_message_handler_t callback, void *userdata, sd_bus_slot **ret) {
        int r;

        /* Runtime only: the grace belongs to this stop.  Messages to one
         * destination are delivered in order, so the timeout is in place
         * before the stop job runs. */
        r = sd_bus_call_method_async(bus, NULL, SD_DEST, SD_PATH, SD_MANAGER, "SetUnitProperties",
                                     NULL, NULL, "sba(sv)", unit, 1, 1,
                                     "TimeoutStopUSec", "t", timeout_usec);
        if (r < 0)
                return r;
        return sd_bus_call_method_async(bus, ret, SD_DEST, SD_PATH, SD_MANAGER, "StopUnit",
                                        callback, userdata, "ss", unit, "replace");
}

int unit_get_all(sd_bus *bus, const char *unit, const char *interface,
                 sd_bus_message_handler_t callback, void *userdata, sd_bus_slot **ret) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = sd_bus_path_encode(SD_UNIT_PREFIX, unit, &path);
        if (r < 0)
                return r;
        return sd_bus_call_method_async(bus, ret, SD_DEST, path, "org.freedesktop.DBus.Properties",
                                        "GetAll", callback, userdata, "s", interface);
}

int unit_release(sd_bus *bus, const char *unit) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = sd_bus_path_encode(SD_UNIT_PREFIX, unit, &path);
        if (r < 0)
                return r;
        /* Failed units are kept (CollectMode=inactive) so that a restarted
         * daemon can still read their result; ours has been read now. */
        r = sd_bus_call_method_async(bus, NULL, SD_DEST, SD_PATH, SD_MANAGER, "ResetFailedUnit",
                                     NULL, NULL, "s", unit);
        if (r < 0)
                return r;
        return sd_bus_call_method_async(bus, NULL, SD_DEST, path, "org.freedesktop.systemd1.Unit",
                                        "Unref", NULL, NULL, NULL);
}

int unit_list_by_pattern(sd_bus *bus, const char *pattern, char ***ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        char **names = NULL;
        size_t n = 0;
        const char *name;
        int r;

        r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "ListUnitsByPatterns", &error, &reply,
                               "asas", 0, 1, pattern);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
        if (r < 0)
                return r;
        for (;;) {
                const char *s1, *s2, *s3, *s4, *s5, *o1, *s6, *o2;
                uint32_t u;

                r = sd_bus_message_read(reply, "(ssssssouso)", &name, &s1, &s2, &s3, &s4, &s5, &o1,
                                        &u, &s6, &o2);
                if (r <= 0)
                        break;
                char **grown = realloc(names, (n + 2) * sizeof(char *));

                if (!grown)
                        goto oom;
                names = grown;
                names[n] = strdup(name);
                if (!names[n])
                        goto oom;
                names[++n] = NULL;
        }
        if (r < 0)
                goto fail;
        if (!names) {
                names = calloc(1, sizeof(char *));
                if (!names)
                        return -ENOMEM;
        }
        *ret = names;
        return 0;
oom:
        r = -ENOMEM;
fail:
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}
