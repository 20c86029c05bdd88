/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Checks of a Prometheus text exposition body for Criterion tests; each
 * fails the running test (cr_assert) with what it found. */

/* Runs "promtool check metrics" (Debian's package prometheus) on the body:
 * the format's parser and its lint.  A clean body leaves promtool silent, so
 * this fails on any output as well as on any exit status but 0: lint
 * problems (a counter without "_total", a missing HELP) count as failures. */
void metrics_promtool_check(const char *body, size_t len);

/* body has line as one whole line (without its "\n"). */
void metrics_expect_line(const char *body, const char *line);

/* body does not contain substring anywhere. */
void metrics_expect_no(const char *body, const char *substring);
