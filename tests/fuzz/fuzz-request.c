/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A request as it arrives from the network, through the very code the
 * daemon runs for it: protobuf-c unpacks it (daemon/grpc-call.c), then the
 * method's handler (daemon/rpc-*.c) converts and validates it (specs, ids,
 * grace periods, stream offsets, page tokens and filters), authorizes it
 * and answers it, here through a call without gRPC (fake-call.c) against a
 * manager without systemd that holds five ended jobs with output.
 *
 * Input: a byte choosing the method, a byte choosing the caller (role and
 * name), then the request message.
 *
 * The answers must follow the API: the code the caller's rights and the
 * job's existence call for, responses that survive the wire, Logs events
 * contiguous from the requested offsets with the job's actual bytes up to
 * END (Logs and Attach alike), List pages in order that add up to the whole listing, and a Start
 * that passes validation (it then stops at the server's limit, set to 0
 * here) with a spec that survives the daemon's echo and the job file; the
 * health check SERVING for the server and the API, NOT_FOUND for anything
 * else, whoever asks. */

#include <string.h>
#include <sys/mman.h>

#include "convert.h"
#include "daemon.h"
#include "fake-call.h"
#include "fake-manager.h"
#include "fuzz.h"
#include "health.pb-c.h"
#include "job-store.h"
#include "job.h"
#include "macro.h"
#include "rpc.h"
#include "strv.h"

#define N_JOBS 5

static const char *const job_ids[N_JOBS] = {
        "0123456789abcdef0123456789abcde0", "0123456789abcdef0123456789abcde1",
        "0123456789abcdef0123456789abcde2", "0123456789abcdef0123456789abcde3",
        "0123456789abcdef0123456789abcde4",
};
static const char *const job_owners[N_JOBS] = { "alice", "bob", "alice", "carol", "bob" };
static const jr_state job_states[N_JOBS] = {
        JR_STATE_EXITED, JR_STATE_KILLED, JR_STATE_STOPPED, JR_STATE_FAILED_TO_START, JR_STATE_OOM_KILLED,
};
static const char *const caller_names[] = { "alice", "bob", "carol", "mallory" };

/* Stream content is a function of the offset, so any chunk can be checked. */
static uint8_t content(OutputStream s, uint64_t offset) {
        return s == OUTPUT_STREAM_STDOUT ? (uint8_t) ('a' + offset % 26) : (uint8_t) ('0' + offset % 10);
}

static void append(OutputStore *store, OutputStream s, size_t n) {
        uint8_t buf[256];
        uint64_t at = output_store_get_end(store, s);

        FUZZ_CHECK(n <= sizeof(buf), "too much");
        for (size_t i = 0; i < n; i++)
                buf[i] = content(s, at + i);
        FUZZ_CHECK(output_store_append_data(store, s, buf, n) == 0, "cannot append");
}

/* Job i's output: a few records per stream, gaps in some. */
static OutputStore *job_output(sd_event *event, size_t i) {
        OutputStore *store = NULL;
        int fd = memfd_create("output.log", MFD_CLOEXEC);

        FUZZ_CHECK(fd >= 0, "memfd_create: %m");
        FUZZ_CHECK(output_store_open_fd(fd, event, &store) == 0, "cannot open the store");
        for (size_t k = 0; k <= i; k++) {
                append(store, OUTPUT_STREAM_STDOUT, 10 + 37 * k);
                append(store, OUTPUT_STREAM_STDERR, 1 + k);
        }
        if (i == 1)
                FUZZ_CHECK(output_store_append_gap(store, OUTPUT_STREAM_STDOUT, OUTPUT_GAP_TRUNCATED, 1000) == 0, "gap");
        if (i == 2)
                FUZZ_CHECK(output_store_append_gap(store, OUTPUT_STREAM_STDERR, OUTPUT_GAP_DAEMON_DOWN, 0) == 0, "gap");
        append(store, OUTPUT_STREAM_STDOUT, 5);
        output_store_set_eof(store, OUTPUT_STREAM_STDOUT);
        output_store_set_eof(store, OUTPUT_STREAM_STDERR);
        output_store_set_finished(store);
        return store;
}

typedef struct Server {
        sd_event *event;
        Daemon daemon;
        jr_job *jobs[N_JOBS];
        OutputStore *stores[N_JOBS];
} Server;

static void server_init(Server *s) {
        char *argv[] = { (char *) "/bin/echo", (char *) "hello", NULL };
        jr_spec spec = { .argv = argv };
        jr_manager *m;

        *s = (Server) {};
        FUZZ_CHECK(sd_event_new(&s->event) >= 0, "out of memory");
        m = fake_manager_new(s->event);
        /* Start stops at the limit, after all its checks: nothing can
         * reach systemd. */
        s->daemon = (Daemon) { .manager = m, .limits = { 0, 0, DAEMON_MAX_FOLLOWERS_PER_JOB_DEFAULT } };

        for (size_t i = 0; i < N_JOBS; i++) {
                jr_job *j;

                FUZZ_CHECK(job_new(m, job_ids[i], job_owners[i], &spec, &j) == 0, "cannot make a job");
                j->state = job_states[i];
                /* Jobs 3 and 4 started in the same microsecond. */
                j->start_time_us = UINT64_C(1700000000000000) + (i < 4 ? i : 3) * 1000;
                j->end_time_us = j->start_time_us + 500;
                s->stores[i] = job_output(s->event, i);
                j->store = output_store_ref(s->stores[i]);
                FUZZ_CHECK(manager_add_job(m, j) == 0, "cannot add a job");
                s->jobs[i] = j;
        }
}

static void server_done(Server *s) {
        jr_manager_free(s->daemon.manager);
        for (size_t i = 0; i < N_JOBS; i++)
                output_store_unref(s->stores[i]);
        sd_event_unref(s->event);
}

/* A finished job's store is closed when its last follower goes; it would
 * be reopened from the state directory, which here is the memfd. */
static void server_reattach_stores(Server *s) {
        for (size_t i = 0; i < N_JOBS; i++)
                if (!s->jobs[i]->store)
                        s->jobs[i]->store = output_store_ref(s->stores[i]);
}

/* The index of the job with that id, N_JOBS if there is none. */
static size_t server_job(const char *id) {
        size_t i = 0;

        while (i < N_JOBS && !(id && strcmp(id, job_ids[i]) == 0))
                i++;
        return i;
}

/* Runs one call to its end. */
static Call *run(Server *s, const RpcMethod *method, const AuthzIdentity *who, const ProtobufCMessage *request) {
        Call *c = fake_call_new(method, who);

        server_reattach_stores(s);
        method->handle(c, request, &s->daemon);
        FUZZ_CHECK(fake_call_run(c, s->event), "%s never finished", method->name);
        return c;
}

/* ---- the methods on one job ---------------------------------------------- */

/* The code a call on one job must end with when it is not refused for
 * other reasons: what the id and the caller's rights call for. */
static JrCode expected_job_code(Server *s, const AuthzIdentity *who, AuthzMethod method, const char *id) {
        size_t i = server_job(id);
        jr_job *j = i < N_JOBS ? s->jobs[i] : NULL;

        if (!convert_job_id_is_valid(id))
                return JR_CODE_INVALID_ARGUMENT;
        switch (authz_check(who, method, j ? jr_job_get_owner(j) : NULL, false)) {
        case AUTHZ_ALLOW:
                return j ? JR_CODE_OK : JR_CODE_NOT_FOUND;
        case AUTHZ_DENY_NOT_FOUND:
                return JR_CODE_NOT_FOUND;
        default:
                return JR_CODE_PERMISSION_DENIED;
        }
}

/* Stop, GetStatus, Wait: { JobStatus job = 1; } for the job asked for. */
static void check_job_response(const Call *c, const char *id) {
        const ProtobufCMessage *response = fake_call_response(c);
        const ProtobufCFieldDescriptor *field;
        const Jobrunner__V1__JobStatus *job;

        FUZZ_CHECK(response, "OK without a response");
        field = protobuf_c_message_descriptor_get_field_by_name(response->descriptor, "job");
        FUZZ_CHECK(field, "no job field");
        job = *(Jobrunner__V1__JobStatus *const *) ((const char *) response + field->offset);
        FUZZ_CHECK(job && strcmp(job->id, id) == 0, "the answer is about another job");
        FUZZ_CHECK(strcmp(fake_call_audit_job(c) ?: "", id) == 0, "the audit record names another job");
}

static void fuzz_one_job(Server *s, const RpcMethod *method, const AuthzIdentity *who, const ProtobufCMessage *req,
                         const char *id, uint32_t grace_ms) {
        JrCode expected = expected_job_code(s, who, method->authz, id);
        Call *c = run(s, method, who, req);
        JrCode code = fake_call_code(c);

        if (method->authz == AUTHZ_METHOD_STOP && expected == JR_CODE_OK)
                /* Every job here has ended. */
                expected = (uint64_t) grace_ms * 1000 > JR_GRACE_MAX_USEC ? JR_CODE_INVALID_ARGUMENT
                                                                           : JR_CODE_FAILED_PRECONDITION;
        FUZZ_CHECK(code == expected, "%s of \"%s\": code %d, not %d", method->name, id ?: "", (int) code,
                   (int) expected);
        if (code == JR_CODE_OK)
                check_job_response(c, id);
        fake_call_free(c);
}

/* ---- Logs ------------------------------------------------------------------- */

/* The event of a LogsResponse or an AttachResponse, which share chunk = 1,
 * gap = 2 and end = 3 in one oneof (Attach adds input_closed = 4): its
 * field number, and *ret its message. */
static uint32_t output_event(const ProtobufCMessage *m, const void **ret) {
        const ProtobufCFieldDescriptor *chunk = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "chunk");
        const ProtobufCFieldDescriptor *set;
        uint32_t field;

        FUZZ_CHECK(chunk && chunk->quantifier_offset, "%s: no chunk in a oneof", m->descriptor->name);
        field = *(const uint32_t *) ((const char *) m + chunk->quantifier_offset);
        set = protobuf_c_message_descriptor_get_field(m->descriptor, (unsigned) field);
        *ret = set ? *(const void *const *) ((const char *) m + set->offset) : NULL;
        return field;
}

/* What an output stream answered (Logs, Attach): nothing unless OK; events
 * contiguous per stream from the requested offsets (want) with the job's
 * actual bytes, of the streams asked for only, and END last, once every
 * stream is read to its end. */
static void check_output(const Call *c, const char *what, const char *id, unsigned streams, uint64_t want[2],
                         const uint64_t end[2]) {
        size_t n = fake_call_n_messages(c);
        bool ok = fake_call_code(c) == JR_CODE_OK;
        uint32_t field = 0;

        FUZZ_CHECK(ok || n == 0, "messages on a failed %s call", what);
        for (size_t i = 0; i < n; i++) {
                const void *event;
                const Jobrunner__V1__LogChunk *chunk;
                const Jobrunner__V1__LogGap *gap;
                uint64_t offset, length;
                int st;

                field = output_event(fake_call_message(c, i), &event);
                FUZZ_CHECK(event, "%s: an empty message", what);
                if (field == 3) {
                        const Jobrunner__V1__JobStatus *status = event;

                        FUZZ_CHECK(i == n - 1, "%s: END before the last message", what);
                        FUZZ_CHECK(strcmp(status->id, id) == 0, "%s: END about another job", what);
                        break;
                }
                if (field == 1) {
                        chunk = event;
                        st = chunk->stream;
                        offset = chunk->offset;
                        length = chunk->data.len;
                        FUZZ_CHECK(length >= 1 && length <= 65536, "a chunk of %" PRIu64 " bytes", length);
                        for (size_t k = 0; k < length; k++)
                                FUZZ_CHECK(chunk->data.data[k] == content(st, offset + k),
                                           "byte %" PRIu64 " of stream %d differs", offset + k, st);
                } else {
                        FUZZ_CHECK(field == 2, "%s: event %" PRIu32 " on a job without input", what, field);
                        gap = event;
                        st = gap->stream;
                        offset = gap->offset;
                        length = gap->length;
                }
                FUZZ_CHECK((st == 1 || st == 2) && (streams & OUTPUT_STREAM_BIT(st)), "stream %d not asked for", st);
                FUZZ_CHECK(fuzz_event_continues(&want[st - 1], offset, length, field == 2),
                           "stream %d continues at %" PRIu64 ", not %" PRIu64, st, offset, want[st - 1]);
        }
        if (ok) {
                FUZZ_CHECK(field == 3, "%s: no END", what);
                for (OutputStream st = OUTPUT_STREAM_STDOUT; st <= OUTPUT_STREAM_STDERR; st++)
                        FUZZ_CHECK(!(streams & OUTPUT_STREAM_BIT(st)) || want[st - 1] == end[st - 1],
                                   "stream %d read to %" PRIu64 " of %" PRIu64, st, want[st - 1], end[st - 1]);
        }
}

/* OK, or OUT_OF_RANGE for an offset beyond the end of a stream asked for. */
static JrCode offsets_code(Server *s, const char *id, unsigned streams, const uint64_t want[2], uint64_t end[2]) {
        size_t j = server_job(id);

        for (OutputStream st = OUTPUT_STREAM_STDOUT; st <= OUTPUT_STREAM_STDERR; st++)
                end[st - 1] = output_store_get_end(s->stores[j], st);
        for (OutputStream st = OUTPUT_STREAM_STDOUT; st <= OUTPUT_STREAM_STDERR; st++)
                if ((streams & OUTPUT_STREAM_BIT(st)) && want[st - 1] > end[st - 1])
                        return JR_CODE_OUT_OF_RANGE;
        return JR_CODE_OK;
}

static void fuzz_logs(Server *s, const RpcMethod *method, const AuthzIdentity *who,
                      const Jobrunner__V1__LogsRequest *req) {
        JrCode expected = expected_job_code(s, who, AUTHZ_METHOD_LOGS, req->id);
        uint64_t want[2] = { req->stdout_offset, req->stderr_offset }, end[2] = {};
        unsigned streams = 0;
        Call *c;
        JrCode code;

        if (expected == JR_CODE_OK) {
                switch ((int) req->stream) {
                case 0:
                        streams = OUTPUT_STREAMS_ALL;
                        break;
                case 1:
                case 2:
                        streams = OUTPUT_STREAM_BIT(req->stream);
                        break;
                default:
                        expected = JR_CODE_INVALID_ARGUMENT;
                }
                if (expected == JR_CODE_OK)
                        expected = offsets_code(s, req->id, streams, want, end);
        }

        c = run(s, method, who, &req->base);
        code = fake_call_code(c);
        FUZZ_CHECK(code == expected, "Logs of \"%s\": code %d, not %d", req->id, (int) code, (int) expected);
        check_output(c, "Logs", req->id, streams, want, end);
        fake_call_free(c);
}

/* Attach: the first message must be start; these jobs were started
 * without an input, so asking for it (or setting its terminal's size) is
 * FAILED_PRECONDITION; otherwise their whole output as Logs sends it, and
 * never an input_closed.  The fake client sends nothing after start. */
static void fuzz_attach(Server *s, const RpcMethod *method, const AuthzIdentity *who,
                        const Jobrunner__V1__AttachRequest *req) {
        const Jobrunner__V1__AttachStart *start =
                req->event_case == JOBRUNNER__V1__ATTACH_REQUEST__EVENT_START ? req->start : NULL;
        uint64_t want[2] = {}, end[2] = {};
        JrCode expected = JR_CODE_INVALID_ARGUMENT, code;
        Call *c;

        if (start) {
                want[0] = start->stdout_offset;
                want[1] = start->stderr_offset;
                expected = expected_job_code(s, who, AUTHZ_METHOD_ATTACH, start->id);
                if (expected == JR_CODE_OK && (start->input || start->terminal_size))
                        expected = JR_CODE_FAILED_PRECONDITION;
                if (expected == JR_CODE_OK)
                        expected = offsets_code(s, start->id, OUTPUT_STREAMS_ALL, want, end);
        }

        c = run(s, method, who, &req->base);
        code = fake_call_code(c);
        FUZZ_CHECK(code == expected, "Attach: code %d, not %d", (int) code, (int) expected);
        check_output(c, "Attach", start ? start->id : "", OUTPUT_STREAMS_ALL, want, end);
        FUZZ_CHECK(!start || !start->id || !fake_call_audit_job(c) || strcmp(fake_call_audit_job(c), start->id) == 0,
                   "the audit record names another job");
        fake_call_free(c);
}

/* ---- List -------------------------------------------------------------------- */

static bool list_before(const Jobrunner__V1__JobStatus *a, const Jobrunner__V1__JobStatus *b) {
        if (a->start_time_us != b->start_time_us)
                return a->start_time_us > b->start_time_us;
        return strcmp(a->id, b->id) < 0;
}

/* One page: jobs the caller may see, matching the filters, newest first. */
static void check_page(const AuthzIdentity *who, const Jobrunner__V1__ListRequest *req,
                       const Jobrunner__V1__ListResponse *page) {
        for (size_t i = 0; i < page->n_jobs; i++) {
                const Jobrunner__V1__JobStatus *job = page->jobs[i];
                bool state_ok = req->n_states == 0;

                FUZZ_CHECK(authz_check(who, AUTHZ_METHOD_LIST, job->owner, false) == AUTHZ_ALLOW,
                           "%s sees %s's job", who->name, job->owner);
                FUZZ_CHECK(!req->owner[0] || strcmp(req->owner, job->owner) == 0, "another owner's job");
                for (size_t k = 0; k < req->n_states; k++)
                        state_ok |= (int) req->states[k] == (int) job->state;
                FUZZ_CHECK(state_ok, "a job in state %d", (int) job->state);
                FUZZ_CHECK(!req->active_only || job->state <= JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING,
                           "an ended job among the active ones");
                FUZZ_CHECK(i == 0 || list_before(page->jobs[i - 1], job), "out of order");
        }
}

static void fuzz_list(Server *s, const RpcMethod *method, const AuthzIdentity *who,
                      const Jobrunner__V1__ListRequest *req) {
        Jobrunner__V1__ListRequest next = *req, all = *req;
        Call *whole, *c;
        const Jobrunner__V1__ListResponse *everything;
        size_t seen = 0;

        c = run(s, method, who, &req->base);
        if (fake_call_code(c) != JR_CODE_OK) {
                FUZZ_CHECK(fake_call_code(c) == JR_CODE_INVALID_ARGUMENT || fake_call_code(c) == JR_CODE_PERMISSION_DENIED,
                           "List: code %d", (int) fake_call_code(c));
                fake_call_free(c);
                return;
        }
        check_page(who, req, (const Jobrunner__V1__ListResponse *) fake_call_response(c));

        /* The pages from the first one, token by token, are the whole
         * listing in order. */
        all.page_token = (char *) "";
        all.page_size = 1000;
        whole = run(s, method, who, &all.base);
        FUZZ_CHECK(fake_call_code(whole) == JR_CODE_OK, "List without a token fails: %d", (int) fake_call_code(whole));
        everything = (const Jobrunner__V1__ListResponse *) fake_call_response(whole);
        check_page(who, req, everything);
        FUZZ_CHECK(!everything->next_page_token[0], "a token after everything");

        fake_call_free(c);
        next.page_token = (char *) "";
        c = run(s, method, who, &next.base);
        for (unsigned pages = 0;; pages++) {
                const Jobrunner__V1__ListResponse *page = (const Jobrunner__V1__ListResponse *) fake_call_response(c);
                _cleanup_free_ char *token = NULL;

                FUZZ_CHECK(pages <= N_JOBS && page, "List: page %u fails with %d", pages, (int) fake_call_code(c));
                check_page(who, req, page);
                for (size_t i = 0; i < page->n_jobs; i++, seen++)
                        FUZZ_CHECK(seen < everything->n_jobs && strcmp(page->jobs[i]->id, everything->jobs[seen]->id) == 0,
                                   "page %u, job %zu: not the next of the whole listing", pages, i);
                if (!page->next_page_token[0])
                        break;
                FUZZ_CHECK(page->n_jobs > 0, "an empty page with a token");
                token = strdup(page->next_page_token);
                FUZZ_CHECK(token, "out of memory");
                fake_call_free(c);
                next.page_token = token;
                c = run(s, method, who, &next.base);
        }
        FUZZ_CHECK(seen == everything->n_jobs, "the pages hold %zu jobs, the listing %zu", seen, everything->n_jobs);
        fake_call_free(c);
        fake_call_free(whole);
}

/* ---- Start ------------------------------------------------------------------- */

/* A spec the daemon accepted is echoed in every status and kept in the job
 * file: both must give it back as it came. */
static void check_accepted_spec(const Jobrunner__V1__JobSpec *in) {
        _cleanup_(jr_spec_done) jr_spec spec = {};
        jr_manager m = { .state_dir = (char *) "/nonexistent", .slice = (char *) JR_SLICE_DEFAULT };
        Jobrunner__V1__JobStatus *echo = NULL;
        jr_status st = { .state = JR_STATE_STARTING, .spec = &spec };
        jr_job *j = NULL, *back = NULL;
        jr_error e = {};
        char *text = NULL;
        size_t size = 0;
        FILE *f;

        FUZZ_CHECK(convert_spec_from_proto(in, &spec, &e) == 0, "accepted, then refused: %s", e.message);
        FUZZ_CHECK(convert_status_to_proto(&st, &echo) == 0, "the accepted spec cannot be echoed");
        FUZZ_CHECK(echo->spec->n_argv == in->n_argv && echo->spec->n_env == in->n_env, "argv or env echoed wrong");
        for (size_t i = 0; i < in->n_argv; i++)
                FUZZ_CHECK(strcmp(echo->spec->argv[i], in->argv[i]) == 0, "argv[%zu] echoed wrong", i);
        for (size_t i = 0; i < in->n_env; i++)
                FUZZ_CHECK(strcmp(echo->spec->env[i], in->env[i]) == 0, "env[%zu] echoed wrong", i);
        FUZZ_CHECK(strcmp(echo->spec->working_directory, in->working_directory) == 0, "working_directory echoed wrong");
        FUZZ_CHECK(strcmp(echo->spec->user, in->user) == 0, "user echoed wrong");
        convert_status_free(echo);

        FUZZ_CHECK(job_new(&m, job_ids[0], "alice", &spec, &j) == 0, "out of memory");
        f = open_memstream(&text, &size);
        FUZZ_CHECK(f && job_store_write(j, f) == 0 && fclose(f) == 0, "cannot write the job");
        f = fmemopen(text, size, "r");
        FUZZ_CHECK(f && job_new(&m, job_ids[0], NULL, NULL, &back) == 0, "out of memory");
        FUZZ_CHECK(job_store_read(back, f) == 0, "the job file does not read back");
        fclose(f);
        FUZZ_CHECK(strv_length(back->spec.argv) == in->n_argv && strv_length(back->spec.env) == in->n_env,
                   "argv or env changed in the job file");
        for (size_t i = 0; i < in->n_argv; i++)
                FUZZ_CHECK(strcmp(back->spec.argv[i], in->argv[i]) == 0, "argv[%zu] changed in the job file", i);
        for (size_t i = 0; i < back->spec.n_io_limits; i++)
                FUZZ_CHECK(strcmp(back->spec.io_limits[i].device, spec.io_limits[i].device) == 0,
                           "an IO device changed in the job file");
        free(text);
        job_free(back);
        job_free(j);
}

static void fuzz_start(Server *s, const RpcMethod *method, const AuthzIdentity *who,
                       const Jobrunner__V1__StartRequest *req) {
        Call *c = run(s, method, who, &req->base);
        JrCode code = fake_call_code(c);

        FUZZ_CHECK(code == JR_CODE_INVALID_ARGUMENT || code == JR_CODE_PERMISSION_DENIED ||
                   code == JR_CODE_RESOURCE_EXHAUSTED, "Start: code %d", (int) code);
        if (code == JR_CODE_RESOURCE_EXHAUSTED) {
                FUZZ_CHECK(fake_call_audit_argv(c), "the audit record has no argv");
                check_accepted_spec(req->spec);
        }
        fake_call_free(c);
}

/* ---- the health check ---------------------------------------------------------- */

static void fuzz_health(Server *s, const RpcMethod *method, const AuthzIdentity *who,
                        const Grpc__Health__V1__HealthCheckRequest *req) {
        bool known = req->service[0] == '\0' || strcmp(req->service, "jobrunner.v1.JobRunner") == 0;
        Call *c = run(s, method, who, &req->base);
        const Grpc__Health__V1__HealthCheckResponse *resp =
                (const Grpc__Health__V1__HealthCheckResponse *) fake_call_response(c);

        FUZZ_CHECK(fake_call_code(c) == (known ? JR_CODE_OK : JR_CODE_NOT_FOUND), "Check of \"%s\": code %d",
                   req->service, (int) fake_call_code(c));
        FUZZ_CHECK(!known || resp->status == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING,
                   "Check: status %d", (int) resp->status);
        fake_call_free(c);
}

/* ---- the input ------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        FuzzInput in = { data, size };
        const RpcMethod *method = &rpc_methods[fuzz_byte(&in) % rpc_n_methods];
        uint8_t caller = fuzz_byte(&in);
        AuthzIdentity who = { .role = (AuthzRole) (caller % _AUTHZ_ROLE_MAX) };
        ProtobufCMessage *request;
        Server s;

        snprintf(who.name, sizeof(who.name), "%s", caller_names[(caller / _AUTHZ_ROLE_MAX) % ELEMENTSOF(caller_names)]);
        /* What grpc-call.c does with the bytes; a malformed message is
         * answered before any handler runs. */
        request = protobuf_c_message_unpack(method->request_type, NULL, in.size, in.data);
        if (!request)
                return 0;

        server_init(&s);
        switch (method->authz) {
        case AUTHZ_METHOD_START:
                fuzz_start(&s, method, &who, (const Jobrunner__V1__StartRequest *) request);
                break;
        case AUTHZ_METHOD_STOP: {
                const Jobrunner__V1__StopRequest *r = (const Jobrunner__V1__StopRequest *) request;
                fuzz_one_job(&s, method, &who, request, r->id, r->grace_period_ms);
                break;
        }
        case AUTHZ_METHOD_STATUS:
                fuzz_one_job(&s, method, &who, request, ((const Jobrunner__V1__GetStatusRequest *) request)->id, 0);
                break;
        case AUTHZ_METHOD_WAIT:
                fuzz_one_job(&s, method, &who, request, ((const Jobrunner__V1__WaitRequest *) request)->id, 0);
                break;
        case AUTHZ_METHOD_LIST:
                fuzz_list(&s, method, &who, (const Jobrunner__V1__ListRequest *) request);
                break;
        case AUTHZ_METHOD_LOGS:
                fuzz_logs(&s, method, &who, (const Jobrunner__V1__LogsRequest *) request);
                break;
        case AUTHZ_METHOD_ATTACH:
                fuzz_attach(&s, method, &who, (const Jobrunner__V1__AttachRequest *) request);
                break;
        case AUTHZ_METHOD_HEALTH:
                fuzz_health(&s, method, &who, (const Grpc__Health__V1__HealthCheckRequest *) request);
                break;
        default:
                break;
        }
        server_done(&s);
        protobuf_c_message_free_unpacked(request, NULL);
        return 0;
}
