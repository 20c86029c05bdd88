/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"

/* jobrunnerd's settings, from its command line (the unit passes none by
 * default; a drop-in with ExecStart= can). */

#define DAEMON_TLS_DIR_DEFAULT "/etc/jobrunner/tls"
#define DAEMON_STATE_DIR_DEFAULT "/var/lib/jobrunner"
/* StartRequest is the largest request.  In protobuf its argv and env take
 * fewer bytes (a tag and a length of up to 3 bytes per string) than
 * JR_EXEC_BYTES_MAX counts for them (a NUL and an 8-byte pointer); besides
 * them a spec holds a working directory and up to JR_IO_DEVICES_MAX device
 * paths, each shorter than PATH_MAX, a user name and a few numbers.  Nothing
 * larger can be a valid request: gRPC refuses it before it is parsed. */
#define DAEMON_MAX_REQUEST_BYTES_DEFAULT (JR_EXEC_BYTES_MAX + (JR_IO_DEVICES_MAX + 1u) * (PATH_MAX + 64u) + 4096u)

typedef struct DaemonConfig {
        char **listen;                  /* NULL: the sockets systemd passes */
        char *metrics_listen;           /* NULL: the metrics socket systemd passes, if any */
        char *certificate_path;
        char *key_path;
        char *client_ca_path;
        char *state_dir;
        char *starter_socket;           /* NULL: start units directly, not through jobrunner-starter */
        char *init_path;                /* NULL: the installed jobrunner-init */
        char *slice;                    /* NULL: jobrunner.slice */
        uint64_t output_cap;            /* 0: the library's default */
        uint64_t retention_usec;        /* 0: the library's default; UINT64_MAX: forever */
        uint64_t max_ended_jobs;        /* 0: the library's default; UINT64_MAX: no limit */
        size_t max_request_bytes;
        DaemonLimits limits;
} DaemonConfig;

/* 1: run; 0: done (--help, --version); negative errno: a usage error,
 * already reported. */
int daemon_config_parse(int argc, char *argv[], DaemonConfig *ret);
void daemon_config_done(DaemonConfig *c);
