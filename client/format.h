/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Words and numbers for humans: state names, sizes, time spans,
 * timestamps, command lines, a job's result, and the exit status a job
 * maps to. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jobrunner.pb-c.h"

typedef Jobrunner__V1__JobStatus JobStatus;

/* "running", "oom-killed", "failed-to-start"; "unknown" outside the enum.
 * The same names parse_job_state() takes and --json prints. */
const char *job_state_name(int state);
/* job_state_name(), but "stopping" for a running job with a stop in
 * progress. */
const char *job_display_state(const JobStatus *j);
bool job_state_is_final(int state);

/* "stdout", "stderr"; "unknown". */
const char *stream_name(int stream);
/* "output-truncated", "daemon-down", "io-error"; "unknown". */
const char *gap_reason_name(int reason);
/* "none", "host", "default"; and "on", "off", "default". */
const char *network_name(int network);
const char *toggle_name(int toggle);

/* The exit status run and wait end with for a job in a final state: its
 * exit code; 128+N if signal N ended it (also when stopped or OOM-killed;
 * 137 for an OOM kill without a signal); 127 if it failed to start.  -1
 * if the state is not final. */
int job_exit_status(const JobStatus *j);

/* "3", "SIGKILL", "-": the EXIT column of the job list.  buf: at least
 * 32 bytes. */
const char *format_exit_column(const JobStatus *j, char *buf, size_t size);

/* One line: "exited with code 3", "killed by SIGKILL (signal 9)",
 * "stopped by bob, ended by SIGTERM", "failed to start: REASON",
 * "running", ...  malloc'd, NULL on OOM. */
char *format_job_result(const JobStatus *j);

#define FORMAT_BYTES_MAX 16
/* 1536 -> "1.5K", 0 -> "0B", in powers of 1024, for display. */
const char *format_bytes(uint64_t bytes, char buf[static FORMAT_BYTES_MAX]);
#define FORMAT_EXACT_MAX 24
/* The exact value with the largest suffix that divides it: 268435456 ->
 * "256M"; base 1024 for sizes, 1000 for rates, as the options take them. */
const char *format_exact(uint64_t value, uint64_t base, char buf[static FORMAT_EXACT_MAX]);

#define FORMAT_TIMESPAN_MAX 32
/* "500us", "12ms", "1.5s", "2min 3s", "1h 5min", "3d 2h". */
const char *format_timespan(uint64_t usec, char buf[static FORMAT_TIMESPAN_MAX]);

#define FORMAT_TIMESTAMP_MAX 64
/* Local time, "2024-05-01 12:00:03 UTC" (with_zone) or without the zone;
 * "-" for 0. */
const char *format_timestamp(int64_t usec, bool with_zone, char buf[static FORMAT_TIMESTAMP_MAX]);

/* A command line as a shell would need it typed: words with only safe
 * characters as they are, others in '...', and those with control
 * characters or bytes that are not UTF-8 in $'...' with escapes.  Always
 * one line.  malloc'd, NULL on OOM. */
char *format_argv(char *const *argv, size_t n);

/* s with control characters (C0, DEL, C1) and non-UTF-8 bytes escaped
 * (\n, \xNN), for strings from the server printed in human output.
 * malloc'd. */
char *format_escaped(const char *s);

/* Number of code points (an estimate of the display width). */
size_t utf8_width(const char *s);
