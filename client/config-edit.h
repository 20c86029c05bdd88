/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Changes to the user's configuration file by the "jobrunner context"
 * commands: line by line, so that every line they do not change (comments,
 * blank lines, other keys and contexts) stays byte for byte as it was.
 * The file is written whole to a temporary file beside it, synced and
 * renamed over it, mode 0600 (it names the user's key), its directory
 * made 0700 if missing; a symbolic link is followed and stays.  From load
 * to done, the directory is locked (flock) against other changes.  A file
 * that does not parse is not touched. */

#include <stdbool.h>

#include "config-file.h"
#include "config.h"

typedef struct ConfigEdit {
        char *path;
        char *target;                   /* what path links to, else path */
        char *dir;                      /* target's directory */
        int dir_fd;                     /* locked (flock) while locked is true */
        bool locked;
        char **lines;                   /* each with its '\n', but maybe the last */
        size_t n_lines;
        ConfigFile parsed;              /* of the text as loaded */
        bool oom;                       /* a line's copy failed */
} ConfigEdit;

void config_edit_done(ConfigEdit *c);

/* Locks path's directory (made if missing), reads path (a missing file is
 * an empty one) and parses it; a file that does not parse is a
 * CLI_EXIT_CONFIG error naming the line. */
int config_edit_load(const char *path, ConfigEdit *ret, CliError *e);

/* Appends "[context NAME]" with the values given (NULL: not set), which
 * must be storable (config_value_invalid()).  An existing NAME is a
 * CLI_EXIT_USAGE error. */
int config_edit_add_context(ConfigEdit *c, const char *name, const char *const values[_SETTING_MAX], CliError *e);

/* Removes NAME's lines, and "context = NAME" if it is the current one.
 * An unknown NAME is a CLI_EXIT_USAGE error. */
int config_edit_remove_context(ConfigEdit *c, const char *name, CliError *e);

/* Sets "context = NAME" (NULL: removes it); NAME must exist. */
int config_edit_set_current(ConfigEdit *c, const char *name, CliError *e);

/* Parses the changed text (a file that would not read back is not
 * written) and writes it atomically. */
int config_edit_save(ConfigEdit *c, CliError *e);

/* NULL if value can be a value line of the file, else why not: no control
 * characters, no blanks at either end (the parser strips them). */
const char *config_value_invalid(const char *value);
