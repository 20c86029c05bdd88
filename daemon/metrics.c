/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "macro.h"
#include "metrics-jobs.h"
#include "metrics-process.h"
#include "metrics-rpc.h"
#include "metrics-text.h"
#include "metrics.h"

struct Metrics {
        const Daemon *daemon;
        RpcMetrics *rpc;
        MetricsText *text;              /* reused from scrape to scrape */
};

int metrics_new(const Daemon *d, const RpcMethod *methods, size_t n_methods, Metrics **ret) {
        Metrics *m;
        int r;

        m = calloc(1, sizeof(Metrics));
        if (!m)
                return -ENOMEM;
        m->daemon = d;
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
        rpc_metrics_free(m->rpc);
        metrics_text_free(m->text);
        free(m);
        return NULL;
}

void metrics_on_call_ended(const RpcMethod *method, JrCode code, uint64_t duration_usec, void *userdata) {
        Metrics *m = userdata;

        rpc_metrics_record(m->rpc, method, code, duration_usec);
}

/* The running jobs' status, their usage read from their cgroups now. */
static int running_jobs(jr_manager *manager, jr_status **ret, size_t *ret_n) {
        _cleanup_free_ jr_job **jobs = NULL;
        _cleanup_free_ jr_status *status = NULL;
        size_t n = 0;
        int r;

        r = jr_manager_list(manager, &(jr_list_filter) { .states = 1u << JR_STATE_RUNNING }, &jobs);
        if (r < 0)
                return r;
        status = calloc((size_t) r + 1, sizeof(jr_status));
        if (!status)
                return -ENOMEM;
        for (jr_job **j = jobs; *j; j++)
                /* One that cannot be read is left out of this scrape. */
                if (jr_job_get_status(*j, &status[n]) >= 0 && status[n].state == JR_STATE_RUNNING)
                        n++;
        *ret = TAKE_PTR(status);
        *ret_n = n;
        return 0;
}

static void write_build_info(MetricsText *t) {
        MetricsLabel label = { "version", JOBRUNNER_VERSION };

        metrics_text_family(t, "jobrunner_build_info", METRICS_GAUGE,
                            "The daemon's version, as a label; the value is always 1.");
        metrics_text_sample_u64(t, "", &label, 1, 1);
}

int metrics_body(void *userdata, char **ret_body, size_t *ret_len) {
        Metrics *m = userdata;
        _cleanup_free_ jr_status *running = NULL;
        jr_manager_stats stats;
        size_t n_running = 0;
        int r;

        jr_manager_get_stats(m->daemon->manager, &stats);
        r = running_jobs(m->daemon->manager, &running, &n_running);
        if (r < 0)
                return r;

        metrics_write_jobs(m->text, &stats, m->daemon->limits.max_active_jobs, running, n_running);
        rpc_metrics_write(m->rpc, m->text);
        metrics_write_process(m->text);
        write_build_info(m->text);
        return metrics_text_finish(m->text, ret_body, ret_len);
}
