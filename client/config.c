/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config-file.h"
#include "config.h"
#include "macro.h"

static const char *const setting_names[_SETTING_MAX] = {
        [SETTING_SERVER] = "server",
        [SETTING_CERT] = "cert",
        [SETTING_KEY] = "key",
        [SETTING_CA] = "ca",
        [SETTING_TLS_SERVER_NAME] = "tls-server-name",
};

static const char *const env_names[_SETTING_MAX] = {
        [SETTING_SERVER] = "JOBRUNNER_SERVER",
        [SETTING_CERT] = "JOBRUNNER_CERT",
        [SETTING_KEY] = "JOBRUNNER_KEY",
        [SETTING_CA] = "JOBRUNNER_CA",
        [SETTING_TLS_SERVER_NAME] = "JOBRUNNER_TLS_SERVER_NAME",
};

static const char *const default_files[_SETTING_MAX] = {
        [SETTING_CERT] = "client.crt",
        [SETTING_KEY] = "client.key",
        [SETTING_CA] = "ca.crt",
};

const char *setting_name(SettingKey k) {
        return k < _SETTING_MAX ? setting_names[k] : NULL;
}

int setting_from_name(const char *name) {
        for (SettingKey k = 0; k < _SETTING_MAX; k++)
                if (strcmp(name, setting_names[k]) == 0)
                        return (int) k;
        return -1;
}

bool setting_is_path(SettingKey k) {
        return k < _SETTING_MAX && default_files[k];
}

static void setting_done(Setting *s) {
        free(s->value);
        free(s->origin);
        *s = (Setting) {};
}

void settings_done(CliSettings *s) {
        for (size_t i = 0; i < _SETTING_MAX; i++)
                setting_done(&s->s[i]);
        setting_done(&s->context);
}

static int setting_set(Setting *s, const char *value, const char *origin_format, ...) _printf_(3, 4);
static int setting_set(Setting *s, const char *value, const char *origin_format, ...) {
        char *v = strdup(value), *o = NULL;
        va_list ap;
        int r;

        va_start(ap, origin_format);
        r = vasprintf(&o, origin_format, ap);
        va_end(ap);
        if (!v || r < 0) {
                free(v);
                return -ENOMEM;
        }
        setting_done(s);
        s->value = v;
        s->origin = o;
        return 0;
}

const char *home_dir(void) {
        const char *h = getenv("HOME");
        struct passwd *pw;

        if (h && h[0] == '/')
                return h;
        pw = getpwuid(getuid());
        return pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
}

int user_config_dir(char **ret, CliError *e) {
        const char *x = getenv("XDG_CONFIG_HOME"), *h;

        /* The XDG spec says to ignore a relative XDG_CONFIG_HOME. */
        if (x && x[0] == '/')
                return asprintf(ret, "%s/jobrunner", x) < 0 ? cli_error_oom(e) : 0;
        h = home_dir();
        if (!h)
                return cli_error(e, CLI_EXIT_CONFIG, -ENOENT,
                                 "cannot find your home directory ($HOME is not set): give --cert, --key and --ca");
        return asprintf(ret, "%s/.config/jobrunner", h) < 0 ? cli_error_oom(e) : 0;
}

int user_config_path(char **ret, CliError *e) {
        _cleanup_free_ char *dir = NULL;
        int r;

        r = user_config_dir(&dir, e);
        if (r < 0)
                return r;
        return asprintf(ret, "%s/config", dir) < 0 ? cli_error_oom(e) : 0;
}

/* An IPv6 zone, the part after '%': an interface name or index, which the
 * kernel allows up to IF_NAMESIZE - 1 bytes without '/', ':' or spaces;
 * ']' and control characters would break the "[addr%zone]:port" we make
 * of it. */
static bool ipv6_zone_is_valid(const char *zone) {
        size_t n = strlen(zone);

        if (n == 0 || n >= IF_NAMESIZE)
                return false;
        for (const char *p = zone; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7f || strchr("/:]%", *p))
                        return false;
        return true;
}

int normalize_server(const char *s, char **ret, CliError *e) {
        const char *colon, *port = NULL;
        size_t host_len;
        int r;

        if (!s || !*s)
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL, "the server address is empty: expected HOST[:PORT]");

        if (s[0] == '[') {
                const char *close = strchr(s, ']');

                if (!close || close == s + 1 || (close[1] != '\0' && close[1] != ':'))
                        return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                         "invalid server address '%s': expected [IPV6-ADDRESS]:PORT", s);
                host_len = (size_t) (close + 1 - s);
                if (close[1] == ':')
                        port = close + 2;
        } else {
                colon = strchr(s, ':');
                if (colon && strchr(colon + 1, ':')) {
                        /* Several colons: a bare IPv6 address, without
                         * port (there is no telling where one would
                         * start). */
                        struct in6_addr a;
                        char addr[INET6_ADDRSTRLEN];
                        const char *zone = strchr(s, '%');

                        if ((size_t) snprintf(addr, sizeof(addr), "%.*s", (int) strcspn(s, "%"), s) >= sizeof(addr) ||
                            inet_pton(AF_INET6, addr, &a) != 1 || (zone && !ipv6_zone_is_valid(zone + 1)))
                                return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                                 "invalid server address '%s': expected HOST[:PORT], with an IPv6 "
                                                 "address as [ADDRESS]:PORT", s);
                        r = asprintf(ret, "[%s]:" DEFAULT_PORT, s);
                        return r < 0 ? cli_error_oom(e) : 0;
                }
                host_len = colon ? (size_t) (colon - s) : strlen(s);
                if (host_len == 0)
                        return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                         "invalid server address '%s': the host name is empty", s);
                if (colon)
                        port = colon + 1;
        }
        for (const char *p = s; p < s + host_len; p++)
                if ((unsigned char) *p <= ' ' || *p == '/')
                        return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                         "invalid server address '%s': expected HOST[:PORT]", s);

        if (port) {
                char *end;
                unsigned long p;

                errno = 0;
                p = port[0] >= '0' && port[0] <= '9' ? strtoul(port, &end, 10) : 0;
                if (p == 0 || p > 65535 || errno != 0 || *end != '\0')
                        return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                         "invalid server address '%s': the port must be a number from 1 to 65535", s);
                r = asprintf(ret, "%.*s:%lu", (int) host_len, s, p);
        } else
                r = asprintf(ret, "%.*s:" DEFAULT_PORT, (int) host_len, s);
        return r < 0 ? cli_error_oom(e) : 0;
}

static bool has_client_cert(const char *dir) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/client.crt", dir) < 0)
                return false;
        return access(path, F_OK) == 0;
}

int default_tls_dir(const char *user_dir, uid_t uid, const char *root_tls_dir, char **ret) {
        _cleanup_free_ char *dir = NULL;

        if (asprintf(&dir, "%s/tls", user_dir) < 0)
                return -ENOMEM;
        if (uid == 0 && !has_client_cert(dir) && has_client_cert(root_tls_dir)) {
                free(dir);
                dir = strdup(root_tls_dir);
                if (!dir)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(dir);
        return 0;
}

int context_select(const CliFlags *flags, const ConfigFile *user, const char *user_path, Setting *ret,
                   CliError *e) {
        const char *env = getenv("JOBRUNNER_CONTEXT");
        const char *name, *origin;

        if (flags && flags->context) {
                name = flags->context;
                origin = flags->context_origin ?: "--context";
        } else if (env && *env) {
                name = env;
                origin = "$JOBRUNNER_CONTEXT";
        } else if (user->current.value) {
                /* The parser saw to it that the file defines it. */
                name = user->current.value;
                origin = user->current.origin;
        } else {
                *ret = (Setting) {};
                return 0;
        }
        if (!config_file_find_context(user, name))
                return cli_error(e, CLI_EXIT_CONFIG, -ENOENT, "no context '%s' in %s (selected by %s)", name,
                                 user_path, origin);
        if (setting_set(ret, name, "%s", origin) < 0)
                return cli_error_oom(e);
        return 0;
}

/* The system's file holds no contexts: they are the user's. */
static int check_system_file(const ConfigFile *sys, const char *path, CliError *e) {
        if (sys->n_contexts > 0)
                return cli_error(e, CLI_EXIT_CONFIG, -EBADMSG,
                                 "%s:%u: contexts belong in the user's configuration file, not the system's", path,
                                 sys->contexts[0].line);
        if (sys->current.value)
                return cli_error(e, CLI_EXIT_CONFIG, -EBADMSG,
                                 "%s:%u: 'context' belongs in the user's configuration file, not the system's", path,
                                 sys->current_line);
        return 0;
}

static int setting_copy(Setting *to, const Setting *from) {
        return setting_set(to, from->value, "%s", from->origin);
}

int settings_resolve(const CliFlags *flags, const CliSystemFiles *sys_files, CliSettings *ret, CliError *e) {
        _cleanup_(config_file_done) ConfigFile user = {}, sys = {};
        _cleanup_(settings_done) CliSettings result = {};
        _cleanup_free_ char *dir = NULL, *user_path = NULL, *tls_dir = NULL;
        const char *system_config = sys_files && sys_files->config ? sys_files->config : SYSTEM_CONFIG_PATH;
        const char *root_tls_dir = sys_files && sys_files->root_tls_dir ? sys_files->root_tls_dir : ROOT_TLS_DIR;
        const char *flag_values[_SETTING_MAX] = {
                [SETTING_SERVER] = flags ? flags->server : NULL,
                [SETTING_CERT] = flags ? flags->cert : NULL,
                [SETTING_KEY] = flags ? flags->key : NULL,
                [SETTING_CA] = flags ? flags->ca : NULL,
                [SETTING_TLS_SERVER_NAME] = flags ? flags->tls_server_name : NULL,
        };
        const ConfigContext *ctx = NULL;
        int r;

        r = user_config_dir(&dir, e);
        if (r < 0)
                return r;
        if (asprintf(&user_path, "%s/config", dir) < 0)
                return cli_error_oom(e);
        r = config_load(user_path, &user, e);
        if (r < 0)
                return r;
        r = config_load(system_config, &sys, e);
        if (r < 0)
                return r;
        r = check_system_file(&sys, system_config, e);
        if (r < 0)
                return r;
        if (default_tls_dir(dir, geteuid(), root_tls_dir, &tls_dir) < 0)
                return cli_error_oom(e);

        r = context_select(flags, &user, user_path, &result.context, e);
        if (r < 0)
                return r;
        if (result.context.value)
                ctx = config_file_find_context(&user, result.context.value);

        for (SettingKey k = 0; k < _SETTING_MAX; k++) {
                const char *env = getenv(env_names[k]);
                Setting *s = &result.s[k];

                r = 0;
                if (flag_values[k])
                        r = setting_set(s, flag_values[k], "--%s", setting_names[k]);
                else if (env && *env)
                        r = setting_set(s, env, "$%s", env_names[k]);
                else if (ctx && ctx->settings.s[k].value)
                        r = setting_copy(s, &ctx->settings.s[k]);
                else if (user.top.s[k].value)
                        r = setting_copy(s, &user.top.s[k]);
                else if (sys.top.s[k].value)
                        r = setting_copy(s, &sys.top.s[k]);
                else if (k == SETTING_SERVER)
                        r = setting_set(s, DEFAULT_SERVER, "%s", "default");
                else if (default_files[k]) {
                        _cleanup_free_ char *path = NULL;

                        if (asprintf(&path, "%s/%s", tls_dir, default_files[k]) < 0)
                                return cli_error_oom(e);
                        r = setting_set(s, path, "%s", "default");
                }
                if (r < 0)
                        return cli_error_oom(e);
        }

        {
                char *server;

                r = normalize_server(result.s[SETTING_SERVER].value, &server, e);
                if (r < 0) {
                        /* Say where the bad value came from. */
                        if (strcmp(result.s[SETTING_SERVER].origin, "--server") != 0)
                                cli_error_amend(e, CLI_EXIT_CONFIG, " (from %s)", result.s[SETTING_SERVER].origin);
                        return r;
                }
                free(result.s[SETTING_SERVER].value);
                result.s[SETTING_SERVER].value = server;
        }

        *ret = result;
        result = (CliSettings) {};
        return 0;
}
