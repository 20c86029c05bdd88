/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "command.h"
#include "spec-options.h"

/* Parses the options and argv of start and run into a; verb_options are
 * the command's own, for extra.  0, 1 after --help, or a negative errno. */
int spec_command_parse(Cli *cli, int argc, char **argv, const struct option *verb_options, OptionHandler extra,
                       void *userdata, void (*show_help)(void), SpecArgs *a, CliError *e);
