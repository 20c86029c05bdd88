/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The library's internal view of managers and jobs. */

#include <systemd/sd-event.h>

#include "hashmap.h"
#include "jobrunner.h"
#include "output-capture.h"
#include "output-store.h"
#include "systemd-unit.h"
#include "unit-starter.h"

struct jr_watch {
        jr_job *job;
        jr_job_handler_t handler;
        void *userdata;
        jr_watch *next, *prev;
};

struct jr_job {
        jr_manager *manager;
        jr_job *newer, *older;          /* the manager's list, newest first */

        char id[JR_ID_STRING_MAX];
        char *unit;                     /* jobrunner-<id>.service */
        char *cgroup;                   /* its cgroup, below /sys/fs/cgroup */
        char *owner;
        char *dir;                      /* <state>/jobs/<id> */
        jr_spec spec;

        jr_state state;
        bool start_queued;              /* systemd accepted StartTransientUnit */
        bool start_job_done;            /* JobRemoved seen for the start job */
        char start_job_result[16];      /* its result: "done", "failed", "canceled", ... */
        bool stop_requested;
        bool stop_signalled;            /* systemd confirmed the SIGTERM (or StopUnit) */
        char *stopped_by;
        char *failure_reason;
        int exit_code;
        int signal;
        bool oom_killed;
        bool killed_after_grace;
        uint64_t start_time_us;
        uint64_t end_time_us;
        jr_usage usage;                 /* last sample; memory_peak is the maximum seen */

        UnitState unit_state;
        enum {
                COLLECT_NONE,
                COLLECT_UNIT,           /* GetAll(Unit) in flight */
                COLLECT_SERVICE,        /* then GetAll(Service) */
                COLLECT_STOPPING,       /* then, if it remained after its main process, until it stopped */
        } collect_step;
        UnitStartCall *start_call;      /* the unit's start, until queued or refused */
        UnitCall *call;                 /* a GetAll or StopUnit of the end */
        UnitCall *stop_call;            /* a signal or StopUnit of jr_job_stop() */
        uint64_t kill_at_us;            /* CLOCK_REALTIME end of the stop's grace; 0 = none */
        sd_event_source *grace_timer;

        /* Open while output may still arrive or someone follows it: a
         * daemon with thousands of past jobs must not hold their files. */
        OutputStore *store;
        OutputCapture *capture;
        unsigned n_followers;
        /* The output's size, kept for when the store is closed. */
        uint64_t stdout_bytes;
        uint64_t stderr_bytes;
        bool output_truncated;
        /* OUTPUT_STREAM_BIT()s of the streams read to EOF, kept in the
         * job's file: a restarted daemon reads the others on from the
         * pipes systemd kept, even for a job that has ended. */
        unsigned output_eof;

        /* The job's input: the write end of its stdin pipe, or a
         * duplicate of its terminal's master (the capture reads the
         * other); -EBADF when it has none, or no longer. */
        int input_fd;
        jr_input *input;                /* who holds it, if anyone */

        jr_watch *watches;
        bool durable;                   /* its file is on the disk: synced or loaded */
        uint64_t start_begin_us;        /* CLOCK_MONOTONIC at job_start(), for the debug timings */
};

struct jr_manager {
        sd_event *event;
        char *state_dir;
        char *init_path;
        char *slice;
        uint64_t output_cap;

        jr_pipe_handler_t on_pipe;
        void *pipe_userdata;
        jr_pipe *pipes;                 /* taken over at start-up, until re-attached */
        size_t n_pipes;

        Hashmap *jobs;                  /* id → jr_job */
        jr_job *newest;
        UnitBus *unit_bus;
        UnitStarter *unit_starter;

        uint64_t retention_usec;        /* UINT64_MAX = forever */
        uint64_t max_ended_jobs;        /* UINT64_MAX = no limit */
        sd_event_source *sweep_timer;

        /* jr_manager_get_stats()'s counters. */
        uint64_t jobs_started;
        uint64_t jobs_ended[_JR_END_RESULT_MAX];
        OutputCaptureTotals output_totals;
};

#define JR_SLICE_DEFAULT "jobrunner.slice"

/* job.c */
int job_new(jr_manager *m, const char *id, const char *owner, const jr_spec *spec, jr_job **ret);
jr_job *job_free(jr_job *j);
int job_start(jr_job *j, jr_error *e);
void job_on_job_removed(jr_job *j, const char *result);
void job_on_properties_changed(jr_job *j, UnitUpdate *update);
/* A job loaded from disk: reopen its output, and if it was running when the
 * daemon went away, watch its unit again and read its state from systemd. */
int job_reattach(jr_job *j);
/* Tells the manager's on_pipe that the job's pipes are gone (a start that
 * failed before systemd ran anything). */
void job_forget_pipes(jr_job *j);
/* The job's output store, reopened if it was closed (a finished job). */
int job_get_store(jr_job *j, OutputStore **ret);
/* Closes the store once nothing can be added and nobody follows. */
void job_release_store(jr_job *j);
/* Removes the job's directory (a job that never reached systemd). */
void job_remove_files(jr_job *j);
void job_notify(jr_job *j);

/* input.c */
/* The job's input, as job_start() or job_reattach() made it: fd is taken
 * over (-EBADF: none or closed). */
void job_input_set(jr_job *j, int fd);
/* The job's input can take nothing any more (the job ended): closed, its
 * holder woken, and a pipe gone from whoever keeps it. */
void job_input_end(jr_job *j);
/* The job is freed: its holder's writes fail from now on.  Nothing is
 * reported: a manager that goes away leaves the pipe where it is kept. */
void job_input_free(jr_job *j);

/* job-stop.c */
/* Re-arms the grace timer of a stop that was under way when the daemon
 * went away. */
int job_stop_resume(jr_job *j);
/* The job has ended or is freed: no timer, no call in flight. */
void job_stop_done(jr_job *j);
/* Whether SIGKILL was needed to end a job we stopped. */
bool job_stop_needed_sigkill(const jr_job *j);

/* manager.c */
/* Puts the job into the manager's map and list, as the newest. */
int manager_add_job(jr_manager *m, jr_job *j);
/* Takes the job out of the manager's map and list; the caller frees it. */
void manager_forget_job(jr_manager *m, jr_job *j);

/* retention.c */
/* Removes the ended jobs that are due now and schedules the next sweep. */
void manager_sweep(jr_manager *m);
/* A job has ended: a sweep soon enforces the count limit. */
void manager_schedule_sweep(jr_manager *m);

/* id.c */
/* The read end of a job's stream that the manager was given at start-up,
 * taken over by the caller; -ENOENT if there is none. */
int manager_take_pipe(jr_manager *m, const char *id, jr_stream stream);

int job_id_new(char ret[static JR_ID_STRING_MAX]);
bool job_id_is_valid(const char *id);
