/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "log.h"
#include "macro.h"
#include "systemd-unit.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT_PREFIX SD_PATH "/unit"

/* ---- properties → message ---------------------------------------------- */

static int append_exec(sd_bus_message *m, const UnitProperty *p) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "(sasb)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'r', "sasb");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", p->exec.path);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, p->exec.argv);
        if (r >= 0)
                r = sd_bus_message_append(m, "b", false);
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

static int append_tmpfs(sd_bus_message *m, const UnitProperty *p) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "(ss)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(ss)", p->tmpfs.path, p->tmpfs.options);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int append_bind(sd_bus_message *m, const UnitProperty *p) {
        int r;

        /* The flags: MS_REC or 0; what is below the job's cgroup is one
         * file system. */
        r = sd_bus_message_open_container(m, 'a', "(ssbt)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(ssbt)", p->bind.source, p->bind.destination,
                                          (int) p->bind.ignore_missing, UINT64_C(0));
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
        case UNIT_PROP_TMPFS:
                r = append_tmpfs(m, p);
                break;
        case UNIT_PROP_BIND:
                r = append_bind(m, p);
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
        CHARS("SubState", sub_state),
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

int unit_state_apply(UnitState *s, UnitUpdate *u) {
        sd_bus_message *m = (sd_bus_message *) u;
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

bool unit_state_has_ended(const UnitState *s) {
        return strcmp(s->active_state, "inactive") == 0 || strcmp(s->active_state, "failed") == 0 ||
               (strcmp(s->active_state, "active") == 0 && strcmp(s->sub_state, "exited") == 0) ||
               strcmp(s->load_state, "not-found") == 0;
}

bool unit_update_is_not_found(UnitUpdate *u) {
        sd_bus_message *m = (sd_bus_message *) u;
        bool not_found = false;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name, *value;

                r = sd_bus_message_read(m, "s", &name);
                if (r >= 0 && strcmp(name, "LoadState") == 0) {
                        r = sd_bus_message_read(m, "v", "s", &value);
                        if (r >= 0)
                                not_found = strcmp(value, "not-found") == 0;
                } else if (r >= 0)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        /* For unit_state_apply() to read it from the start. */
        (void) sd_bus_message_rewind(m, true);
        return not_found;
}

/* ---- the queue of calls ------------------------------------------------- */

/* dbus-daemon's system bus allows 128 pending replies per connection
 * (max_replies_per_connection); stay well below it. */
#define UNIT_BUS_MAX_IN_FLIGHT 64

typedef struct CallQueue {
        UnitCall *head, *tail;
} CallQueue;

struct UnitCall {
        UnitBus *bus;
        CallQueue *queue;               /* the one it is on */
        UnitCall *prev, *next;
        sd_bus_message *message;        /* while waiting */
        sd_bus_slot *slot;              /* while in flight */
        UnitReplyHandler handler;       /* may be NULL */
        void *userdata;
        bool creates_job;               /* holds one of the UNIT_BUS_MAX_JOBS */
        bool dispatching;
        bool cancelled;
};

struct UnitBus {
        sd_bus *bus;
        UnitBusHandlers handlers;
        void *userdata;
        sd_bus_slot *job_removed_slot;
        sd_bus_slot *properties_slot;
        unsigned in_flight;             /* calls waiting for their reply */
        /* Calls that create a systemd job, in flight, and the jobs they
         * created until their JobRemoved (object paths; fewer than
         * UNIT_BUS_MAX_JOBS, so a search is cheap). */
        unsigned jobs;
        char *job_paths[UNIT_BUS_MAX_JOBS];
        CallQueue queue, job_queue;     /* waiting to be sent */
        CallQueue sent;                 /* waiting for their reply */
};

static void queue_append(CallQueue *q, UnitCall *c) {
        c->queue = q;
        c->prev = q->tail;
        c->next = NULL;
        if (q->tail)
                q->tail->next = c;
        else
                q->head = c;
        q->tail = c;
}

static void queue_unlink(UnitCall *c) {
        CallQueue *q = c->queue;

        if (c->prev)
                c->prev->next = c->next;
        else
                q->head = c->next;
        if (c->next)
                c->next->prev = c->prev;
        else
                q->tail = c->prev;
        c->prev = c->next = NULL;
        c->queue = NULL;
}

static void call_destroy(UnitCall *c) {
        sd_bus_message_unref(c->message);
        sd_bus_slot_unref(c->slot);
        free(c);
}

static bool call_can_send(UnitBus *b, bool creates_job) {
        return b->in_flight < UNIT_BUS_MAX_IN_FLIGHT && (!creates_job || b->jobs < UNIT_BUS_MAX_JOBS);
}

static void job_slot_release(UnitBus *b) {
        assert(b->jobs > 0);
        b->jobs--;
}

static void queue_pump(UnitBus *b);

/* The reply of a call that creates a job names it: its slot is kept until
 * JobRemoved for that path. */
static void job_slot_track(UnitBus *b, sd_bus_message *reply) {
        const char *path;

        if (sd_bus_message_read(reply, "o", &path) >= 0)
                for (size_t i = 0; i < ELEMENTSOF(b->job_paths); i++)
                        if (!b->job_paths[i]) {
                                b->job_paths[i] = strdup(path);
                                if (!b->job_paths[i])
                                        break;
                                (void) sd_bus_message_rewind(reply, true);
                                return;
                        }
        job_slot_release(b);
}

/* JobRemoved: if the job was one of ours, its slot is free. */
static void job_slot_done(UnitBus *b, const char *path) {
        for (size_t i = 0; i < ELEMENTSOF(b->job_paths); i++)
                if (b->job_paths[i] && strcmp(b->job_paths[i], path) == 0) {
                        free(b->job_paths[i]);
                        b->job_paths[i] = NULL;
                        job_slot_release(b);
                        queue_pump(b);
                        return;
                }
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        UnitCall *c = userdata;
        UnitBus *b = c->bus;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        (void) error;
        b->in_flight--;
        queue_unlink(c);
        c->slot = sd_bus_slot_unref(c->slot);
        if (c->creates_job) {
                if (e)
                        job_slot_release(b);
                else
                        job_slot_track(b, m);
        }
        if (!c->cancelled && c->handler) {
                c->dispatching = true;
                c->handler(c->userdata, e ? (e->message ?: e->name) : NULL, e ? NULL : (UnitUpdate *) m);
        }
        call_destroy(c);
        queue_pump(b);
        return 0;
}

static int call_send(UnitCall *c) {
        UnitBus *b = c->bus;
        int r;

        /* No timeout: PID 1 answers every call, in order, or the bus
         * goes away, which fails every call still pending.  A loaded PID 1
         * may take longer than sd-bus' default 25 s with a burst of starts
         * queued before ours; giving up then would not undo the call, and
         * we would call "refused" a unit that systemd goes on to start.
         * UINT64_MAX is sd-bus' "no timeout". */
        r = sd_bus_call_async(b->bus, &c->slot, c->message, on_reply, c, UINT64_MAX);
        /* The message holds duplicates of any fds in it: once sd-bus has it,
         * ours goes, so a pipe passed to a unit can reach EOF. */
        c->message = sd_bus_message_unref(c->message);
        if (r < 0)
                return r;
        queue_append(&b->sent, c);
        b->in_flight++;
        b->jobs += c->creates_job;
        return 0;
}

static void queue_pump_one(UnitBus *b, CallQueue *q) {
        while (q->head && call_can_send(b, q->head->creates_job)) {
                UnitCall *c = q->head;
                int r;

                queue_unlink(c);
                r = call_send(c);
                if (r < 0) {
                        log_warning_errno(r, "Cannot send a queued call to systemd");
                        if (c->handler)
                                c->handler(c->userdata, strerror(-r), NULL);
                        call_destroy(c);
                }
        }
}

/* Calls that create no job go first: reading the end of a job must not
 * wait behind a burst of starts. */
static void queue_pump(UnitBus *b) {
        queue_pump_one(b, &b->queue);
        queue_pump_one(b, &b->job_queue);
}

/* Takes over m; sends it now or queues it.  ret may be NULL when nobody
 * will cancel the call. */
static int unit_call(UnitBus *b, sd_bus_message *m, bool creates_job, UnitReplyHandler handler, void *userdata,
                     UnitCall **ret) {
        CallQueue *q = creates_job ? &b->job_queue : &b->queue;
        UnitCall *c = calloc(1, sizeof(UnitCall));
        int r;

        if (!c) {
                sd_bus_message_unref(m);
                return -ENOMEM;
        }
        *c = (UnitCall) { .bus = b, .message = m, .handler = handler, .userdata = userdata, .creates_job = creates_job };
        if (call_can_send(b, creates_job) && !q->head) {
                r = call_send(c);
                if (r < 0) {
                        call_destroy(c);
                        return r;
                }
        } else
                queue_append(q, c);
        if (ret)
                *ret = c;
        return 0;
}

UnitCall *unit_call_free(UnitCall *c) {
        UnitBus *b;
        bool sent, creates_job;

        if (!c)
                return NULL;
        if (c->dispatching) {
                c->cancelled = true;    /* on_reply frees it */
                return NULL;
        }
        b = c->bus;
        sent = c->queue == &b->sent;
        creates_job = c->creates_job;
        queue_unlink(c);
        call_destroy(c);
        if (sent) {
                /* Forget the reply, free the budget.  A job the call
                 * creates is not tracked: its slot goes now. */
                b->in_flight--;
                if (creates_job)
                        job_slot_release(b);
                queue_pump(b);
        }
        return NULL;
}

/* ---- calls ---------------------------------------------------------------- */

static int new_manager_call(UnitBus *b, const char *member, sd_bus_message **ret) {
        return sd_bus_message_new_method_call(b->bus, ret, SD_DEST, SD_PATH, SD_MANAGER, member);
}

int unit_start_transient(UnitBus *b, const char *unit, const UnitProperties *props,
                         UnitReplyHandler handler, void *userdata, UnitCall **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = new_manager_call(b, "StartTransientUnit", &m);
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
        return unit_call(b, TAKE_PTR(m), true, handler, userdata, ret);
}

/* Fire and forget: NO_REPLY_EXPECTED costs nothing of the reply budget. */
static int send_no_reply(sd_bus_message *m) {
        int r;

        r = sd_bus_message_set_expect_reply(m, false);
        if (r >= 0)
                r = sd_bus_send(NULL, m, NULL);
        sd_bus_message_unref(m);
        return r;
}

int unit_stop(UnitBus *b, const char *unit, UnitReplyHandler handler, void *userdata, UnitCall **ret) {
        sd_bus_message *m = NULL;
        int r;

        r = new_manager_call(b, "StopUnit", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "replace");
        if (r < 0) {
                sd_bus_message_unref(m);
                return r;
        }
        return unit_call(b, m, true, handler, userdata, ret);
}

int unit_kill(UnitBus *b, const char *unit, int signo, UnitReplyHandler handler, void *userdata, UnitCall **ret) {
        sd_bus_message *m = NULL;
        int r;

        r = new_manager_call(b, "KillUnit", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "ssi", unit, "all", signo);
        if (r < 0) {
                sd_bus_message_unref(m);
                return r;
        }
        if (!handler)
                return send_no_reply(m);
        return unit_call(b, m, false, handler, userdata, ret);
}

int unit_get_all(UnitBus *b, const char *unit, const char *interface,
                 UnitReplyHandler handler, void *userdata, UnitCall **ret) {
        _cleanup_free_ char *path = NULL;
        sd_bus_message *m = NULL;
        int r;

        r = sd_bus_path_encode(SD_UNIT_PREFIX, unit, &path);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(b->bus, &m, SD_DEST, path, "org.freedesktop.DBus.Properties", "GetAll");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", interface);
        if (r < 0) {
                sd_bus_message_unref(m);
                return r;
        }
        return unit_call(b, m, false, handler, userdata, ret);
}

int unit_release(UnitBus *b, const char *unit, const UnitState *state) {
        sd_bus_message *m = NULL;
        int r;

        /* Gone already, or inactive and without a reference: collected. */
        if (strcmp(state->load_state, "not-found") == 0 || strcmp(state->active_state, "inactive") == 0)
                return 0;
        if (strcmp(state->active_state, "failed") != 0)
                return unit_stop(b, unit, NULL, NULL, NULL);

        r = new_manager_call(b, "ResetFailedUnit", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", unit);
        if (r < 0) {
                sd_bus_message_unref(m);
                return r;
        }
        r = send_no_reply(m);
        return r < 0 ? r : 0;
}

const char *unit_update_job_path(UnitUpdate *u) {
        sd_bus_message *m = (sd_bus_message *) u;
        const char *path;

        if (!u || !sd_bus_message_has_signature(m, "o") ||
            sd_bus_message_read(m, "o", &path) < 0)
                return NULL;
        (void) sd_bus_message_rewind(m, true);
        return path;
}

/* ---- signals ------------------------------------------------------------- */

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        UnitBus *b = userdata;
        const char *path, *unit, *result;
        uint32_t id;

        (void) error;
        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (b->handlers.job_removed)
                b->handlers.job_removed(b->userdata, unit, result);
        job_slot_done(b, path);
        return 0;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        UnitBus *b = userdata;
        _cleanup_free_ char *unit = NULL;
        const char *interface;

        (void) error;
        if (sd_bus_path_decode(sd_bus_message_get_path(m), SD_UNIT_PREFIX, &unit) <= 0)
                return 0;
        if (sd_bus_message_read(m, "s", &interface) < 0)
                return 0;
        b->handlers.properties_changed(b->userdata, unit, (UnitUpdate *) m);
        return 0;
}

int unit_bus_new(sd_bus *bus, const UnitBusHandlers *handlers, void *userdata, UnitBus **ret) {
        sd_bus_message *m = NULL;
        UnitBus *b;
        int r;

        b = calloc(1, sizeof(UnitBus));
        if (!b)
                return -ENOMEM;
        *b = (UnitBus) { .bus = sd_bus_ref(bus), .handlers = *handlers, .userdata = userdata };

        /* Without Subscribe() systemd sends no unit or job signals.  One
         * match each, whatever the number of jobs: the bus daemon also caps
         * match rules per connection. */
        r = new_manager_call(b, "Subscribe", &m);
        if (r >= 0)
                r = send_no_reply(TAKE_PTR(m));
        sd_bus_message_unref(m);
        if (r >= 0)
                r = sd_bus_match_signal(bus, &b->job_removed_slot, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved",
                                        on_job_removed, b);
        if (r >= 0 && handlers->properties_changed)
                r = sd_bus_add_match(bus, &b->properties_slot,
                                     "type='signal',sender='" SD_DEST "',"
                                     "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
                                     "path_namespace='" SD_UNIT_PREFIX "'",
                                     on_properties_changed, b);
        if (r < 0) {
                unit_bus_free(b);
                return r;
        }
        *ret = b;
        return 0;
}

UnitBus *unit_bus_free(UnitBus *b) {
        if (!b)
                return NULL;
        /* The waiting ones first: freeing a sent one sends the next. */
        while (b->queue.head)
                unit_call_free(b->queue.head);
        while (b->job_queue.head)
                unit_call_free(b->job_queue.head);
        while (b->sent.head)
                unit_call_free(b->sent.head);
        for (size_t i = 0; i < ELEMENTSOF(b->job_paths); i++)
                free(b->job_paths[i]);
        sd_bus_slot_unref(b->job_removed_slot);
        sd_bus_slot_unref(b->properties_slot);
        sd_bus_unref(b->bus);
        free(b);
        return NULL;
}
