/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where to connect and with which certificate.  Each setting comes from the
 * first of: the command line (--server, --cert, --key, --ca,
 * --tls-server-name), the environment (JOBRUNNER_SERVER, _CERT, _KEY, _CA,
 * _TLS_SERVER_NAME), the selected context of the user's configuration file
 * ($XDG_CONFIG_HOME/jobrunner/config, by default
 * ~/.config/jobrunner/config), the top-level keys of that file, the
 * system's file (/etc/jobrunner/client.conf), the defaults (localhost:50051
 * and the files jobrunner-keys hands out, in $XDG_CONFIG_HOME/jobrunner/tls/;
 * for root without a client.crt there, those of
 * /etc/jobrunner/tls/users/root/, which the jobrunnerd package's first
 * install makes; no TLS server name: the server's host name).
 *
 * The context is the one named by --context (-c), else by
 * $JOBRUNNER_CONTEXT, else by the user's file ("context = NAME").  The file
 * syntax is in config-file.h. */

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"

#define SYSTEM_CONFIG_PATH "/etc/jobrunner/client.conf"
#define ROOT_TLS_DIR "/etc/jobrunner/tls/users/root"
#define DEFAULT_PORT "50051"
#define DEFAULT_SERVER "localhost:" DEFAULT_PORT

typedef struct CliFlags {
        const char *server, *cert, *key, *ca, *tls_server_name;
        const char *context;
        const char *context_origin;     /* what gave context, for messages; NULL: "--context" */
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
        SETTING_TLS_SERVER_NAME,        /* the only one without a default: NULL value */
        _SETTING_MAX,
} SettingKey;

typedef struct CliSettings {
        Setting s[_SETTING_MAX];
        /* The selected context's name and what selected it ("--context",
         * "$JOBRUNNER_CONTEXT", "PATH:N"); NULL value: none. */
        Setting context;
} CliSettings;

/* "server", "cert", "key", "ca", "tls-server-name". */
const char *setting_name(SettingKey k);
/* The SettingKey of a name, or -1. */
int setting_from_name(const char *name);
/* Whether the setting is a file name (relative ones are made absolute). */
bool setting_is_path(SettingKey k);

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

typedef struct ConfigFile ConfigFile;

/* Which context of the user's file is selected: flags->context
 * (--context), else $JOBRUNNER_CONTEXT, else the file's "context = NAME".
 * ret->value NULL: none.  A selected name the file does not define is a
 * CLI_EXIT_CONFIG error that says what selected it. */
int context_select(const CliFlags *flags, const ConfigFile *user, const char *user_path, Setting *ret,
                   CliError *e);


/* "host" -> "host:50051", "[v6]" -> "[v6]:50051", a bare IPv6 address ->
 * "[addr]:50051", "host:port" as it is; the port must be 1..65535. */
int normalize_server(const char *s, char **ret, CliError *e);

/* $XDG_CONFIG_HOME/jobrunner, else ~/.config/jobrunner.  malloc'd. */
int user_config_dir(char **ret, CliError *e);
/* The user's configuration file: user_config_dir() + "/config". */
int user_config_path(char **ret, CliError *e);
/* $HOME if absolute, else the password database's; NULL if neither. */
const char *home_dir(void);

/* Where the default certificate files are: USER_DIR/tls, but for uid 0
 * root_tls_dir when USER_DIR/tls has no client.crt and root_tls_dir has
 * one.  malloc'd; -ENOMEM. */
int default_tls_dir(const char *user_dir, uid_t uid, const char *root_tls_dir, char **ret);
