/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Transient services through sd-bus, as libjobrunner will start them: the
 * kernel's OOM verdict reaches the unit's result, and bytes written to an fd
 * passed as StandardOutputFileDescriptor reach us. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include "macro.h"
#include "transient-unit.h"

/* A fresh unit name per test: units of earlier runs may linger. */
static char *unit_name(const char *what) {
        sd_id128_t id;
        char *name;

        cr_assert_geq(sd_id128_randomize(&id), 0);
        cr_assert_gt(asprintf(&name, "jobrunner-test-%s-" SD_ID128_FORMAT_STR ".service", what,
                              SD_ID128_FORMAT_VAL(id)), 0);
        return name;
}

static int append_oom_properties(sd_bus_message *m, void *userdata) {
        const char *memhog = userdata;
        char *const argv[] = { (char *) memhog, (char *) "64", NULL };
        int r;

        r = append_exec_start(m, argv);
        if (r < 0)
                return r;
        return sd_bus_message_append(m, "(sv)(sv)",
                                     "MemoryMax", "t", UINT64_C(32) << 20,
                                     "MemorySwapMax", "t", UINT64_C(0));
}

Test(transient_unit, memory_max_ends_in_oom_kill) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *name = unit_name("oom"), *result = NULL;
        const char *memhog = getenv("JOBRUNNER_MEMHOG");

        cr_assert_not_null(memhog, "JOBRUNNER_MEMHOG is not set");
        cr_assert_geq(sd_bus_open_system(&bus), 0);
        cr_assert_geq(transient_unit_start(bus, name, append_oom_properties, (void *) memhog), 0);
        cr_assert_geq(transient_unit_wait(bus, name, &result), 0);
        printf("%s (MemoryMax=32M, allocates 64 MiB): result=%s\n", name, result);
        cr_assert_str_eq(result, "oom-kill");
}

/* Enough output to fill a pipe buffer several times over. */
#define LINES 20000

struct stdout_job {
        int fd;
        char script[128];
};

static int append_stdout_properties(sd_bus_message *m, void *userdata) {
        struct stdout_job *job = userdata;
        char *const argv[] = { (char *) "/bin/sh", (char *) "-c", job->script, NULL };
        int r;

        r = append_exec_start(m, argv);
        if (r < 0)
                return r;
        return sd_bus_message_append(m, "(sv)", "StandardOutputFileDescriptor", "h", job->fd);
}

Test(transient_unit, stdout_fd_delivers_every_byte) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *name = unit_name("stdout"), *result = NULL, *expected = NULL, *got = NULL;
        _cleanup_close_pair_ int pipefd[2] = { -EBADF, -EBADF };
        size_t expected_len = 0, got_len = 0;
        _cleanup_fclose_ FILE *e = open_memstream(&expected, &expected_len);
        _cleanup_fclose_ FILE *g = open_memstream(&got, &got_len);
        char buf[65536];
        ssize_t n;

        cr_assert_not_null(e);
        cr_assert_not_null(g);
        for (int i = 0; i < LINES; i++)
                fprintf(e, "line %d\n", i);
        fflush(e);

        cr_assert_geq(pipe2(pipefd, O_CLOEXEC), 0);
        cr_assert_geq(sd_bus_open_system(&bus), 0);
        struct stdout_job job = { .fd = pipefd[1] };
        snprintf(job.script, sizeof(job.script),
                 "i=0; while [ $i -lt %d ]; do echo \"line $i\"; i=$((i+1)); done", LINES);
        cr_assert_geq(transient_unit_start(bus, name, append_stdout_properties, &job), 0);
        /* Ours is the last write end outside the unit: EOF means it is done. */
        pipefd[1] = safe_close(pipefd[1]);
        while ((n = read(pipefd[0], buf, sizeof(buf))) > 0)
                fwrite(buf, 1, (size_t) n, g);
        cr_assert_eq(n, 0, "read: %m");
        fflush(g);

        cr_assert_geq(transient_unit_wait(bus, name, &result), 0);
        printf("%s: %zu bytes through StandardOutputFileDescriptor, result=%s\n", name, got_len, result);
        cr_assert_str_eq(result, "success");
        cr_assert_eq(got_len, expected_len);
        cr_assert_eq(memcmp(got, expected, expected_len), 0, "the bytes differ");
}
