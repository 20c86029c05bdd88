/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One part of bench/start, run as root in the test VM with jobrunnerd
 * installed: JOBS Start calls of "/bin/sleep 600" with the CLI's limits
 * (--memory 256M --cpu 50%), all in flight at once over one TLS connection,
 * as USER.  Prints the seconds from the first call to the last answer (each
 * answers once its job runs) and the number of starts that failed on
 * stdout (the first failure's reason on stderr), then stops every job
 * that runs (untimed).
 *
 * Usage: start-burst USER JOBS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-util.h"
#include "time-util.h"

#define CALL_DEADLINE_MS (30 * 60 * 1000)

static TcUnary *start_begin(TcConn *c) {
        char *argv[] = { (char *) "/bin/sleep", (char *) "600" };
        Jobrunner__V1__Limits limits = JOBRUNNER__V1__LIMITS__INIT;
        Jobrunner__V1__JobSpec spec = JOBRUNNER__V1__JOB_SPEC__INIT;
        Jobrunner__V1__StartRequest req = JOBRUNNER__V1__START_REQUEST__INIT;
        TcUnary *u;
        int r;

        limits.memory_max_bytes = UINT64_C(256) << 20;
        limits.cpu_quota_percent = 50;
        spec.n_argv = ELEMENTSOF(argv);
        spec.argv = argv;
        spec.limits = &limits;
        req.spec = &spec;
        r = tc_call_start(c, "Start", &req.base, CALL_DEADLINE_MS, &u);
        if (r < 0)
                die("Start: %s", strerror(-r));
        return u;
}

/* The job's id, or NULL if its start failed: said once, counted by the
 * caller. */
static char *start_end(TcUnary *u, unsigned k, unsigned *n_failed) {
        Jobrunner__V1__StartResponse *resp = NULL;
        _cleanup_free_ char *details = NULL;
        int r, status = -1;
        char *id = NULL;

        r = tc_call_wait(u, &jobrunner__v1__start_response__descriptor, &status, &details, (ProtobufCMessage **) &resp);
        if (r < 0 || status != 0) {
                if ((*n_failed)++ == 0)
                        fprintf(stderr, "start-burst: Start %u: %s\n", k, r < 0 ? strerror(-r) : details);
        } else if (resp->job->state != JOBRUNNER__V1__JOB_STATE__JOB_STATE_RUNNING) {
                if ((*n_failed)++ == 0)
                        fprintf(stderr, "start-burst: Start %u: state %d: %s\n", k, resp->job->state,
                                resp->job->failure_reason);
        } else
                id = xasprintf("%s", resp->job->id);
        if (resp)
                jobrunner__v1__start_response__free_unpacked(resp, NULL);
        return id;
}

static void stop_all(TcConn *c, char **ids, unsigned n) {
        _cleanup_free_ TcUnary **calls = calloc(n, sizeof(TcUnary *));

        if (!calls)
                die("out of memory");
        for (unsigned k = 0; k < n; k++) {
                Jobrunner__V1__StopRequest req = JOBRUNNER__V1__STOP_REQUEST__INIT;
                int r;

                if (!ids[k])
                        continue;
                req.id = ids[k];
                r = tc_call_start(c, "Stop", &req.base, CALL_DEADLINE_MS, &calls[k]);
                if (r < 0)
                        die("Stop: %s", strerror(-r));
        }
        for (unsigned k = 0; k < n; k++) {
                _cleanup_free_ char *details = NULL;
                ProtobufCMessage *resp = NULL;
                int r, status = -1;

                if (!ids[k])
                        continue;
                r = tc_call_wait(calls[k], &jobrunner__v1__stop_response__descriptor, &status, &details, &resp);
                if (r < 0 || status != 0)
                        die("Stop %u: %s", k, r < 0 ? strerror(-r) : details);
                protobuf_c_message_free_unpacked(resp, NULL);
        }
}

int main(int argc, char *argv[]) {
        _cleanup_free_ TcUnary **calls = NULL;
        _cleanup_free_ char **ids = NULL;
        TcConn *c;
        unsigned n, n_failed = 0;
        uint64_t t0;

        bench_init("start-burst");
        if (argc != 3 || (n = (unsigned) strtoul(argv[2], NULL, 10)) == 0)
                die("usage: start-burst USER JOBS");
        calls = calloc(n, sizeof(TcUnary *));
        ids = calloc(n, sizeof(char *));
        if (!calls || !ids)
                die("out of memory");

        c = bench_connect(argv[1]);
        t0 = now_nsec(CLOCK_MONOTONIC);
        for (unsigned k = 0; k < n; k++)
                calls[k] = start_begin(c);
        for (unsigned k = 0; k < n; k++)
                ids[k] = start_end(calls[k], k, &n_failed);
        printf("%.3f %u\n", (double) (now_nsec(CLOCK_MONOTONIC) - t0) / 1e9, n_failed);
        fflush(stdout);

        stop_all(c, ids, n);
        for (unsigned k = 0; k < n; k++)
                free(ids[k]);
        tc_disconnect(c);
        return 0;
}
