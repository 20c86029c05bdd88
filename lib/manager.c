/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "job-store.h"
#include "job.h"
#include "log.h"
#include "macro.h"

#ifndef JOBRUNNER_INIT_PATH
#define JOBRUNNER_INIT_PATH "/usr/libexec/jobrunner/jobrunner-init"
#endif

static void manager_link_job(jr_manager *m, jr_job *j) {
        j->older = m->newest;
        if (m->newest)
                m->newest->newer = j;
        m->newest = j;
}

static void manager_unlink_job(jr_manager *m, jr_job *j) {
        if (j->newer)
                j->newer->older = j->older;
        else
                m->newest = j->older;
        if (j->older)
                j->older->newer = j->newer;
        j->newer = j->older = NULL;
}

/* "jobrunner-<id>.service" → the job, or NULL for any other unit. */
void manager_forget_job(jr_manager *m, jr_job *j) {
        hashmap_remove(m->jobs, j->id);
        manager_unlink_job(m, j);
}

static jr_job *manager_job_of_unit(jr_manager *m, const char *unit) {
        size_t plen = strlen(JR_UNIT_PREFIX);
        char id[JR_ID_STRING_MAX];

        if (strncmp(unit, JR_UNIT_PREFIX, plen) != 0 ||
            strlen(unit) != plen + JR_ID_STRING_MAX - 1 + strlen(".service") ||
            strcmp(unit + plen + JR_ID_STRING_MAX - 1, ".service") != 0)
                return NULL;
        snprintf(id, sizeof(id), "%.*s", JR_ID_STRING_MAX - 1, unit + plen);
        return hashmap_get(m->jobs, id);
}

static void on_job_removed(void *userdata, const char *unit, const char *result) {
        jr_job *j = manager_job_of_unit(userdata, unit);

        if (j)
                job_on_job_removed(j, result);
}

static void on_properties_changed(void *userdata, const char *unit, UnitUpdate *update) {
        jr_job *j = manager_job_of_unit(userdata, unit);

        if (j)
                job_on_properties_changed(j, update);
}

static const UnitBusHandlers unit_bus_handlers = {
        .job_removed = on_job_removed,
        .properties_changed = on_properties_changed,
};

static int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *copy = strdup(path);

        if (!copy)
                return -ENOMEM;
        for (char *p = copy + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(copy, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(copy, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int manager_add_job(jr_manager *m, jr_job *j) {
        int r = hashmap_put(m->jobs, j->id, j);

        if (r < 0)
                return r;
        manager_link_job(m, j);
        return 0;
}

/* Jobs of earlier runs, oldest first so the list ends up newest first. */
static int job_start_time_cmp(const void *a, const void *b) {
        const jr_job *x = *(jr_job *const *) a, *y = *(jr_job *const *) b;

        return (x->start_time_us > y->start_time_us) - (x->start_time_us < y->start_time_us);
}

static int manager_load_jobs(jr_manager *m) {
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ jr_job **loaded = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;
        DIR *d;

        if (asprintf(&path, "%s/jobs", m->state_dir) < 0)
                return -ENOMEM;
        d = opendir(path);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                jr_job *j;
                int r;

                if (!job_id_is_valid(de->d_name))
                        continue;
                r = job_store_load(m, de->d_name, &j);
                if (r < 0) {
                        log_warning_errno(r, "Ignoring job %s: cannot read its metadata", de->d_name);
                        continue;
                }
                if (n == allocated) {
                        jr_job **grown = realloc(loaded, (allocated = allocated * 2 + 16) * sizeof(jr_job *));
                        if (!grown) {
                                job_free(j);
                                closedir(d);
                                return -ENOMEM;
                        }
                        loaded = grown;
                }
                loaded[n++] = j;
        }
        closedir(d);

        if (n > 0)
                qsort(loaded, n, sizeof(jr_job *), job_start_time_cmp);
        for (size_t i = 0; i < n; i++) {
                int r = manager_add_job(m, loaded[i]);

                if (r >= 0)
                        r = job_reattach(loaded[i]);
                if (r < 0)
                        log_warning_errno(r, "Cannot restore job %s", loaded[i]->id);
        }
        return 0;
}

int manager_take_pipe(jr_manager *m, const char *id, jr_stream stream) {
        for (size_t i = 0; i < m->n_pipes; i++)
                if (m->pipes[i].fd >= 0 && m->pipes[i].stream == stream && strcmp(m->pipes[i].job_id, id) == 0)
                        return TAKE_FD(m->pipes[i].fd);
        return -ENOENT;
}

/* What no re-attached job took: pipes of jobs that ended meanwhile, or
 * that we no longer know. */
static void manager_close_pipes(jr_manager *m) {
        for (size_t i = 0; i < m->n_pipes; i++)
                if (m->pipes[i].fd >= 0) {
                        log_debug("Closing the kept %s pipe of job %s: no running job takes it",
                                  m->pipes[i].stream == JR_STREAM_STDOUT ? "stdout" :
                                  m->pipes[i].stream == JR_STREAM_STDERR ? "stderr" : "stdin", m->pipes[i].job_id);
                        if (m->on_pipe)
                                m->on_pipe(m->pipes[i].job_id, m->pipes[i].stream, -EBADF, m->pipe_userdata);
                        m->pipes[i].fd = safe_close(m->pipes[i].fd);
                }
        free(m->pipes);
        m->pipes = NULL;
        m->n_pipes = 0;
}

/* Takes over config's pipes, closing them if it cannot. */
static int manager_take_config_pipes(jr_manager *m, const jr_manager_config *config) {
        if (config->n_pipes == 0)
                return 0;
        m->pipes = malloc(config->n_pipes * sizeof(jr_pipe));
        if (!m->pipes) {
                for (size_t i = 0; i < config->n_pipes; i++)
                        safe_close(config->pipes[i].fd);
                return -ENOMEM;
        }
        memcpy(m->pipes, config->pipes, config->n_pipes * sizeof(jr_pipe));
        m->n_pipes = config->n_pipes;
        return 0;
}

int jr_manager_new(sd_event *event, sd_bus *bus, const jr_manager_config *config,
                   jr_manager **ret, jr_error *e) {
        jr_manager *m;
        _cleanup_free_ char *jobs = NULL;
        int r;

        if (!config)
                return jr_error_set(e, -EINVAL, "no configuration");
        m = calloc(1, sizeof(jr_manager));
        r = m ? manager_take_config_pipes(m, config) : -ENOMEM;
        if (r < 0) {
                free(m);
                return jr_error_set(e, r, "out of memory");
        }
        if (!config->state_dir || config->state_dir[0] != '/') {
                jr_manager_free(m);
                return jr_error_set(e, -EINVAL, "the state directory must be an absolute path");
        }
        m->event = sd_event_ref(event);
        m->on_pipe = config->on_pipe;
        m->pipe_userdata = config->pipe_userdata;
        m->output_cap = config->output_cap ?: JR_OUTPUT_CAP_DEFAULT;
        m->retention_usec = config->retention_usec ?: JR_RETENTION_DEFAULT_USEC;
        m->max_ended_jobs = config->max_ended_jobs ?: JR_MAX_ENDED_JOBS_DEFAULT;
        m->state_dir = strdup(config->state_dir);
        m->init_path = strdup(config->init_path ?: JOBRUNNER_INIT_PATH);
        m->slice = strdup(config->slice ?: JR_SLICE_DEFAULT);
        m->jobs = hashmap_new();
        if (!m->state_dir || !m->init_path || !m->slice || !m->jobs) {
                jr_manager_free(m);
                return jr_error_set(e, -ENOMEM, "out of memory");
        }

        if (asprintf(&jobs, "%s/jobs", m->state_dir) < 0) {
                jr_manager_free(m);
                return jr_error_set(e, -ENOMEM, "out of memory");
        }
        r = mkdir_p(jobs, 0700);
        if (r < 0) {
                jr_manager_free(m);
                return jr_error_set(e, r, "cannot create %s: %s", jobs, strerror(-r));
        }

        r = unit_bus_new(bus, &unit_bus_handlers, m, &m->unit_bus);
        if (r < 0) {
                jr_manager_free(m);
                return jr_error_set(e, r, "cannot subscribe to systemd's signals: %s", strerror(-r));
        }
        r = config->unit_starter ? unit_starter_new_delegated(config->unit_starter, &m->unit_starter) :
                unit_starter_new_direct(m->unit_bus, m->slice, m->init_path, &m->unit_starter);
        if (r < 0) {
                jr_manager_free(m);
                return jr_error_set(e, r, "cannot set up the start of units: %s", strerror(-r));
        }

        r = manager_load_jobs(m);
        manager_close_pipes(m);
        if (r < 0) {
                jr_manager_free(m);
                return jr_error_set(e, r, "cannot load the jobs in %s: %s", jobs, strerror(-r));
        }
        /* What expired while the daemon was away goes now. */
        manager_sweep(m);

        *ret = m;
        return 0;
}

jr_manager *jr_manager_free(jr_manager *m) {
        if (!m)
                return NULL;
        sd_event_source_disable_unref(m->sweep_timer);
        while (m->newest) {
                jr_job *j = m->newest;

                manager_unlink_job(m, j);
                job_free(j);
        }
        /* Only left if set-up failed: kept where they were for the next
         * try, so the caller is not told to forget them. */
        for (size_t i = 0; i < m->n_pipes; i++)
                safe_close(m->pipes[i].fd);
        free(m->pipes);
        hashmap_free(m->jobs);
        unit_starter_free(m->unit_starter);
        unit_bus_free(m->unit_bus);
        sd_event_unref(m->event);
        free(m->state_dir);
        free(m->init_path);
        free(m->slice);
        free(m);
        return NULL;
}

int jr_manager_start(jr_manager *m, const jr_spec *spec, const char *owner,
                     const jr_validate_options *options, jr_job **ret, jr_error *e) {
        char id[JR_ID_STRING_MAX];
        jr_job *j;
        int r;

        r = jr_spec_validate(spec, options, e);
        if (r < 0)
                return r;

        r = job_id_new(id);
        if (r < 0)
                return jr_error_set(e, r, "cannot generate a job id: %s", strerror(-r));
        r = job_new(m, id, owner, spec, &j);
        if (r < 0)
                return jr_error_set(e, r, "cannot create the job: %s", strerror(-r));
        r = manager_add_job(m, j);
        if (r < 0) {
                job_free(j);
                return jr_error_set(e, r, "cannot register job %s: %s", id, strerror(-r));
        }

        r = job_start(j, e);
        if (r < 0) {
                /* Nothing reached systemd: the job never existed. */
                job_forget_pipes(j);
                manager_forget_job(m, j);
                job_remove_files(j);
                job_free(j);
                return r;
        }
        m->jobs_started++;
        if (ret)
                *ret = j;
        return 0;
}

void jr_manager_get_stats(const jr_manager *m, jr_manager_stats *ret) {
        *ret = (jr_manager_stats) {
                .jobs_started = m->jobs_started,
                .output_stored_bytes = m->output_totals.stored,
                .output_dropped_cap_bytes = m->output_totals.dropped_cap,
                .output_dropped_io_bytes = m->output_totals.dropped_io,
        };
        memcpy(ret->jobs_ended, m->jobs_ended, sizeof(ret->jobs_ended));
        for (const jr_job *j = m->newest; j; j = j->older) {
                if ((size_t) j->state < ELEMENTSOF(ret->jobs_by_state))
                        ret->jobs_by_state[j->state]++;
                ret->followers += j->n_followers;
        }
}

jr_job *jr_manager_get_job(jr_manager *m, const char *id) {
        if (!job_id_is_valid(id))
                return NULL;
        return hashmap_get(m->jobs, id);
}

static bool job_matches(const jr_job *j, const jr_list_filter *f) {
        if (!f)
                return true;
        if (f->states && !(f->states & (1u << j->state)))
                return false;
        if (f->owner && strcmp(f->owner, j->owner) != 0)
                return false;
        return true;
}

int jr_manager_list(jr_manager *m, const jr_list_filter *filter, jr_job ***ret) {
        size_t n = 0;
        jr_job **list;

        for (jr_job *j = m->newest; j; j = j->older)
                n += job_matches(j, filter);
        list = calloc(n + 1, sizeof(jr_job *));
        if (!list)
                return -ENOMEM;
        n = 0;
        for (jr_job *j = m->newest; j; j = j->older)
                if (job_matches(j, filter))
                        list[n++] = j;
        *ret = list;
        return (int) n;
}
