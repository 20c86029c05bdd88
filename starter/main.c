/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jobrunner-starter: starts jobs' transient units for jobrunnerd, one per
 * request, on the socket systemd passes (jobrunner-starter.socket).  It runs
 * as root because systemd 252 lets only uid 0 call StartTransientUnit
 * without asking polkit; it holds no capabilities. */

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "log.h"
#include "macro.h"
#include "policy.h"
#include "server.h"
#include "systemd-unit.h"
#include "unit-starter.h"

#define PEER_USER_DEFAULT "jobrunner"
#define PEER_UNIT_DEFAULT "jobrunner.service"
#define SLICE "jobrunner.slice"

typedef struct Options {
        const char *policy_path;
        const char *peer_user;
        const char *peer_unit;
} Options;

static void help(void) {
        printf("Usage: jobrunner-starter [OPTION...]\n\n"
               "Starts jobs' units for jobrunnerd on the socket systemd passes.\n\n"
               "  --policy=PATH     the administrator's policy (default: " STARTER_POLICY_PATH_DEFAULT ")\n"
               "  --peer-user=NAME  jobrunnerd's user (default: " PEER_USER_DEFAULT ")\n"
               "  --peer-unit=UNIT  jobrunnerd's unit in system.slice (default: " PEER_UNIT_DEFAULT ")\n"
               "  -h, --help        show this help\n"
               "      --version     show the version\n");
}

/* 1 to go on, 0 to exit successfully (--help), or a negative errno. */
static int parse_options(int argc, char *argv[], Options *o) {
        enum { ARG_POLICY = 0x100, ARG_PEER_USER, ARG_PEER_UNIT, ARG_VERSION };
        static const struct option options[] = {
                { "policy", required_argument, NULL, ARG_POLICY },
                { "peer-user", required_argument, NULL, ARG_PEER_USER },
                { "peer-unit", required_argument, NULL, ARG_PEER_UNIT },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        int opt;

        *o = (Options) { .peer_user = PEER_USER_DEFAULT, .peer_unit = PEER_UNIT_DEFAULT };
        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (opt) {
                case ARG_POLICY:
                        o->policy_path = optarg;
                        break;
                case ARG_PEER_USER:
                        o->peer_user = optarg;
                        break;
                case ARG_PEER_UNIT:
                        o->peer_unit = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("jobrunner-starter " JOBRUNNER_VERSION "\n");
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                log_error("unexpected argument: %s", argv[optind]);
                return -EINVAL;
        }
        /* It becomes one line of /proc/<pid>/cgroup below system.slice. */
        if (o->peer_unit[0] == 0 || strpbrk(o->peer_unit, "/\n")) {
                log_error("--peer-unit=%s: not a unit name", o->peer_unit);
                return -EINVAL;
        }
        return 1;
}

/* Exactly one socket, the one of jobrunner-starter.socket. */
static int listen_socket(void) {
        int n, r;

        n = sd_listen_fds(true);
        if (n < 0)
                return log_error_errno(n, "cannot take the sockets systemd passed");
        if (n != 1) {
                log_error("systemd passed %d sockets, not 1: start jobrunner-starter.socket, not the service", n);
                return -EINVAL;
        }
        r = sd_is_socket(SD_LISTEN_FDS_START, AF_UNIX, SOCK_SEQPACKET, 1);
        if (r < 0)
                return log_error_errno(r, "cannot inspect the socket systemd passed");
        if (r == 0) {
                log_error("the socket systemd passed is not a listening AF_UNIX SOCK_SEQPACKET socket");
                return -EINVAL;
        }
        return SD_LISTEN_FDS_START;
}

static int on_signal(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        (void) userdata;
        log_info("received %s, exiting", strsignal((int) si->ssi_signo));
        return sd_event_exit(sd_event_source_get_event(source), 0);
}

static void on_server_done(void *userdata, int error) {
        (void) sd_notify(false, "STOPPING=1");
        (void) sd_event_exit(userdata, error);
}

static int run(int argc, char *argv[]) {
        _cleanup_(starter_policy_done) StarterPolicy policy = {};
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(starter_server_freep) StarterServer *server = NULL;
        _cleanup_free_ char *cgroup_line = NULL;
        UnitBus *unit_bus = NULL;
        UnitStarter *starter = NULL;
        const struct passwd *pw;
        sigset_t mask;
        jr_error e = {};
        Options o;
        int fd, r;

        if (getenv("JOURNAL_STREAM"))
                log_set_prefix_priority(1);
        r = parse_options(argc, argv, &o);
        if (r <= 0)
                return r;

        r = starter_policy_load(o.policy_path, &policy, &e);
        if (r < 0)
                return log_error_errno(r, "%s", e.message);
        errno = 0;
        pw = getpwnam(o.peer_user);
        if (!pw)
                return log_error_errno(errno ?: ENOENT, "--peer-user=%s: no such user", o.peer_user);
        if (asprintf(&cgroup_line, "0::/system.slice/%s", o.peer_unit) < 0)
                return log_error_errno(ENOMEM, "out of memory");
        fd = listen_socket();
        if (fd < 0)
                return fd;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "cannot block SIGTERM and SIGINT");
        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, on_signal, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, on_signal, NULL);
        if (r < 0)
                return log_error_errno(r, "cannot set up the event loop");

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return log_error_errno(r, "cannot connect to the system bus");
        /* Without the bus nothing can be started: exit, and socket
         * activation starts a new starter at the next connection. */
        r = sd_bus_set_exit_on_disconnect(bus, true);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "cannot attach the system bus to the event loop");
        /* No unit's progress is the starter's business: no handlers, and
         * no PropertiesChanged match. */
        r = unit_bus_new(bus, &(UnitBusHandlers) {}, NULL, &unit_bus);
        if (r < 0)
                return log_error_errno(r, "cannot subscribe to systemd's signals");
        r = unit_starter_new_direct(unit_bus, SLICE, JOBRUNNER_INIT_PATH, &starter);
        if (r < 0) {
                log_error_errno(r, "cannot set up starting units");
                goto finish;
        }
        r = starter_server_new(event, &(StarterServerConfig) {
                        .listen_fd = fd,
                        .starter = starter,
                        .policy = &policy,
                        .peer_uid = pw->pw_uid,
                        .peer_cgroup_line = cgroup_line,
                        .on_done = on_server_done,
                        .userdata = event,
                }, &server);
        if (r < 0) {
                log_error_errno(r, "cannot serve the socket");
                goto finish;
        }

        log_info("serving %s (uid %u, unit %s), policy %s", o.peer_user, (unsigned) pw->pw_uid, o.peer_unit,
                 policy.path);
        (void) sd_notify(false, "READY=1\nSTATUS=Serving");
        r = sd_event_loop(event);
        if (r < 0)
                log_error_errno(r, "stopped serving");
finish:
        /* Calls before the starter, the starter before the bus of its
         * calls. */
        server = starter_server_free(server);
        unit_starter_free(starter);
        unit_bus_free(unit_bus);
        return r;
}

int main(int argc, char *argv[]) {
        return run(argc, argv) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
