/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "daemon.h"

/* jobrunnerd's settings, from its command line (the unit passes none by
 * default; a drop-in with ExecStart= can). */

#define DAEMON_TLS_DIR_DEFAULT "/etc/jobrunner/tls"
#define DAEMON_STATE_DIR_DEFAULT "/var/lib/jobrunner"
/* StartRequest is the largest request: a spec is at most JR_SPEC_BYTES_MAX
 * of strings; allow for its framing, refuse anything beyond. */
#define DAEMON_MAX_REQUEST_BYTES_DEFAULT (2u * 1024u * 1024u)

typedef struct DaemonConfig {
        char **listen;                  /* NULL: the sockets systemd passes */
        char *certificate_path;
        char *key_path;
        char *client_ca_path;
        char *state_dir;
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
