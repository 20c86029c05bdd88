/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon-config.h"
#include "log.h"
#include "macro.h"
#include "parse-number.h"
#include "starter-wire.h"
#include "strv.h"

static void help(void) {
        printf("Usage: jobrunnerd [OPTIONS]\n"
               "\n"
               "Runs jobs as transient systemd units and serves the jobrunner v1 gRPC API\n"
               "over mutual TLS 1.3.  Normally started by jobrunner.socket, whose sockets it\n"
               "serves; --listen is for running it by hand.\n"
               "\n"
               "  --listen ADDRESS         serve on ADDRESS (host:port, [v6]:port) instead of\n"
               "                           the sockets systemd passes; repeatable\n"
               "  --metrics-listen ADDRESS serve Prometheus metrics over plain HTTP on ADDRESS\n"
               "                           (host:port, [v6]:port, :port) when systemd passes\n"
               "                           no metrics socket (jobrunner-metrics.socket)\n"
               "  --tls-dir DIR            server.crt, server.key and the client CA ca.crt\n"
               "                           (default: $CREDENTIALS_DIRECTORY, which\n"
               "                           jobrunner.service fills, else " DAEMON_TLS_DIR_DEFAULT ")\n"
               "  --cert FILE, --key FILE, --client-ca FILE\n"
               "                           override one file of --tls-dir\n"
               "  --state-dir DIR          jobs' metadata and output (default: $STATE_DIRECTORY,\n"
               "                           else " DAEMON_STATE_DIR_DEFAULT ")\n"
               "  --starter SOCKET         have jobrunner-starter, listening on SOCKET, start\n"
               "                           the jobs' units (jobrunner.service passes\n"
               "                           " STARTER_WIRE_SOCKET "); without it the daemon\n"
               "                           starts them itself, which needs root or polkit\n"
               "  --init PATH              the jobrunner-init to run jobs under (not with\n"
               "                           --starter, which has its own)\n"
               "  --slice NAME             the slice of the jobs' units (default: jobrunner.slice;\n"
               "                           not with --starter)\n"
               "  --output-cap SIZE        stored output per job, stdout+stderr, such as 512M or\n"
               "                           2G (default: 1G)\n"
               "  --retention SPAN         remove ended jobs and their output this long after\n"
               "                           they ended, such as 12h or 30d; infinity keeps them\n"
               "                           (default: 7d)\n"
               "  --max-ended-jobs N       keep at most N ended jobs, removing the oldest;\n"
               "                           infinity for no limit (default: %" PRIu64 ")\n"
               "  --max-jobs N             running jobs of all users (default: %u)\n"
               "  --max-jobs-per-user N    running jobs of one user (default: %u)\n"
               "  --max-followers N        open Logs calls on one job (default: %u)\n"
               "  --log-level LEVEL        err, warning, notice, info or debug (default: info)\n"
               "  -h, --help               show this help\n"
               "      --version            show the version\n",
               JR_MAX_ENDED_JOBS_DEFAULT, DAEMON_MAX_ACTIVE_JOBS_DEFAULT, DAEMON_MAX_ACTIVE_JOBS_PER_OWNER_DEFAULT,
               DAEMON_MAX_FOLLOWERS_PER_JOB_DEFAULT);
}

/* "infinity" (UINT64_MAX) or what parse() accepts, which must not be 0. */
static int parse_positive_or_infinity(const char *s, int (*parse)(const char *s, uint64_t *ret), uint64_t *ret) {
        uint64_t v;
        int r;

        if (strcmp(s, "infinity") == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        r = parse(s, &v);
        if (r < 0)
                return r;
        if (v == 0 || v == UINT64_MAX)
                return -ERANGE;
        *ret = v;
        return 0;
}

static int parse_count(const char *s, uint64_t *ret) {
        return parse_uint64_range(s, 1, UINT64_MAX - 1, ret);
}

static int parse_log_level(const char *s) {
        static const struct { const char *name; int level; } levels[] = {
                { "err", LOG_ERR }, { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
                { "info", LOG_INFO }, { "debug", LOG_DEBUG },
        };

        for (size_t i = 0; i < ELEMENTSOF(levels); i++)
                if (strcmp(s, levels[i].name) == 0)
                        return levels[i].level;
        return -EINVAL;
}

static int set_string(char **field, const char *value) {
        char *copy = strdup(value);

        if (!copy)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

static int tls_path(char **field, const char *dir, const char *name) {
        if (*field)
                return 0;
        return asprintf(field, "%s/%s", dir, name) < 0 ? -ENOMEM : 0;
}

enum {
        ARG_LISTEN = 0x100, ARG_TLS_DIR, ARG_CERT, ARG_KEY, ARG_CLIENT_CA, ARG_STATE_DIR, ARG_INIT,
        ARG_SLICE, ARG_OUTPUT_CAP, ARG_RETENTION, ARG_MAX_ENDED_JOBS, ARG_MAX_JOBS, ARG_MAX_JOBS_PER_USER,
        ARG_MAX_FOLLOWERS, ARG_LOG_LEVEL, ARG_VERSION, ARG_METRICS_LISTEN, ARG_STARTER,
};

int daemon_config_parse(int argc, char *argv[], DaemonConfig *c) {
        static const struct option options[] = {
                { "listen", required_argument, NULL, ARG_LISTEN },
                { "metrics-listen", required_argument, NULL, ARG_METRICS_LISTEN },
                { "tls-dir", required_argument, NULL, ARG_TLS_DIR },
                { "cert", required_argument, NULL, ARG_CERT },
                { "key", required_argument, NULL, ARG_KEY },
                { "client-ca", required_argument, NULL, ARG_CLIENT_CA },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "starter", required_argument, NULL, ARG_STARTER },
                { "init", required_argument, NULL, ARG_INIT },
                { "slice", required_argument, NULL, ARG_SLICE },
                { "output-cap", required_argument, NULL, ARG_OUTPUT_CAP },
                { "retention", required_argument, NULL, ARG_RETENTION },
                { "max-ended-jobs", required_argument, NULL, ARG_MAX_ENDED_JOBS },
                { "max-jobs", required_argument, NULL, ARG_MAX_JOBS },
                { "max-jobs-per-user", required_argument, NULL, ARG_MAX_JOBS_PER_USER },
                { "max-followers", required_argument, NULL, ARG_MAX_FOLLOWERS },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        const char *tls_dir = getenv("CREDENTIALS_DIRECTORY") ?: DAEMON_TLS_DIR_DEFAULT;
        const char *state = getenv("STATE_DIRECTORY");
        uint64_t v;
        int opt, longindex = -1, r = 0;

        *c = (DaemonConfig) {
                .max_request_bytes = DAEMON_MAX_REQUEST_BYTES_DEFAULT,
                .limits = {
                        .max_active_jobs = DAEMON_MAX_ACTIVE_JOBS_DEFAULT,
                        .max_active_jobs_per_owner = DAEMON_MAX_ACTIVE_JOBS_PER_OWNER_DEFAULT,
                        .max_followers_per_job = DAEMON_MAX_FOLLOWERS_PER_JOB_DEFAULT,
                },
        };

        while ((opt = getopt_long(argc, argv, "h", options, &longindex)) >= 0) {
                switch (opt) {
                case ARG_LISTEN: {
                        char *a = strdup(optarg);

                        r = a ? strv_push(&c->listen, a) : -ENOMEM;
                        break;
                }
                case ARG_METRICS_LISTEN:
                        r = set_string(&c->metrics_listen, optarg);
                        break;
                case ARG_TLS_DIR:
                        tls_dir = optarg;
                        break;
                case ARG_CERT:
                        r = set_string(&c->certificate_path, optarg);
                        break;
                case ARG_KEY:
                        r = set_string(&c->key_path, optarg);
                        break;
                case ARG_CLIENT_CA:
                        r = set_string(&c->client_ca_path, optarg);
                        break;
                case ARG_STATE_DIR:
                        state = optarg;
                        break;
                case ARG_STARTER:
                        r = optarg[0] == '/' ? set_string(&c->starter_socket, optarg) : -EINVAL;
                        break;
                case ARG_INIT:
                        r = set_string(&c->init_path, optarg);
                        break;
                case ARG_SLICE:
                        r = set_string(&c->slice, optarg);
                        break;
                case ARG_OUTPUT_CAP:
                        r = parse_scaled(optarg, 1024, &c->output_cap);
                        if (r >= 0 && c->output_cap == 0)
                                r = -ERANGE;
                        break;
                case ARG_RETENTION:
                        r = parse_positive_or_infinity(optarg, parse_timespan, &c->retention_usec);
                        break;
                case ARG_MAX_ENDED_JOBS:
                        r = parse_positive_or_infinity(optarg, parse_count, &c->max_ended_jobs);
                        break;
                case ARG_MAX_JOBS:
                case ARG_MAX_JOBS_PER_USER:
                case ARG_MAX_FOLLOWERS:
                        r = parse_uint64_range(optarg, 1, 1000000, &v);
                        if (r >= 0)
                                *(opt == ARG_MAX_JOBS ? &c->limits.max_active_jobs :
                                  opt == ARG_MAX_JOBS_PER_USER ? &c->limits.max_active_jobs_per_owner :
                                  &c->limits.max_followers_per_job) = (unsigned) v;
                        break;
                case ARG_LOG_LEVEL:
                        r = parse_log_level(optarg);
                        if (r >= 0)
                                log_set_max_level(r);
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("jobrunnerd %s\n", JOBRUNNER_VERSION);
                        return 0;
                default:
                        return -EINVAL;         /* getopt said why */
                }
                if (r == -ENOMEM)
                        return log_error_errno(r, "out of memory");
                /* Every option with a value is a long one. */
                if (r < 0) {
                        log_error("invalid --%s '%s': %s; see --help", options[longindex].name, optarg,
                                  r == -ERANGE ? "out of range" : "not understood");
                        return r;
                }
        }
        if (optind < argc) {
                log_error("unexpected argument '%s'; see --help", argv[optind]);
                return -EINVAL;
        }
        /* The starter builds every unit itself, from its own settings:
         * the daemon cannot choose them. */
        if (c->starter_socket && (c->init_path || c->slice)) {
                log_error("--init and --slice cannot be used with --starter: jobrunner-starter chooses them");
                return -EINVAL;
        }

        /* $STATE_DIRECTORY may list several, separated by ':'; ours is one. */
        r = set_string(&c->state_dir, state ? state : DAEMON_STATE_DIR_DEFAULT);
        if (r >= 0)
                r = tls_path(&c->certificate_path, tls_dir, "server.crt");
        if (r >= 0)
                r = tls_path(&c->key_path, tls_dir, "server.key");
        if (r >= 0)
                r = tls_path(&c->client_ca_path, tls_dir, "ca.crt");
        if (r < 0)
                return log_error_errno(r, "out of memory");
        return 1;
}

void daemon_config_done(DaemonConfig *c) {
        strv_free(c->listen);
        free(c->metrics_listen);
        free(c->starter_socket);
        free(c->certificate_path);
        free(c->key_path);
        free(c->client_ca_path);
        free(c->state_dir);
        free(c->init_path);
        free(c->slice);
}
