/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-edit.h"
#include "io-util.h"
#include "macro.h"

#define NONE ((size_t) -1)

void config_edit_done(ConfigEdit *c) {
        for (size_t i = 0; i < c->n_lines; i++)
                free(c->lines[i]);
        free(c->lines);
        free(c->path);
        free(c->target);
        free(c->dir);
        if (c->locked)
                (void) close(c->dir_fd);        /* and the lock with it */
        config_file_done(&c->parsed);
        *c = (ConfigEdit) {};
}

const char *config_value_invalid(const char *value) {
        size_t n = strlen(value);

        if (n == 0)
                return "it is empty";
        for (const char *p = value; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        return "it holds a control character";
        if (strchr(" \t", value[0]) || strchr(" \t", value[n - 1]))
                return "it starts or ends with a blank";
        return NULL;
}

/* Line i's type, and for a key or a section its first part (key or
 * section word) and second (value or name) in *ret_a and *ret_b, copies.
 * Out of memory, it sets c->oom, which the public functions check, and
 * answers CONFIG_LINE_BAD. */
static ConfigLineType line_type(ConfigEdit *c, size_t i, char **ret_a, char **ret_b) {
        _cleanup_free_ char *buf = strdup(c->lines[i]);
        ConfigLineType t;
        char *a = NULL, *b = NULL;

        if (!buf) {
                c->oom = true;
                return CONFIG_LINE_BAD;
        }
        t = config_line_split(buf, &a, &b);
        if (t != CONFIG_LINE_KEY && t != CONFIG_LINE_SECTION)
                a = b = NULL;
        if (ret_a && !(*ret_a = a ? strdup(a) : NULL) && a)
                c->oom = true;
        if (ret_b && !(*ret_b = b ? strdup(b) : NULL) && b)
                c->oom = true;
        return t;
}

static bool line_is_blank(const char *l) {
        return l[strspn(l, " \t\r\n")] == '\0';
}

static bool line_is_comment(const char *l) {
        return l[strspn(l, " \t")] == '#';
}

/* The index of the first section line at or after from, or n_lines. */
static size_t next_section(ConfigEdit *c, size_t from) {
        for (size_t i = from; i < c->n_lines; i++)
                if (line_type(c, i, NULL, NULL) == CONFIG_LINE_SECTION)
                        return i;
        return c->n_lines;
}

static size_t find_section(ConfigEdit *c, const char *name) {
        for (size_t i = 0; i < c->n_lines; i++) {
                _cleanup_free_ char *word = NULL, *n = NULL;

                if (line_type(c, i, &word, &n) == CONFIG_LINE_SECTION && n && strcmp(n, name) == 0)
                        return i;
        }
        return NONE;
}

/* The line of the top-level key, or NONE; *ret_last_key the last key line
 * before the first section (NONE if there is none). */
static size_t find_top_key(ConfigEdit *c, const char *key, size_t *ret_last_key) {
        size_t end = next_section(c, 0), found = NONE;

        *ret_last_key = NONE;
        for (size_t i = 0; i < end; i++) {
                _cleanup_free_ char *k = NULL;

                if (line_type(c, i, &k, NULL) != CONFIG_LINE_KEY)
                        continue;
                *ret_last_key = i;
                if (k && strcmp(k, key) == 0)
                        found = i;
        }
        return found;
}

static void delete_lines(ConfigEdit *c, size_t from, size_t to) {
        for (size_t i = from; i < to; i++)
                free(c->lines[i]);
        memmove(c->lines + from, c->lines + to, (c->n_lines - to) * sizeof(char *));
        c->n_lines -= to - from;
}

/* Inserts the line (taken over, freed on failure) before line at. */
static int insert_line(ConfigEdit *c, size_t at, char *line) {
        char **l = reallocarray(c->lines, c->n_lines + 1, sizeof(char *));

        if (!l) {
                free(line);
                return -ENOMEM;
        }
        c->lines = l;
        memmove(l + at + 1, l + at, (c->n_lines - at) * sizeof(char *));
        l[at] = line;
        c->n_lines++;
        return 0;
}

static int insert_printf(ConfigEdit *c, size_t at, const char *format, ...) _printf_(3, 4);
static int insert_printf(ConfigEdit *c, size_t at, const char *format, ...) {
        char *line;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&line, format, ap);
        va_end(ap);
        return r < 0 ? -ENOMEM : insert_line(c, at, line);
}

/* A last line without its '\n' gets one, before lines go after it. */
static int terminate_last_line(ConfigEdit *c) {
        char *l;
        size_t n;

        if (c->n_lines == 0)
                return 0;
        n = strlen(c->lines[c->n_lines - 1]);
        if (n > 0 && c->lines[c->n_lines - 1][n - 1] == '\n')
                return 0;
        l = realloc(c->lines[c->n_lines - 1], n + 2);
        if (!l)
                return -ENOMEM;
        memcpy(l + n, "\n", 2);
        c->lines[c->n_lines - 1] = l;
        return 0;
}

/* mkdir -p, 0700 for what it makes. */
static int make_dirs(const char *path) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
                if (s)
                        *s = '\0';
                if (mkdir(p, 0700) < 0 && errno != EEXIST)
                        return -errno;
                if (!s)
                        return 0;
                *s = '/';
        }
}

/* path into a temporary file in dir_fd's directory dir, then renamed. */
static int write_atomically(const char *path, const char *dir, int dir_fd, const char *text, size_t len) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (asprintf(&tmp, "%s/.config.XXXXXX", dir) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = fchmod(fd, 0600) < 0 ? -errno : write_all(fd, text, len);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        /* The rename itself on the disk too. */
        return fsync(dir_fd) < 0 ? -errno : 0;
}

/* The file to write: a file linked from elsewhere (a repository of
 * dotfiles, say) changes there, and the link stays.  Its directory is
 * made if missing, and locked until config_edit_done(), so that two
 * commands changing the file at once do not lose either's change. */
static int lock_target(ConfigEdit *c, CliError *e) {
        char *slash;
        int r;

        c->target = realpath(c->path, NULL);
        if (!c->target && errno != ENOENT)
                return cli_error(e, CLI_EXIT_CONFIG, -errno, "cannot read the configuration file %s: %m", c->path);
        if (!c->target && !(c->target = strdup(c->path)))
                return cli_error_oom(e);
        /* The path is absolute (user_config_path()), "/config" at worst. */
        c->dir = strdup(c->target);
        if (!c->dir)
                return cli_error_oom(e);
        slash = strrchr(c->dir, '/');
        if (slash)
                slash[slash == c->dir] = '\0';

        r = make_dirs(c->dir);
        if (r < 0)
                return cli_error(e, CLI_EXIT_LOCAL, r, "cannot make the directory %s: %s", c->dir, strerror(-r));
        c->dir_fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c->dir_fd < 0)
                return cli_error(e, CLI_EXIT_LOCAL, -errno, "cannot open the directory %s: %m", c->dir);
        c->locked = true;
        if (flock(c->dir_fd, LOCK_EX) < 0)
                return cli_error(e, CLI_EXIT_LOCAL, -errno, "cannot lock the directory %s: %m", c->dir);
        return 0;
}

int config_edit_load(const char *path, ConfigEdit *ret, CliError *e) {
        _cleanup_(config_edit_done) ConfigEdit c = {};
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        int r;

        c.path = strdup(path);
        if (!c.path)
                return cli_error_oom(e);
        r = lock_target(&c, e);
        if (r < 0)
                return r;
        r = config_load(path, &c.parsed, e);
        if (r < 0) {
                cli_error_amend(e, -1, "; %s was not changed", path);
                return r;
        }

        f = fopen(path, "re");
        if (!f && errno != ENOENT)
                return cli_error(e, CLI_EXIT_CONFIG, -errno, "cannot read the configuration file %s: %m", path);
        for (ssize_t len; f && (len = getline(&line, &size, f)) >= 0;) {
                char *copy = malloc((size_t) len + 1);

                if (!copy || insert_line(&c, c.n_lines, memcpy(copy, line, (size_t) len + 1)) < 0)
                        return cli_error_oom(e);
        }
        if (f && ferror(f))
                return cli_error(e, CLI_EXIT_CONFIG, -EIO, "cannot read the configuration file %s", path);

        *ret = c;
        c = (ConfigEdit) {};
        return 0;
}

int config_edit_add_context(ConfigEdit *c, const char *name, const char *const values[_SETTING_MAX], CliError *e) {
        const char *why = context_name_invalid(name);

        if (why)
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL, "invalid context name '%s': %s", name, why);
        if (find_section(c, name) != NONE && !c->oom)
                return cli_error(e, CLI_EXIT_USAGE, -EEXIST, "context '%s' exists already in %s", name, c->path);
        if (c->oom)
                return cli_error_oom(e);
        for (SettingKey k = 0; k < _SETTING_MAX; k++)
                if (values[k] && (why = config_value_invalid(values[k])))
                        return cli_error(e, CLI_EXIT_USAGE, -EINVAL, "cannot store the %s '%s': %s",
                                         setting_name(k), values[k], why);

        if (terminate_last_line(c) < 0)
                return cli_error_oom(e);
        /* A blank line between contexts, as one writes them by hand. */
        if (c->n_lines > 0 && !line_is_blank(c->lines[c->n_lines - 1]) &&
            insert_printf(c, c->n_lines, "\n") < 0)
                return cli_error_oom(e);
        if (insert_printf(c, c->n_lines, "[context %s]\n", name) < 0)
                return cli_error_oom(e);
        for (SettingKey k = 0; k < _SETTING_MAX; k++)
                if (values[k] && insert_printf(c, c->n_lines, "%s = %s\n", setting_name(k), values[k]) < 0)
                        return cli_error_oom(e);
        return 0;
}

/* Removes "context = ..." at line at, with the blank line after it if it
 * stood alone, as set_current() adds it. */
static void delete_current(ConfigEdit *c, size_t at) {
        size_t to = at + 1;

        if ((at == 0 || line_is_blank(c->lines[at - 1])) && to < c->n_lines && line_is_blank(c->lines[to]))
                to++;
        delete_lines(c, at, to);
}

int config_edit_remove_context(ConfigEdit *c, const char *name, CliError *e) {
        size_t from = find_section(c, name), to, last_key;
        _cleanup_free_ char *current = NULL;
        size_t current_line;

        if (c->oom)
                return cli_error_oom(e);
        if (from == NONE)
                return cli_error(e, CLI_EXIT_USAGE, -ENOENT, "no context '%s' in %s", name, c->path);
        to = next_section(c, from + 1);
        if (to < c->n_lines) {
                /* After this context's last key: comments that follow
                 * it without a blank line are about it and go; after a
                 * blank line, they are about the next context and stay,
                 * without the blank lines above them (the one above this
                 * context separates). */
                size_t j = to, k;

                while (j > from + 1 && line_type(c, j - 1, NULL, NULL) == CONFIG_LINE_EMPTY)
                        j--;
                for (k = j; k < to && line_is_comment(c->lines[k]); k++)
                        ;
                while (k < to && line_is_blank(c->lines[k]))
                        k++;
                to = k;
        } else
                /* The last: the blank lines above it went with it. */
                while (from > 0 && line_is_blank(c->lines[from - 1]))
                        from--;
        delete_lines(c, from, to);

        current_line = find_top_key(c, "context", &last_key);
        if (current_line != NONE) {
                (void) line_type(c, current_line, NULL, &current);
                if (current && strcmp(current, name) == 0)
                        delete_current(c, current_line);
        }
        return c->oom ? cli_error_oom(e) : 0;
}

int config_edit_set_current(ConfigEdit *c, const char *name, CliError *e) {
        size_t at, last_key;
        int r;

        if (name && find_section(c, name) == NONE && !c->oom)
                return cli_error(e, CLI_EXIT_USAGE, -ENOENT, "no context '%s' in %s", name, c->path);

        at = find_top_key(c, "context", &last_key);
        if (c->oom)
                return cli_error_oom(e);
        if (at != NONE && name)
                delete_lines(c, at, at + 1);
        else if (at != NONE) {
                delete_current(c, at);
                return 0;
        } else if (!name)
                return 0;
        else if (last_key != NONE)
                at = last_key + 1;
        else {
                /* Nothing at the top but comments: just above the first
                 * context and the comments right above it, a blank line
                 * apart from them. */
                at = next_section(c, 0);
                if (c->oom)
                        return cli_error_oom(e);
                while (at > 0 && line_is_comment(c->lines[at - 1]))
                        at--;
                if (at < c->n_lines && insert_printf(c, at, "\n") < 0)
                        return cli_error_oom(e);
        }
        if (at == c->n_lines && terminate_last_line(c) < 0)
                return cli_error_oom(e);
        r = insert_printf(c, at, "context = %s\n", name);
        return r < 0 ? cli_error_oom(e) : 0;
}

static char *join(const ConfigEdit *c, size_t *ret_len) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (!f)
                return NULL;
        for (size_t i = 0; i < c->n_lines; i++)
                fputs(c->lines[i], f);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        *ret_len = len;
        return text;
}

int config_edit_save(ConfigEdit *c, CliError *e) {
        _cleanup_(config_file_done) ConfigFile check = {};
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r;

        text = join(c, &len);
        if (!text)
                return cli_error_oom(e);
        if (len > 0) {
                _cleanup_fclose_ FILE *f = fmemopen(text, len, "r");

                if (!f)
                        return cli_error_oom(e);
                r = config_parse_file(f, c->path, &check, e);
                if (r < 0) {
                        cli_error_amend(e, CLI_EXIT_LOCAL, " (in the changed file; %s was not changed)", c->path);
                        return r;
                }
        }
        r = write_atomically(c->target, c->dir, c->dir_fd, text, len);
        if (r < 0)
                return cli_error(e, CLI_EXIT_LOCAL, r, "cannot write %s: %s", c->target, strerror(-r));
        return 0;
}
