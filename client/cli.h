/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What every command shares: the connection options (accepted before and
 * after the command name), the connection itself, opened on first use, and
 * usage errors that point at the command's help. */

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "conn.h"
#include "error.h"
#include "format.h"
#include "parse.h"

typedef struct Cli {
        const char *verb;               /* the command, for messages; NULL before it is known */
        CliFlags flags;
        bool json;
        uint64_t timeout_usec;          /* --timeout; 0: not given */
        CliSettings settings;
        Conn *conn;

        /* Fan-out (fanout.h): every -c value, in the order given; one
         * that is a plain name is also flags.context when it is the only
         * one. */
        const char **context_args;
        size_t n_context_args;
        bool all_contexts;              /* --all-contexts */
        unsigned parallel;              /* --parallel; 0: not given */
        struct FanOut *fanout;          /* the hosts, once a command fans out; freed by cli_done() */
        char *job_context;              /* CONTEXT of a CONTEXT/ID argument */
        char job_id[JOB_ID_LEN + 1];    /* the job an ID found on one of several contexts */
} Cli;

enum {
        ARG_SERVER = 0x1000,
        ARG_CERT,
        ARG_KEY,
        ARG_CA,
        ARG_TLS_SERVER_NAME,
        ARG_TIMEOUT,
        ARG_JSON,
        ARG_VERSION,
        ARG_ALL_CONTEXTS,
        ARG_PARALLEL,
        ARG_HELP = 'h',
        ARG_CONTEXT = 'c',
};

/* The common options' short ones, for getopt (after its ':'). */
#define COMMON_SHORT_OPTIONS "hc:"

#define COMMON_LONG_OPTIONS                                                     \
        { "server",  required_argument, NULL, ARG_SERVER },                     \
        { "cert",    required_argument, NULL, ARG_CERT },                       \
        { "key",     required_argument, NULL, ARG_KEY },                        \
        { "ca",      required_argument, NULL, ARG_CA },                         \
        { "tls-server-name", required_argument, NULL, ARG_TLS_SERVER_NAME },    \
        { "context", required_argument, NULL, ARG_CONTEXT },                    \
        { "all-contexts", no_argument,  NULL, ARG_ALL_CONTEXTS },               \
        { "parallel", required_argument, NULL, ARG_PARALLEL },                  \
        { "timeout", required_argument, NULL, ARG_TIMEOUT },                    \
        { "json",    no_argument,       NULL, ARG_JSON },                       \
        { "help",    no_argument,       NULL, ARG_HELP }

/* The common options' help, for every command's --help. */
extern const char common_options_help[];

void cli_done(Cli *cli);

/* 1 if opt is a common option other than --help (handled), 0 if not, or a
 * negative errno. */
int cli_common_option(Cli *cli, int opt, const char *arg, CliError *e);

/* Whether the command runs on several contexts' servers (fanout.h):
 * -c given more than once or with a pattern, or --all-contexts. */
bool cli_fans_out(const Cli *cli);

/* A job argument CONTEXT/ID: CONTEXT becomes the one context, whatever
 * -c said, and *ret_id is ID; any other argument is left as it is. */
int cli_job_context(Cli *cli, const char *arg, const char **ret_id, CliError *e);

/* For getopt_long()'s '?' and ':' (with opterr = 0 and a ':' in front of
 * the short options). */
int cli_getopt_error(Cli *cli, int opt, char *const *argv, CliError *e);

/* A usage error: the message, then "; see 'jobrunner VERB --help'". */
int cli_usage(Cli *cli, CliError *e, const char *format, ...) _printf_(3, 4);

/* Resolves the settings and opens the connection, once. */
int cli_connect(Cli *cli, CliError *e);

/* For _cleanup_: frees an unpacked protobuf-c message of any type. */
static inline void message_freep(void *p) {
        ProtobufCMessage **m = p;

        if (*m)
                protobuf_c_message_free_unpacked(*m, NULL);
}
#define _cleanup_message_ _cleanup_(message_freep)

/* Prints j as one line of JSON on stdout. */
void cli_print_json_job(const JobStatus *j);

/* The commands; each returns the exit status, or a negative errno with e
 * set.  argv[0] is the command's name. */
int verb_start(Cli *cli, int argc, char **argv, CliError *e);
int verb_run(Cli *cli, int argc, char **argv, CliError *e);
int verb_stop(Cli *cli, int argc, char **argv, CliError *e);
int verb_status(Cli *cli, int argc, char **argv, CliError *e);
int verb_logs(Cli *cli, int argc, char **argv, CliError *e);
int verb_attach(Cli *cli, int argc, char **argv, CliError *e);
int verb_list(Cli *cli, int argc, char **argv, CliError *e);
int verb_wait(Cli *cli, int argc, char **argv, CliError *e);
int verb_context(Cli *cli, int argc, char **argv, CliError *e);
