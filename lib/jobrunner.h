/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libjobrunner: runs jobs as transient systemd service units with cgroup
 * limits and isolation, captures their output into per-job files, and lets
 * any number of followers read it from any offset, then live.
 *
 * Threading: everything here runs on the thread of the sd-event loop the
 * manager is bound to; nothing is thread-safe.
 *
 * Errors: functions return a negative errno on failure and, where they take
 * a jr_error, fill it with a message meant for the end user.  Callers log it
 * once, at their boundary. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The public header names sd-bus and sd-event types only by pointer. */
typedef struct sd_bus sd_bus;
typedef struct sd_event sd_event;

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ------------------------------------------------------------ */

typedef struct jr_error {
        int error;              /* negative errno, 0 when unset */
        char message[512];      /* UTF-8, no trailing newline */
} jr_error;

/* Sets *e (if e is not NULL) and returns error, negative. */
int jr_error_set(jr_error *e, int error, const char *format, ...) __attribute__((format(printf, 3, 4)));

/* ---- job specification ------------------------------------------------- */

#define JR_ID_STRING_MAX 33             /* 32 lowercase hex digits + NUL */

/* Limits on the size of a spec: a job's argv and environment may be as
 * large as execve(2) takes them.  They reach the job through a memfd that
 * jobrunner-init reads (systemd never parses them: see init/command.h), and
 * jobrunner-init's execve() of the command is what limits them, as measured
 * in the test VM with bench/argv-limits (see README):
 *   - one string at most MAX_ARG_STRLEN, 32 pages, with its NUL;
 *   - all of argv and env, each string with its NUL and with the pointer
 *     to it (8 bytes), within a quarter of the stack limit: 2 MiB at the
 *     default RLIMIT_STACK of 8 MiB that systemd gives services.  The same
 *     2 MiB also holds the command's path once more (the kernel copies the
 *     file name) and the environment systemd gives the service (PATH,
 *     INVOCATION_ID, USER, HOME and a few more: about 270 bytes in the test
 *     VM, more with a locale or DefaultEnvironment=); JR_EXEC_RESERVE is
 *     left for them.  A host whose services get more than that fails a job
 *     at the limit with "cannot execute ...: Argument list too long".
 *   - no count of entries but the one this implies. */
#define JR_STRING_MAX 131071u           /* bytes in one argv/env entry or path, without the NUL */
#define JR_EXEC_POINTER_SIZE 8u         /* what each argv/env entry costs on the stack, besides its bytes */
#define JR_EXEC_RESERVE (16u * 1024u)
#define JR_EXEC_BYTES_MAX (2u * 1024u * 1024u - JR_EXEC_RESERVE) /* argv and env as execve() counts them */
/* Implied: an empty string costs its NUL and its pointer. */
#define JR_EXEC_ENTRIES_MAX (JR_EXEC_BYTES_MAX / (1u + JR_EXEC_POINTER_SIZE))
#define JR_IO_DEVICES_MAX 64

/* Limit ranges.  For every limit 0 means "not set": no quota, systemd's
 * default weight, no memory limit, systemd's default tasks limit. */
#define JR_CPU_QUOTA_PERCENT_MAX 100000u /* 1000 CPUs */
#define JR_WEIGHT_MIN 1u                 /* CPUWeight, IOWeight */
#define JR_WEIGHT_MAX 10000u
#define JR_MEMORY_MIN (1024u * 1024u)    /* below 1 MiB nothing can even exec */
#define JR_TASKS_MAX_MAX 4194304u        /* the kernel's PID_MAX_LIMIT */
#define JR_UNLIMITED UINT64_MAX          /* memory_max/tasks_max: explicitly unlimited */

typedef enum jr_toggle {
        JR_TOGGLE_DEFAULT = 0,          /* the documented default of the field */
        JR_TOGGLE_ON,
        JR_TOGGLE_OFF,
} jr_toggle;

typedef enum jr_network {
        JR_NETWORK_DEFAULT = 0,         /* = none */
        JR_NETWORK_NONE,                /* only a private loopback (PrivateNetwork=yes) */
        JR_NETWORK_HOST,                /* the host's network */
} jr_network;

typedef enum jr_stdin {
        JR_STDIN_DEFAULT = 0,           /* = null, or the terminal of a terminal job */
        JR_STDIN_NULL,                  /* /dev/null */
        JR_STDIN_PIPE,                  /* a pipe fed through jr_input */
} jr_stdin;

typedef struct jr_io_limit {
        char *device;                   /* a block device node, e.g. "/dev/vda" */
        uint64_t read_bps;              /* bytes/s, 0 = no read limit */
        uint64_t write_bps;             /* bytes/s, 0 = no write limit */
} jr_io_limit;

typedef struct jr_spec {
        char **argv;                    /* NULL-terminated; argv[0] an absolute path */
        char **env;                     /* NULL-terminated "KEY=VALUE" entries, may be NULL */
        char *working_directory;        /* absolute; NULL = "/" */
        char *user;                     /* NULL = a dynamic user (DynamicUser=yes) */

        uint32_t cpu_quota_percent;     /* % of one CPU: 150 = 1.5 CPUs; 0 = none */
        uint32_t cpu_weight;            /* 1..10000, 0 = default (100) */
        uint64_t memory_max;            /* bytes, >= 1 MiB; 0 or JR_UNLIMITED = none; swap is always off */
        uint32_t io_weight;             /* 1..10000, 0 = default (100) */
        jr_io_limit *io_limits;
        size_t n_io_limits;
        uint64_t tasks_max;             /* 1..JR_TASKS_MAX_MAX; 0 = default; JR_UNLIMITED = none */

        jr_network network;
        jr_toggle pid_namespace;        /* default on */
        jr_toggle private_mounts;       /* default on */
        jr_toggle private_tmp;          /* default on */

        jr_stdin stdin_mode;            /* must be JR_STDIN_DEFAULT with terminal */
        bool terminal;                  /* stdin, stdout, stderr on a pseudo-terminal */
} jr_spec;

/* Frees everything a spec owns (not the struct itself). */
void jr_spec_done(jr_spec *spec);

/* Deep copy into *to (overwritten, not freed first).  Returns 0, or -ENOMEM
 * and leaves *to untouched. */
int jr_spec_copy(const jr_spec *from, jr_spec *to);

/* For callers that receive counted strings (the gRPC layer), before turning
 * them into the C strings of a spec: rejects more than JR_STRING_MAX bytes
 * (-E2BIG), an embedded NUL and invalid UTF-8 as sd-bus defines it (no
 * overlong forms, surrogates or noncharacters) (-EINVAL).  what names the
 * field in the message, e.g. "argv[2]".  data may be NULL if len is 0. */
int jr_check_string(const char *data, size_t len, const char *what, jr_error *e);

typedef struct jr_validate_options {
        bool allow_named_user;          /* may spec->user be set? (admins only) */
} jr_validate_options;

/* Checks everything before anything is created; fills e with a precise
 * message naming the offending field.  Returns 0 or -EINVAL (-E2BIG for
 * size caps, -EPERM for a named user that is not allowed, -ENODEV for an IO
 * limit on something that is not a block device).  options may be NULL (no
 * named user).  Strings must be valid UTF-8 (see jr_check_string()); argv
 * entries and env values may contain control characters, paths may not;
 * duplicate env keys are refused, as systemd does; argv and env together
 * count as execve() counts them (see JR_EXEC_BYTES_MAX). */
int jr_spec_validate(const jr_spec *spec, const jr_validate_options *options, jr_error *e);

/* ---- job state --------------------------------------------------------- */

typedef enum jr_state {
        JR_STATE_STARTING = 1,          /* the start job is queued in systemd */
        JR_STATE_RUNNING,
        JR_STATE_EXITED,                /* exited by itself; exit_code, possibly non-zero */
        JR_STATE_KILLED,                /* died of a signal not sent by a stop */
        JR_STATE_OOM_KILLED,            /* the kernel's OOM killer, from the unit's result */
        JR_STATE_STOPPED,               /* stopped by a user */
        JR_STATE_FAILED_TO_START,       /* never ran: failure_reason says why */
} jr_state;

const char *jr_state_to_string(jr_state s);
bool jr_state_is_final(jr_state s);

typedef struct jr_usage {
        uint64_t cpu_usage_ns;
        uint64_t memory_current;        /* bytes */
        uint64_t memory_peak;           /* bytes, 0 = unknown */
        uint64_t io_read_bytes;
        uint64_t io_write_bytes;
        uint64_t tasks_current;
} jr_usage;

typedef struct jr_status {
        char id[JR_ID_STRING_MAX];
        const char *owner;              /* borrowed from the job */
        const char *unit;               /* "jobrunner-<id>.service", borrowed */
        const jr_spec *spec;            /* borrowed */
        jr_state state;
        int exit_code;                  /* JR_STATE_EXITED */
        int signal;                     /* JR_STATE_KILLED, and the signal that ended a stopped job */
        bool oom_killed;
        const char *stopped_by;         /* borrowed, NULL unless a stop was requested */
        bool killed_after_grace;        /* SIGKILL was needed after the grace period */
        const char *failure_reason;     /* borrowed, JR_STATE_FAILED_TO_START */
        uint64_t start_time_us;         /* CLOCK_REALTIME, 0 = not yet */
        uint64_t end_time_us;           /* CLOCK_REALTIME, 0 = not yet */
        jr_usage usage;
        uint64_t stdout_bytes;          /* bytes read from the job's stdout so far */
        uint64_t stderr_bytes;
        bool output_truncated;          /* the output cap was reached */
        unsigned followers;
} jr_status;

/* ---- the manager ------------------------------------------------------- */

typedef struct jr_manager jr_manager;
typedef struct jr_job jr_job;
typedef struct jr_watch jr_watch;
typedef struct jr_follower jr_follower;

#define JR_OUTPUT_CAP_DEFAULT (UINT64_C(1) << 30)      /* 1 GiB per job */
#define JR_GRACE_DEFAULT_USEC (UINT64_C(10) * 1000000)  /* 10 s */
#define JR_GRACE_MAX_USEC (UINT64_C(300) * 1000000)     /* 5 min */
#define JR_RETENTION_DEFAULT_USEC (UINT64_C(7) * 24 * 3600 * 1000000)  /* 7 days */
#define JR_MAX_ENDED_JOBS_DEFAULT UINT64_C(10000)

/* A job's output streams. */
typedef enum jr_stream {
        JR_STREAM_STDOUT = 1,           /* for a terminal job: all it writes to its terminal */
        JR_STREAM_STDERR = 2,           /* for a terminal job: always empty */
        JR_STREAM_STDIN = 3,            /* in jr_pipe only: the write end of a JR_STDIN_PIPE */
} jr_stream;

#define JR_STREAMS_ALL ((1u << JR_STREAM_STDOUT) | (1u << JR_STREAM_STDERR))

/* Output pipes across restarts.  A job writes into pipes whose read ends
 * the manager holds; if they closed with the manager, the job's next write
 * would fail (EPIPE, SIGPIPE).  So the manager reports each read end as it
 * creates it, for the caller to keep somewhere that outlives the process
 * (the daemon uses systemd's file descriptor store), and when it is done
 * with it; a new manager takes them back and goes on reading where the old
 * one stopped: nothing is lost.  The same holds for a job's input: the
 * write end of its stdin pipe (JR_STREAM_STDIN), which would otherwise give
 * the job a premature end of file, and the master of its terminal, which is
 * its stdout "pipe" (a terminal whose master closes hangs up). */
typedef struct jr_pipe {
        char job_id[JR_ID_STRING_MAX];
        jr_stream stream;
        int fd;
} jr_pipe;

/* fd >= 0: a new read end (borrowed: dup it or pass it on now); fd < 0: the
 * stream reached EOF, forget it. */
typedef void (*jr_pipe_handler_t)(const char *job_id, jr_stream stream, int fd, void *userdata);

/* Starting a job's unit.  By default the manager calls systemd's
 * StartTransientUnit over its own bus connection, which on systemd 252 lets
 * whoever may do it start any unit as any user.  A caller that must not
 * hold that grant (jobrunnerd, user jobrunner) hands each start to someone
 * who does and who checks it again (jobrunner-starter).
 *
 * start() asks for the unit jobrunner-<job_id>.service running spec
 * (validated already) with stdout_fd and stderr_fd, the write ends of the
 * job's pipes or, for a terminal job, both its terminal's slave, and
 * stdin_fd, the read end of its stdin pipe if it has one, else -1 (all
 * borrowed: dup them to keep them past the call).  It returns
 * 0 and calls done(cookie, ...) once, later, from the manager's event loop,
 * unless cancel(userdata, *ret_handle) comes first; or it returns a negative
 * errno and never calls done.  done's error is 0 when systemd queued the
 * start job, a negative errno with a message for the end user when it was
 * refused, or JR_UNIT_START_LOST when the answer was lost on the way: the
 * manager then asks systemd whether the unit exists.  cancel() keeps done
 * from running; the unit may still be started. */
#define JR_UNIT_START_LOST (-ECONNRESET)
typedef void (*jr_unit_start_done_t)(void *cookie, int error, const char *message);
typedef struct jr_unit_starter {
        int (*start)(void *userdata, const char *job_id, const jr_spec *spec, int stdout_fd, int stderr_fd,
                     int stdin_fd, jr_unit_start_done_t done, void *cookie, void **ret_handle);
        void (*cancel)(void *userdata, void *handle);
        void *userdata;
} jr_unit_starter;

typedef struct jr_manager_config {
        const char *state_dir;          /* required; jobs/<id>/ live below it */
        const char *init_path;          /* jobrunner-init; NULL = the installed one */
        const char *slice;              /* NULL = "jobrunner.slice" */
        uint64_t output_cap;            /* bytes per job, stdout+stderr; 0 = JR_OUTPUT_CAP_DEFAULT */
        const jr_unit_starter *unit_starter;    /* copied; NULL = StartTransientUnit directly */

        jr_pipe_handler_t on_pipe;      /* may be NULL */
        void *pipe_userdata;
        /* Read ends a previous manager reported; jr_manager_new() takes
         * them over (closes those of no running job), even on failure. */
        const jr_pipe *pipes;
        size_t n_pipes;

        /* Ended jobs are removed, with their output, this long after they
         * ended, and the oldest of them while there are more than
         * max_ended_jobs; one still followed or waited for stays until it
         * is not.  0 = the defaults; UINT64_MAX = no limit. */
        uint64_t retention_usec;        /* 0 = JR_RETENTION_DEFAULT_USEC */
        uint64_t max_ended_jobs;        /* 0 = JR_MAX_ENDED_JOBS_DEFAULT */
} jr_manager_config;

/* Binds a manager to an sd-event loop and a connection to the system bus
 * (both referenced).  Past jobs are loaded from the state directory and
 * still-running units re-attached. */
int jr_manager_new(sd_event *event, sd_bus *bus, const jr_manager_config *config,
                   jr_manager **ret, jr_error *e);
jr_manager *jr_manager_free(jr_manager *m);

/* Validates spec, creates the job's directory and pipes, and asks systemd to
 * start jobrunner-<id>.service.  Returns at once with the job STARTING; its
 * watches are called as it runs and ends.  owner is recorded as given. */
int jr_manager_start(jr_manager *m, const jr_spec *spec, const char *owner,
                     const jr_validate_options *options, jr_job **ret, jr_error *e);

/* NULL if there is no such job. */
jr_job *jr_manager_get_job(jr_manager *m, const char *id);

typedef struct jr_list_filter {
        unsigned states;                /* bit (1 << jr_state) per wanted state; 0 = all */
        const char *owner;              /* NULL = every owner */
} jr_list_filter;

/* The matching jobs, newest first, in a NULL-terminated array the caller
 * frees (the jobs stay the manager's).  Returns the count. */
int jr_manager_list(jr_manager *m, const jr_list_filter *filter, jr_job ***ret);

/* How jobs ended, for counting: a job's final state, with exits split by
 * their code. */
typedef enum jr_end_result {
        JR_END_EXITED_ZERO,
        JR_END_EXITED_NONZERO,
        JR_END_KILLED,                  /* a signal not sent by a stop */
        JR_END_OOM_KILLED,
        JR_END_STOPPED,
        JR_END_FAILED_TO_START,
        _JR_END_RESULT_MAX,
} jr_end_result;

/* "exited-zero", "exited-nonzero", "killed", "oom-killed", "stopped",
 * "failed-to-start", spelt as jr_state_to_string() spells the states; NULL
 * if out of range. */
const char *jr_end_result_to_string(jr_end_result r);

/* What a manager has done since it was created, and what it holds now: for
 * monitoring.  Counters start at 0 with every manager (a restarted daemon
 * starts them again, as Prometheus expects of counters); a job that ended
 * while no manager watched counts when the next one learns of it. */
typedef struct jr_manager_stats {
        uint64_t jobs_started;                  /* accepted by jr_manager_start() */
        uint64_t jobs_ended[_JR_END_RESULT_MAX];
        unsigned jobs_by_state[JR_STATE_FAILED_TO_START + 1];  /* now, indexed by jr_state */
        unsigned followers;                     /* open jr_follower's, all jobs */
        uint64_t output_stored_bytes;           /* read from jobs' pipes and stored */
        uint64_t output_dropped_cap_bytes;      /* read past a job's output cap */
        uint64_t output_dropped_io_bytes;       /* read, but the store could not write them */
} jr_manager_stats;

/* Fills *ret; no I/O, walks the jobs in memory once. */
void jr_manager_get_stats(const jr_manager *m, jr_manager_stats *ret);

/* ---- jobs -------------------------------------------------------------- */

const char *jr_job_get_id(const jr_job *j);
const char *jr_job_get_owner(const jr_job *j);
jr_state jr_job_get_state(const jr_job *j);
/* When Start accepted the job, as in jr_status; no I/O (unlike
 * jr_job_get_status(), which reads the cgroup of a running job). */
uint64_t jr_job_get_start_time_us(const jr_job *j);

/* A snapshot; usage is read from the job's cgroup while it runs. */
int jr_job_get_status(jr_job *j, jr_status *ret);
/* The same without reading the cgroup: usage as last sampled (nothing yet
 * for a job that has just started).  For answers about a state change,
 * where a read of the cgroup would only delay them. */
int jr_job_get_known_status(const jr_job *j, jr_status *ret);

/* Stops the job: SIGTERM to every process of the unit, SIGKILL to what is
 * left after grace_usec (0 = JR_GRACE_DEFAULT_USEC), timed by the library on
 * the manager's event loop and kept across a restart of the manager.  A job
 * still starting has its start cancelled.  -EALREADY if the job has ended; a
 * second stop while one is under way can only bring the SIGKILL forward. */
int jr_job_stop(jr_job *j, uint64_t grace_usec, const char *by, jr_error *e);

/* handler runs on every state change of the job; when the state is final it
 * is the last call for that change.  Free the watch to stop it. */
typedef void (*jr_job_handler_t)(jr_job *j, void *userdata);
int jr_job_add_watch(jr_job *j, jr_job_handler_t handler, void *userdata, jr_watch **ret);
jr_watch *jr_watch_free(jr_watch *w);

/* ---- output ------------------------------------------------------------ */

typedef enum jr_output_event_type {
        JR_OUTPUT_DATA = 1,             /* `length` bytes of `stream` at `offset` are in the buffer */
        JR_OUTPUT_GAP,                  /* `length` bytes of `stream` at `offset` are not available */
        JR_OUTPUT_END,                  /* the job has ended and every stream reached EOF */
} jr_output_event_type;

/* Gaps: the contiguous missing ranges of one stream with one reason that are
 * stored come as one GAP, from its first missing byte, also when the
 * follower's offset lies inside it (its offset is then below the follower's).
 * A job that goes on losing output (past its cap, on a full disk) adds to
 * the range live: a follower then gets further GAPs, each starting where the
 * last ended, for the caller to join. */

typedef enum jr_gap_reason {
        JR_GAP_TRUNCATED = 1,           /* past the job's output cap */
        JR_GAP_DAEMON_DOWN,             /* written while nobody was reading; length 0 = unknown */
        JR_GAP_IO_ERROR,                /* read, but the daemon could not store it */
} jr_gap_reason;

typedef struct jr_output_event {
        jr_output_event_type type;
        jr_stream stream;
        uint64_t offset;
        uint64_t length;
        jr_gap_reason gap_reason;
} jr_output_event;

/* Called once soon after the follower is created, then (once, edge-
 * triggered) whenever jr_follower_next() returned 0 and there is something
 * new; never from inside jr_follower_next().  A wake may find nothing new. */
typedef void (*jr_follower_wake_t)(jr_follower *f, void *userdata);

/* Reads a job's output from the given per-stream offsets, then live; wake
 * may be NULL for a caller that polls jr_follower_next() on its own.
 * streams: a mask of (1 << jr_stream).  -ERANGE if an offset is past the
 * end of its stream. */
int jr_follower_new(jr_job *j, uint64_t stdout_offset, uint64_t stderr_offset, unsigned streams,
                    jr_follower_wake_t wake, void *userdata, jr_follower **ret, jr_error *e);

/* 1: *ev filled (DATA bytes in buf); 0: nothing now, wake comes later;
 * negative errno on error.  After END it keeps returning END. */
int jr_follower_next(jr_follower *f, jr_output_event *ev, void *buf, size_t size);
jr_follower *jr_follower_free(jr_follower *f);

/* ---- input ------------------------------------------------------------- */

typedef struct jr_input jr_input;

/* Called (edge-triggered, never from inside a jr_input_*() call) when the
 * job can take more after jr_input_write() returned 0, and when its input
 * closed (the job ended, or closed its end of the pipe). */
typedef void (*jr_input_wake_t)(jr_input *in, void *userdata);

/* Takes the job's input, which one jr_input at a time may hold: -EBUSY if
 * another does, -ENOTCONN if the job was started without one (neither
 * JR_STDIN_PIPE nor a terminal).  A job whose input has closed already
 * gives a jr_input that is closed from the start. */
int jr_input_new(jr_job *j, jr_input_wake_t wake, void *userdata, jr_input **ret, jr_error *e);

/* Writes as much of buf as the job takes now, without blocking: the count
 * (> 0 for size > 0), 0 when it takes nothing now (wake follows), or -EPIPE
 * once the input is closed. */
ssize_t jr_input_write(jr_input *in, const void *buf, size_t size);

/* Ends a pipe's input: the job reads end of file after what was written.
 * -ENOTTY for a terminal, which has no end of input. */
int jr_input_close(jr_input *in);
bool jr_input_is_closed(const jr_input *in);

/* Sets a terminal job's size (the job gets SIGWINCH): -ENOTTY without a
 * terminal, -EINVAL for 0 rows or columns or more than 65535. */
int jr_input_resize(jr_input *in, unsigned rows, unsigned columns);

/* Bytes this jr_input wrote into the job's input. */
uint64_t jr_input_get_bytes(const jr_input *in);

/* Lets go of the input; the job's input stays open for the next holder. */
jr_input *jr_input_free(jr_input *in);

#ifdef __cplusplus
}
#endif
