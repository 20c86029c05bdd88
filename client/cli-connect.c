/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cli.h"

/* Apart from cli.c, which stays free of gRPC for the unit tests. */
int cli_connect(Cli *cli, CliError *e) {
        int r;

        if (cli->conn)
                return 0;
        r = settings_resolve(&cli->flags, NULL, &cli->settings, e);
        if (r < 0)
                return r;
        return conn_open(&cli->settings, cli->timeout_usec, &cli->conn, e);
}

void cli_done(Cli *cli) {
        conn_close(cli->conn);
        cli->conn = NULL;
        settings_done(&cli->settings);
}
