/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "cli.h"
#include "fanout.h"

/* Apart from cli.c, which stays free of gRPC for the unit tests. */
int cli_connect(Cli *cli, CliError *e) {
        int r;

        if (cli->conn)
                return 0;
        /* The commands that fan out never come here with several
         * contexts; the others take one. */
        if (cli_fans_out(cli))
                return cli_usage(cli, e, "%s takes one context, not several (-c given twice, a pattern, or "
                                 "--all-contexts)", cli->verb ?: "this command");
        r = settings_resolve(&cli->flags, NULL, &cli->settings, e);
        if (r < 0)
                return r;
        return conn_open(&cli->settings, cli->timeout_usec, &cli->conn, e);
}

void cli_done(Cli *cli) {
        /* The connection may be one of the fan-out's hosts' (a job found
         * there): all closed with one wait for gRPC's shutdown. */
        fanout_free(cli->fanout, cli->conn);
        cli->fanout = NULL;
        cli->conn = NULL;
        free(cli->context_args);
        cli->context_args = NULL;
        free(cli->job_context);
        cli->job_context = NULL;
        settings_done(&cli->settings);
}
