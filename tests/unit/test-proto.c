/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The v1 API's wire rules that the rest of jobrunner relies on. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "jobrunner.pb-c.h"

Test(proto, enums_default_to_unspecified) {
        Jobrunner__V1__JobStatus status = JOBRUNNER__V1__JOB_STATUS__INIT;
        Jobrunner__V1__Isolation iso = JOBRUNNER__V1__ISOLATION__INIT;

        cr_assert_eq(status.state, JOBRUNNER__V1__JOB_STATE__JOB_STATE_UNSPECIFIED);
        cr_assert_eq(JOBRUNNER__V1__JOB_STATE__JOB_STATE_UNSPECIFIED, 0);
        cr_assert_eq(iso.network, JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_UNSPECIFIED);
        cr_assert_eq(iso.pid_namespace, JOBRUNNER__V1__TOGGLE__TOGGLE_UNSPECIFIED);
}

Test(proto, log_chunks_carry_arbitrary_bytes) {
        /* Job output is bytes: NUL and invalid UTF-8 must survive a round trip. */
        static const uint8_t data[] = { 'a', 0, 0xff, 0xfe, '\n', 0xc3 };
        Jobrunner__V1__LogChunk chunk = JOBRUNNER__V1__LOG_CHUNK__INIT;
        Jobrunner__V1__LogsResponse resp = JOBRUNNER__V1__LOGS_RESPONSE__INIT;

        chunk.stream = JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR;
        chunk.offset = UINT64_C(5000000000);
        chunk.data.data = (uint8_t *) data;
        chunk.data.len = sizeof(data);
        resp.event_case = JOBRUNNER__V1__LOGS_RESPONSE__EVENT_CHUNK;
        resp.chunk = &chunk;

        size_t n = jobrunner__v1__logs_response__get_packed_size(&resp);
        uint8_t *buf = malloc(n);
        cr_assert_not_null(buf);
        cr_assert_eq(jobrunner__v1__logs_response__pack(&resp, buf), n);

        Jobrunner__V1__LogsResponse *back = jobrunner__v1__logs_response__unpack(NULL, n, buf);
        cr_assert_not_null(back);
        cr_assert_eq(back->event_case, JOBRUNNER__V1__LOGS_RESPONSE__EVENT_CHUNK);
        cr_assert_eq(back->chunk->stream, JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR);
        cr_assert_eq(back->chunk->offset, UINT64_C(5000000000));
        cr_assert_eq(back->chunk->data.len, sizeof(data));
        cr_assert_arr_eq(back->chunk->data.data, data, sizeof(data));
        jobrunner__v1__logs_response__free_unpacked(back, NULL);
        free(buf);
}

Test(proto, start_request_round_trips_the_spec) {
        char *argv[] = { (char *) "/usr/bin/env", (char *) "$HOME" };
        Jobrunner__V1__IoDeviceLimit io = JOBRUNNER__V1__IO_DEVICE_LIMIT__INIT;
        Jobrunner__V1__IoDeviceLimit *ios[] = { &io };
        Jobrunner__V1__Limits limits = JOBRUNNER__V1__LIMITS__INIT;
        Jobrunner__V1__JobSpec spec = JOBRUNNER__V1__JOB_SPEC__INIT;
        Jobrunner__V1__StartRequest req = JOBRUNNER__V1__START_REQUEST__INIT;

        io.device = (char *) "/dev/vda";
        io.read_bytes_per_second = 10 * 1024 * 1024;
        limits.memory_max_bytes = UINT64_C(256) << 20;
        limits.n_io_device_limits = 1;
        limits.io_device_limits = ios;
        spec.n_argv = 2;
        spec.argv = argv;
        spec.limits = &limits;
        req.spec = &spec;

        size_t n = jobrunner__v1__start_request__get_packed_size(&req);
        uint8_t *buf = malloc(n);
        cr_assert_not_null(buf);
        jobrunner__v1__start_request__pack(&req, buf);
        Jobrunner__V1__StartRequest *back = jobrunner__v1__start_request__unpack(NULL, n, buf);
        cr_assert_not_null(back);
        cr_assert_eq(back->spec->n_argv, 2);
        cr_assert_str_eq(back->spec->argv[1], "$HOME");
        cr_assert_eq(back->spec->limits->memory_max_bytes, UINT64_C(256) << 20);
        cr_assert_str_eq(back->spec->limits->io_device_limits[0]->device, "/dev/vda");
        cr_assert_eq(back->spec->limits->io_device_limits[0]->read_bytes_per_second, 10 * 1024 * 1024);
        cr_assert_null(back->spec->isolation);
        jobrunner__v1__start_request__free_unpacked(back, NULL);
        free(buf);
}

Test(proto, garbage_does_not_unpack) {
        static const uint8_t junk[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 'x' };
        cr_assert_null(jobrunner__v1__start_request__unpack(NULL, sizeof(junk), junk));
}
