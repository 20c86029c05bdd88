/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>
#include <syslog.h>

#include "macro.h"

/* Minimal logging for our programs: one line per message, to stderr by
 * default, with the syslog level as a "<N>" prefix when stderr is the journal
 * (systemd turns that prefix into the record's priority).
 *
 * Following systemd's convention, the *_errno() variants take an errno value
 * (either sign), append its description and return it negated, so that a
 * caller can "return log_error_errno(r, ...)" and log exactly once. */

void log_set_max_level(int level);
int log_get_max_level(void);

/* Where messages go; NULL restores stderr.  Tests point it at a memstream. */
void log_set_target(FILE *f);

/* Prefix every line with "<N>" for the journal's stream transport. */
void log_set_prefix_priority(int on);

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) _printf_(6, 7);

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_full(level, ...) log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...)   log_full_errno(LOG_DEBUG, (error), __VA_ARGS__)
#define log_info_errno(error, ...)    log_full_errno(LOG_INFO, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, (error), __VA_ARGS__)
#define log_error_errno(error, ...)   log_full_errno(LOG_ERR, (error), __VA_ARGS__)
