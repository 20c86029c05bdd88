/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Command-line parsing shared by the commands: the common options, the
 * command's own, --help, and usage errors that name the command. */

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

/* Returns 1 if it took opt, 0 if not, or a negative errno with e set. */
typedef int (*OptionHandler)(Cli *cli, int opt, const char *arg, void *userdata, CliError *e);

typedef struct CommandSpec {
        const char *short_options;      /* getopt style, without 'h'; may be NULL */
        const struct option *options;   /* the command's own, {}-terminated; may be NULL */
        bool options_first;             /* the first operand ends the options (the job's argv follows) */
        OptionHandler handler;
        void *userdata;
        void (*help)(void);
} CommandSpec;

/* 0 with the operands in *ret_args (pointing into argv), 1 after --help,
 * or a negative errno. */
int command_parse(Cli *cli, int argc, char **argv, const CommandSpec *spec, char ***ret_args, size_t *ret_n,
                  CliError *e);

/* command_parse() for commands that take exactly one job id, whose syntax
 * it checks (see parse_job_id()); CONTEXT/ID selects the context (see
 * cli_job_context()) and *ret_id is ID. */
int command_parse_id(Cli *cli, int argc, char **argv, const CommandSpec *spec, const char **ret_id, CliError *e);
