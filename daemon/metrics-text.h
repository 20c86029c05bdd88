/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>


/* The Prometheus text exposition format, version 0.0.4: a writer that
 * collectors fill family by family, then hand over as one body.
 *
 * Each family is declared once, with its HELP and TYPE lines, and its
 * samples follow it.  Sample names are the family's name with a suffix ("",
 * or "_bucket", "_sum" and "_count" for histograms); counters are named with
 * their "_total" in the family name, as Prometheus' conventions ask.  Label
 * values are escaped (backslash, double quote, line feed); HELP text too
 * (backslash, line feed).  Names are the caller's constants and are checked
 * only in debug builds (assert): their characters, "_total" at the end of
 * every counter's name and of no other family's (promtool's lint asks for
 * both), no label names beginning with "__", and no "le" among the labels
 * given to metrics_text_histogram(), which adds its own.
 *
 * Errors are sticky: the write functions return nothing, and a failed
 * allocation makes metrics_text_finish() return -ENOMEM.  So a collector
 * writes its families straight through. */

typedef struct MetricsText MetricsText;

typedef enum MetricsType {
        METRICS_COUNTER,
        METRICS_GAUGE,
        METRICS_HISTOGRAM,
} MetricsType;

typedef struct MetricsLabel {
        const char *name;
        const char *value;              /* any UTF-8; escaped on output */
} MetricsLabel;

int metrics_text_new(MetricsText **ret);
MetricsText *metrics_text_free(MetricsText *t);
static inline void metrics_text_freep(MetricsText **p) {
        metrics_text_free(*p);
}

/* "# HELP name help" and "# TYPE name type".  A family declared twice in
 * one body is a caller's bug (assert). */
void metrics_text_family(MetricsText *t, const char *name, MetricsType type, const char *help);

/* One sample of the family declared last: name, the labels in the order
 * given (n_labels may be 0, labels then NULL), the value.  The suffix is ""
 * (or NULL) for counters and gauges, "_bucket", "_sum" or "_count" for
 * histograms.  Doubles are written as Prometheus' Go client does: "+Inf",
 * "-Inf", "NaN", else in the fewest significant digits that read back as
 * the very same double, in printf's %g notation ("0.1", "1e-06", "1e+20";
 * where Go's strconv picks the other notation, as "1.23456789e+08" for
 * 123456789, parsers read both alike).  Integers are written exactly, even
 * above 2^53. */
void metrics_text_sample(MetricsText *t, const char *suffix,
                         const MetricsLabel *labels, size_t n_labels, double value);
void metrics_text_sample_u64(MetricsText *t, const char *suffix,
                             const MetricsLabel *labels, size_t n_labels, uint64_t value);

/* A whole histogram series of the family declared last (its type must be
 * METRICS_HISTOGRAM): one "_bucket" line per upper bound in bounds[] (sorted
 * ascending, finite) with the label le added last, then le="+Inf", "_sum"
 * and "_count".  counts[] holds n_bounds + 1 per-bucket counts, NOT
 * cumulative (counts[n_bounds] is above the last bound); the writer makes
 * them cumulative. */
void metrics_text_histogram(MetricsText *t, const MetricsLabel *labels, size_t n_labels,
                            const double *bounds, const uint64_t *counts, size_t n_bounds, double sum);

/* The body: NUL-terminated text the caller owns (*ret_len without the NUL);
 * "" if nothing was written.  -ENOMEM if any write failed.  Either way the
 * writer is then empty again, ready for the next body, in which every
 * family is declared anew. */
int metrics_text_finish(MetricsText *t, char **ret_body, size_t *ret_len);
