/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "json.h"
#include "macro.h"

static const char *const state_names[] = {
        [JOBRUNNER__V1__JOB_STATE__JOB_STATE_STARTING]        = "starting",
        [JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING]         = "running",
        [JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED]          = "exited",
        [JOBRUNNER__V1__JOB_STATE__JOB_STATE_KILLED]          = "killed",
        [JOBRUNNER__V1__JOB_STATE__JOB_STATE_OOM_KILLED]      = "oom-killed",
        [JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED]         = "stopped",
        [JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START] = "failed-to-start",
};

const char *job_state_name(int state) {
        if (state < 0 || (size_t) state >= ELEMENTSOF(state_names) || !state_names[state])
                return "unknown";
        return state_names[state];
}

const char *job_display_state(const JobStatus *j) {
        if (j->state == JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING && j->stopped_by && j->stopped_by[0])
                return "stopping";
        return job_state_name(j->state);
}

bool job_state_is_final(int state) {
        return state >= JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED &&
               state <= JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START;
}

const char *stream_name(int stream) {
        switch (stream) {
        case JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT:
                return "stdout";
        case JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR:
                return "stderr";
        default:
                return "unknown";
        }
}

const char *gap_reason_name(int reason) {
        switch (reason) {
        case JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_OUTPUT_TRUNCATED:
                return "output-truncated";
        case JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_DAEMON_DOWN:
                return "daemon-down";
        case JOBRUNNER__V1__LOG_GAP_REASON__LOG_GAP_REASON_IO_ERROR:
                return "io-error";
        default:
                return "unknown";
        }
}

const char *network_name(int network) {
        switch (network) {
        case JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_NONE:
                return "none";
        case JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_HOST:
                return "host";
        default:
                return "default";
        }
}

const char *toggle_name(int toggle) {
        switch (toggle) {
        case JOBRUNNER__V1__TOGGLE__TOGGLE_ON:
                return "on";
        case JOBRUNNER__V1__TOGGLE__TOGGLE_OFF:
                return "off";
        default:
                return "default";
        }
}

int job_exit_status(const JobStatus *j) {
        switch (j->state) {
        case JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED:
                return j->exit_code & 0xff;
        case JOBRUNNER__V1__JOB_STATE__JOB_STATE_KILLED:
        case JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED:
                if (j->signal > 0)
                        return 128 + (j->signal & 0x7f);
                return j->exit_code & 0xff;
        case JOBRUNNER__V1__JOB_STATE__JOB_STATE_OOM_KILLED:
                /* The kernel's OOM killer sends SIGKILL. */
                return 128 + (j->signal > 0 ? (j->signal & 0x7f) : 9);
        case JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START:
                return 127;
        default:
                return -1;
        }
}

static const char *signal_text(const JobStatus *j, char *buf, size_t size) {
        if (j->signal_name && j->signal_name[0])
                return j->signal_name;
        snprintf(buf, size, "signal %" PRIi32, j->signal);
        return buf;
}

const char *format_exit_column(const JobStatus *j, char *buf, size_t size) {
        if (!job_state_is_final(j->state) || j->state == JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START)
                return "-";
        if (j->signal > 0)
                return signal_text(j, buf, size);
        if (j->state == JOBRUNNER__V1__JOB_STATE__JOB_STATE_OOM_KILLED)
                return "SIGKILL";
        snprintf(buf, size, "%" PRIi32, j->exit_code);
        return buf;
}

char *format_job_result(const JobStatus *j) {
        _cleanup_free_ char *reason = NULL, *by = NULL;
        const char *stopper = j->stopped_by && j->stopped_by[0] ? j->stopped_by : NULL;
        char sig[32];
        char *s = NULL;
        int r;

        if (stopper) {
                by = format_escaped(stopper);
                if (!by)
                        return NULL;
        }

        switch (j->state) {
        case JOBRUNNER__V1__JOB_STATE__JOB_STATE_STARTING:
                return strdup("starting");
        case JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING:
                if (by)
                        r = asprintf(&s, "running, being stopped by %s", by);
                else
                        return strdup("running");
                break;
        case JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED:
                r = asprintf(&s, "exited with code %" PRIi32, j->exit_code);
                break;
        case JOBRUNNER__V1__JOB_STATE__JOB_STATE_KILLED:
                r = asprintf(&s, "killed by %s", signal_text(j, sig, sizeof(sig)));
                break;
        case JOBRUNNER__V1__JOB_STATE__JOB_STATE_OOM_KILLED:
                return strdup("killed by the OOM killer");
        case JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED:
                if (j->signal > 0 && j->killed_after_grace)
                        r = asprintf(&s, "stopped by %s: killed by %s after the grace period", by ?: "someone",
                                     signal_text(j, sig, sizeof(sig)));
                else if (j->signal > 0)
                        r = asprintf(&s, "stopped by %s: ended by %s", by ?: "someone",
                                     signal_text(j, sig, sizeof(sig)));
                else
                        r = asprintf(&s, "stopped by %s: exited with code %" PRIi32, by ?: "someone",
                                     j->exit_code);
                break;
        case JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START:
                if (!j->failure_reason || !j->failure_reason[0])
                        return strdup("failed to start");
                reason = format_escaped(j->failure_reason);
                if (!reason)
                        return NULL;
                r = asprintf(&s, "failed to start: %s", reason);
                break;
        default:
                r = asprintf(&s, "unknown state %d", (int) j->state);
        }
        return r < 0 ? NULL : s;
}

const char *format_bytes(uint64_t bytes, char buf[static FORMAT_BYTES_MAX]) {
        static const char suffixes[] = "KMGTPE";
        uint64_t unit = 1024;
        size_t i = 0;

        if (bytes < 1024) {
                snprintf(buf, FORMAT_BYTES_MAX, "%" PRIu64 "B", bytes);
                return buf;
        }
        while (i + 1 < sizeof(suffixes) - 1 && bytes / unit >= 1024) {
                unit *= 1024;
                i++;
        }
        /* One decimal, rounded down so that 1023.99K never shows as
         * 1024.0K; ".0" is dropped. */
        {
                uint64_t whole = bytes / unit, tenth = (bytes % unit) * 10 / unit;

                if (tenth == 0)
                        snprintf(buf, FORMAT_BYTES_MAX, "%" PRIu64 "%c", whole, suffixes[i]);
                else
                        snprintf(buf, FORMAT_BYTES_MAX, "%" PRIu64 ".%" PRIu64 "%c", whole, tenth, suffixes[i]);
        }
        return buf;
}

const char *format_exact(uint64_t value, uint64_t base, char buf[static FORMAT_EXACT_MAX]) {
        static const char suffixes[] = "KMGT";
        int i = -1;

        while (i + 1 < (int) sizeof(suffixes) - 1 && value != 0 && value % base == 0) {
                value /= base;
                i++;
        }
        if (i < 0)
                snprintf(buf, FORMAT_EXACT_MAX, "%" PRIu64, value);
        else
                snprintf(buf, FORMAT_EXACT_MAX, "%" PRIu64 "%c", value, suffixes[i]);
        return buf;
}

/* value / divisor with up to three decimals, trailing zeros dropped. */
static void format_decimal(char *buf, size_t size, uint64_t value, uint64_t divisor, const char *unit) {
        uint64_t whole = value / divisor, frac = (value % divisor) * 1000 / divisor;
        int decimals = 3;

        while (decimals > 0 && frac % 10 == 0) {
                frac /= 10;
                decimals--;
        }
        if (decimals == 0)
                snprintf(buf, size, "%" PRIu64 "%s", whole, unit);
        else
                snprintf(buf, size, "%" PRIu64 ".%0*" PRIu64 "%s", whole, decimals, frac, unit);
}

const char *format_timespan(uint64_t usec, char buf[static FORMAT_TIMESPAN_MAX]) {
        const uint64_t ms = 1000, s = 1000 * ms, min = 60 * s, h = 60 * min, d = 24 * h;

        if (usec < ms)
                snprintf(buf, FORMAT_TIMESPAN_MAX, "%" PRIu64 "us", usec);
        else if (usec < s)
                format_decimal(buf, FORMAT_TIMESPAN_MAX, usec, ms, "ms");
        else if (usec < min)
                format_decimal(buf, FORMAT_TIMESPAN_MAX, usec, s, "s");
        else if (usec < h) {
                if (usec % min / s == 0)
                        snprintf(buf, FORMAT_TIMESPAN_MAX, "%" PRIu64 "min", usec / min);
                else
                        snprintf(buf, FORMAT_TIMESPAN_MAX, "%" PRIu64 "min %" PRIu64 "s", usec / min,
                                 usec % min / s);
        } else if (usec < d) {
                if (usec % h / min == 0)
                        snprintf(buf, FORMAT_TIMESPAN_MAX, "%" PRIu64 "h", usec / h);
                else
                        snprintf(buf, FORMAT_TIMESPAN_MAX, "%" PRIu64 "h %" PRIu64 "min", usec / h,
                                 usec % h / min);
        } else {
                if (usec % d / h == 0)
                        snprintf(buf, FORMAT_TIMESPAN_MAX, "%" PRIu64 "d", usec / d);
                else
                        snprintf(buf, FORMAT_TIMESPAN_MAX, "%" PRIu64 "d %" PRIu64 "h", usec / d, usec % d / h);
        }
        return buf;
}

const char *format_timestamp(int64_t usec, bool with_zone, char buf[static FORMAT_TIMESTAMP_MAX]) {
        time_t t;
        struct tm tm;

        if (usec <= 0)
                return "-";
        t = (time_t) (usec / 1000000);
        if (!localtime_r(&t, &tm) ||
            strftime(buf, FORMAT_TIMESTAMP_MAX, with_zone ? "%Y-%m-%d %H:%M:%S %Z" : "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, FORMAT_TIMESTAMP_MAX, "@%" PRIi64, usec / 1000000);
        return buf;
}

static bool is_safe_char(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               strchr("_@%+=:,./-", c);
}

/* C0, DEL and C1: what a terminal may act on rather than show (U+009B is
 * CSI, like ESC [). */
static bool is_control(uint32_t cp) {
        return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
}

/* Control characters or bytes that are not UTF-8: only $'...' shows them. */
static bool needs_c_quoting(const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        size_t len = strlen(s);

        for (size_t i = 0; i < len;) {
                uint32_t cp;
                size_t n = utf8_sequence(p + i, len - i, &cp);

                if (n == 0 || is_control(cp))
                        return true;
                i += n;
        }
        return false;
}

static void quote_word(FILE *f, const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        bool safe = *s != '\0';

        for (const unsigned char *q = p; *q; q++)
                if (!is_safe_char(*q))
                        safe = false;
        if (safe) {
                fputs(s, f);
                return;
        }

        if (needs_c_quoting(s)) {
                size_t len = strlen(s);

                fputs("$'", f);
                for (size_t i = 0; i < len;) {
                        uint32_t cp;
                        size_t n = utf8_sequence(p + i, len - i, &cp);

                        if (n == 0 || is_control(cp)) {
                                if (p[i] == '\n')
                                        fputs("\\n", f);
                                else if (p[i] == '\t')
                                        fputs("\\t", f);
                                else if (p[i] == '\r')
                                        fputs("\\r", f);
                                else
                                        fprintf(f, "\\x%02x", p[i]);
                                i++;
                                continue;
                        }
                        if (cp == '\\' || cp == '\'')
                                fputc('\\', f);
                        fwrite(p + i, 1, n, f);
                        i += n;
                }
                fputc('\'', f);
                return;
        }

        fputc('\'', f);
        for (; *p; p++)
                if (*p == '\'')
                        fputs("'\\''", f);
                else
                        fputc(*p, f);
        fputc('\'', f);
}

char *format_argv(char *const *argv, size_t n) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        fputc(' ', f);
                quote_word(f, argv[i] ?: "");
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

char *format_escaped(const char *s) {
        const unsigned char *p = (const unsigned char *) (s ?: "");
        size_t len = strlen((const char *) p), size = 0;
        char *buf = NULL;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        for (size_t i = 0; i < len;) {
                uint32_t cp;
                size_t n = utf8_sequence(p + i, len - i, &cp);

                if (n == 0 || is_control(cp)) {
                        if (p[i] == '\n')
                                fputs("\\n", f);
                        else if (p[i] == '\t')
                                fputs("\\t", f);
                        else
                                fprintf(f, "\\x%02x", p[i]);
                        i++;
                        continue;
                }
                fwrite(p + i, 1, n, f);
                i += n;
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

size_t utf8_width(const char *s) {
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if ((*p & 0xc0) != 0x80)
                        n++;
        return n;
}
