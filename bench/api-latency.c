/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The API's latency as one client sees it: N List calls (the first page, as
 * `jobrunner list` asks) one after the other on one connection, as root, to
 * the installed daemon; prints "p50_ms p99_ms" on stdout.  bench/scrape-impact
 * runs it with and without a scraper.
 *
 * Usage: api-latency [N]   (default 1000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-util.h"
#include "time-util.h"

#define CALL_DEADLINE_MS 60000

int main(int argc, char *argv[]) {
        _cleanup_(tc_disconnectp) TcConn *c = NULL;
        _cleanup_free_ double *ms = NULL;
        unsigned n = argc > 1 ? (unsigned) strtoul(argv[1], NULL, 10) : 1000;

        bench_init("api-latency");
        if (n == 0)
                die("usage: api-latency [N > 0]");
        ms = calloc(n, sizeof(double));
        if (!ms)
                die("out of memory");
        c = bench_connect("root");

        for (unsigned i = 0; i < n; i++) {
                Jobrunner__V1__ListRequest req = JOBRUNNER__V1__LIST_REQUEST__INIT;
                Jobrunner__V1__ListResponse *resp = NULL;
                _cleanup_free_ char *details = NULL;
                uint64_t t0 = now_nsec(CLOCK_MONOTONIC);
                int r, status = -1;

                r = tc_call(c, "List", &req.base, &jobrunner__v1__list_response__descriptor, CALL_DEADLINE_MS,
                            &status, &details, (ProtobufCMessage **) &resp);
                if (r < 0 || status != 0)
                        die("List: %s", r < 0 ? strerror(-r) : details);
                ms[i] = (double) (now_nsec(CLOCK_MONOTONIC) - t0) / 1e6;
                jobrunner__v1__list_response__free_unpacked(resp, NULL);
        }

        printf("%.3f %.3f\n", percentile(ms, n, 0.5), percentile(ms, n, 0.99));
        return 0;
}
