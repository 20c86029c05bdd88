/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CLI's parsers of what a user types (client/parse.c, id prefixes, the
 * job spec options) and its formatting of what a server sends back for a
 * terminal (client/format.c).
 *
 * The first byte chooses the parser; the rest is its NUL-separated
 * arguments.  Besides not crashing, every parser must keep its documented
 * range, fail only with a usage error that says something, and the values
 * the CLI prints must read back as what they print. */

#include <inttypes.h>
#include <string.h>

#include "config.h"
#include "format.h"
#include "fuzz.h"
#include "id-prefix.h"
#include "parse.h"
#include "spec-options.h"
#include "time-util.h"

#define ARGS_MAX 64

typedef struct Args {
        char *v[ARGS_MAX + 1];
        size_t n;
} Args;

static void args_done(Args *a) {
        for (size_t i = 0; i < a->n; i++)
                free(a->v[i]);
}

static void args_read(FuzzInput *in, Args *a) {
        while (in->size > 0 && a->n < ARGS_MAX) {
                char *s = fuzz_string(in, NULL);

                if (!s)
                        break;
                a->v[a->n++] = s;
        }
        a->v[a->n] = NULL;
}

/* The argument i, "" if there are fewer. */
static const char *arg(const Args *a, size_t i) {
        return i < a->n ? a->v[i] : "";
}

/* A failed parse is a usage error with a message; a successful one leaves e
 * alone. */
static void check_result(int r, const CliError *e, int exit_status) {
        if (r < 0) {
                FUZZ_CHECK(e->message && e->message[0], "error %d without a message", r);
                FUZZ_CHECK(e->exit_status == exit_status, "exit status %d, not %d", e->exit_status, exit_status);
        } else
                FUZZ_CHECK(!e->message, "a message although it succeeded: %s", e->message);
}

/* status and list print sizes and rates with format_exact(), which must
 * read back as the same value. */
static void check_exact(uint64_t v, uint64_t base) {
        char buf[FORMAT_EXACT_MAX];
        _cleanup_cli_error_ CliError e = {};
        uint64_t back = 0;
        int r;

        format_exact(v, base, buf);
        r = base == 1024 ? parse_memory(buf, &back, &e) : parse_rate(buf, &back, &e);
        FUZZ_CHECK(r == 0 && back == v, "%" PRIu64 " prints as \"%s\", which reads back as %" PRIu64, v, buf, back);
}

static void fuzz_value(uint8_t which, const Args *a) {
        _cleanup_cli_error_ CliError e = {};
        const char *s = arg(a, 0);
        uint64_t u = 0;
        uint32_t u32 = 0;
        int r, v = 0;

        switch (which % 14) {
        case 0:
                r = parse_memory(s, &u, &e);
                check_result(r, &e, CLI_EXIT_USAGE);
                if (r >= 0) {
                        FUZZ_CHECK(u == 0 || u >= MEMORY_MIN, "memory %" PRIu64, u);
                        if (u != 0)
                                check_exact(u, 1024);
                }
                break;
        case 1:
                r = parse_rate(s, &u, &e);
                check_result(r, &e, CLI_EXIT_USAGE);
                if (r >= 0) {
                        FUZZ_CHECK(u > 0, "rate 0");
                        check_exact(u, 1000);
                }
                break;
        case 2:
                r = parse_cpu_quota(s, &u32, &e);
                check_result(r, &e, CLI_EXIT_USAGE);
                FUZZ_CHECK(r < 0 || (u32 >= 1 && u32 <= CPU_QUOTA_PERCENT_MAX), "CPU quota %u", u32);
                break;
        case 3:
                r = parse_weight("weight", s, &u32, &e);
                check_result(r, &e, CLI_EXIT_USAGE);
                FUZZ_CHECK(r < 0 || (u32 >= WEIGHT_MIN && u32 <= WEIGHT_MAX), "weight %u", u32);
                break;
        case 4:
                r = parse_tasks(s, &u, &e);
                check_result(r, &e, CLI_EXIT_USAGE);
                FUZZ_CHECK(r < 0 || u == TASKS_INFINITY || (u >= 1 && u <= TASKS_MAX), "tasks %" PRIu64, u);
                break;
        case 5:
                r = parse_duration("duration", s, &u, &e);
                check_result(r, &e, CLI_EXIT_USAGE);
                break;
        case 6:
                r = parse_grace(s, &u32, &e);
                check_result(r, &e, CLI_EXIT_USAGE);
                FUZZ_CHECK(r < 0 || (u32 >= 1 && u32 <= GRACE_MAX_MS), "grace %u ms", u32);
                break;
        case 7:
                r = parse_timeout(s, &u, &e);
                check_result(r, &e, CLI_EXIT_USAGE);
                FUZZ_CHECK(r < 0 || (u >= USEC_PER_MSEC && u <= 366 * 86400 * USEC_PER_SEC), "timeout %" PRIu64, u);
                break;
        case 8:
                r = parse_uint64("offset", s, &u, &e);
                check_result(r, &e, CLI_EXIT_USAGE);
                break;
        case 9: {
                const char *device = NULL;
                size_t len = 0;

                r = parse_io_limit("--io-read-bps", s, &device, &len, &u, &e);
                check_result(r, &e, CLI_EXIT_USAGE);
                FUZZ_CHECK(r < 0 || (device == s && len > 0 && s[0] == '/' && s[len] == '=' && u > 0),
                           "device of %zu bytes, rate %" PRIu64, len, u);
                break;
        }
        case 10:
                r = parse_env(s, &e);
                check_result(r, &e, CLI_EXIT_USAGE);
                FUZZ_CHECK(r < 0 || (s[0] != '=' && strchr(s, '=')), "env entry \"%s\" accepted", s);
                break;
        case 11:
                r = parse_network(s, &v, &e);
                check_result(r, &e, CLI_EXIT_USAGE);
                if (r >= 0)
                        FUZZ_CHECK(network_name(v), "network mode %d has no name", v);
                break;
        case 12:
                r = parse_job_state(s, &v, &e);
                check_result(r, &e, CLI_EXIT_USAGE);
                if (r >= 0)
                        FUZZ_CHECK(job_state_name(v), "state %d has no name", v);
                break;
        case 13: {
                char id[JOB_ID_LEN + 1];
                bool whole = false;
                size_t n;

                r = parse_job_id(s, id, &whole, &e);
                check_result(r, &e, CLI_EXIT_USAGE);
                if (r < 0)
                        break;
                n = strlen(id);
                FUZZ_CHECK(n >= JOB_ID_PREFIX_MIN && n <= JOB_ID_LEN && whole == (n == JOB_ID_LEN),
                           "id \"%s\"", id);
                FUZZ_CHECK(strspn(id, "0123456789abcdef") == n, "id \"%s\" is not lowercase hex", id);
                break;
        }
        }
}

/* "host:port" with a port of 1..65535, and normalising it again changes
 * nothing. */
static void fuzz_server(const Args *a) {
        _cleanup_cli_error_ CliError e = {}, e2 = {};
        _cleanup_free_ char *s = NULL, *again = NULL;
        const char *colon;
        int r;

        r = normalize_server(arg(a, 0), &s, &e);
        check_result(r, &e, CLI_EXIT_USAGE);
        if (r < 0)
                return;
        colon = strrchr(s, ':');
        FUZZ_CHECK(colon && colon > s && colon[1], "\"%s\" has no port", s);
        r = normalize_server(s, &again, &e2);
        FUZZ_CHECK(r == 0 && strcmp(s, again) == 0, "\"%s\" normalises again to \"%s\"", s, again ?: "(error)");
}

/* The one job a prefix names, among the ids given. */
static void fuzz_id_prefix(const Args *a) {
        Jobrunner__V1__JobStatus jobs[ARGS_MAX], *list[ARGS_MAX];
        _cleanup_cli_error_ CliError e = {};
        const char *prefix = arg(a, 0), *found = NULL;
        size_t n = a->n > 0 ? a->n - 1 : 0, matches = 0;
        int r;

        for (size_t i = 0; i < n; i++) {
                jobrunner__v1__job_status__init(&jobs[i]);
                jobs[i].id = a->v[i + 1];
                jobs[i].state = (Jobrunner__V1__JobState) (i % 9);
                list[i] = &jobs[i];
                matches += strncmp(a->v[i + 1], prefix, strlen(prefix)) == 0;
        }
        r = id_prefix_match(prefix, list, n, &found, &e);
        if (matches == 1) {
                FUZZ_CHECK(r == 0 && strncmp(found, prefix, strlen(prefix)) == 0, "the only match not found");
                return;
        }
        FUZZ_CHECK(r < 0, "%zu matches, yet one was chosen", matches);
        check_result(r, &e, matches == 0 ? CLI_EXIT_NOT_FOUND : CLI_EXIT_USAGE);
}

/* start/run's options, then the job's argv: arguments alternate between an
 * option (its first byte chooses it) and its value, up to an empty one;
 * what follows is argv. */
static void fuzz_spec_options(const Args *a) {
        static const int options[] = {
                ARG_CPU, ARG_CPU_WEIGHT, ARG_MEMORY, ARG_IO_WEIGHT, ARG_IO_READ_BPS, ARG_IO_WRITE_BPS,
                ARG_TASKS, ARG_NETWORK, ARG_PID_NAMESPACE, ARG_NO_PID_NAMESPACE, ARG_PRIVATE_MOUNTS,
                ARG_NO_PRIVATE_MOUNTS, ARG_PRIVATE_TMP, ARG_NO_PRIVATE_TMP, ARG_CWD, ARG_USER, ARG_ENV,
        };
        _cleanup_cli_error_ CliError e = {};
        SpecArgs spec;
        size_t i = 0, size;
        int r = 0;
        uint8_t *packed;
        Jobrunner__V1__JobSpec *back;

        spec_args_init(&spec);
        for (; i + 1 < a->n && a->v[i][0]; i += 2) {
                r = spec_args_option(&spec, options[(uint8_t) a->v[i][0] % ELEMENTSOF(options)], a->v[i + 1], &e);
                if (r < 0)
                        break;
                FUZZ_CHECK(r == 1, "a spec option not recognised");
        }
        if (r >= 0) {
                size_t argc = i < a->n ? a->n - i - 1 : 0;

                r = spec_args_finish(&spec, argc > 0 ? (char **) a->v + i + 1 : NULL, argc, &e);
        }
        check_result(r, &e, CLI_EXIT_USAGE);
        if (r < 0) {
                spec_args_done(&spec);
                return;
        }

        /* What goes on the wire must come back as it was sent. */
        FUZZ_CHECK(spec.spec.n_argv > 0 && spec.spec.argv[0][0] == '/', "argv[0] not absolute");
        size = protobuf_c_message_get_packed_size(&spec.spec.base);
        packed = malloc(size ? size : 1);
        FUZZ_CHECK(packed, "out of memory");
        FUZZ_CHECK(protobuf_c_message_pack(&spec.spec.base, packed) == size, "packed size differs");
        back = jobrunner__v1__job_spec__unpack(NULL, size, packed);
        FUZZ_CHECK(back && back->n_argv == spec.spec.n_argv && back->n_env == spec.spec.n_env,
                   "the spec does not unpack as it was packed");
        jobrunner__v1__job_spec__free_unpacked(back, NULL);
        free(packed);
        spec_args_done(&spec);
}

/* Decodes UTF-8 as the terminal would; 0 if the bytes are not UTF-8. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *ret) {
        size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 :
                     (s[0] & 0xf8) == 0xf0 ? 4 : 0;
        uint32_t c;

        if (len == 0 || len > n)
                return 0;
        c = len == 1 ? s[0] : s[0] & (0x7f >> len);
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (s[i] & 0x3f);
        }
        *ret = c;
        return len;
}

/* What the CLI prints of a server's strings reaches the user's terminal:
 * one line, UTF-8, and no control character of any kind (C0, DEL, C1), so
 * that a job's argv cannot move the cursor or rewrite the screen. */
static void check_terminal_safe(const char *what, const char *s) {
        size_t n = strlen(s);

        for (size_t i = 0; i < n;) {
                uint32_t c = 0;
                size_t len = utf8_decode((const unsigned char *) s + i, n - i, &c);

                FUZZ_CHECK(len > 0, "%s: not UTF-8 at byte %zu of \"%s\"", what, i, s);
                FUZZ_CHECK(c >= 0x20 && c != 0x7f && !(c >= 0x80 && c <= 0x9f),
                           "%s: control character U+%04X at byte %zu of \"%s\"", what, (unsigned) c, i, s);
                i += len;
        }
}

static void fuzz_format(const Args *a) {
        _cleanup_free_ char *escaped = format_escaped(arg(a, 0)), *line = format_argv(a->v, a->n);

        FUZZ_CHECK(escaped && line, "out of memory");
        check_terminal_safe("format_escaped", escaped);
        check_terminal_safe("format_argv", line);
        (void) utf8_width(arg(a, 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        FuzzInput in = { data, size };
        uint8_t which = fuzz_byte(&in);
        Args a = {};

        args_read(&in, &a);
        switch (which % 5) {
        case 0:
                fuzz_value(which / 5, &a);
                break;
        case 1:
                fuzz_server(&a);
                break;
        case 2:
                fuzz_id_prefix(&a);
                break;
        case 3:
                fuzz_spec_options(&a);
                break;
        case 4:
                fuzz_format(&a);
                break;
        }
        args_done(&a);
        return 0;
}
