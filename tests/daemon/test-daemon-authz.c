/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who may do what, through the installed, socket-activated daemon: the
 * role x method x job matrix of proto/jobrunner.proto (daemon/authz.h) with
 * exact status codes, List's visibility and owner filter, JobSpec.user, the
 * owner being the certificate's CN, certificates our CA signed that still
 * carry no usable identity, and the audit record of a denial.
 *
 * Users (tests/daemon/install-daemon): root = admin, alice and bob =
 * operators, victor = viewer.  A TLS handshake costs about a second in the
 * VM: every test opens one connection per user and keeps it. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "daemon-harness.h"
#include "macro.h"
#include "status.h"

#define STOP_GRACE_MS 5000u

#define streq(a, b) (strcmp((a), (b)) == 0)

static void setup(void) {
        dh_install();
}

TestSuite(daemon_authz, .init = setup, .timeout = 600);

/* ---- helpers -------------------------------------------------------------- */

static const char *code_name(int code) {
        return tc_status_name(code) ?: "?";
}

/* What one call came back with.  job: the JobStatus of the response (Start,
 * Stop, GetStatus, Wait) or of Logs' end message; output: the stdout bytes
 * Logs sent, NUL-terminated. */
typedef struct Reply {
        int code;
        char *details;
        Jobrunner__V1__JobStatus *job;
        char *output;
        size_t output_len;
        bool logs_saw_gap;
} Reply;

static void reply_done(Reply *r) {
        free(r->details);
        dh_job_status_freep(&r->job);
        free(r->output);
        *r = (Reply) {};
}

/* The JobStatus field "job" of a Start/Stop/GetStatus/Wait response, which
 * all look alike: { JobStatus job = 1; }. */
static void unary(TcConn *c, const char *method, const ProtobufCMessage *req,
                  const ProtobufCMessageDescriptor *resp_type, Reply *ret) {
        const ProtobufCFieldDescriptor *field = protobuf_c_message_descriptor_get_field_by_name(resp_type, "job");
        ProtobufCMessage *resp = NULL;
        int r;

        *ret = (Reply) {};
        r = tc_call(c, method, req, resp_type, 60000, &ret->code, &ret->details, &resp);
        cr_assert(r >= 0, "%s: the test client failed: %s", method, strerror(-r));
        if (resp) {
                Jobrunner__V1__JobStatus **p = (Jobrunner__V1__JobStatus **) ((char *) resp + field->offset);

                ret->job = TAKE_PTR(*p);
                protobuf_c_message_free_unpacked(resp, NULL);
        }
}

/* Logs of both streams from 0: reads the call to its end. */
static void logs(TcConn *c, const char *id, bool follow, Reply *ret) {
        Jobrunner__V1__LogsRequest req = JOBRUNNER__V1__LOGS_REQUEST__INIT;
        _cleanup_(tc_stream_freep) TcStream *s = NULL;
        Jobrunner__V1__LogsResponse *m = NULL;
        const char *details = NULL;
        uint64_t next[3] = {};
        int r;

        *ret = (Reply) {};
        req.id = (char *) id;
        req.follow = follow;
        cr_assert_eq(tc_logs_open(c, &req, 60000, &s), 0);
        while ((r = tc_stream_next(s, &m)) == 1) {
                cr_assert_null(ret->job, "Logs sent a message after its end message");
                switch (m->event_case) {
                case JOBRUNNER__V1__LOGS_RESPONSE__EVENT_CHUNK: {
                        Jobrunner__V1__LogChunk *k = m->chunk;

                        cr_assert(k->stream == 1 || k->stream == 2, "chunk of stream %d", k->stream);
                        cr_assert_eq(k->offset, next[k->stream], "chunk at %llu, expected %llu",
                                     (unsigned long long) k->offset, (unsigned long long) next[k->stream]);
                        next[k->stream] += k->data.len;
                        if (k->stream == JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT) {
                                ret->output = realloc(ret->output, ret->output_len + k->data.len + 1);
                                cr_assert_not_null(ret->output);
                                memcpy(ret->output + ret->output_len, k->data.data, k->data.len);
                                ret->output_len += k->data.len;
                                ret->output[ret->output_len] = 0;
                        }
                        break;
                }
                case JOBRUNNER__V1__LOGS_RESPONSE__EVENT_GAP:
                        ret->logs_saw_gap = true;
                        break;
                case JOBRUNNER__V1__LOGS_RESPONSE__EVENT_END:
                        ret->job = TAKE_PTR(m->end);
                        break;
                default:
                        cr_assert_fail("Logs message without an event");
                }
                jobrunner__v1__logs_response__free_unpacked(m, NULL);
        }
        cr_assert_eq(r, 0, "Logs %s: the test client failed: %s", id, strerror(-r));
        cr_assert_eq(tc_stream_status(s, &ret->code, &details), 0);
        ret->details = strdup(details ?: "");
        cr_assert_not_null(ret->details);
        if (!ret->output)
                ret->output = strdup("");
}

/* One of the methods that act on one job, with the request it needs. */
static void call_on_job(TcConn *c, const char *method, const char *id, Reply *ret) {
        if (streq(method, "GetStatus")) {
                Jobrunner__V1__GetStatusRequest req = JOBRUNNER__V1__GET_STATUS_REQUEST__INIT;

                req.id = (char *) id;
                unary(c, method, &req.base, &jobrunner__v1__get_status_response__descriptor, ret);
        } else if (streq(method, "Wait")) {
                Jobrunner__V1__WaitRequest req = JOBRUNNER__V1__WAIT_REQUEST__INIT;

                req.id = (char *) id;
                unary(c, method, &req.base, &jobrunner__v1__wait_response__descriptor, ret);
        } else if (streq(method, "Stop")) {
                Jobrunner__V1__StopRequest req = JOBRUNNER__V1__STOP_REQUEST__INIT;

                req.id = (char *) id;
                req.grace_period_ms = STOP_GRACE_MS;
                unary(c, method, &req.base, &jobrunner__v1__stop_response__descriptor, ret);
        } else if (streq(method, "Logs"))
                logs(c, id, false, ret);
        else
                cr_assert_fail("no such method %s", method);
}

/* Start with an optional run-as user; the reply's job is the new job. */
static void start(TcConn *c, const char *user, const char *const *argv, Reply *ret) {
        Jobrunner__V1__JobSpec spec = JOBRUNNER__V1__JOB_SPEC__INIT;
        Jobrunner__V1__StartRequest req = JOBRUNNER__V1__START_REQUEST__INIT;

        while (argv[spec.n_argv])
                spec.n_argv++;
        spec.argv = (char **) argv;
        if (user)
                spec.user = (char *) user;
        req.spec = &spec;
        unary(c, "Start", &req.base, &jobrunner__v1__start_response__descriptor, ret);
}

/* Starts argv as the connection's user, fails unless OK. */
static char *start_job(TcConn *c, const char *owner, const char *const *argv) {
        _cleanup_job_ Jobrunner__V1__JobStatus *j = dh_start(c, argv);
        char *id;

        cr_assert_str_eq(j->owner, owner, "a job started by %s is owned by \"%s\"", owner, j->owner);
        cr_assert(j->state == JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING ||
                  j->state == JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED,
                  "%s: state %d (%s)", argv[0], j->state, j->failure_reason);
        id = strdup(j->id);
        cr_assert_not_null(id);
        return id;
}

/* Waits for the job as its owner, so that its output is complete. */
static void wait_ended(TcConn *c, const char *id) {
        _cleanup_(reply_done) Reply r = {};

        call_on_job(c, "Wait", id, &r);
        cr_assert_eq(r.code, JR_CODE_OK, "Wait %s: %s: %s", id, code_name(r.code), r.details);
        cr_assert_neq(r.job->end_time_us, 0);
}

/* ---- the matrix ----------------------------------------------------------- */

/* The jobs the matrix acts on.  *_DONE: /bin/echo, ended before the matrix
 * runs (GetStatus, Wait, Logs); *_SLEEP: sleep 60, one per Stop that is
 * allowed (it really stops it) and one that must survive the denied ones. */
typedef enum JobRef {
        ROOT_DONE,
        ROOT_SLEEP,
        ALICE_DONE,
        ALICE_SLEEP,
        BOB_DONE,
        BOB_SLEEP_STOPPED_BY_ROOT,
        BOB_SLEEP_KEPT,
        UNKNOWN_JOB,    /* a random id: no such job */
        NO_JOB,         /* Start */
        _JOB_REF_MAX,
} JobRef;

static const struct {
        const char *name, *owner;
        bool sleeps;
} job_refs[_JOB_REF_MAX] = {
        [ROOT_DONE]                 = { "root's ended job",    "root",  false },
        [ROOT_SLEEP]                = { "root's running job",  "root",  true },
        [ALICE_DONE]                = { "alice's ended job",   "alice", false },
        [ALICE_SLEEP]               = { "alice's running job", "alice", true },
        [BOB_DONE]                  = { "bob's ended job",     "bob",   false },
        [BOB_SLEEP_STOPPED_BY_ROOT] = { "bob's running job",   "bob",   true },
        [BOB_SLEEP_KEPT]            = { "bob's running job",   "bob",   true },
        [UNKNOWN_JOB]               = { "an unknown id",       NULL,    false },
        [NO_JOB]                    = { "no job",              NULL,    false },
};

typedef struct MatrixCase {
        const char *user;       /* root: admin, alice: operator, victor: viewer */
        const char *method;
        JobRef job;
        JrCode code;
} MatrixCase;

static const MatrixCase matrix[] = {
        /* admin: everything, on every job; an unknown id is NOT_FOUND and a
         * Stop of an ended job FAILED_PRECONDITION, as for anyone who may
         * see the job. */
        { "root",   "Start",     NO_JOB,                    JR_CODE_OK },
        { "root",   "GetStatus", ROOT_DONE,                 JR_CODE_OK },
        { "root",   "Wait",      ROOT_DONE,                 JR_CODE_OK },
        { "root",   "Logs",      ROOT_DONE,                 JR_CODE_OK },
        { "root",   "Stop",      ROOT_SLEEP,                JR_CODE_OK },
        { "root",   "GetStatus", BOB_DONE,                  JR_CODE_OK },
        { "root",   "Wait",      BOB_DONE,                  JR_CODE_OK },
        { "root",   "Logs",      BOB_DONE,                  JR_CODE_OK },
        { "root",   "Stop",      BOB_SLEEP_STOPPED_BY_ROOT, JR_CODE_OK },
        { "root",   "Stop",      BOB_DONE,                  JR_CODE_FAILED_PRECONDITION },
        { "root",   "GetStatus", UNKNOWN_JOB,               JR_CODE_NOT_FOUND },
        { "root",   "Stop",      UNKNOWN_JOB,               JR_CODE_NOT_FOUND },

        /* operator: its own jobs; another user's are NOT_FOUND exactly as an
         * unknown id is (checked below: same code, same message), even a
         * Stop of an ended one, which would otherwise tell it exists. */
        { "alice",  "Start",     NO_JOB,                    JR_CODE_OK },
        { "alice",  "GetStatus", ALICE_DONE,                JR_CODE_OK },
        { "alice",  "Wait",      ALICE_DONE,                JR_CODE_OK },
        { "alice",  "Logs",      ALICE_DONE,                JR_CODE_OK },
        { "alice",  "Stop",      ALICE_SLEEP,               JR_CODE_OK },
        { "alice",  "GetStatus", BOB_DONE,                  JR_CODE_NOT_FOUND },
        { "alice",  "Wait",      BOB_DONE,                  JR_CODE_NOT_FOUND },
        { "alice",  "Logs",      BOB_DONE,                  JR_CODE_NOT_FOUND },
        { "alice",  "Stop",      BOB_SLEEP_KEPT,            JR_CODE_NOT_FOUND },
        { "alice",  "Stop",      BOB_DONE,                  JR_CODE_NOT_FOUND },
        { "alice",  "GetStatus", ROOT_DONE,                 JR_CODE_NOT_FOUND },
        { "alice",  "GetStatus", UNKNOWN_JOB,               JR_CODE_NOT_FOUND },
        { "alice",  "Wait",      UNKNOWN_JOB,               JR_CODE_NOT_FOUND },
        { "alice",  "Logs",      UNKNOWN_JOB,               JR_CODE_NOT_FOUND },
        { "alice",  "Stop",      UNKNOWN_JOB,               JR_CODE_NOT_FOUND },

        /* viewer: reads every job; Start and Stop are PERMISSION_DENIED
         * whatever the job, unknown or ended ones included. */
        { "victor", "Start",     NO_JOB,                    JR_CODE_PERMISSION_DENIED },
        { "victor", "Stop",      BOB_SLEEP_KEPT,            JR_CODE_PERMISSION_DENIED },
        { "victor", "Stop",      ALICE_DONE,                JR_CODE_PERMISSION_DENIED },
        { "victor", "Stop",      UNKNOWN_JOB,               JR_CODE_PERMISSION_DENIED },
        { "victor", "GetStatus", BOB_DONE,                  JR_CODE_OK },
        { "victor", "Wait",      BOB_DONE,                  JR_CODE_OK },
        { "victor", "Logs",      BOB_DONE,                  JR_CODE_OK },
        { "victor", "GetStatus", ALICE_DONE,                JR_CODE_OK },
        { "victor", "Wait",      ALICE_DONE,                JR_CODE_OK },
        { "victor", "Logs",      ALICE_DONE,                JR_CODE_OK },
        { "victor", "GetStatus", ROOT_DONE,                 JR_CODE_OK },
        { "victor", "Logs",      ROOT_DONE,                 JR_CODE_OK },
        { "victor", "GetStatus", UNKNOWN_JOB,               JR_CODE_NOT_FOUND },
        { "victor", "Wait",      UNKNOWN_JOB,               JR_CODE_NOT_FOUND },
        { "victor", "Logs",      UNKNOWN_JOB,               JR_CODE_NOT_FOUND },
};

static const char *const users[] = { "root", "alice", "bob", "victor" };

typedef struct Matrix {
        TcConn *conn[ELEMENTSOF(users)];
        char *id[_JOB_REF_MAX];
} Matrix;

static TcConn *conn_of(Matrix *m, const char *user) {
        for (size_t i = 0; i < ELEMENTSOF(users); i++)
                if (streq(users[i], user))
                        return m->conn[i];
        cr_assert_fail("no connection for %s", user);
        return NULL;
}

/* What an allowed call must have returned, beyond OK. */
static void check_ok_reply(const MatrixCase *t, Matrix *m, const Reply *r) {
        const char *owner = job_refs[t->job].owner;

        cr_assert_not_null(r->job, "%s %s by %s: OK without a JobStatus", t->method, job_refs[t->job].name, t->user);
        if (t->job == NO_JOB) {
                /* The owner is the certificate's CN: the request has no
                 * field for it. */
                cr_assert_str_eq(r->job->owner, t->user);
                return;
        }
        cr_assert_str_eq(r->job->id, m->id[t->job]);
        cr_assert_str_eq(r->job->owner, owner);
        if (streq(t->method, "Stop")) {
                cr_assert_eq(r->job->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_STOPPED, "Stop by %s: state %d",
                             t->user, r->job->state);
                cr_assert_str_eq(r->job->stopped_by, t->user);
        } else if (streq(t->method, "Wait"))
                cr_assert_eq(r->job->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED);
        else if (streq(t->method, "Logs")) {
                char expected[64];

                snprintf(expected, sizeof(expected), "job of %s\n", owner);
                cr_assert_str_eq(r->output, expected, "Logs %s by %s", job_refs[t->job].name, t->user);
                cr_assert_not(r->logs_saw_gap);
        }
}

static void run_case(const MatrixCase *t, Matrix *m) {
        TcConn *c = conn_of(m, t->user);
        _cleanup_(reply_done) Reply r = {};

        if (t->job == NO_JOB) {
                static const char *const argv[] = { "/bin/true", NULL };

                start(c, NULL, argv, &r);
        } else
                call_on_job(c, t->method, m->id[t->job], &r);

        cr_log_info("%-6s %-9s %-20s -> %s %s", t->user, t->method, job_refs[t->job].name, code_name(r.code),
                    r.details);
        cr_assert_eq(r.code, (int) t->code, "%s %s (%s) by %s: expected %s, got %s: %s", t->method,
                     job_refs[t->job].name, t->job < UNKNOWN_JOB ? m->id[t->job] : "", t->user,
                     code_name(t->code), code_name(r.code), r.details);
        if (r.code == JR_CODE_OK)
                check_ok_reply(t, m, &r);
        else
                cr_assert_null(r.job);

        /* Another user's job must look exactly like a job that does not
         * exist: same code and same message, so nothing tells them apart. */
        if (t->code == JR_CODE_NOT_FOUND && t->job != UNKNOWN_JOB) {
                _cleanup_(reply_done) Reply u = {};

                call_on_job(c, t->method, m->id[UNKNOWN_JOB], &u);
                cr_assert_eq(u.code, r.code, "%s by %s: %s on %s but %s on an unknown id", t->method, t->user,
                             code_name(r.code), job_refs[t->job].name, code_name(u.code));
                cr_assert_str_eq(r.details, u.details, "%s by %s: \"%s\" on %s but \"%s\" on an unknown id",
                                 t->method, t->user, r.details, job_refs[t->job].name, u.details);
        }
}

Test(daemon_authz, matrix_of_roles_methods_and_jobs) {
        Matrix m = {};

        for (size_t i = 0; i < ELEMENTSOF(users); i++)
                m.conn[i] = dh_connect(users[i]);

        for (JobRef j = 0; j < UNKNOWN_JOB; j++) {
                char message[64];
                const char *const done[] = { "/bin/echo", message, NULL };
                const char *const sleeps[] = { "/bin/sleep", "60", NULL };

                snprintf(message, sizeof(message), "job of %s", job_refs[j].owner);
                m.id[j] = start_job(conn_of(&m, job_refs[j].owner), job_refs[j].owner,
                                    job_refs[j].sleeps ? sleeps : done);
        }
        m.id[UNKNOWN_JOB] = malloc(33);
        cr_assert_not_null(m.id[UNKNOWN_JOB]);
        dh_random_id(m.id[UNKNOWN_JOB]);
        for (JobRef j = 0; j < UNKNOWN_JOB; j++)
                if (!job_refs[j].sleeps)
                        wait_ended(conn_of(&m, job_refs[j].owner), m.id[j]);

        for (size_t i = 0; i < ELEMENTSOF(matrix); i++)
                run_case(&matrix[i], &m);

        /* The denied Stops left bob's job running; bob may stop it. */
        {
                _cleanup_(reply_done) Reply r = {};

                call_on_job(conn_of(&m, "bob"), "GetStatus", m.id[BOB_SLEEP_KEPT], &r);
                cr_assert_eq(r.code, JR_CODE_OK);
                cr_assert_eq(r.job->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING,
                             "bob's job was not to be stopped by anyone but bob: state %d, stopped by \"%s\"",
                             r.job->state, r.job->stopped_by);
                cr_assert_str_eq(r.job->stopped_by, "");
                reply_done(&r);

                call_on_job(conn_of(&m, "bob"), "Stop", m.id[BOB_SLEEP_KEPT], &r);
                cr_assert_eq(r.code, JR_CODE_OK, "Stop by bob: %s: %s", code_name(r.code), r.details);
                cr_assert_str_eq(r.job->stopped_by, "bob");
        }

        for (size_t i = 0; i < ELEMENTSOF(m.id); i++)
                free(m.id[i]);
        for (size_t i = 0; i < ELEMENTSOF(users); i++)
                tc_disconnect(m.conn[i]);
}

/* ---- List ------------------------------------------------------------------ */

typedef struct Listing {
        int code;
        char *details;
        size_t n_jobs;
        char **ids, **owners;
} Listing;

static void listing_done(Listing *l) {
        for (size_t i = 0; i < l->n_jobs; i++) {
                free(l->ids[i]);
                free(l->owners[i]);
        }
        free(l->ids);
        free(l->owners);
        free(l->details);
        *l = (Listing) {};
}

/* Every page of List with this owner filter (NULL: none). */
static void list_all(TcConn *c, const char *owner, Listing *ret) {
        _cleanup_free_ char *token = NULL;

        *ret = (Listing) {};
        for (unsigned page = 0;; page++) {
                Jobrunner__V1__ListRequest req = JOBRUNNER__V1__LIST_REQUEST__INIT;
                Jobrunner__V1__ListResponse *resp = NULL;
                int r;

                cr_assert_lt(page, 100, "List does not end");
                req.owner = (char *) (owner ?: "");
                req.page_size = 1000;
                req.page_token = token ?: (char *) "";
                free(ret->details);
                ret->details = NULL;
                r = tc_call(c, "List", &req.base, &jobrunner__v1__list_response__descriptor, 60000, &ret->code,
                            &ret->details, (ProtobufCMessage **) &resp);
                cr_assert(r >= 0, "List: the test client failed: %s", strerror(-r));
                if (ret->code != JR_CODE_OK)
                        return;

                ret->ids = realloc(ret->ids, (ret->n_jobs + resp->n_jobs + 1) * sizeof(char *));
                ret->owners = realloc(ret->owners, (ret->n_jobs + resp->n_jobs + 1) * sizeof(char *));
                cr_assert(ret->ids && ret->owners);
                for (size_t i = 0; i < resp->n_jobs; i++) {
                        ret->ids[ret->n_jobs] = strdup(resp->jobs[i]->id);
                        ret->owners[ret->n_jobs] = strdup(resp->jobs[i]->owner);
                        cr_assert(ret->ids[ret->n_jobs] && ret->owners[ret->n_jobs]);
                        ret->n_jobs++;
                }
                free(token);
                token = strdup(resp->next_page_token);
                cr_assert_not_null(token);
                jobrunner__v1__list_response__free_unpacked(resp, NULL);
                if (!token[0])
                        return;
        }
}

static bool listing_has(const Listing *l, const char *id) {
        for (size_t i = 0; i < l->n_jobs; i++)
                if (streq(l->ids[i], id))
                        return true;
        return false;
}

static void assert_only_owner(const Listing *l, const char *who, const char *owner) {
        for (size_t i = 0; i < l->n_jobs; i++)
                cr_assert_str_eq(l->owners[i], owner, "List by %s shows job %s of %s", who, l->ids[i], l->owners[i]);
}

Test(daemon_authz, list_shows_what_the_role_may_see) {
        static const char *const argv[] = { "/bin/true", NULL };
        _cleanup_(tc_disconnectp) TcConn *alice = dh_connect("alice");
        _cleanup_(tc_disconnectp) TcConn *bob = dh_connect("bob");
        _cleanup_(tc_disconnectp) TcConn *victor = dh_connect("victor");
        _cleanup_(tc_disconnectp) TcConn *root = dh_connect("root");
        _cleanup_free_ char *alice_job = start_job(alice, "alice", argv);
        _cleanup_free_ char *bob_job = start_job(bob, "bob", argv);
        _cleanup_(listing_done) Listing l = {};

        /* An operator: its own jobs only, with or without naming itself;
         * naming anyone else is PERMISSION_DENIED. */
        list_all(alice, NULL, &l);
        cr_assert_eq(l.code, JR_CODE_OK, "List by alice: %s: %s", code_name(l.code), l.details);
        cr_assert(listing_has(&l, alice_job), "alice does not see her job %s", alice_job);
        cr_assert_not(listing_has(&l, bob_job), "alice sees bob's job %s", bob_job);
        assert_only_owner(&l, "alice", "alice");
        listing_done(&l);

        list_all(alice, "alice", &l);
        cr_assert_eq(l.code, JR_CODE_OK, "List owner=alice by alice: %s: %s", code_name(l.code), l.details);
        cr_assert(listing_has(&l, alice_job));
        assert_only_owner(&l, "alice", "alice");
        listing_done(&l);

        list_all(alice, "bob", &l);
        cr_assert_eq(l.code, JR_CODE_PERMISSION_DENIED, "List owner=bob by alice: %s: %s", code_name(l.code),
                     l.details);
        cr_assert_eq(l.n_jobs, 0);
        listing_done(&l);

        /* A viewer and an admin: everybody's. */
        list_all(victor, NULL, &l);
        cr_assert_eq(l.code, JR_CODE_OK, "List by victor: %s: %s", code_name(l.code), l.details);
        cr_assert(listing_has(&l, bob_job), "victor does not see bob's job");
        cr_assert(listing_has(&l, alice_job), "victor does not see alice's job");
        listing_done(&l);

        list_all(victor, "bob", &l);
        cr_assert_eq(l.code, JR_CODE_OK, "List owner=bob by victor: %s: %s", code_name(l.code), l.details);
        cr_assert(listing_has(&l, bob_job));
        assert_only_owner(&l, "victor", "bob");
        listing_done(&l);

        list_all(root, NULL, &l);
        cr_assert_eq(l.code, JR_CODE_OK, "List by root: %s: %s", code_name(l.code), l.details);
        cr_assert(listing_has(&l, bob_job), "root does not see bob's job");
        cr_assert(listing_has(&l, alice_job), "root does not see alice's job");
}

/* ---- JobSpec.user ---------------------------------------------------------- */

Test(daemon_authz, only_admins_name_the_run_as_user) {
        static const char *const argv[] = { "/usr/bin/id", "-un", NULL };
        _cleanup_(tc_disconnectp) TcConn *alice = dh_connect("alice");
        _cleanup_(tc_disconnectp) TcConn *root = dh_connect("root");
        _cleanup_(reply_done) Reply r = {};
        _cleanup_free_ char *id = NULL;

        start(alice, "nobody", argv, &r);
        cr_assert_eq(r.code, JR_CODE_PERMISSION_DENIED, "Start as nobody by alice: %s: %s", code_name(r.code),
                     r.details);
        cr_assert_null(r.job);
        reply_done(&r);

        start(root, "nobody", argv, &r);
        cr_assert_eq(r.code, JR_CODE_OK, "Start as nobody by root: %s: %s", code_name(r.code), r.details);
        cr_assert_str_eq(r.job->owner, "root");
        cr_assert_str_eq(r.job->spec->user, "nobody");
        id = strdup(r.job->id);
        cr_assert_not_null(id);
        reply_done(&r);

        wait_ended(root, id);
        logs(root, id, false, &r);
        cr_assert_eq(r.code, JR_CODE_OK, "Logs: %s: %s", code_name(r.code), r.details);
        cr_assert_not_null(r.job, "Logs of an ended job without its end message");
        cr_assert_eq(r.job->state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_EXITED, "state %d (%s)", r.job->state,
                     r.job->failure_reason);
        cr_assert_eq(r.job->exit_code, 0);
        cr_assert_str_eq(r.output, "nobody\n");
}

/* ---- certificates our CA signed, without a usable identity ---------------- */

static void make_client_cert(const char *dir, const char *name, const char *subject) {
        const char *openssl = getenv("JOBRUNNER_OPENSSL") ?: "openssl";
        char command[4096];
        uint64_t serial;

        cr_assert_eq(getrandom(&serial, sizeof(serial), 0), (ssize_t) sizeof(serial));
        /* As jobrunner-keys makes them (tests/daemon/install-daemon), with
         * the subject as given, signed by the same CA. */
        snprintf(command, sizeof(command),
                 "set -e; cd '%1$s'; mkdir -p users/%2$s; "
                 "printf 'basicConstraints = critical,CA:FALSE\\nkeyUsage = critical,digitalSignature\\n"
                 "extendedKeyUsage = clientAuth\\nsubjectKeyIdentifier = hash\\n"
                 "authorityKeyIdentifier = keyid:always\\n' > ext.cnf; "
                 "'%3$s' genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
                 "-out users/%2$s/client.key 2>/dev/null; "
                 "'%3$s' req -new -key users/%2$s/client.key -subj '%4$s' -out %2$s.csr; "
                 "'%3$s' x509 -req -in %2$s.csr -CA '%5$s/ca.crt' -CAkey '%5$s/ca.key' -set_serial %6$llu "
                 "-days 2 -sha256 -extfile ext.cnf -out users/%2$s/client.crt 2>/dev/null",
                 dir, name, openssl, subject, DH_TLS_DIR, (unsigned long long) (serial >> 1));
        dh_shell(command);
}

typedef struct BadCert {
        const char *name, *subject;
        JrCode code;
        const char *details_part;       /* what the message must name */
} BadCert;

static const BadCert bad_certs[] = {
        { "guest",   "/O=jobrunner/OU=guest/CN=gus",                JR_CODE_PERMISSION_DENIED, "guest" },
        { "no-cn",   "/O=jobrunner/OU=operator",                    JR_CODE_UNAUTHENTICATED,   "CN" },
        { "two-ous", "/O=jobrunner/OU=operator/OU=admin/CN=eve",    JR_CODE_UNAUTHENTICATED,   "OU" },
        { "no-ou",   "/O=jobrunner/CN=olga",                        JR_CODE_UNAUTHENTICATED,   "OU" },
};

Test(daemon_authz, certificates_without_a_usable_identity) {
        static const char *const argv[] = { "/bin/true", NULL };
        char dir[] = "/tmp/jobrunner-authz-certs.XXXXXX", unknown[33], command[512];

        cr_assert_not_null(mkdtemp(dir), "mkdtemp: %m");
        dh_random_id(unknown);

        for (size_t i = 0; i < ELEMENTSOF(bad_certs); i++) {
                const BadCert *b = &bad_certs[i];
                _cleanup_(tc_disconnectp) TcConn *c = NULL;
                _cleanup_(reply_done) Reply r = {};

                make_client_cert(dir, b->name, b->subject);
                c = dh_connect_from(dir, b->name);

                /* Every rpc, a read and a Start: nothing goes through. */
                call_on_job(c, "GetStatus", unknown, &r);
                cr_log_info("%s (%s): GetStatus -> %s %s", b->name, b->subject, code_name(r.code), r.details);
                cr_assert_eq(r.code, (int) b->code, "%s: GetStatus: expected %s, got %s: %s", b->subject,
                             code_name(b->code), code_name(r.code), r.details);
                cr_assert(strstr(r.details, b->details_part), "%s: message \"%s\" does not mention %s", b->subject,
                          r.details, b->details_part);
                reply_done(&r);

                start(c, NULL, argv, &r);
                cr_assert_eq(r.code, (int) b->code, "%s: Start: expected %s, got %s: %s", b->subject,
                             code_name(b->code), code_name(r.code), r.details);
                cr_assert_null(r.job);
        }

        snprintf(command, sizeof(command), "rm -rf '%s'", dir);
        dh_shell(command);
}

/* ---- audit ------------------------------------------------------------------- */

Test(daemon_authz, denials_are_audited_with_their_code) {
        static const char *const argv[] = { "/bin/true", NULL };
        _cleanup_(tc_disconnectp) TcConn *victor = dh_connect("victor");
        _cleanup_(reply_done) Reply r = {};
        _cleanup_free_ char *start_record = NULL, *stop_record = NULL;
        time_t since = time(NULL) - 1;
        char unknown[33], matches[256];

        start(victor, NULL, argv, &r);
        cr_assert_eq(r.code, JR_CODE_PERMISSION_DENIED, "Start by victor: %s: %s", code_name(r.code), r.details);
        reply_done(&r);
        dh_random_id(unknown);
        call_on_job(victor, "Stop", unknown, &r);
        cr_assert_eq(r.code, JR_CODE_PERMISSION_DENIED, "Stop by victor: %s: %s", code_name(r.code), r.details);

        start_record = dh_wait_audit_record(since, "JOBRUNNER_USER=victor JOBRUNNER_ROLE=viewer "
                                                   "JOBRUNNER_METHOD=Start JOBRUNNER_CODE=PERMISSION_DENIED");
        cr_log_info("audit: %s", start_record);
        cr_assert(strstr(start_record, "victor (viewer)"), "audit record: %s", start_record);
        cr_assert(strstr(start_record, "PERMISSION_DENIED"), "audit record: %s", start_record);

        /* The job id of a denied call is in the record, even an unknown one. */
        snprintf(matches, sizeof(matches),
                 "JOBRUNNER_USER=victor JOBRUNNER_METHOD=Stop JOBRUNNER_JOB_ID=%s JOBRUNNER_CODE=PERMISSION_DENIED",
                 unknown);
        stop_record = dh_wait_audit_record(since, matches);
        cr_log_info("audit: %s", stop_record);
        cr_assert(strstr(stop_record, unknown), "audit record: %s", stop_record);
}
