/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The CLI's configuration files: the user's ($XDG_CONFIG_HOME/jobrunner/
 * config) and the system's (/etc/jobrunner/client.conf).
 *
 * Lines are "key = value" with the keys server, cert, key, ca and
 * tls-server-name; blank lines and lines starting with '#' are ignored.  A
 * relative path in a file is relative to the file's directory, "~/" is the
 * home directory.  A line "[context NAME]" starts a context: the keys up to
 * the next such line are that context's, a named set of the same settings.
 * Before the first context, "context = NAME" names the current context,
 * which the file must define.  Only the user's file may hold contexts.
 *
 * Line-based on purpose: config-edit.c rewrites single lines and keeps
 * everything else, comments included, byte for byte. */

#include <stdio.h>

#include "config.h"

#define CONTEXT_NAME_MAX 64

typedef struct ConfigContext {
        char *name;
        unsigned line;                  /* of its "[context NAME]" */
        CliSettings settings;           /* .context unused */
} ConfigContext;

struct ConfigFile {
        CliSettings top;                /* the keys before any context */
        Setting current;                /* "context = NAME", origin "PATH:N" */
        unsigned current_line;
        ConfigContext *contexts;
        size_t n_contexts;
};

void config_file_done(ConfigFile *c);

/* The context of that name, or NULL. */
const ConfigContext *config_file_find_context(const ConfigFile *c, const char *name);

/* One configuration file, already open, into out (zeroed by the caller):
 * what it does not set stays NULL; a value set twice, an unknown key, an
 * invalid context name or a malformed line is a CLI_EXIT_CONFIG error
 * naming path and line.  Exposed for tests and fuzzing. */
int config_parse_file(FILE *f, const char *path, ConfigFile *out, CliError *e);

/* The same for a file by name; a missing file is an empty one. */
int config_load(const char *path, ConfigFile *out, CliError *e);

/* Context names: 1 to CONTEXT_NAME_MAX of [A-Za-z0-9._-], not starting
 * with '-' or '.'.  NULL if valid, else why not. */
const char *context_name_invalid(const char *name);

typedef enum ConfigLineType {
        CONFIG_LINE_EMPTY,              /* blank or a comment */
        CONFIG_LINE_SECTION,            /* "[WORD NAME]": *ret_a = WORD, *ret_b = NAME (maybe "") */
        CONFIG_LINE_KEY,                /* "KEY = VALUE": *ret_a = KEY, *ret_b = VALUE */
        CONFIG_LINE_BAD,
} ConfigLineType;

/* What one line is, its parts cut out of line (which it modifies) and
 * stripped of blanks.  Shared by the parser and the editor. */
ConfigLineType config_line_split(char *line, char **ret_a, char **ret_b);
