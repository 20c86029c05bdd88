/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "metrics-jobs.h"
#include "metrics-process.h"
#include "metrics-rpc.h"
#include "metrics-text.h"
#include "metrics.h"

/* One collection of the figures, shared by every scrape that arrives while
 * it runs.  The running jobs' cgroups are read one job per turn of the event
 * loop, at the endpoint's priority: a scrape of a thousand jobs then never
 * holds up the API's events for longer than one job's read. */
typedef struct Collection {
        MetricsHttpRequest **waiting;
        size_t n_waiting;

        char (*ids)[JR_ID_STRING_MAX];  /* the jobs running when it began */
        size_t n_ids, next;
        jr_status *running;             /* those still running when read; owner is ours */
        size_t n_running;

        sd_event_source *step;
} Collection;

struct Metrics {
        const Daemon *daemon;
        sd_event *event;
        int64_t priority;
        RpcMetrics *rpc;
        MetricsText *text;              /* reused from scrape to scrape */
        Collection *collection;         /* NULL when no scrape waits */
};

static Collection *collection_free(Collection *c) {
        if (!c)
                return NULL;
        sd_event_source_disable_unref(c->step);
        for (size_t i = 0; i < c->n_running; i++)
                free((char *) c->running[i].owner);
        free(c->running);
        free(c->ids);
        free(c->waiting);
        free(c);
        return NULL;
}

/* Every waiting scrape gets the body (a copy each, the last the body
 * itself) or the error; the collection is over. */
static void collection_answer(Metrics *m, int error, char *body, size_t len) {
        Collection *c = TAKE_PTR(m->collection);

        for (size_t i = 0; i < c->n_waiting; i++) {
                char *copy = NULL;

                if (error >= 0 && i + 1 < c->n_waiting) {
                        copy = malloc(len + 1);
                        if (copy)
                                memcpy(copy, body, len + 1);
                }
                if (error < 0)
                        metrics_http_answer(c->waiting[i], error, NULL, 0);
                else if (i + 1 == c->n_waiting)
                        metrics_http_answer(c->waiting[i], 0, TAKE_PTR(body), len);
                else if (copy)
                        metrics_http_answer(c->waiting[i], 0, copy, len);
                else
                        metrics_http_answer(c->waiting[i], -ENOMEM, NULL, 0);
        }
        free(body);
        collection_free(c);
}

static void write_build_info(MetricsText *t) {
        MetricsLabel label = { "version", JOBRUNNER_VERSION };

        metrics_text_family(t, "jobrunner_build_info", METRICS_GAUGE,
                            "The daemon's version, as a label; the value is always 1.");
        metrics_text_sample_u64(t, "", &label, 1, 1);
}

static void collection_finish(Metrics *m) {
        Collection *c = m->collection;
        jr_manager_stats stats;
        char *body = NULL;
        size_t len = 0;
        int r;

        jr_manager_get_stats(m->daemon->manager, &stats);
        metrics_write_jobs(m->text, &stats, m->daemon->limits.max_active_jobs, c->running, c->n_running);
        rpc_metrics_write(m->rpc, m->text);
        metrics_write_process(m->text);
        write_build_info(m->text);
        r = metrics_text_finish(m->text, &body, &len);
        collection_answer(m, r, body, len);
}

/* One running job's status, its usage read from its cgroup now; one that
 * ended or went meanwhile is left out. */
static int on_step(sd_event_source *s, void *userdata) {
        Metrics *m = userdata;
        Collection *c = m->collection;
        jr_status *st;
        jr_job *j;

        (void) s;

        if (c->next < c->n_ids) {
                j = jr_manager_get_job(m->daemon->manager, c->ids[c->next++]);
                st = &c->running[c->n_running];
                if (j && jr_job_get_status(j, st) >= 0 && st->state == JR_STATE_RUNNING) {
                        st->owner = strdup(st->owner ?: "");
                        if (!st->owner) {
                                collection_answer(m, -ENOMEM, NULL, 0);
                                return 0;
                        }
                        /* Borrowed from the job, which may go before the
                         * body is written: not used by the writer. */
                        st->unit = NULL;
                        st->spec = NULL;
                        st->stopped_by = NULL;
                        st->failure_reason = NULL;
                        c->n_running++;
                }
                if (c->next < c->n_ids)
                        return 0;
        }
        collection_finish(m);
        return 0;
}

static int collection_start(Metrics *m) {
        _cleanup_free_ jr_job **jobs = NULL;
        Collection *c;
        int n, r;

        n = jr_manager_list(m->daemon->manager, &(jr_list_filter) { .states = 1u << JR_STATE_RUNNING }, &jobs);
        if (n < 0)
                return n;
        c = calloc(1, sizeof(Collection));
        if (!c)
                return -ENOMEM;
        m->collection = c;
        c->ids = calloc((size_t) n + 1, sizeof(*c->ids));
        c->running = calloc((size_t) n + 1, sizeof(jr_status));
        if (!c->ids || !c->running)
                return -ENOMEM;
        for (int i = 0; i < n; i++)
                memcpy(c->ids[i], jr_job_get_id(jobs[i]), JR_ID_STRING_MAX);
        c->n_ids = (size_t) n;

        r = sd_event_add_defer(m->event, &c->step, on_step, m);
        if (r < 0)
                return r;
        r = sd_event_source_set_priority(c->step, m->priority);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(c->step, SD_EVENT_ON);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(c->step, "metrics-collect");
        return 0;
}

void metrics_scrape(void *userdata, MetricsHttpRequest *req) {
        Metrics *m = userdata;
        MetricsHttpRequest **w;
        int r;

        if (!m->collection) {
                r = collection_start(m);
                if (r < 0) {
                        m->collection = collection_free(m->collection);
                        metrics_http_answer(req, r, NULL, 0);
                        return;
                }
        }

        w = reallocarray(m->collection->waiting, m->collection->n_waiting + 1, sizeof(*w));
        if (!w) {
                metrics_http_answer(req, -ENOMEM, NULL, 0);
                return;
        }
        w[m->collection->n_waiting++] = req;
        m->collection->waiting = w;
}

void metrics_cancel(void *userdata, MetricsHttpRequest *req) {
        Collection *c = ((Metrics *) userdata)->collection;

        if (!c)
                return;
        for (size_t i = 0; i < c->n_waiting; i++)
                if (c->waiting[i] == req) {
                        c->waiting[i] = c->waiting[--c->n_waiting];
                        break;
                }
}

int metrics_new(const Daemon *d, sd_event *event, int64_t priority, const RpcMethod *methods, size_t n_methods,
                Metrics **ret) {
        Metrics *m;
        int r;

        m = calloc(1, sizeof(Metrics));
        if (!m)
                return -ENOMEM;
        m->daemon = d;
        m->event = sd_event_ref(event);
        m->priority = priority;
        r = rpc_metrics_new(methods, n_methods, &m->rpc);
        if (r >= 0)
                r = metrics_text_new(&m->text);
        if (r < 0) {
                metrics_free(m);
                return r;
        }
        *ret = m;
        return 0;
}

Metrics *metrics_free(Metrics *m) {
        if (!m)
                return NULL;
        if (m->collection)
                collection_answer(m, -ECANCELED, NULL, 0);
        rpc_metrics_free(m->rpc);
        metrics_text_free(m->text);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

void metrics_on_call_ended(const RpcMethod *method, JrCode code, uint64_t duration_usec, void *userdata) {
        Metrics *m = userdata;

        rpc_metrics_record(m->rpc, method, code, duration_usec);
}
