/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* jr-test-client: one API call from the shell, for the VM tests and the
 * benchmark.  The last line on stderr is always "status: CODE_NAME: details"
 * and the exit status is the gRPC status code (0 for OK); a failure of the
 * client itself (usage, unreadable files) exits with EXIT_LOCAL instead. */

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io-util.h"
#include "macro.h"
#include "test-client.h"

#define EXIT_LOCAL 100
#define DEFAULT_OVERSIZED_BYTES (8u * 1024 * 1024)

static const char *arg_target = "localhost:50051";
static const char *arg_cert = NULL;
static const char *arg_key = NULL;
static const char *arg_ca = NULL;
static const char *arg_server_name = NULL;
static bool arg_no_cert = false;
static bool arg_tls13 = false;
static int64_t arg_deadline_ms = TC_DEFAULT_DEADLINE_MS;

/* Whether the last byte written to stderr ended a line, so that the status
 * line starts on a line of its own after raw job output. */
static bool stderr_at_line_start = true;

static void help(void) {
        printf("Usage: jr-test-client [OPTIONS] COMMAND [ARGS...]\n"
               "\n"
               "Makes one jobrunner API call over mutual TLS.  The last line on stderr is\n"
               "\"status: CODE_NAME: details\"; the exit status is the gRPC status code\n"
               "(0 = OK), or %d if the client itself failed (usage, unreadable files).\n"
               "\n"
               "Options:\n"
               "  --target HOST:PORT   server address (default: localhost:50051)\n"
               "  --cert FILE          client certificate (PEM)\n"
               "  --key FILE           client private key (PEM)\n"
               "  --ca FILE            CA certificate to verify the server with (PEM)\n"
               "  --no-cert            present no client certificate (--cert/--key\n"
               "                       are then not needed and ignored)\n"
               "  --deadline-ms N      deadline of the call (default: 30000)\n"
               "  --server-name NAME   verify the server certificate against NAME\n"
               "                       instead of HOST\n"
               "  --tls13              restrict OpenSSL to TLS 1.3 (the default outcome\n"
               "                       anyway with a TLS 1.3 server)\n"
               "  -h, --help           show this help\n"
               "\n"
               "Commands:\n"
               "  start [--memory BYTES] [--user NAME] [--env KEY=VALUE]... [--] ARGV...\n"
               "                       prints the job id, then the job status\n"
               "  stop ID [GRACE_MS]   prints the job id, then the job status\n"
               "  status ID            prints the job id, then the job status\n"
               "  wait ID              prints the job id, then the job status\n"
               "  list [--owner NAME] [--active] [--state STATE]... [--page-size N]\n"
               "       [--page-token TOKEN]\n"
               "                       one line per job; all pages, unless --page-size or\n"
               "                       --page-token ask for one (then next_page_token=...)\n"
               "  logs ID [--follow] [--stdout|--stderr] [--stdout-offset N]\n"
               "       [--stderr-offset N] [--cancel-after N] [--events]\n"
               "                       job stdout to stdout, job stderr to stderr, raw;\n"
               "                       --cancel-after N cancels after N messages;\n"
               "                       --events adds \"event: ...\" lines on stderr\n"
               "  health [SERVICE]     grpc.health.v1.Health/Check of SERVICE (default: \"\",\n"
               "                       the server); prints serving_status=SERVING, ...\n"
               "  raw METHOD HEX       unary call with the bytes HEX (may be \"\") as the\n"
               "                       request; prints response=HEX if one came\n"
               "  oversized METHOD [BYTES]\n"
               "                       unary call with a StartRequest of BYTES bytes\n"
               "                       (default: 8 MiB) made of one huge argv string\n"
               "\n"
               "METHOD is a method name (\"Start\") or a full path (\"/pkg.Svc/Method\").\n"
               "The job status is printed as key=value lines: id=, owner=, state=, ...\n",
               EXIT_LOCAL);
}

/* ---- output helpers ----------------------------------------------------- */

static void print_escaped(FILE *f, const char *s) {
        for (const unsigned char *p = (const unsigned char *) (s ?: ""); *p; p++) {
                if (*p == '\\')
                        fputs("\\\\", f);
                else if (*p == '\n')
                        fputs("\\n", f);
                else if (*p == '\t')
                        fputs("\\t", f);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(f, "\\x%02x", *p);
                else
                        fputc(*p, f);
        }
}

static void print_kv(const char *key, const char *value) {
        printf("%s=", key);
        print_escaped(stdout, value);
        putchar('\n');
}

static const char *enum_name(const ProtobufCEnumDescriptor *d, int value, char *buf, size_t size) {
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);

        if (v)
                return v->name;
        snprintf(buf, size, "%d", value);
        return buf;
}

static const char *state_name(Jobrunner__V1__JobState state, char *buf, size_t size) {
        return enum_name(&jobrunner__v1__job_state__descriptor, (int) state, buf, size);
}

static const char *yes_no(protobuf_c_boolean b) {
        return b ? "true" : "false";
}

static void print_job(const Jobrunner__V1__JobStatus *j) {
        char buf[32];

        print_kv("id", j->id);
        print_kv("owner", j->owner);
        print_kv("unit_name", j->unit_name);
        printf("state=%s\n", state_name(j->state, buf, sizeof(buf)));
        printf("exit_code=%" PRIi32 "\n", j->exit_code);
        printf("signal=%" PRIi32 "\n", j->signal);
        print_kv("signal_name", j->signal_name);
        printf("oom_killed=%s\n", yes_no(j->oom_killed));
        print_kv("stopped_by", j->stopped_by);
        printf("killed_after_grace=%s\n", yes_no(j->killed_after_grace));
        print_kv("failure_reason", j->failure_reason);
        printf("start_time_us=%" PRIi64 "\n", j->start_time_us);
        printf("end_time_us=%" PRIi64 "\n", j->end_time_us);
        printf("stdout_bytes=%" PRIu64 "\n", j->stdout_bytes);
        printf("stderr_bytes=%" PRIu64 "\n", j->stderr_bytes);
        printf("output_truncated=%s\n", yes_no(j->output_truncated));
        printf("followers=%" PRIu32 "\n", j->followers);

        if (j->usage) {
                const Jobrunner__V1__ResourceUsage *u = j->usage;

                printf("usage.cpu_usage_ns=%" PRIu64 "\n", u->cpu_usage_ns);
                printf("usage.memory_current_bytes=%" PRIu64 "\n", u->memory_current_bytes);
                printf("usage.memory_peak_bytes=%" PRIu64 "\n", u->memory_peak_bytes);
                printf("usage.io_read_bytes=%" PRIu64 "\n", u->io_read_bytes);
                printf("usage.io_write_bytes=%" PRIu64 "\n", u->io_write_bytes);
                printf("usage.tasks_current=%" PRIu64 "\n", u->tasks_current);
        }

        if (j->spec) {
                const Jobrunner__V1__JobSpec *s = j->spec;

                printf("spec.n_argv=%zu\n", s->n_argv);
                for (size_t i = 0; i < s->n_argv; i++) {
                        printf("spec.argv[%zu]=", i);
                        print_escaped(stdout, s->argv[i]);
                        putchar('\n');
                }
                for (size_t i = 0; i < s->n_env; i++) {
                        printf("spec.env[%zu]=", i);
                        print_escaped(stdout, s->env[i]);
                        putchar('\n');
                }
                print_kv("spec.working_directory", s->working_directory);
                print_kv("spec.user", s->user);
                if (s->limits) {
                        printf("spec.limits.cpu_quota_percent=%" PRIu32 "\n", s->limits->cpu_quota_percent);
                        printf("spec.limits.cpu_weight=%" PRIu32 "\n", s->limits->cpu_weight);
                        printf("spec.limits.memory_max_bytes=%" PRIu64 "\n", s->limits->memory_max_bytes);
                        printf("spec.limits.io_weight=%" PRIu32 "\n", s->limits->io_weight);
                        printf("spec.limits.tasks_max=%" PRIu64 "\n", s->limits->tasks_max);
                        for (size_t i = 0; i < s->limits->n_io_device_limits; i++) {
                                const Jobrunner__V1__IoDeviceLimit *l = s->limits->io_device_limits[i];

                                printf("spec.limits.io_device_limits[%zu]=", i);
                                print_escaped(stdout, l->device);
                                printf(" read=%" PRIu64 " write=%" PRIu64 "\n",
                                       l->read_bytes_per_second, l->write_bytes_per_second);
                        }
                }
                if (s->isolation) {
                        printf("spec.isolation.network=%s\n",
                               enum_name(&jobrunner__v1__network_mode__descriptor, (int) s->isolation->network,
                                         buf, sizeof(buf)));
                        printf("spec.isolation.pid_namespace=%s\n",
                               enum_name(&jobrunner__v1__toggle__descriptor, (int) s->isolation->pid_namespace,
                                         buf, sizeof(buf)));
                        printf("spec.isolation.private_mounts=%s\n",
                               enum_name(&jobrunner__v1__toggle__descriptor, (int) s->isolation->private_mounts,
                                         buf, sizeof(buf)));
                        printf("spec.isolation.private_tmp=%s\n",
                               enum_name(&jobrunner__v1__toggle__descriptor, (int) s->isolation->private_tmp,
                                         buf, sizeof(buf)));
                }
        }
}

/* The id line, then the dump. */
static void print_job_with_id(const Jobrunner__V1__JobStatus *j) {
        if (!j) {
                fprintf(stderr, "warning: the response carries no job\n");
                return;
        }
        print_escaped(stdout, j->id);
        putchar('\n');
        print_job(j);
}

static int finish(int status, const char *details) {
        const char *name = tc_status_name(status);
        char buf[32];

        fflush(stdout);
        if (!name) {
                snprintf(buf, sizeof(buf), "CODE_%d", status);
                name = buf;
        }
        fprintf(stderr, "%sstatus: %s: ", stderr_at_line_start ? "" : "\n", name);
        print_escaped(stderr, details);
        fputc('\n', stderr);
        return status >= 0 && status < EXIT_LOCAL ? status : 2 /* UNKNOWN */;
}

static int local_error(int r, const char *what) {
        fflush(stdout);
        fprintf(stderr, "%sjr-test-client: %s: %s\n", stderr_at_line_start ? "" : "\n", what, strerror(-r));
        return EXIT_LOCAL;
}

static int usage_error(const char *fmt, ...) _printf_(1, 2);
static int usage_error(const char *fmt, ...) {
        va_list ap;

        fputs("jr-test-client: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs(" (see --help)\n", stderr);
        return EXIT_LOCAL;
}

static int parse_u64(const char *s, uint64_t *ret) {
        unsigned long long v;
        char *end;

        if (!s || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 0);
        if (errno != 0 || *end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

static int parse_u32(const char *s, uint32_t *ret) {
        uint64_t v;

        if (parse_u64(s, &v) < 0 || v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

/* ---- unary commands -------------------------------------------------------- */

/* Runs a unary call whose response has a JobStatus "job" as its field 1
 * (StartResponse, StopResponse, GetStatusResponse, WaitResponse). */
static int call_job(TcConn *c, const char *method, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *resp_type) {
        _cleanup_free_ char *details = NULL;
        ProtobufCMessage *resp = NULL;
        int status, r;

        r = tc_call(c, method, req, resp_type, arg_deadline_ms, &status, &details, &resp);
        if (r < 0)
                return local_error(r, "call failed");
        if (resp) {
                /* All four responses are { JobStatus job = 1; }. */
                const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(resp_type, 1);
                const Jobrunner__V1__JobStatus *job = f ?
                        *(Jobrunner__V1__JobStatus **) ((const char *) resp + f->offset) : NULL;

                print_job_with_id(job);
                protobuf_c_message_free_unpacked(resp, NULL);
        }
        return finish(status, details);
}

static int cmd_start(TcConn *c, int argc, char **argv) {
        static const struct option options[] = {
                { "memory", required_argument, NULL, 'm' },
                { "user",   required_argument, NULL, 'u' },
                { "env",    required_argument, NULL, 'e' },
                {}
        };
        Jobrunner__V1__StartRequest req = JOBRUNNER__V1__START_REQUEST__INIT;
        Jobrunner__V1__JobSpec spec = JOBRUNNER__V1__JOB_SPEC__INIT;
        Jobrunner__V1__Limits limits = JOBRUNNER__V1__LIMITS__INIT;
        _cleanup_free_ char **env = NULL;
        size_t n_env = 0;
        int opt;

        env = calloc((size_t) argc + 1, sizeof(char *));
        if (!env)
                return local_error(-ENOMEM, "start");

        /* "+": the job's own arguments are not ours to parse. */
        optind = 0;
        while ((opt = getopt_long(argc, argv, "+", options, NULL)) >= 0)
                switch (opt) {
                case 'm':
                        if (parse_u64(optarg, &limits.memory_max_bytes) < 0)
                                return usage_error("bad --memory value: %s", optarg);
                        spec.limits = &limits;
                        break;
                case 'u':
                        spec.user = optarg;
                        break;
                case 'e':
                        env[n_env++] = optarg;
                        break;
                default:
                        return usage_error("%s: bad option", "start");
                }
        if (optind >= argc)
                return usage_error("%s: no ARGV given", "start");

        spec.argv = argv + optind;
        spec.n_argv = (size_t) (argc - optind);
        spec.env = env;
        spec.n_env = n_env;
        req.spec = &spec;
        return call_job(c, "Start", &req.base, &jobrunner__v1__start_response__descriptor);
}

static int cmd_stop(TcConn *c, int argc, char **argv) {
        Jobrunner__V1__StopRequest req = JOBRUNNER__V1__STOP_REQUEST__INIT;

        if (argc < 2 || argc > 3)
                return usage_error("%s: expects ID [GRACE_MS]", "stop");
        req.id = argv[1];
        if (argc == 3 && parse_u32(argv[2], &req.grace_period_ms) < 0)
                return usage_error("bad GRACE_MS: %s", argv[2]);
        return call_job(c, "Stop", &req.base, &jobrunner__v1__stop_response__descriptor);
}

static int cmd_status(TcConn *c, int argc, char **argv) {
        Jobrunner__V1__GetStatusRequest req = JOBRUNNER__V1__GET_STATUS_REQUEST__INIT;

        if (argc != 2)
                return usage_error("%s: expects ID", "status");
        req.id = argv[1];
        return call_job(c, "GetStatus", &req.base, &jobrunner__v1__get_status_response__descriptor);
}

static int cmd_wait(TcConn *c, int argc, char **argv) {
        Jobrunner__V1__WaitRequest req = JOBRUNNER__V1__WAIT_REQUEST__INIT;

        if (argc != 2)
                return usage_error("%s: expects ID", "wait");
        req.id = argv[1];
        return call_job(c, "Wait", &req.base, &jobrunner__v1__wait_response__descriptor);
}

static int parse_state(const char *s, Jobrunner__V1__JobState *ret) {
        const ProtobufCEnumValue *v;
        char buf[64];

        v = protobuf_c_enum_descriptor_get_value_by_name(&jobrunner__v1__job_state__descriptor, s);
        if (!v) {
                snprintf(buf, sizeof(buf), "JOB_STATE_%s", s);
                v = protobuf_c_enum_descriptor_get_value_by_name(&jobrunner__v1__job_state__descriptor, buf);
        }
        if (!v)
                return -EINVAL;
        *ret = (Jobrunner__V1__JobState) v->value;
        return 0;
}

static int cmd_list(TcConn *c, int argc, char **argv) {
        static const struct option options[] = {
                { "owner",      required_argument, NULL, 'o' },
                { "active",     no_argument,       NULL, 'a' },
                { "state",      required_argument, NULL, 's' },
                { "page-size",  required_argument, NULL, 'p' },
                { "page-token", required_argument, NULL, 't' },
                {}
        };
        Jobrunner__V1__ListRequest req = JOBRUNNER__V1__LIST_REQUEST__INIT;
        _cleanup_free_ Jobrunner__V1__JobState *states = NULL;
        _cleanup_free_ char *token = NULL;
        bool one_page = false;
        size_t total = 0;
        int opt;

        states = calloc((size_t) argc + 1, sizeof(*states));
        if (!states)
                return local_error(-ENOMEM, "list");

        optind = 0;
        while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (opt) {
                case 'o':
                        req.owner = optarg;
                        break;
                case 'a':
                        req.active_only = true;
                        break;
                case 's':
                        if (parse_state(optarg, &states[req.n_states]) < 0)
                                return usage_error("unknown state: %s", optarg);
                        req.n_states++;
                        break;
                case 'p':
                        if (parse_u32(optarg, &req.page_size) < 0)
                                return usage_error("bad --page-size: %s", optarg);
                        one_page = true;
                        break;
                case 't':
                        req.page_token = optarg;
                        one_page = true;
                        break;
                default:
                        return usage_error("%s: bad option", "list");
                }
        if (optind != argc)
                return usage_error("%s: unexpected argument", "list");
        req.states = states;

        for (;;) {
                _cleanup_free_ char *details = NULL;
                Jobrunner__V1__ListResponse *resp = NULL;
                char buf[32];
                int status, r;

                r = tc_call(c, "List", &req.base, &jobrunner__v1__list_response__descriptor, arg_deadline_ms,
                            &status, &details, (ProtobufCMessage **) &resp);
                if (r < 0)
                        return local_error(r, "call failed");
                if (status != 0) {
                        printf("jobs=%zu\n", total);
                        return finish(status, details);
                }

                for (size_t i = 0; i < resp->n_jobs; i++) {
                        const Jobrunner__V1__JobStatus *j = resp->jobs[i];

                        printf("id=%s owner=", j->id);
                        print_escaped(stdout, j->owner);
                        printf(" state=%s exit_code=%" PRIi32 " signal=%" PRIi32 " start_time_us=%" PRIi64 "\n",
                               state_name(j->state, buf, sizeof(buf)), j->exit_code, j->signal, j->start_time_us);
                }
                total += resp->n_jobs;

                if (one_page || resp->next_page_token[0] == '\0') {
                        if (one_page)
                                print_kv("next_page_token", resp->next_page_token);
                        printf("jobs=%zu\n", total);
                        jobrunner__v1__list_response__free_unpacked(resp, NULL);
                        return finish(status, details);
                }

                free(token);
                token = strdup(resp->next_page_token);
                jobrunner__v1__list_response__free_unpacked(resp, NULL);
                if (!token)
                        return local_error(-ENOMEM, "list");
                req.page_token = token;
        }
}

/* ---- logs ------------------------------------------------------------------ */

static const char *stream_name(Jobrunner__V1__OutputStream s, char *buf, size_t size) {
        return enum_name(&jobrunner__v1__output_stream__descriptor, (int) s, buf, size);
}

static int cmd_logs(TcConn *c, int argc, char **argv) {
        enum { ARG_STDOUT_OFFSET = 0x100, ARG_STDERR_OFFSET };
        static const struct option options[] = {
                { "follow",        no_argument,       NULL, 'f' },
                { "stdout",        no_argument,       NULL, 'o' },
                { "stderr",        no_argument,       NULL, 'e' },
                { "stdout-offset", required_argument, NULL, ARG_STDOUT_OFFSET },
                { "stderr-offset", required_argument, NULL, ARG_STDERR_OFFSET },
                { "cancel-after",  required_argument, NULL, 'c' },
                { "events",        no_argument,       NULL, 'v' },
                {}
        };
        Jobrunner__V1__LogsRequest req = JOBRUNNER__V1__LOGS_REQUEST__INIT;
        _cleanup_(tc_stream_freep) TcStream *s = NULL;
        uint64_t cancel_after = 0, received = 0;
        bool events = false, cancelled = false;
        const char *details = NULL;
        int opt, status, r;

        optind = 0;
        while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (opt) {
                case 'f':
                        req.follow = true;
                        break;
                case 'o':
                        req.stream = JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT;
                        break;
                case 'e':
                        req.stream = JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR;
                        break;
                case ARG_STDOUT_OFFSET:
                        if (parse_u64(optarg, &req.stdout_offset) < 0)
                                return usage_error("bad --stdout-offset: %s", optarg);
                        break;
                case ARG_STDERR_OFFSET:
                        if (parse_u64(optarg, &req.stderr_offset) < 0)
                                return usage_error("bad --stderr-offset: %s", optarg);
                        break;
                case 'c':
                        if (parse_u64(optarg, &cancel_after) < 0 || cancel_after == 0)
                                return usage_error("bad --cancel-after: %s", optarg);
                        break;
                case 'v':
                        events = true;
                        break;
                default:
                        return usage_error("%s: bad option", "logs");
                }
        if (optind != argc - 1)
                return usage_error("%s: expects one ID", "logs");
        req.id = argv[optind];

        r = tc_logs_open(c, &req, arg_deadline_ms, &s);
        if (r < 0)
                return local_error(r, "logs");

        fflush(stdout);
        for (;;) {
                Jobrunner__V1__LogsResponse *m = NULL;
                char buf[48], buf2[48];

                r = tc_stream_next(s, &m);
                if (r < 0)
                        return local_error(r, "logs: receiving a message");
                if (r == 0)
                        break;
                received++;

                switch (m->event_case) {
                case JOBRUNNER__V1__LOGS_RESPONSE__EVENT_CHUNK: {
                        const Jobrunner__V1__LogChunk *ch = m->chunk;
                        int fd = ch->stream == JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR ? 2 : 1;

                        if (events) {
                                fprintf(stderr, "%sevent: chunk stream=%s offset=%" PRIu64 " length=%zu\n",
                                        stderr_at_line_start ? "" : "\n",
                                        stream_name(ch->stream, buf, sizeof(buf)), ch->offset, ch->data.len);
                                stderr_at_line_start = true;
                        }
                        if (ch->data.len > 0) {
                                r = write_all(fd, ch->data.data, ch->data.len);
                                if (r < 0) {
                                        jobrunner__v1__logs_response__free_unpacked(m, NULL);
                                        return local_error(r, "logs: writing output");
                                }
                                if (fd == 2)
                                        stderr_at_line_start = ch->data.data[ch->data.len - 1] == '\n';
                        }
                        break;
                }
                case JOBRUNNER__V1__LOGS_RESPONSE__EVENT_GAP:
                        if (events) {
                                fprintf(stderr, "%sevent: gap stream=%s offset=%" PRIu64 " length=%" PRIu64
                                        " reason=%s\n",
                                        stderr_at_line_start ? "" : "\n",
                                        stream_name(m->gap->stream, buf, sizeof(buf)),
                                        m->gap->offset, m->gap->length,
                                        enum_name(&jobrunner__v1__log_gap_reason__descriptor,
                                                  (int) m->gap->reason, buf2, sizeof(buf2)));
                                stderr_at_line_start = true;
                        }
                        break;
                case JOBRUNNER__V1__LOGS_RESPONSE__EVENT_END:
                        if (events) {
                                fprintf(stderr, "%sevent: end state=%s exit_code=%" PRIi32 " signal=%" PRIi32
                                        " stdout_bytes=%" PRIu64 " stderr_bytes=%" PRIu64 "\n",
                                        stderr_at_line_start ? "" : "\n",
                                        state_name(m->end->state, buf, sizeof(buf)),
                                        m->end->exit_code, m->end->signal,
                                        m->end->stdout_bytes, m->end->stderr_bytes);
                                stderr_at_line_start = true;
                        }
                        break;
                default:
                        if (events) {
                                fprintf(stderr, "%sevent: empty\n", stderr_at_line_start ? "" : "\n");
                                stderr_at_line_start = true;
                        }
                        break;
                }
                jobrunner__v1__logs_response__free_unpacked(m, NULL);

                if (cancel_after > 0 && received >= cancel_after && !cancelled) {
                        tc_stream_cancel(s);
                        cancelled = true;
                }
        }

        r = tc_stream_status(s, &status, &details);
        if (r < 0)
                return local_error(r, "logs");
        return finish(status, details);
}

/* ---- the health check ---------------------------------------------------------- */

static int cmd_health(TcConn *c, int argc, char **argv) {
        _cleanup_free_ char *details = NULL;
        int status, serving, r;

        if (argc > 2)
                return usage_error("%s: expects at most one SERVICE", "health");
        r = tc_health_check(c, argc == 2 ? argv[1] : "", arg_deadline_ms, &status, &details, &serving);
        if (r < 0)
                return local_error(r, "call failed");
        if (status == 0) {
                const char *name = tc_serving_status_name(serving);

                if (name)
                        printf("serving_status=%s\n", name);
                else
                        printf("serving_status=%d\n", serving);
        }
        return finish(status, details);
}

/* ---- raw payloads ------------------------------------------------------------ */

static int unhex(const char *hex, uint8_t **ret, size_t *ret_len) {
        size_t len = strlen(hex);
        uint8_t *buf;

        if (len % 2 != 0)
                return -EINVAL;
        buf = malloc(len / 2 + 1);
        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < len / 2; i++) {
                char pair[3] = { hex[2 * i], hex[2 * i + 1], 0 };
                char *end;

                if (!isxdigit((unsigned char) pair[0]) || !isxdigit((unsigned char) pair[1])) {
                        free(buf);
                        return -EINVAL;
                }
                buf[i] = (uint8_t) strtoul(pair, &end, 16);
        }
        *ret = buf;
        *ret_len = len / 2;
        return 0;
}

static int unary_raw(TcConn *c, const char *method, const uint8_t *data, size_t len) {
        TcResult result = {};
        int r;

        r = tc_unary(c, method, data, len, arg_deadline_ms, &result);
        if (r < 0)
                return local_error(r, "call failed");
        if (result.response) {
                printf("response_bytes=%zu\n", result.response_len);
                fputs("response=", stdout);
                for (size_t i = 0; i < result.response_len; i++)
                        printf("%02x", result.response[i]);
                putchar('\n');
        }
        r = finish(result.status, result.details);
        tc_result_done(&result);
        return r;
}

static int cmd_raw(TcConn *c, int argc, char **argv) {
        _cleanup_free_ uint8_t *data = NULL;
        size_t len;

        if (argc != 3)
                return usage_error("%s: expects METHOD HEX", "raw");
        if (unhex(argv[2], &data, &len) < 0)
                return usage_error("not an even number of hex digits: %s", argv[2]);
        return unary_raw(c, argv[1], data, len);
}

/* A StartRequest { spec { argv: "/bin/true", "xxx..." } } of exactly size
 * bytes where possible (the varint length prefixes make a few sizes just
 * above the minimum unreachable: then a byte or two more). */
static int oversized_request(size_t size, uint8_t **ret, size_t *ret_len) {
        Jobrunner__V1__StartRequest req = JOBRUNNER__V1__START_REQUEST__INIT;
        Jobrunner__V1__JobSpec spec = JOBRUNNER__V1__JOB_SPEC__INIT;
        char *argv[2] = { (char *) "/bin/true", (char *) "" };
        _cleanup_free_ char *filler = NULL;
        size_t fill = 0, packed;
        uint8_t *buf;

        spec.argv = argv;
        spec.n_argv = 2;
        req.spec = &spec;

        /* packed(fill) - fill only grows with fill: iterate to the fixpoint. */
        for (int i = 0; i < 8; i++) {
                size_t overhead;

                filler = realloc(filler, fill + 1);
                if (!filler)
                        return -ENOMEM;
                memset(filler, 'x', fill);
                filler[fill] = '\0';
                argv[1] = filler;
                packed = protobuf_c_message_get_packed_size(&req.base);
                if (packed == size)
                        break;
                overhead = packed - fill;
                if (size <= overhead)
                        break;
                if (size - overhead == fill)
                        break;
                fill = size - overhead;
        }

        argv[1] = filler;
        packed = protobuf_c_message_get_packed_size(&req.base);
        buf = malloc(packed + 1);
        if (!buf)
                return -ENOMEM;
        *ret_len = protobuf_c_message_pack(&req.base, buf);
        *ret = buf;
        return 0;
}

static int cmd_oversized(TcConn *c, int argc, char **argv) {
        _cleanup_free_ uint8_t *data = NULL;
        uint64_t size = DEFAULT_OVERSIZED_BYTES;
        size_t len;
        int r;

        if (argc < 2 || argc > 3)
                return usage_error("%s: expects METHOD [BYTES]", "oversized");
        if (argc == 3 && (parse_u64(argv[2], &size) < 0 || size > INT_MAX))
                return usage_error("bad BYTES: %s", argv[2]);

        r = oversized_request((size_t) size, &data, &len);
        if (r < 0)
                return local_error(r, "oversized");
        printf("request_bytes=%zu\n", len);
        return unary_raw(c, argv[1], data, len);
}

/* ---- main ---------------------------------------------------------------------- */

static const struct {
        const char *name;
        int (*run)(TcConn *c, int argc, char **argv);
} commands[] = {
        { "start",     cmd_start },
        { "stop",      cmd_stop },
        { "status",    cmd_status },
        { "wait",      cmd_wait },
        { "list",      cmd_list },
        { "logs",      cmd_logs },
        { "health",    cmd_health },
        { "raw",       cmd_raw },
        { "oversized", cmd_oversized },
};

static int parse_argv(int argc, char **argv) {
        enum {
                ARG_TARGET = 0x100,
                ARG_CERT,
                ARG_KEY,
                ARG_CA,
                ARG_NO_CERT,
                ARG_DEADLINE,
                ARG_SERVER_NAME,
                ARG_TLS13,
        };
        static const struct option options[] = {
                { "help",        no_argument,       NULL, 'h' },
                { "target",      required_argument, NULL, ARG_TARGET },
                { "cert",        required_argument, NULL, ARG_CERT },
                { "key",         required_argument, NULL, ARG_KEY },
                { "ca",          required_argument, NULL, ARG_CA },
                { "no-cert",     no_argument,       NULL, ARG_NO_CERT },
                { "deadline-ms", required_argument, NULL, ARG_DEADLINE },
                { "server-name", required_argument, NULL, ARG_SERVER_NAME },
                { "tls13",       no_argument,       NULL, ARG_TLS13 },
                {}
        };
        uint64_t v;
        int opt;

        /* "+": stop at COMMAND, whose options are its own. */
        while ((opt = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        help();
                        return 0;
                case ARG_TARGET:
                        arg_target = optarg;
                        break;
                case ARG_CERT:
                        arg_cert = optarg;
                        break;
                case ARG_KEY:
                        arg_key = optarg;
                        break;
                case ARG_CA:
                        arg_ca = optarg;
                        break;
                case ARG_NO_CERT:
                        arg_no_cert = true;
                        break;
                case ARG_DEADLINE:
                        if (parse_u64(optarg, &v) < 0 || v == 0 || v > INT64_MAX)
                                return usage_error("bad --deadline-ms: %s", optarg);
                        arg_deadline_ms = (int64_t) v;
                        break;
                case ARG_SERVER_NAME:
                        arg_server_name = optarg;
                        break;
                case ARG_TLS13:
                        arg_tls13 = true;
                        break;
                default:
                        return EXIT_LOCAL;
                }

        if (optind >= argc)
                return usage_error("%s", "no COMMAND given");
        if (!arg_ca)
                return usage_error("%s", "--ca is required");
        if (arg_no_cert)
                arg_cert = arg_key = NULL;
        else if (!arg_cert || !arg_key)
                return usage_error("%s", "--cert and --key are required (or --no-cert)");
        return 1;
}

int main(int argc, char **argv) {
        _cleanup_(tc_disconnectp) TcConn *c = NULL;
        int r;

        r = parse_argv(argc, argv);
        if (r != 1)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                const TcOptions options = {
                        .target_name_override = arg_server_name,
                        .tls13_only = arg_tls13,
                };

                if (strcmp(argv[optind], commands[i].name) != 0)
                        continue;

                r = tc_connect_full(arg_target, arg_cert, arg_key, arg_ca, &options, &c);
                if (r < 0)
                        return local_error(r, "cannot set up the connection");
                return commands[i].run(c, argc - optind, argv + optind);
        }
        return usage_error("unknown command: %s", argv[optind]);
}
