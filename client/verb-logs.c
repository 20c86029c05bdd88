/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jobrunner logs: a job's output, stored and (with -f) live. */

#include <stdio.h>
#include <unistd.h>

#include "follow-job.h"
#include "jobs.h"
#include "logs-follow.h"
#include "parse.h"

enum {
        ARG_STDOUT = 0x3000,
        ARG_STDERR,
        ARG_OFFSET,
        ARG_TAIL,
        ARG_MERGE,
        ARG_FOLLOW = 'f',
};

typedef struct LogsArgs {
        bool follow;
        bool merge;
        int stream;                     /* 0: both */
        bool offset_set, tail_set;
        uint64_t offset, tail;
        OffsetArgs offsets;
} LogsArgs;

static void help(void) {
        printf("Usage: jobrunner logs [OPTIONS] ID\n"
               "\n"
               "Writes a job's output: its stdout to stdout and its stderr to stderr, byte for\n"
               "byte, binary included.  A range the server does not have (output past the job's\n"
               "output cap, written while the daemon was down, or lost to a full disk) is\n"
               "reported by one notice on stderr with its offset and length, however many\n"
               "pieces it came in.  ID is the job's id or a unique prefix of at least 8\n"
               "characters.\n"
               "\n"
               "  -f, --follow           keep writing output as the job produces it, until it\n"
               "                         ends; if the server restarts meanwhile, or is\n"
               "                         restarting, wait for it and resume without loss or\n"
               "                         repeats\n"
               "  --stdout, --stderr     only that stream\n"
               "  --offset N             start at byte N of the stream chosen by --stdout or\n"
               "                         --stderr\n"
               "  --stdout-offset N, --stderr-offset N\n"
               "                         start at byte N of that stream\n"
               "  --tail N               start with the last N lines of each stream\n"
               "  --merge                the job's stderr to stdout too, both streams in the\n"
               "                         order the server captured them\n"
               "\n%s"
               "\n"
               "With --json, one JSON object per line and event on stdout:\n"
               "  {\"type\":\"chunk\",\"stream\":\"stdout\",\"offset\":0,\"data\":\"BASE64\"}\n"
               "  {\"type\":\"gap\",\"stream\":\"stderr\",\"offset\":N,\"length\":N,\n"
               "   \"reason\":\"output-truncated\"}  (or \"daemon-down\", \"io-error\")\n"
               "  {\"type\":\"end\",\"job\":{...}}   once the job has ended and the output is complete\n",
               common_options_help);
}

static int logs_option(Cli *cli, int opt, const char *arg, void *userdata, CliError *e) {
        LogsArgs *a = userdata;
        int r = 0;

        switch (opt) {
        case ARG_FOLLOW:
                a->follow = true;
                break;
        case ARG_STDOUT:
        case ARG_STDERR: {
                int s = opt == ARG_STDOUT ? JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT :
                                            JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR;

                if (a->stream != 0 && a->stream != s)
                        return cli_usage(cli, e, "--stdout and --stderr exclude each other (without either: both)");
                a->stream = s;
                break;
        }
        case ARG_OFFSET:
                r = parse_uint64("offset", arg, &a->offset, e);
                a->offset_set = true;
                break;
        case ARG_TAIL:
                r = parse_uint64("line count", arg, &a->tail, e);
                a->tail_set = true;
                break;
        case ARG_MERGE:
                a->merge = true;
                break;
        default:
                return offset_option(opt, arg, &a->offsets, e);
        }
        return r < 0 ? r : 1;
}

/* The checks that need every option. */
static int logs_args_check(Cli *cli, void *userdata, CliError *e) {
        LogsArgs *a = userdata;
        const int out = JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT;
        const int err = JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR;

        if (a->merge && cli->json)
                return cli_usage(cli, e, "--merge and --json exclude each other (JSON names each chunk's stream)");
        if (a->tail_set && (a->offset_set || a->offsets.stdout_set || a->offsets.stderr_set))
                return cli_usage(cli, e, "--tail and the offset options exclude each other");
        if (a->offset_set) {
                if (a->stream == 0)
                        return cli_usage(cli, e, "--offset needs --stdout or --stderr; for both streams use "
                                         "--stdout-offset and --stderr-offset");
                if (a->offsets.stdout_set || a->offsets.stderr_set)
                        return cli_usage(cli, e, "--offset and --stdout-offset/--stderr-offset exclude each other");
                if (a->stream == out)
                        a->offsets.stdout_offset = a->offset;
                else
                        a->offsets.stderr_offset = a->offset;
        }
        if (a->stream == err && a->offsets.stdout_set)
                return cli_usage(cli, e, "--stdout-offset has no effect with --stderr");
        if (a->stream == out && a->offsets.stderr_set)
                return cli_usage(cli, e, "--stderr-offset has no effect with --stdout");
        return 0;
}

int verb_logs(Cli *cli, int argc, char **argv, CliError *e) {
        static const struct option options[] = {
                { "follow",        no_argument,       NULL, ARG_FOLLOW },
                { "stdout",        no_argument,       NULL, ARG_STDOUT },
                { "stderr",        no_argument,       NULL, ARG_STDERR },
                { "offset",        required_argument, NULL, ARG_OFFSET },
                { "tail",          required_argument, NULL, ARG_TAIL },
                { "merge",         no_argument,       NULL, ARG_MERGE },
                OFFSET_LONG_OPTIONS,
                {}
        };
        _cleanup_message_ Jobrunner__V1__GetStatusResponse *status = NULL;
        _cleanup_(job_status_freep) JobStatus *end = NULL;
        const int streams[2] = {
                JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDOUT,
                JOBRUNNER__V1__OUTPUT_STREAM__OUTPUT_STREAM_STDERR,
        };
        char id[JOB_ID_LEN + 1];
        LogsArgs a = {};
        LogsCursor cursor;
        LogsOutput out;
        const char *arg;
        int r;

        r = follow_job_parse(cli, argc, argv,
                             &(CommandSpec) { .short_options = "f", .options = options, .handler = logs_option,
                                              .userdata = &a, .help = help },
                             logs_args_check, &arg, e);
        if (r != 0)
                return r < 0 ? r : 0;
        /* Where the job's streams end, for --tail. */
        r = follow_job_get(cli, arg, a.follow, a.merge, &out, id, &status, e);
        if (r < 0)
                return r;
        logs_cursor_init(&cursor, a.offsets.stdout_offset, a.offsets.stderr_offset);

        if (a.tail_set) {
                const uint64_t ends[2] = { status->job->stdout_bytes, status->job->stderr_bytes };

                for (size_t i = 0; i < 2; i++) {
                        if (a.stream != 0 && a.stream != streams[i])
                                continue;
                        job_status_freep(&end);
                        r = logs_tail(cli->conn, id, streams[i], ends[i], a.tail, &cursor, &out, &end, e);
                        if (r < 0)
                                return r;
                }
                if (!a.follow) {
                        r = end ? logs_output_end(&out, end) : logs_output_flush(&out);
                        return r < 0 ? output_error(r, e) : 0;
                }
                job_status_freep(&end);
        }

        r = logs_follow(cli->conn, id,
                        &(LogsFollowOptions) { .stream = a.stream, .follow = a.follow },
                        &cursor, &out, &end, e);
        return r < 0 ? r : 0;
}
