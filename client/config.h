/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where to connect and with which certificate.  Each setting comes from the
 * first of: the command line (--server, --cert, --key, --ca), the
 * environment (JOBRUNNER_SERVER, _CERT, _KEY, _CA), the user's
 * configuration file ($XDG_CONFIG_HOME/jobrunner/config, by default
 * ~/.config/jobrunner/config), the system's (/etc/jobrunner/client.conf),
 * the defaults (localhost:50051 and the files jobrunner-keys hands out, in
 * $XDG_CONFIG_HOME/jobrunner/tls/; for root without a client.crt there,
 * those of /etc/jobrunner/tls/users/root/, which the jobrunnerd package's
 * first install makes).
 *
 * The files hold "key = value" lines with the keys server, cert, key and
 * ca; blank lines and lines starting with '#' are ignored.  A relative path
 * in a file is relative to the file's directory, "~/" is the home
 * directory. */

#include <stdio.h>
#include <sys/types.h>

#include "error.h"

#define SYSTEM_CONFIG_PATH "/etc/jobrunner/client.conf"
#define ROOT_TLS_DIR "/etc/jobrunner/tls/users/root"
#define DEFAULT_PORT "50051"
#define DEFAULT_SERVER "localhost:" DEFAULT_PORT

typedef struct CliFlags {
        const char *server, *cert, *key, *ca;
} CliFlags;

typedef struct Setting {
        char *value;
        /* Where the value came from, for messages: "--cert",
         * "$JOBRUNNER_CERT", "/home/u/.config/jobrunner/config:3",
         * "default". */
        char *origin;
} Setting;

typedef enum SettingKey {
        SETTING_SERVER,
        SETTING_CERT,
        SETTING_KEY,
        SETTING_CA,
        _SETTING_MAX,
} SettingKey;

typedef struct CliSettings {
        Setting s[_SETTING_MAX];
} CliSettings;

/* "server", "cert", "key", "ca". */
const char *setting_name(SettingKey k);

/* The system's files; tests pass their own.  NULL members (or a NULL
 * pointer): SYSTEM_CONFIG_PATH, ROOT_TLS_DIR. */
typedef struct CliSystemFiles {
        const char *config;
        const char *root_tls_dir;
} CliSystemFiles;

/* A missing configuration file is fine; an unreadable or malformed one is
 * a CLI_EXIT_CONFIG error naming file and line.  The server value is
 * normalised (see normalize_server()). */
int settings_resolve(const CliFlags *flags, const CliSystemFiles *sys, CliSettings *ret, CliError *e);
void settings_done(CliSettings *s);

/* One configuration file, already open, into out: what it does not set
 * stays NULL; a value set twice, an unknown key or a malformed line is a
 * CLI_EXIT_CONFIG error naming path and line.  For settings_resolve(), and
 * exposed for tests and fuzzing. */
int config_parse_file(FILE *f, const char *path, CliSettings *out, CliError *e);

/* "host" -> "host:50051", "[v6]" -> "[v6]:50051", a bare IPv6 address ->
 * "[addr]:50051", "host:port" as it is; the port must be 1..65535. */
int normalize_server(const char *s, char **ret, CliError *e);

/* $XDG_CONFIG_HOME/jobrunner, else ~/.config/jobrunner.  malloc'd. */
int user_config_dir(char **ret, CliError *e);

/* Where the default certificate files are: USER_DIR/tls, but for uid 0
 * root_tls_dir when USER_DIR/tls has no client.crt and root_tls_dir has
 * one.  malloc'd; -ENOMEM. */
int default_tls_dir(const char *user_dir, uid_t uid, const char *root_tls_dir, char **ret);
