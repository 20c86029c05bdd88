/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who starts a job's unit (see unit-starter.h): directly over D-Bus, or
 * through a jr_unit_starter the caller gave. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "systemd-unit.h"
#include "unit-properties.h"
#include "unit-starter.h"

struct UnitStarter {
        /* Direct: borrowed. */
        UnitBus *bus;
        const char *slice;
        const char *init_path;
        /* Delegated. */
        bool delegated;
        jr_unit_starter ops;
};

struct UnitStartCall {
        UnitStarter *starter;
        UnitCall *call;                 /* direct: StartTransientUnit in flight */
        void *handle;                   /* delegated: the other side's request */
        char *unit;                     /* for messages */
        UnitStartHandler handler;
        void *userdata;
        bool dispatching;
};

int unit_starter_new_direct(UnitBus *bus, const char *slice, const char *init_path, UnitStarter **ret) {
        UnitStarter *s = calloc(1, sizeof(UnitStarter));

        if (!s)
                return -ENOMEM;
        *s = (UnitStarter) { .bus = bus, .slice = slice, .init_path = init_path };
        *ret = s;
        return 0;
}

int unit_starter_new_delegated(const jr_unit_starter *ops, UnitStarter **ret) {
        UnitStarter *s;

        if (!ops || !ops->start || !ops->cancel)
                return -EINVAL;
        s = calloc(1, sizeof(UnitStarter));
        if (!s)
                return -ENOMEM;
        *s = (UnitStarter) { .delegated = true, .ops = *ops };
        *ret = s;
        return 0;
}

UnitStarter *unit_starter_free(UnitStarter *s) {
        free(s);
        return NULL;
}

static void call_destroy(UnitStartCall *c) {
        free(c->unit);
        free(c);
}

UnitStartCall *unit_start_call_free(UnitStartCall *c) {
        if (!c || c->dispatching)
                return NULL;    /* a handler's own call goes once it returns */
        if (c->call)
                unit_call_free(c->call);
        if (c->handle)
                c->starter->ops.cancel(c->starter->ops.userdata, c->handle);
        call_destroy(c);
        return NULL;
}

static void call_dispatch(UnitStartCall *c, int error, const char *message) {
        c->dispatching = true;
        c->handler(c->userdata, error, message);
        call_destroy(c);
}

/* ---- directly ------------------------------------------------------------ */

static void on_direct_reply(void *userdata, const char *error, UnitUpdate *update) {
        UnitStartCall *c = userdata;
        _cleanup_free_ char *message = NULL;

        c->call = NULL;
        if (!error) {
                call_dispatch(c, 0, unit_update_job_path(update));
                return;
        }
        /* systemd refused the unit, e.g. a property this systemd does not
         * know: its message names the property. */
        if (asprintf(&message, "systemd refused %s: %s", c->unit, error) < 0)
                message = NULL;
        call_dispatch(c, -EIO, message ?: error);
}

static int start_direct(UnitStartCall *c, const char *job_id, const jr_spec *spec, int stdout_fd, int stderr_fd,
                        int stdin_fd, jr_error *e) {
        _cleanup_(unit_properties_done) UnitProperties props = {};
        _cleanup_free_ char *cgroup = NULL;
        UnitStarter *s = c->starter;
        int r;

        r = unit_cgroup_path(s->slice, c->unit, &cgroup);
        if (r < 0)
                return jr_error_set(e, r, "out of memory");
        r = unit_properties_build(&(UnitPropertiesInput) {
                        .spec = spec,
                        .job_id = job_id,
                        .slice = s->slice,
                        .cgroup = cgroup,
                        .init_path = s->init_path,
                        .stop_timeout_usec = JR_GRACE_DEFAULT_USEC,
                        .stdout_fd = stdout_fd,
                        .stderr_fd = stderr_fd,
                        .stdin_fd = stdin_fd,
                }, &props, e);
        if (r < 0)
                return r;
        /* The message holds its own duplicates of the fds from here on. */
        r = unit_start_transient(s->bus, c->unit, &props, on_direct_reply, c, &c->call);
        if (r < 0)
                return jr_error_set(e, r, "cannot ask systemd to start %s: %s", c->unit, strerror(-r));
        return 0;
}

/* ---- delegated ----------------------------------------------------------- */

static void on_delegated_done(void *cookie, int error, const char *message) {
        UnitStartCall *c = cookie;

        c->handle = NULL;
        if (error > 0)
                error = -EIO;   /* not ours to trust: a refusal all the same */
        call_dispatch(c, error, message);
}

static int start_delegated(UnitStartCall *c, const char *job_id, const jr_spec *spec, int stdout_fd, int stderr_fd,
                           int stdin_fd, jr_error *e) {
        UnitStarter *s = c->starter;
        int r;

        r = s->ops.start(s->ops.userdata, job_id, spec, stdout_fd, stderr_fd, stdin_fd, on_delegated_done, c,
                         &c->handle);
        if (r < 0)
                return jr_error_set(e, r, "cannot ask for %s to be started: %s", c->unit, strerror(-r));
        return 0;
}

/* ---- either -------------------------------------------------------------- */

int unit_starter_start(UnitStarter *s, const char *job_id, const jr_spec *spec, int stdout_fd, int stderr_fd,
                       int stdin_fd, UnitStartHandler handler, void *userdata, UnitStartCall **ret, jr_error *e) {
        UnitStartCall *c;
        int r;

        c = calloc(1, sizeof(UnitStartCall));
        if (!c)
                return jr_error_set(e, -ENOMEM, "out of memory");
        *c = (UnitStartCall) { .starter = s, .handler = handler, .userdata = userdata };
        if (asprintf(&c->unit, JR_UNIT_PREFIX "%s.service", job_id) < 0) {
                free(c);
                return jr_error_set(e, -ENOMEM, "out of memory");
        }

        r = s->delegated ? start_delegated(c, job_id, spec, stdout_fd, stderr_fd, stdin_fd, e) :
                start_direct(c, job_id, spec, stdout_fd, stderr_fd, stdin_fd, e);
        if (r < 0) {
                call_destroy(c);
                return r;
        }
        *ret = c;
        return 0;
}
