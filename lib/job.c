/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-usage.h"
#include "exit-status.h"
#include "job.h"
#include "job-io.h"
#include "job-store.h"
#include "log.h"
#include "macro.h"
#include "time-util.h"
#include "unit-properties.h"

int job_new(jr_manager *m, const char *id, const char *owner, const jr_spec *spec, jr_job **ret) {
        jr_job *j;
        int r;

        j = calloc(1, sizeof(jr_job));
        if (!j)
                return -ENOMEM;
        j->manager = m;
        j->state = JR_STATE_STARTING;
        j->input_fd = -EBADF;
        unit_state_init(&j->unit_state);
        snprintf(j->id, sizeof(j->id), "%s", id);
        if (asprintf(&j->unit, JR_UNIT_PREFIX "%s.service", id) < 0 ||
            asprintf(&j->dir, "%s/jobs/%s", m->state_dir, id) < 0) {
                j->unit = j->dir = NULL;
                job_free(j);
                return -ENOMEM;
        }
        r = unit_cgroup_path(m->slice, j->unit, &j->cgroup);
        if (r < 0) {
                job_free(j);
                return r;
        }
        j->owner = strdup(owner ?: "");
        if (!j->owner) {
                job_free(j);
                return -ENOMEM;
        }
        if (spec) {
                r = jr_spec_copy(spec, &j->spec);
                if (r < 0) {
                        job_free(j);
                        return r;
                }
        }
        *ret = j;
        return 0;
}

static void watch_unlink_and_free(jr_watch *w) {
        if (w->prev)
                w->prev->next = w->next;
        else
                w->job->watches = w->next;
        if (w->next)
                w->next->prev = w->prev;
        free(w);
}

jr_job *job_free(jr_job *j) {
        if (!j)
                return NULL;
        while (j->watches)
                watch_unlink_and_free(j->watches);
        unit_start_call_free(j->start_call);
        unit_call_free(j->call);
        job_stop_done(j);
        job_input_free(j);
        output_capture_free(j->capture);
        output_store_unref(j->store);
        unit_state_done(&j->unit_state);
        jr_spec_done(&j->spec);
        free(j->unit);
        free(j->cgroup);
        free(j->owner);
        free(j->dir);
        free(j->stopped_by);
        free(j->failure_reason);
        free(j);
        return NULL;
}

void job_notify(jr_job *j) {
        /* A handler may free its own watch: take the next one first. */
        for (jr_watch *w = j->watches, *next; w; w = next) {
                next = w->next;
                w->handler(j, w->userdata);
        }
}

/* The start path's milestones at debug level, in ms since job_start():
 * where a start's time goes, read from the journal (bench/start --trace). */
static void job_log_milestone(const jr_job *j, const char *what) {
        if (log_get_max_level() < LOG_DEBUG || j->start_begin_us == 0)
                return;
        log_debug("job %s: %s, +%.1f ms", j->id, what, (now_usec(CLOCK_MONOTONIC) - j->start_begin_us) / 1000.0);
}

static jr_end_result end_result(const jr_job *j) {
        switch (j->state) {
        case JR_STATE_EXITED:
                return j->exit_code == 0 ? JR_END_EXITED_ZERO : JR_END_EXITED_NONZERO;
        case JR_STATE_KILLED:
                return JR_END_KILLED;
        case JR_STATE_OOM_KILLED:
                return JR_END_OOM_KILLED;
        case JR_STATE_STOPPED:
                return JR_END_STOPPED;
        default:
                return JR_END_FAILED_TO_START;
        }
}

static void job_set_state(jr_job *j, jr_state state) {
        if (j->state == state)
                return;
        j->state = state;
        (void) job_store_save(j);
        job_notify(j);
}

/* Samples the cgroup while it exists; the peak is the maximum seen. */
static void job_sample_usage(jr_job *j) {
        const char *cgroup = j->unit_state.control_group && j->unit_state.control_group[0] ?
                j->unit_state.control_group : j->cgroup;
        jr_usage u;

        if (cgroup_read_usage("/sys/fs/cgroup", cgroup, &u) < 0)
                return;
        if (u.memory_peak < j->usage.memory_peak)
                u.memory_peak = j->usage.memory_peak;
        if (u.memory_peak < u.memory_current)
                u.memory_peak = u.memory_current;
        j->usage = u;
}

/* NULL when out of memory: the job then has no reason, which its file and
 * the API allow. */
static char *failure_reason(const jr_job *j) {
        const UnitState *u = &j->unit_state;
        const char *what;
        char *reason;
        int r;

        /* jobrunner-init says "cannot execute PATH: REASON" via STATUS=. */
        if (u->status_text && u->status_text[0])
                return strdup(u->status_text);
        what = u->exec_main_code == CLD_EXITED ? exit_status_setup_failure(u->exec_main_status) : NULL;
        if (u->exec_main_code == CLD_EXITED && u->exec_main_status == 203)
                r = asprintf(&reason, "cannot execute %s", j->spec.argv ? j->spec.argv[0] : "?");
        else if (what && u->exec_main_status == 200)
                r = asprintf(&reason, "%s %s", what, j->spec.working_directory ?: "/");
        else if (what && u->exec_main_status == 217)
                r = asprintf(&reason, "%s %s", what, j->spec.user ?: "(dynamic)");
        else if (what)
                r = asprintf(&reason, "%s (systemd's exit status %d; see the journal of %s)", what,
                             u->exec_main_status, j->unit);
        else
                r = asprintf(&reason, "systemd could not start %s: start job %s, unit result %s",
                             j->unit, j->start_job_result, u->result[0] ? u->result : "unknown");
        /* On failure asprintf() leaves reason undefined. */
        return r < 0 ? NULL : reason;
}

/* The end state, from the unit's result and its main process's fate.  OOM
 * comes from the unit's result (the cgroup's memory events), never from an
 * exit code such as 137. */
static void job_decide_end(jr_job *j) {
        const UnitState *u = &j->unit_state;

        j->oom_killed = strcmp(u->result, "oom-kill") == 0;
        if (u->exec_main_code == CLD_KILLED || u->exec_main_code == CLD_DUMPED)
                j->signal = u->exec_main_status;
        else if (u->exec_main_code == CLD_EXITED)
                j->exit_code = u->exec_main_status;

        if (j->stop_requested) {
                j->killed_after_grace = job_stop_needed_sigkill(j);
                j->state = JR_STATE_STOPPED;
        } else if (strcmp(u->load_state, "not-found") == 0 && u->exec_main_code == 0 &&
                   (j->start_job_done ? strcmp(j->start_job_result, "done") == 0 : j->start_queued)) {
                /* Ended while the daemon was away and already collected,
                 * unseen.  Failed units are kept until their result is
                 * read (CollectMode=inactive), and so are those whose main
                 * process exited (RemainAfterExit=), so a collected one
                 * succeeded, whether or not the daemon saw its start job
                 * finish. */
                j->exit_code = 0;
                j->state = JR_STATE_EXITED;
        } else if (strcmp(j->start_job_result, "done") != 0) {
                j->state = JR_STATE_FAILED_TO_START;
                j->failure_reason = failure_reason(j);
        } else if (j->oom_killed)
                j->state = JR_STATE_OOM_KILLED;
        else if (u->exec_main_code == CLD_EXITED)
                j->state = JR_STATE_EXITED;
        else if (u->exec_main_code == CLD_KILLED || u->exec_main_code == CLD_DUMPED)
                j->state = JR_STATE_KILLED;
        else {
                /* Ended without a main process status: systemd's own failure. */
                j->state = JR_STATE_FAILED_TO_START;
                j->failure_reason = failure_reason(j);
        }

        /* The program never ran: jobrunner-init's 203 (or whatever ended
         * it) is no exit status of the job's, as the API defines them. */
        if (j->state == JR_STATE_FAILED_TO_START)
                j->exit_code = j->signal = 0;
}

/* The state just became final: what every end has in common. */
static void job_ended(jr_job *j) {
        j->manager->jobs_ended[end_result(j)]++;
        job_input_end(j);
        job_stop_done(j);
        output_store_set_finished(j->store);
        job_release_store(j);
        (void) job_store_save(j);
        manager_schedule_sweep(j->manager);
        job_notify(j);
}

static void job_finish(jr_job *j) {
        const UnitState *u = &j->unit_state;

        if (jr_state_is_final(j->state))
                return;

        job_decide_end(j);
        if (u->exec_main_start_us)
                j->start_time_us = u->exec_main_start_us;
        j->end_time_us = u->exec_main_exit_us ?: u->inactive_enter_us ?: now_usec(CLOCK_REALTIME);
        if (u->cpu_usage_ns != UINT64_MAX)
                j->usage.cpu_usage_ns = u->cpu_usage_ns;
        if (u->io_read_bytes != UINT64_MAX)
                j->usage.io_read_bytes = u->io_read_bytes;
        if (u->io_write_bytes != UINT64_MAX)
                j->usage.io_write_bytes = u->io_write_bytes;
        j->usage.memory_current = 0;
        j->usage.tasks_current = 0;

        (void) unit_release(j->manager->unit_bus, j->unit, u);
        job_ended(j);
}

static void on_get_all(void *userdata, const char *error, UnitUpdate *update);

static void on_remaining_unit_stopped(void *userdata, const char *error, UnitUpdate *update) {
        jr_job *j = userdata;

        (void) update;
        j->call = NULL;
        if (!error)
                return;         /* the PropertiesChanged to "inactive" finishes */
        log_warning("Cannot stop %s after its main process: %s", j->unit, error);
        j->collect_step = COLLECT_NONE;
        job_finish(j);
}

/* A unit that remained after its main process (RemainAfterExit=, "active
 * (exited)") still holds what systemd keeps for a unit until it stops, the
 * write ends of the job's output pipes among them: the output would not
 * reach its end.  So the job ends only once the unit is inactive.  Returns
 * whether a stop is under way. */
static bool job_stop_remaining_unit(jr_job *j) {
        if (strcmp(j->unit_state.active_state, "active") != 0 || strcmp(j->unit_state.load_state, "not-found") == 0)
                return false;
        j->call = unit_call_free(j->call);
        if (unit_stop(j->manager->unit_bus, j->unit, on_remaining_unit_stopped, j, &j->call) < 0)
                return false;
        j->collect_step = COLLECT_STOPPING;
        return true;
}

static int job_collect_step(jr_job *j, const char *interface) {
        int r;

        j->call = unit_call_free(j->call);
        r = unit_get_all(j->manager->unit_bus, j->unit, interface, on_get_all, j, &j->call);
        if (r < 0)
                log_warning_errno(r, "Cannot read the end state of %s", j->unit);
        return r;
}

/* The unit has ended (or never started): read its final properties, first
 * the Unit ones (whether systemd still has it, ActiveState), then the
 * Service ones (Result, ExecMain*), then decide.  Signals alone may arrive
 * in any order across interfaces. */
static void job_collect(jr_job *j) {
        if (j->collect_step != COLLECT_NONE || jr_state_is_final(j->state))
                return;
        job_sample_usage(j);
        j->collect_step = COLLECT_UNIT;
        if (job_collect_step(j, UNIT_IFACE_UNIT) < 0)
                job_finish(j);
}

static void on_get_all(void *userdata, const char *error, UnitUpdate *update) {
        jr_job *j = userdata;
        int r;

        j->call = NULL;
        if (error) {
                log_warning("Cannot read the end state of %s: %s", j->unit, error);
                job_finish(j);
                return;
        }
        if (j->collect_step == COLLECT_UNIT && unit_update_is_not_found(update)) {
                /* Collected (a unit that ended clean without our reading
                 * it, such as one "systemctl stop" ended): the placeholder
                 * systemd loaded knows nothing of it, what its signals told
                 * us stands. */
                snprintf(j->unit_state.load_state, sizeof(j->unit_state.load_state), "not-found");
                j->collect_step = COLLECT_NONE;
                job_finish(j);
                return;
        }
        r = unit_state_apply(&j->unit_state, update);
        if (r < 0)
                log_warning_errno(r, "Cannot parse the end state of %s", j->unit);

        if (j->collect_step == COLLECT_UNIT) {
                j->collect_step = COLLECT_SERVICE;
                if (job_collect_step(j, UNIT_IFACE_SERVICE) < 0)
                        job_finish(j);
                return;
        }

        j->collect_step = COLLECT_NONE;
        if (unit_state_has_ended(&j->unit_state)) {
                if (!job_stop_remaining_unit(j))
                        job_finish(j);
        } else if (!j->start_job_done && strcmp(j->unit_state.active_state, "active") == 0) {
                /* Re-attached: the start job finished while we were away. */
                j->start_job_done = true;
                snprintf(j->start_job_result, sizeof(j->start_job_result), "done");
                if (j->unit_state.exec_main_start_us)
                        j->start_time_us = j->unit_state.exec_main_start_us;
                job_set_state(j, JR_STATE_RUNNING);
        }
        /* else still running or stopping: the PropertiesChanged of its end
         * collects again. */
}

void job_on_properties_changed(jr_job *j, UnitUpdate *update) {
        int r;

        if (jr_state_is_final(j->state))
                return;
        r = unit_state_apply(&j->unit_state, update);
        if (r < 0) {
                log_warning_errno(r, "Cannot parse a state change of %s", j->unit);
                return;
        }

        /* The main process has exited but the cgroup may still exist: the
         * last chance to read the memory peak. */
        if (j->unit_state.exec_main_exit_us)
                job_sample_usage(j);

        if (j->collect_step == COLLECT_STOPPING) {
                if (strcmp(j->unit_state.active_state, "active") != 0 &&
                    strcmp(j->unit_state.active_state, "deactivating") != 0) {
                        j->collect_step = COLLECT_NONE;
                        job_finish(j);
                }
                return;
        }

        if (j->start_job_done && unit_state_has_ended(&j->unit_state))
                job_collect(j);
}

void job_on_job_removed(jr_job *j, const char *result) {
        if (j->start_job_done || jr_state_is_final(j->state))
                return;         /* the job of a later stop, not ours to judge */
        j->start_job_done = true;
        snprintf(j->start_job_result, sizeof(j->start_job_result), "%s", result);

        if (strcmp(result, "done") != 0) {
                job_collect(j);
                return;
        }
        j->start_time_us = j->unit_state.exec_main_start_us ?: now_usec(CLOCK_REALTIME);
        job_log_milestone(j, "systemd's start job done");
        job_set_state(j, JR_STATE_RUNNING);
        job_log_milestone(j, "running, state saved, watchers told");
        if (unit_state_has_ended(&j->unit_state))
                job_collect(j);
}

/* The unit will never run: systemd, or whoever starts units for us, said
 * so (result "refused"), or nobody answered and systemd has no such unit
 * ("unanswered"). */
static void job_not_started(jr_job *j, const char *result, const char *reason) {
        free(j->failure_reason);
        j->failure_reason = strdup(reason);
        j->start_job_done = true;
        snprintf(j->start_job_result, sizeof(j->start_job_result), "%s", result);
        j->state = JR_STATE_FAILED_TO_START;
        j->end_time_us = now_usec(CLOCK_REALTIME);
        job_ended(j);
}

/* The start's answer was lost: whether the unit exists says whether its
 * start was queued.  If it was, the unit's JobRemoved and property
 * signals, which the manager receives whoever made the call, do the rest,
 * as after an answered start; deciding from this reply instead could run
 * ahead of a JobRemoved that PID 1 sends later. */
static void on_lost_start_probe(void *userdata, const char *error, UnitUpdate *update) {
        _cleanup_free_ char *reason = NULL;
        jr_job *j = userdata;

        j->call = NULL;
        if (j->start_job_done || jr_state_is_final(j->state))
                return;
        if (!error && !unit_update_is_not_found(update)) {
                j->start_queued = true;
                (void) job_store_save(j);
                return;
        }
        if (asprintf(&reason, "the start of %s went unanswered, and systemd has no such unit%s%s", j->unit,
                     error ? ": " : "", error ?: "") < 0)
                reason = NULL;
        job_not_started(j, "unanswered", reason ?: "the start went unanswered");
}

static void on_start_reply(void *userdata, int error, const char *message) {
        jr_job *j = userdata;
        int r;

        j->start_call = NULL;
        if (error == 0) {
                /* Queued; JobRemoved tells the outcome.  Kept on disk, so
                 * that a restarted daemon which finds the unit collected
                 * knows that it existed and ended well. */
                j->start_queued = true;
                job_log_milestone(j, "StartTransientUnit answered");
                if (!jr_state_is_final(j->state))
                        (void) job_store_save(j);
                job_log_milestone(j, "state file synced");
                return;
        }
        if (error == JR_UNIT_START_LOST) {
                /* Whoever started it for us went away before answering.
                 * Its JobRemoved may have come first, or its end be
                 * collected already: then the outcome is known. */
                if (j->start_job_done || jr_state_is_final(j->state) || j->call)
                        return;
                log_warning("No answer to the start of %s: asking systemd whether it exists", j->unit);
                r = unit_get_all(j->manager->unit_bus, j->unit, UNIT_IFACE_UNIT, on_lost_start_probe, j, &j->call);
                if (r < 0)
                        on_lost_start_probe(j, strerror(-r), NULL);
                return;
        }

        /* Refused: by systemd (its message names, e.g., a property it does
         * not know), or by jobrunner-starter's policy. */
        job_not_started(j, "refused", message ?: strerror(-error));
}

static void job_report_pipe(jr_job *j, OutputStream stream, int fd) {
        jr_manager *m = j->manager;

        if (m->on_pipe)
                m->on_pipe(j->id, (jr_stream) stream, fd, m->pipe_userdata);
}

static void on_capture_eof(OutputCapture *c, OutputStream stream, void *userdata) {
        jr_job *j = userdata;

        j->output_eof |= OUTPUT_STREAM_BIT(stream);
        /* Before the pipe leaves the fd store: a restarted daemon must not
         * look for it.  A job usually ends before its pipes do; then one
         * save when both are read records it. */
        if (!jr_state_is_final(j->state) || output_capture_is_done(c))
                (void) job_store_save(j);
        job_report_pipe(j, stream, -EBADF);
}

void job_forget_pipes(jr_job *j) {
        for (OutputStream s = OUTPUT_STREAM_STDOUT; s <= OUTPUT_STREAM_STDERR; s++)
                job_report_pipe(j, s, -EBADF);
        job_input_end(j);
}

/* Both pipes reached EOF: the capture has nothing left to do. */
static void on_capture_done(OutputCapture *c, void *userdata) {
        jr_job *j = userdata;

        assert(j->capture == c);
        j->capture = output_capture_free(c);
        job_release_store(j);
}

static const OutputCaptureCallbacks capture_callbacks = {
        .on_eof = on_capture_eof,
        .on_done = on_capture_done,
};

static int job_open_store(jr_job *j, OutputStoreMode mode) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/" OUTPUT_FILE_NAME, j->dir) < 0)
                return -ENOMEM;
        return output_store_open(AT_FDCWD, path, mode, j->manager->event, &j->store);
}

void job_release_store(jr_job *j) {
        if (!j->store || j->capture || j->n_followers > 0 || !jr_state_is_final(j->state))
                return;
        j->stdout_bytes = output_store_get_end(j->store, OUTPUT_STREAM_STDOUT);
        j->stderr_bytes = output_store_get_end(j->store, OUTPUT_STREAM_STDERR);
        j->output_truncated = output_store_get_truncated(j->store);
        j->store = output_store_unref(j->store);
}

int job_get_store(jr_job *j, OutputStore **ret) {
        int r;

        if (!j->store) {
                /* Only a finished job's store is ever closed: nothing will
                 * be added to it. */
                r = job_open_store(j, OUTPUT_STORE_APPEND);
                if (r < 0)
                        return r;
                output_store_set_eof(j->store, OUTPUT_STREAM_STDOUT);
                output_store_set_eof(j->store, OUTPUT_STREAM_STDERR);
                output_store_set_finished(j->store);
        }
        *ret = j->store;
        return 0;
}

/* Reads the pipes into the job's store, counted in the manager's totals. */
static int job_new_capture(jr_job *j, int out_fd, int err_fd) {
        int r;

        r = output_capture_new(j->manager->event, out_fd, err_fd, j->store, j->manager->output_cap,
                               &capture_callbacks, j, &j->capture);
        if (r < 0)
                return r;
        output_capture_set_totals(j->capture, &j->manager->output_totals);
        return 0;
}

static int job_open_output(jr_job *j, int out_fd, int err_fd) {
        int r;

        r = job_open_store(j, OUTPUT_STORE_CREATE);
        if (r < 0)
                return r;
        return job_new_capture(j, out_fd, err_fd);
}

int job_start(jr_job *j, jr_error *e) {
        _cleanup_(job_io_done) JobIo io = {
                .out = { -EBADF, -EBADF }, .err = { -EBADF, -EBADF }, .in = { -EBADF, -EBADF },
        };
        int r;

        j->start_begin_us = now_usec(CLOCK_MONOTONIC);
        if (mkdir(j->dir, 0700) < 0)
                return jr_error_set(e, -errno, "cannot create %s: %m", j->dir);
        r = job_io_open(&j->spec, &io);
        if (r < 0)
                return jr_error_set(e, r, "cannot create the job's %s: %s",
                                    j->spec.terminal ? "terminal" : "pipes", strerror(-r));

        r = job_open_output(j, io.out[0], io.err[0]);
        if (r < 0)
                return jr_error_set(e, r, "cannot set up output capture in %s: %s", j->dir, strerror(-r));
        /* The capture owns the read ends from here on; whoever keeps them
         * across restarts gets them now, before the job can write. */
        job_report_pipe(j, OUTPUT_STREAM_STDOUT, TAKE_FD(io.out[0]));
        if (io.err[0] >= 0)
                job_report_pipe(j, OUTPUT_STREAM_STDERR, TAKE_FD(io.err[0]));
        else {
                /* A terminal has no stderr: empty, and complete. */
                j->output_eof |= OUTPUT_STREAM_BIT(OUTPUT_STREAM_STDERR);
                output_store_set_eof(j->store, OUTPUT_STREAM_STDERR);
        }
        if (io.in[1] >= 0) {
                if (j->spec.stdin_mode == JR_STDIN_PIPE && j->manager->on_pipe)
                        j->manager->on_pipe(j->id, JR_STREAM_STDIN, io.in[1], j->manager->pipe_userdata);
                /* Writes wait for the job, never the daemon. */
                if (fcntl(io.in[1], F_SETFL, O_NONBLOCK) < 0)
                        return jr_error_set(e, -errno, "cannot make the job's input non-blocking: %m");
                job_input_set(j, TAKE_FD(io.in[1]));
        }
        job_log_milestone(j, "pipes made, output file created, read ends stored");

        /* Written before systemd hears of the unit: a daemon that dies
         * right after the call must find the job when it comes back (to
         * the disk only once systemd has queued the start, see
         * job_store_save()). */
        j->state = JR_STATE_STARTING;
        (void) job_store_save(j);

        /* The manager's matches for JobRemoved and PropertiesChanged were
         * installed before any call, so even a short job cannot end
         * unseen, whoever makes the call. */
        r = unit_starter_start(j->manager->unit_starter, j->id, &j->spec, io.out[1], io.err[1], io.in[0],
                               on_start_reply, j, &j->start_call, e);
        if (r < 0)
                return r;
        job_log_milestone(j, "start of the unit asked for");

        /* Our ends close here; the only others are with whoever starts the
         * unit and, once it has, in systemd and the job. */
        return 0;
}

/* Reopens the output of a job loaded from disk and reads on from the pipes
 * the previous daemon kept, where it stopped: the job may still write, or
 * may have ended with output still in them.  A stream that was not at EOF
 * and has no pipe lost whatever the job wrote from then on: a gap of
 * unknown size. */
static int job_resume_output(jr_job *j) {
        int fds[] = { [OUTPUT_STREAM_STDOUT] = -EBADF, [OUTPUT_STREAM_STDERR] = -EBADF };
        int r;

        r = job_open_store(j, OUTPUT_STORE_APPEND);
        if (r == -ENOENT)
                r = job_open_store(j, OUTPUT_STORE_CREATE);
        if (r < 0)
                return r;
        if (jr_state_is_final(j->state))
                output_store_set_finished(j->store);

        for (OutputStream s = OUTPUT_STREAM_STDOUT; s <= OUTPUT_STREAM_STDERR; s++) {
                if (j->output_eof & OUTPUT_STREAM_BIT(s)) {
                        output_store_set_eof(j->store, s);
                        continue;
                }
                fds[s] = manager_take_pipe(j->manager, j->id, (jr_stream) s);
                if (fds[s] < 0) {
                        (void) output_store_append_gap(j->store, s, OUTPUT_GAP_DAEMON_DOWN, 0);
                        output_store_set_eof(j->store, s);
                        j->output_eof |= OUTPUT_STREAM_BIT(s);
                }
        }
        if (fds[OUTPUT_STREAM_STDOUT] < 0 && fds[OUTPUT_STREAM_STDERR] < 0)
                return 0;
        /* A running terminal job's input is its master, the stdout pipe
         * (the capture takes that one over). */
        if (j->spec.terminal && !jr_state_is_final(j->state) && fds[OUTPUT_STREAM_STDOUT] >= 0)
                job_input_set(j, fcntl(fds[OUTPUT_STREAM_STDOUT], F_DUPFD_CLOEXEC, 3));

        r = job_new_capture(j, fds[OUTPUT_STREAM_STDOUT], fds[OUTPUT_STREAM_STDERR]);
        if (r < 0) {
                safe_close(fds[OUTPUT_STREAM_STDOUT]);
                safe_close(fds[OUTPUT_STREAM_STDERR]);
        }
        return r;
}

int job_reattach(jr_job *j) {
        int r;

        if (jr_state_is_final(j->state)) {
                if ((j->output_eof & OUTPUT_STREAMS_ALL) == OUTPUT_STREAMS_ALL)
                        return 0;       /* its store opens when someone follows it */
                /* The previous daemon died before it had read all the
                 * output of a job that had ended. */
                r = job_resume_output(j);
                if (!j->capture)
                        (void) job_store_save(j);
                job_release_store(j);
                return r;
        }

        r = job_resume_output(j);
        if (r < 0)
                return r;
        /* A stdin pipe that is not kept was closed (an end of input). */
        if (j->spec.stdin_mode == JR_STDIN_PIPE) {
                int fd = manager_take_pipe(j->manager, j->id, JR_STREAM_STDIN);

                if (fd >= 0 && fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
                        fd = safe_close(fd);
                job_input_set(j, fd);
        }

        r = job_stop_resume(j);
        if (r < 0)
                log_warning_errno(r, "Cannot resume the stop of %s", j->unit);
        j->collect_step = COLLECT_UNIT;
        return job_collect_step(j, UNIT_IFACE_UNIT);
}

void job_remove_files(jr_job *j) {
        _cleanup_free_ char *path = NULL;
        static const char *const names[] = { OUTPUT_FILE_NAME, JOB_STORE_FILE, "." JOB_STORE_FILE ".tmp" };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                free(path);
                if (asprintf(&path, "%s/%s", j->dir, names[i]) < 0)
                        return;
                (void) unlink(path);
        }
        (void) rmdir(j->dir);
}

/* ---- public -------------------------------------------------------------- */

const char *jr_job_get_id(const jr_job *j) {
        return j->id;
}

const char *jr_job_get_owner(const jr_job *j) {
        return j->owner;
}

jr_state jr_job_get_state(const jr_job *j) {
        return j->state;
}

uint64_t jr_job_get_start_time_us(const jr_job *j) {
        return j->start_time_us;
}

int jr_job_get_status(jr_job *j, jr_status *ret) {
        if (j->state == JR_STATE_RUNNING)
                job_sample_usage(j);
        return jr_job_get_known_status(j, ret);
}

int jr_job_get_known_status(const jr_job *j, jr_status *ret) {
        *ret = (jr_status) {
                .owner = j->owner,
                .unit = j->unit,
                .spec = &j->spec,
                .state = j->state,
                .exit_code = j->exit_code,
                .signal = j->signal,
                .oom_killed = j->oom_killed,
                .stopped_by = j->stopped_by,
                .killed_after_grace = j->killed_after_grace,
                .failure_reason = j->failure_reason,
                .start_time_us = j->start_time_us,
                .end_time_us = j->end_time_us,
                .usage = j->usage,
                .stdout_bytes = j->store ? output_store_get_end(j->store, OUTPUT_STREAM_STDOUT) : j->stdout_bytes,
                .stderr_bytes = j->store ? output_store_get_end(j->store, OUTPUT_STREAM_STDERR) : j->stderr_bytes,
                .output_truncated = j->store ? output_store_get_truncated(j->store) : j->output_truncated,
                .followers = j->n_followers,
        };
        snprintf(ret->id, sizeof(ret->id), "%s", j->id);
        return 0;
}

int jr_job_add_watch(jr_job *j, jr_job_handler_t handler, void *userdata, jr_watch **ret) {
        jr_watch *w = calloc(1, sizeof(jr_watch));

        if (!w)
                return -ENOMEM;
        *w = (jr_watch) { .job = j, .handler = handler, .userdata = userdata, .next = j->watches };
        if (j->watches)
                j->watches->prev = w;
        j->watches = w;
        if (ret)
                *ret = w;
        return 0;
}

jr_watch *jr_watch_free(jr_watch *w) {
        jr_job *j;

        if (!w)
                return NULL;
        j = w->job;
        watch_unlink_and_free(w);
        /* An ended job left for its watchers may go now. */
        if (jr_state_is_final(j->state) && !j->watches)
                manager_schedule_sweep(j->manager);
        return NULL;
}
