/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One command on the servers of several contexts (-c NAME|PATTERN...,
 * --all-contexts): a host per selected context, in the order of their
 * names, each with the settings that context resolves to (the usual
 * precedence, the context forced), its own connection and its own
 * prefixed output (host-prefix.h).  The hosts run on a pool of at most
 * --parallel threads (default 32), each host on one thread from its
 * connection to its end, so a host that cannot be reached holds up no
 * other.  A single context, or none, never comes here: the command runs
 * as it always did. */

#include <stdbool.h>

#include "cli.h"
#include "conn.h"
#include "fanout-summary.h"
#include "host-prefix.h"
#include "logs-output.h"

typedef struct FanOut FanOut;

typedef struct FanHost {
        FanOut *fanout;
        const char *name;               /* the context */
        CliSettings settings;
        CliError settings_error;        /* why settings are missing */
        Conn *conn;                     /* after fanout_connect() */
        HostOutput out;
        LogsOutput logs;                /* the job's output, into out */
        HostResult result;
} FanHost;

struct FanOut {
        Cli *cli;
        FanHost *hosts;
        size_t n_hosts;
        HostSink sink;
};

/* Selects the contexts (fanout-select.h) and resolves their settings
 * (errors kept per host); the result belongs to cli (cli_done() frees
 * it). */
int fanout_open(Cli *cli, FanOut **ret, CliError *e);
/* Closes the hosts' connections and also (which f may be NULL), waiting
 * once for gRPC's shutdown. */
void fanout_free(FanOut *f, Conn *also);

/* On the host's thread: its connection, once.  e: the host's error. */
int fanout_connect(FanHost *h, CliError *e);

/* fn(host, userdata) for every host, at most --parallel at a time; returns
 * when all are done. */
void fanout_each(FanOut *f, void (*fn)(FanHost *h, void *userdata), void *userdata);

/* The host's result from an error: HOST_FAILED and the message. */
void fanout_host_failed(FanHost *h, const CliError *e);

/* "jobrunner: NAME: MESSAGE" on stderr for each host that failed. */
void fanout_print_errors(FanOut *f);
/* The exit status of the rule in fanout-summary.h; with summary, the
 * summary on stderr first. */
int fanout_finish(FanOut *f, bool summary, CliError *e);
