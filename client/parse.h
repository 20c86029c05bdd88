/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Strict parsers for command-line values.  Each returns 0, or a negative
 * errno with e set to a usage error (CLI_EXIT_USAGE) whose message quotes
 * the bad value and says what was expected. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define JOB_ID_LEN 32
#define JOB_ID_PREFIX_MIN 8

/* Limits the API documents (proto/jobrunner.proto), checked here too so that
 * a typo is caught before a round trip, with a message in our terms. */
#define CPU_QUOTA_PERCENT_MAX 100000u           /* 1000 CPUs */
#define WEIGHT_MIN 1u
#define WEIGHT_MAX 10000u
#define MEMORY_MIN (UINT64_C(1024) * 1024)      /* the server refuses less */
#define TASKS_MAX 4194304u                      /* the kernel's PID_MAX_LIMIT */
#define GRACE_MAX_MS 300000u                    /* 5 min */

/* What the API takes for "no limit at all" in tasks_max (the server's
 * JR_UNLIMITED, TasksMax=infinity); 0 there is systemd's default. */
#define TASKS_INFINITY UINT64_MAX

/* Memory sizes: "256M", "1.5G", "1048576", "infinity" (*ret = 0: no limit,
 * as the API spells it).  At least 1M. */
int parse_memory(const char *s, uint64_t *ret, CliError *e);

/* IO bandwidth in bytes per second: "10M" (base 1000, as systemd's
 * IOReadBandwidthMax=).  Positive. */
int parse_rate(const char *s, uint64_t *ret, CliError *e);

/* CPU quota in percent of one CPU: "50%", "150%".  1% .. 100000%. */
int parse_cpu_quota(const char *s, uint32_t *ret, CliError *e);

/* CPU or IO weight, 1..10000; what is "CPU weight" or "IO weight". */
int parse_weight(const char *what, const char *s, uint32_t *ret, CliError *e);

/* Tasks limit, 1..4194304, or "infinity" (TASKS_INFINITY). */
int parse_tasks(const char *s, uint64_t *ret, CliError *e);

/* Time spans: "10s", "500ms", "2min", "1h 30min", "1.5s", plain seconds
 * "30".  Units: us, ms, s, min (or m), h, d, with their long forms.  In
 * microseconds.  what names the value in messages ("grace period"). */
int parse_duration(const char *what, const char *s, uint64_t *ret_usec, CliError *e);

/* stop --grace: 1ms .. 5min, in milliseconds (0 would mean the server's
 * default, so it is refused rather than silently meaning 10 s). */
int parse_grace(const char *s, uint32_t *ret_ms, CliError *e);

/* --timeout: positive. */
int parse_timeout(const char *s, uint64_t *ret_usec, CliError *e);

/* A non-negative decimal integer (offsets, line counts); what names it. */
int parse_uint64(const char *what, const char *s, uint64_t *ret, CliError *e);

/* "--io-read-bps /dev/vda=10M": *ret_device points into s (up to the
 * last '='), *ret_device_len is its length.  option is the option's name,
 * for messages. */
int parse_io_limit(const char *option, const char *s, const char **ret_device, size_t *ret_device_len,
                   uint64_t *ret_rate, CliError *e);

/* "KEY=VALUE" with a non-empty KEY; the value may be empty and contain '='. */
int parse_env(const char *s, CliError *e);

/* "none" or "host": the NetworkMode enum value. */
int parse_network(const char *s, int *ret, CliError *e);

/* A job state: running, exited, oom-killed, ... (case-insensitive, '_' for
 * '-', the JOB_STATE_ prefix allowed).  The JobState enum value. */
int parse_job_state(const char *s, int *ret, CliError *e);

/* A job id argument: the whole id (32 hex characters) or a prefix of at
 * least 8; upper case is folded.  ret gets the lower-case text; *ret_whole
 * whether it is the whole id. */
int parse_job_id(const char *s, char ret[static JOB_ID_LEN + 1], bool *ret_whole, CliError *e);

/* The API runs argv[0] as an absolute path, with no PATH search: the PATH
 * on this machine is not the server's.  A bare name or relative path is a
 * usage error suggesting an absolute path (the local one if the name is
 * found in our $PATH, which may still differ on the server). */
int check_argv0(const char *argv0, CliError *e);

/* The job's working directory: an absolute path. */
int check_working_directory(const char *s, CliError *e);
