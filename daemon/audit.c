/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include "audit.h"
#include "log.h"
#include "macro.h"
#include "strv.h"

/* What of the client's strings goes into MESSAGE: enough to recognize it. */
#define MESSAGE_NAME_MAX 256u         /* the CN (at most 64) and the method */
#define MESSAGE_PEER_MAX 256u
#define MESSAGE_JOB_ID_MAX 64u          /* a valid id is 32 */
#define MESSAGE_STATUS_MAX 1024u

/* MESSAGE, MESSAGE_ID, PRIORITY and the nine JOBRUNNER_* fields. */
#define RECORD_FIELDS_MAX 12

#define ELLIPSIS "…"
#define ELLIPSIS_LEN (sizeof(ELLIPSIS) - 1)

/* ---- bounded, escaped rendering --------------------------------------------- */

/* An output buffer of at most max bytes that is only ever appended whole
 * pieces (one character, or one escape sequence), so that it can be cut at
 * any piece boundary.  Once a piece does not fit, the output is cut at the
 * last boundary that leaves room for "…", the marker appended, and every
 * later piece ignored. */
typedef struct Sink {
        char *buf;
        size_t len, allocated;
        size_t max;             /* bytes, without the NUL; >= ELLIPSIS_LEN */
        size_t cut;             /* the last boundary where the marker still fits */
        bool full;
        int error;
} Sink;

static bool sink_reserve(Sink *s, size_t n) {
        size_t want = s->len + n + 1, a;
        char *p;

        if (want <= s->allocated)
                return true;
        a = s->allocated < 256 ? 256 : s->allocated;
        while (a < want)
                a *= 2;
        if (a - 1 > s->max)
                a = s->max + 1;
        p = realloc(s->buf, a);
        if (!p) {
                s->error = -ENOMEM;
                return false;
        }
        s->buf = p;
        s->allocated = a;
        return true;
}

static void sink_put(Sink *s, const char *p, size_t n) {
        if (s->full || s->error < 0)
                return;
        if (n > s->max - s->len) {
                s->full = true;
                s->len = s->cut;
                p = ELLIPSIS;
                n = ELLIPSIS_LEN;
        } else if (s->len + n <= s->max - ELLIPSIS_LEN)
                s->cut = s->len + n;

        if (!sink_reserve(s, n))
                return;
        memcpy(s->buf + s->len, p, n);
        s->len += n;
        s->buf[s->len] = 0;
}

static void sink_puts(Sink *s, const char *p) {
        sink_put(s, p, strlen(p));
}

/* Returns the result, or NULL with s->error set. */
static char *sink_finish(Sink *s) {
        /* Nothing put at all still makes a string. */
        if (!s->buf && sink_reserve(s, 0))
                s->buf[0] = 0;
        if (s->error < 0) {
                free(s->buf);
                s->buf = NULL;
                return NULL;
        }
        return TAKE_PTR(s->buf);
}

typedef enum EscapeMode {
        ESCAPE_JSON,    /* inside a JSON string */
        ESCAPE_LINE,    /* inside one line of text: only control characters */
} EscapeMode;

/* A UTF-8 sequence is one piece: its lead byte and the continuation bytes
 * that follow, at most as many as the lead byte announces.  The NUL at the
 * end is no continuation byte, so this never reads past the string. */
static size_t utf8_piece(const char *p) {
        unsigned char c = (unsigned char) p[0];
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1, n = 1;

        while (n < need && ((unsigned char) p[n] & 0xC0) == 0x80)
                n++;
        return n;
}

static void sink_escape(Sink *s, const char *str, EscapeMode mode) {
        for (const char *p = str; *p && !s->full && s->error >= 0;) {
                unsigned char c = (unsigned char) *p;
                char esc[8];

                if (c < 0x20 || c == 0x7F) {
                        if (mode == ESCAPE_JSON)
                                snprintf(esc, sizeof esc, "\\u%04x", c);
                        else
                                snprintf(esc, sizeof esc, "\\x%02x", c);
                        sink_puts(s, esc);
                        p++;
                } else if (c == 0xC2 && (unsigned char) p[1] >= 0x80 && (unsigned char) p[1] <= 0x9F) {
                        /* C1 controls (U+0080..U+009F) move terminals'
                         * cursors as well as C0 ones do. */
                        snprintf(esc, sizeof esc, "\\u%04x", (unsigned char) p[1]);
                        sink_puts(s, esc);
                        p += 2;
                } else if (mode == ESCAPE_JSON && (c == '"' || c == '\\')) {
                        esc[0] = '\\';
                        esc[1] = (char) c;
                        sink_put(s, esc, 2);
                        p++;
                } else {
                        size_t n = utf8_piece(p);
                        sink_put(s, p, n);
                        p += n;
                }
        }
}

/* s as printable text on one line, at most max bytes; NULL if out of memory. */
static char *escape_line(const char *str, size_t max) {
        Sink s = { .max = max };

        sink_escape(&s, str, ESCAPE_LINE);
        return sink_finish(&s);
}

int audit_format_argv(char *const *argv, size_t max, char **ret) {
        Sink s = { .max = max };
        char *r;

        if (max < ELLIPSIS_LEN)
                return -EINVAL;

        sink_puts(&s, "[");
        for (size_t i = 0; argv && argv[i] && !s.full; i++) {
                if (i > 0)
                        sink_puts(&s, ", ");
                sink_puts(&s, "\"");
                sink_escape(&s, argv[i], ESCAPE_JSON);
                sink_puts(&s, "\"");
        }
        sink_puts(&s, "]");

        r = sink_finish(&s);
        if (!r)
                return s.error;
        *ret = r;
        return 0;
}

/* ---- the record ------------------------------------------------------------- */


static int audit_priority(JrCode code) {
        /* Denials are what an auditor looks for; other failures are as
         * notable, and no outcome of a client's call is the server's
         * warning or error (those are logged where they happen). */
        return code == JR_CODE_OK ? LOG_INFO : LOG_NOTICE;
}

static int build_message(const AuthzIdentity *who, const char *peer, const char *method, const char *job_id,
                         char *const *argv, const uint64_t *input_bytes, const char *code, const char *message,
                         char **ret) {
        _cleanup_free_ char *caller = NULL, *epeer = NULL, *emethod = NULL, *eid = NULL, *eargv = NULL,
                            *emessage = NULL;
        char input[64] = "";            /* " input 18446744073709551615 bytes" */
        int r;

        if (who) {
                _cleanup_free_ char *name = escape_line(who->name, MESSAGE_NAME_MAX);
                const char *role = authz_role_to_string(who->role);

                if (!name || asprintf(&caller, "%s (%s)", name, role ?: "unknown role") < 0)
                        return -ENOMEM;
        } else if (!(caller = strdup("unauthenticated client")))
                return -ENOMEM;
        if (peer && !(epeer = escape_line(peer, MESSAGE_PEER_MAX)))
                return -ENOMEM;
        if (!(emethod = escape_line(method ?: "?", MESSAGE_NAME_MAX)))
                return -ENOMEM;
        if (job_id && !(eid = escape_line(job_id, MESSAGE_JOB_ID_MAX)))
                return -ENOMEM;
        if (argv) {
                r = audit_format_argv(argv, AUDIT_ARGV_MESSAGE_MAX, &eargv);
                if (r < 0)
                        return r;
        }
        if (message && message[0] && !(emessage = escape_line(message, MESSAGE_STATUS_MAX)))
                return -ENOMEM;
        if (input_bytes)
                snprintf(input, sizeof(input), " input %" PRIu64 " bytes", *input_bytes);

        /* alice (operator) from ipv4:192.0.2.1:40000: Start job 0123…
         * argv ["/bin/echo", "hi"]: OK
         * alice (operator) from ipv4:192.0.2.1:40000: Attach job 0123…
         * input 42 bytes: CANCELLED: … */
        if (asprintf(ret, "%s%s%s: %s%s%s%s%s%s: %s%s%s",
                     caller, epeer ? " from " : "", epeer ?: "",
                     emethod,
                     eid ? " job " : "", eid ?: "",
                     eargv ? " argv " : "", eargv ?: "",
                     input,
                     code,
                     emessage ? ": " : "", emessage ?: "") < 0)
                return -ENOMEM;
        return 0;
}

int audit_build_record(const AuthzIdentity *who, const char *peer, const char *method, const char *job_id,
                       char *const *argv, const uint64_t *input_bytes, JrCode code, const char *message,
                       char ***ret) {
        _cleanup_(strv_freep) char **fields = NULL;
        _cleanup_free_ char *msg = NULL, *eid = NULL, *eargv = NULL;
        const char *code_name = jr_code_to_string(code);
        char code_buf[16];
        size_t n = 0;
        int r;

        if (!code_name) {
                snprintf(code_buf, sizeof code_buf, "%d", (int) code);
                code_name = code_buf;
        }

        r = build_message(who, peer, method, job_id, argv, input_bytes, code_name, message, &msg);
        if (r < 0)
                return r;
        /* The id comes from the request and may be anything when the call
         * failed for exactly that reason: keep it short and printable. */
        if (job_id && !(eid = escape_line(job_id, MESSAGE_JOB_ID_MAX)))
                return -ENOMEM;
        if (argv) {
                r = audit_format_argv(argv, AUDIT_ARGV_FIELD_MAX, &eargv);
                if (r < 0)
                        return r;
        }

        fields = calloc(RECORD_FIELDS_MAX + 1, sizeof *fields);
        if (!fields)
                return -ENOMEM;

#define ADD(...)                                                        \
        do {                                                            \
                if (asprintf(&fields[n], __VA_ARGS__) < 0) {            \
                        fields[n] = NULL;                               \
                        return -ENOMEM;                                 \
                }                                                       \
                n++;                                                    \
        } while (0)

        ADD("MESSAGE=%s", msg);
        ADD("MESSAGE_ID=%s", AUDIT_MESSAGE_ID);
        ADD("PRIORITY=%d", audit_priority(code));
        if (who) {
                ADD("JOBRUNNER_USER=%s", who->name);
                ADD("JOBRUNNER_ROLE=%s", authz_role_to_string(who->role) ?: "");
        }
        if (peer)
                ADD("JOBRUNNER_PEER=%s", peer);
        ADD("JOBRUNNER_METHOD=%s", method ?: "");
        if (eid)
                ADD("JOBRUNNER_JOB_ID=%s", eid);
        if (eargv)
                ADD("JOBRUNNER_ARGV=%s", eargv);
        if (input_bytes)
                ADD("JOBRUNNER_INPUT_BYTES=%" PRIu64, *input_bytes);
        ADD("JOBRUNNER_CODE=%s", code_name);
        if (message && message[0])
                ADD("JOBRUNNER_STATUS_MESSAGE=%s", message);
#undef ADD

        *ret = TAKE_PTR(fields);
        return 0;
}

void audit_log_call(const AuthzIdentity *who, const char *peer, const char *method, const char *job_id,
                    char *const *argv, const uint64_t *input_bytes, JrCode code, const char *message) {
        _cleanup_(strv_freep) char **fields = NULL;
        struct iovec iov[RECORD_FIELDS_MAX];
        size_t n = 0;
        int r;

        r = audit_build_record(who, peer, method, job_id, argv, input_bytes, code, message, &fields);
        if (r < 0) {
                log_error_errno(r, "Cannot build the audit record of a %s call", method ?: "?");
                return;
        }
        for (; n < ELEMENTSOF(iov) && fields[n]; n++)
                iov[n] = (struct iovec) { .iov_base = fields[n], .iov_len = strlen(fields[n]) };

        /* A record the journal does not take must not fail the call. */
        (void) sd_journal_sendv(iov, (int) n);
}
