/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jobrunnerd: serves libjobrunner's jobs over gRPC with mutual TLS, on the
 * sockets systemd passes (jobrunner.socket) or, for development, on
 * addresses given with --listen. */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "daemon-config.h"
#include "fd-store.h"
#include "grpc-server.h"
#include "log.h"
#include "macro.h"
#include "metrics-http.h"
#include "metrics.h"
#include "rpc.h"
#include "socket-activation.h"
#include "starter-client.h"
#include "strv.h"

/* A starting job holds about five descriptors and every connection one; the
 * default soft limit of 1024 would cap the daemon far below its hard limit
 * (systemd's default is 524288), which select() users need and we do not. */
static void raise_nofile_limit(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
                return;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                log_warning_errno(errno, "cannot raise the file descriptor limit to %llu",
                                  (unsigned long long) rl.rlim_max);
}

static void on_server_done(Server *s, void *userdata) {
        (void) s;
        sd_event_exit(userdata, 0);
}

static int on_terminate(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        Server *server = userdata;
        int r;

        log_info("received %s, shutting down", strsignal((int) si->ssi_signo));
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Shutting down");
        r = server_shutdown(server, on_server_done, sd_event_source_get_event(source));
        if (r < 0) {
                log_error_errno(r, "cannot shut down gracefully");
                sd_event_exit(sd_event_source_get_event(source), 0);
        }
        return 0;
}

/* Either the sockets systemd passed, or --listen: never both, never none. */
static int listen_addresses(const DaemonConfig *config, char ***ret) {
        int n = socket_activation_init();

        if (n < 0)
                return log_error_errno(n, "cannot take over the sockets systemd passed");
        if (n > 0 && config->listen) {
                log_error("--listen cannot be used when systemd passes sockets (jobrunner.socket)");
                return -EINVAL;
        }
        if (n == 0 && !config->listen) {
                log_error("no socket to serve: start jobrunner.socket, or pass --listen ADDRESS");
                return -EINVAL;
        }
        if (config->listen)
                return (*ret = strv_copy(config->listen)) ? 0 : -ENOMEM;
        n = socket_activation_addresses(ret);
        return n < 0 ? log_error_errno(n, "cannot read the passed sockets' addresses") : 0;
}

/* The metrics endpoint and its collection run after the API's sources, so
 * that a scrape waits for gRPC's work, never the other way round. */
#define METRICS_PRIORITY (SD_EVENT_PRIORITY_NORMAL + 10)

/* The metrics endpoint's socket: the one systemd passed (jobrunner-metrics.socket),
 * or --metrics-listen's, or none (-ENOENT): the endpoint is optional, and it
 * is plain HTTP, so it is off unless an administrator turns it on. */
static int metrics_socket(const DaemonConfig *config) {
        int fd = socket_activation_take_metrics();

        if (fd >= 0 && config->metrics_listen) {
                safe_close(fd);
                log_error("--metrics-listen cannot be used when systemd passes a metrics socket "
                          "(jobrunner-metrics.socket)");
                return -EINVAL;
        }
        if (fd >= 0 || !config->metrics_listen)
                return fd;
        fd = metrics_http_listen(config->metrics_listen);
        if (fd < 0)
                return log_error_errno(fd, "cannot listen for metrics on %s", config->metrics_listen);
        return fd;
}

/* The jobs' pipes a previous jobrunnerd kept in systemd's fd store; they
 * come back with the sockets (fd-store.h). */
static int kept_pipes(jr_pipe **ret) {
        _cleanup_(strv_freep) char **names = NULL;
        _cleanup_free_ int *fds = NULL;
        int n;

        n = socket_activation_take_stored(&names, &fds);
        if (n <= 0) {
                *ret = NULL;
                return n;
        }
        return fd_store_pipes_from(names, fds, (size_t) n, ret);
}

static int run(int argc, char *argv[]) {
        _cleanup_(daemon_config_done) DaemonConfig config = {};
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(server_freep) Server *server = NULL;
        _cleanup_(metrics_http_freep) MetricsHttp *metrics_http = NULL;
        _cleanup_(metrics_freep) Metrics *metrics = NULL;
        _cleanup_(starter_client_freep) StarterClient *starter = NULL;
        jr_unit_starter starter_ops;
        _cleanup_close_ int metrics_fd = -EBADF;
        _cleanup_(strv_freep) char **addresses = NULL;
        _cleanup_free_ jr_pipe *pipes = NULL;
        size_t n_pipes;
        jr_manager *manager = NULL;
        jr_error e = {};
        Daemon daemon;
        int r;

        r = daemon_config_parse(argc, argv, &config);
        if (r <= 0)
                return r;

        if (getenv("JOURNAL_STREAM"))
                log_set_prefix_priority(1);

        /* Before gRPC or OpenSSL exist in this process. */
        r = server_prepare_process();
        if (r < 0)
                return log_error_errno(r, "cannot prepare the process for gRPC");
        raise_nofile_limit();
        /* Attach writes into jobs' stdin pipes: a job that closed its end
         * must give that writer EPIPE, never kill the daemon.  systemd
         * ignores SIGPIPE for services by default (IgnoreSIGPIPE=); this
         * holds however the daemon is run. */
        if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
                return log_error_errno(errno, "cannot ignore SIGPIPE: %m");

        r = listen_addresses(&config, &addresses);
        if (r < 0)
                return r;
        metrics_fd = metrics_socket(&config);
        if (metrics_fd < 0 && metrics_fd != -ENOENT)
                return metrics_fd;
        r = kept_pipes(&pipes);
        if (r < 0)
                return log_error_errno(r, "cannot take the pipes kept in systemd's fd store");
        n_pipes = (size_t) r;

        r = sd_event_default(&event);
        if (r < 0)
                return log_error_errno(r, "cannot create the event loop");
        r = sd_bus_open_system(&bus);
        if (r < 0)
                return log_error_errno(r, "cannot connect to the system bus");
        r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "cannot attach the system bus to the event loop");

        if (config.starter_socket) {
                r = starter_client_new(event, config.starter_socket, &starter);
                if (r < 0)
                        return log_error_errno(r, "cannot set up the client of jobrunner-starter");
                starter_ops = starter_client_ops(starter);
                log_info("jobrunner-starter at %s starts the jobs' units", config.starter_socket);
        }

        r = jr_manager_new(event, bus, &(jr_manager_config) {
                        .state_dir = config.state_dir,
                        .init_path = config.init_path,
                        .slice = config.slice,
                        .output_cap = config.output_cap,
                        .unit_starter = starter ? &starter_ops : NULL,
                        .retention_usec = config.retention_usec,
                        .max_ended_jobs = config.max_ended_jobs,
                        .on_pipe = fd_store_on_pipe,
                        .pipes = pipes,
                        .n_pipes = n_pipes,
                }, &manager, &e);
        if (r < 0)
                return log_error_errno(r, "cannot start the job manager: %s", e.message);
        daemon = (Daemon) { .manager = manager, .limits = config.limits };
        r = metrics_new(&daemon, event, METRICS_PRIORITY, rpc_methods, rpc_n_methods, &metrics);
        if (r < 0) {
                log_error_errno(r, "cannot set up the metrics");
                goto finish;
        }

        r = server_new(event, &(ServerConfig) {
                        .addresses = addresses,
                        .certificate_path = config.certificate_path,
                        .key_path = config.key_path,
                        .client_ca_path = config.client_ca_path,
                        .max_request_bytes = config.max_request_bytes,
                        .on_call_ended = metrics_on_call_ended,
                        .call_ended_userdata = metrics,
                }, rpc_methods, rpc_n_methods, &daemon, &server);
        if (r < 0)
                goto finish;
        r = server_start(server);
        if (r < 0)
                goto finish;
        r = socket_activation_check_claimed();
        if (r < 0) {
                log_error_errno(r, "not every socket systemd passed could be served");
                goto finish;
        }
        if (metrics_fd >= 0) {
                r = metrics_http_new(event, &(MetricsHttpConfig) {
                                .listen_fd = TAKE_FD(metrics_fd),
                                .priority = METRICS_PRIORITY,
                                .scrape = metrics_scrape,
                                .cancel = metrics_cancel,
                                .userdata = metrics,
                        }, &metrics_http);
                if (r < 0) {
                        log_error_errno(r, "cannot serve the metrics");
                        goto finish;
                }
                log_info("serving metrics over HTTP");
        }

        r = sd_event_add_signal(event, NULL, SIGTERM, on_terminate, server);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, on_terminate, server);
        if (r < 0) {
                log_error_errno(r, "cannot handle SIGTERM and SIGINT");
                goto finish;
        }

        for (char **a = addresses; *a; a++)
                log_info("serving on %s", *a);
        (void) sd_notify(false, "READY=1\nSTATUS=Serving");

        r = sd_event_loop(event);
        if (r < 0)
                log_error_errno(r, "event loop failed");
finish:
        /* Calls first: their handlers hold followers and watches of jobs.
         * The metrics endpoint reads the manager. */
        server = server_free(server);
        metrics_http = metrics_http_free(metrics_http);
        jr_manager_free(manager);
        return r;
}

int main(int argc, char *argv[]) {
        return run(argc, argv) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
