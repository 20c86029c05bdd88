/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "metrics-text.h"
#include "strv.h"

/* The longest value or bound: "-2.2250738585072014e-308" is 24 bytes, a u64
 * 20. */
#define NUMBER_MAX 32

/* A body is a few KiB: one allocation in most scrapes. */
#define BUFFER_MIN 4096u

struct MetricsText {
        char *buf;              /* NUL-terminated once allocated */
        size_t len, allocated;
        int error;              /* sticky: once negative, nothing more is written */

        /* The names of this body's families in declaration order, to catch
         * a second declaration.  A linear search: a body has tens of
         * families, not thousands. */
        char **families;
        size_t n_families;

        /* The family declared last, which samples belong to: the last of
         * families[], or NULL before the first declaration. */
        const char *family;
        MetricsType type;
};

int metrics_text_new(MetricsText **ret) {
        MetricsText *t;

        assert(ret);

        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        *ret = t;
        return 0;
}

static void metrics_text_reset(MetricsText *t) {
        free(t->buf);
        t->buf = NULL;
        t->len = t->allocated = 0;
        t->error = 0;
        t->families = strv_free(t->families);
        t->n_families = 0;
        t->family = NULL;
}

MetricsText *metrics_text_free(MetricsText *t) {
        if (!t)
                return NULL;
        metrics_text_reset(t);
        free(t);
        return NULL;
}

/* ---- the buffer --------------------------------------------------------------- */

/* Room for n more bytes and the NUL.  False, with the sticky error set, if
 * there is none to be had. */
static bool reserve(MetricsText *t, size_t n) {
        size_t want, a;
        char *p;

        if (t->error < 0)
                return false;
        if (n > SIZE_MAX - 1 - t->len) {
                t->error = -ENOMEM;
                return false;
        }
        want = t->len + n + 1;
        if (want <= t->allocated)
                return true;

        /* Doubling keeps a body of many samples at O(n) copies. */
        a = t->allocated < BUFFER_MIN ? BUFFER_MIN : t->allocated;
        while (a < want)
                a = a > SIZE_MAX / 2 ? want : a * 2;
        p = realloc(t->buf, a);
        if (!p) {
                t->error = -ENOMEM;
                return false;
        }
        t->buf = p;
        t->allocated = a;
        return true;
}

static void put(MetricsText *t, const char *p, size_t n) {
        if (!reserve(t, n))
                return;
        memcpy(t->buf + t->len, p, n);
        t->len += n;
        t->buf[t->len] = 0;
}

static void put_str(MetricsText *t, const char *s) {
        put(t, s, strlen(s));
}

/* s with the format's escapes: backslash and line feed always, the double
 * quote only inside a label value (HELP text keeps it as it is, and a
 * parser would read "\"" there as two characters). */
static void put_escaped(MetricsText *t, const char *s, bool label_value) {
        const char *special = label_value ? "\\\"\n" : "\\\n";

        for (;;) {
                size_t k = strcspn(s, special);

                /* Everything else, UTF-8 included, goes through unchanged,
                 * in runs rather than byte by byte. */
                put(t, s, k);
                s += k;
                if (!*s)
                        return;
                put(t, *s == '\n' ? "\\n" : *s == '"' ? "\\\"" : "\\\\", 2);
                s++;
        }
}

/* ---- numbers ------------------------------------------------------------------ */

/* The special values by name, anything else in as few significant digits
 * as read back as the very same double.  15 suffice for any double that
 * came from a decimal of at most 15 digits (0.1 stays "0.1"; %g drops the
 * trailing zeros), 17 for every double; only subnormals may keep digits
 * they could do without.  printf() and strtod() use the C locale's '.', as
 * the daemon never calls setlocale(). */
static void format_double(double v, char buf[static NUMBER_MAX]) {
        if (isnan(v)) {
                strcpy(buf, "NaN");
                return;
        }
        if (isinf(v)) {
                strcpy(buf, v > 0 ? "+Inf" : "-Inf");
                return;
        }
        for (int precision = 15; precision <= 17; precision++) {
                snprintf(buf, NUMBER_MAX, "%.*g", precision, v);
                if (strtod(buf, NULL) == v)
                        return;
        }
        /* Not reached: 17 significant digits identify every double. */
}

static void format_u64(uint64_t v, char buf[static NUMBER_MAX]) {
        snprintf(buf, NUMBER_MAX, "%" PRIu64, v);
}

/* ---- the names: checked in debug builds only ---------------------------------- */

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names, the same without ':' for
 * label names. */
_unused_ static bool name_ok(const char *s, bool colon) {
        if (!s || !*s || (*s >= '0' && *s <= '9'))
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      *s == '_' || (colon && *s == ':')))
                        return false;
        return true;
}

_unused_ static bool ends_with(const char *s, const char *suffix) {
        size_t n = strlen(s), k = strlen(suffix);

        return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Counters carry "_total" and nothing else does: what Prometheus' naming
 * conventions ask, and what promtool's lint warns about otherwise. */
_unused_ static bool family_name_ok(const char *name, MetricsType type) {
        return name_ok(name, true) && ends_with(name, "_total") == (type == METRICS_COUNTER);
}

_unused_ static bool suffix_ok(MetricsType type, const char *suffix) {
        if (type != METRICS_HISTOGRAM)
                return suffix[0] == 0;
        return strcmp(suffix, "_bucket") == 0 || strcmp(suffix, "_sum") == 0 || strcmp(suffix, "_count") == 0;
}

/* "__" starts the names Prometheus keeps for itself; "le" on a series
 * where the writer adds its own would make the label twice. */
_unused_ static bool labels_ok(const MetricsLabel *labels, size_t n_labels, bool adds_le) {
        if (n_labels > 0 && !labels)
                return false;
        for (size_t i = 0; i < n_labels; i++)
                if (!name_ok(labels[i].name, false) || strncmp(labels[i].name, "__", 2) == 0 ||
                    (adds_le && strcmp(labels[i].name, "le") == 0) || !labels[i].value)
                        return false;
        return true;
}

_unused_ static bool declared(const MetricsText *t, const char *name) {
        for (size_t i = 0; i < t->n_families; i++)
                if (strcmp(t->families[i], name) == 0)
                        return true;
        return false;
}

/* ---- the lines ---------------------------------------------------------------- */

static const char *type_word(MetricsType type) {
        switch (type) {
        case METRICS_COUNTER:
                return "counter";
        case METRICS_GAUGE:
                return "gauge";
        case METRICS_HISTOGRAM:
                return "histogram";
        }
        assert(!"unknown metrics type");
        return "untyped";
}

void metrics_text_family(MetricsText *t, const char *name, MetricsType type, const char *help) {
        char *copy;

        assert(t);
        assert(family_name_ok(name, type));
        assert(help);

        if (t->error < 0)
                return;
        /* The text format wants all lines of a family together; a second
         * declaration is a collector that lost track of what it wrote. */
        assert(!declared(t, name));

        put_str(t, "# HELP ");
        put_str(t, name);
        put_str(t, " ");
        put_escaped(t, help, false);
        put_str(t, "\n# TYPE ");
        put_str(t, name);
        put_str(t, " ");
        put_str(t, type_word(type));
        put_str(t, "\n");

        copy = strdup(name);
        if (!copy || strv_push_n(&t->families, &t->n_families, copy) < 0) {
                t->error = -ENOMEM;
                return;
        }
        t->family = t->families[t->n_families - 1];
        t->type = type;
}

/* name{labels...,le="..."} value: le is the bucket's bound, or NULL. */
static void put_sample(MetricsText *t, const char *suffix, const MetricsLabel *labels, size_t n_labels,
                       const char *le, const char *value) {
        put_str(t, t->family);
        put_str(t, suffix);
        if (n_labels > 0 || le) {
                put_str(t, "{");
                for (size_t i = 0; i < n_labels; i++) {
                        if (i > 0)
                                put_str(t, ",");
                        put_str(t, labels[i].name);
                        put_str(t, "=\"");
                        put_escaped(t, labels[i].value, true);
                        put_str(t, "\"");
                }
                if (le) {
                        put_str(t, n_labels > 0 ? ",le=\"" : "le=\"");
                        put_str(t, le);
                        put_str(t, "\"");
                }
                put_str(t, "}");
        }
        put_str(t, " ");
        put_str(t, value);
        put_str(t, "\n");
}

/* Checks shared by both kinds of sample; false once writing has failed,
 * when the family declared last may be missing.  The arguments are only
 * asserted on, hence unused under NDEBUG. */
static bool sample_begin(MetricsText *t, _unused_ const char *suffix, _unused_ const MetricsLabel *labels,
                         _unused_ size_t n_labels) {
        assert(t);

        if (t->error < 0)
                return false;
        assert(t->family);
        assert(suffix_ok(t->type, suffix));
        assert(labels_ok(labels, n_labels, false));
        return true;
}

void metrics_text_sample(MetricsText *t, const char *suffix, const MetricsLabel *labels, size_t n_labels,
                         double value) {
        char v[NUMBER_MAX];

        suffix = suffix ?: "";
        if (!sample_begin(t, suffix, labels, n_labels))
                return;
        format_double(value, v);
        put_sample(t, suffix, labels, n_labels, NULL, v);
}

void metrics_text_sample_u64(MetricsText *t, const char *suffix, const MetricsLabel *labels, size_t n_labels,
                             uint64_t value) {
        char v[NUMBER_MAX];

        suffix = suffix ?: "";
        if (!sample_begin(t, suffix, labels, n_labels))
                return;
        format_u64(value, v);
        put_sample(t, suffix, labels, n_labels, NULL, v);
}

void metrics_text_histogram(MetricsText *t, const MetricsLabel *labels, size_t n_labels, const double *bounds,
                            const uint64_t *counts, size_t n_bounds, double sum) {
        char le[NUMBER_MAX], v[NUMBER_MAX], s[NUMBER_MAX];
        uint64_t cumulative = 0;

        assert(t);
        assert(bounds || n_bounds == 0);
        assert(counts);

        if (t->error < 0)
                return;
        assert(t->family);
        assert(t->type == METRICS_HISTOGRAM);
        assert(labels_ok(labels, n_labels, true));

        /* Each bucket counts everything at or below its bound: the ones
         * below it as well as its own. */
        for (size_t i = 0; i < n_bounds; i++) {
                assert(isfinite(bounds[i]));
                assert(i == 0 || bounds[i - 1] < bounds[i]);

                cumulative += counts[i];
                format_double(bounds[i], le);
                format_u64(cumulative, v);
                put_sample(t, "_bucket", labels, n_labels, le, v);
        }
        cumulative += counts[n_bounds];
        format_u64(cumulative, v);
        put_sample(t, "_bucket", labels, n_labels, "+Inf", v);

        format_double(sum, s);
        put_sample(t, "_sum", labels, n_labels, NULL, s);
        /* The +Inf bucket holds every observation: that is the count. */
        put_sample(t, "_count", labels, n_labels, NULL, v);
}

int metrics_text_finish(MetricsText *t, char **ret_body, size_t *ret_len) {
        int r;

        assert(t);
        assert(ret_body);
        assert(ret_len);

        /* A body without families is still a string to serve. */
        if (!reserve(t, 0)) {
                r = t->error;
                metrics_text_reset(t);
                return r;
        }
        t->buf[t->len] = 0;

        *ret_len = t->len;
        *ret_body = TAKE_PTR(t->buf);
        metrics_text_reset(t);
        return 0;
}
