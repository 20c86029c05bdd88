/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jobrunner attach: follows a job's output and, with -i, gives it input:
 * for a job started with -i or -t (by run, detached since, or by start). */

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "attach.h"
#include "follow-job.h"
#include "jobs.h"
#include "logs-follow.h"
#include "run-interrupt.h"
#include "spec-options.h"
#include "status.h"

enum {
        ARG_FROM_END = 0x3000,
};

typedef struct AttachArgs {
        bool interactive, tty, from_end;
        OffsetArgs offsets;
} AttachArgs;

static void help(void) {
        printf("Usage: jobrunner attach [OPTIONS] ID\n"
               "\n"
               "Follows a job's output as 'jobrunner logs -f' does, from its beginning unless\n"
               "told otherwise, and exits with the job's exit status once it ends.  With -i it\n"
               "also takes the job's input (of a job started with -i or -t; one attach at a\n"
               "time holds it) and sends this command's stdin to it; for a job started with -i,\n"
               "the end of stdin is the end of the job's input.  ID is the job's id or a unique\n"
               "prefix of at least 8 characters.\n"
               "\n"
               "With -it, for a job started with -t, this terminal is connected to the job's,\n"
               "in raw mode: all keys go to the job, Ctrl-C included, and the job's terminal\n"
               "takes this one's size.  The output recorded so far is replayed first, which\n"
               "redraws a shell's or a full-screen program's screen.  Ctrl-P Ctrl-Q detaches:\n"
               "the job keeps running and its input stays open for the next attach; a Ctrl-P\n"
               "followed by another key reaches the job as typed.  Without -t, Ctrl-C detaches.\n"
               "\n"
               "  -i, --interactive      take the job's input and send stdin to it\n"
               "  -t, --tty              with -i: connect this terminal, in raw mode, to the\n"
               "                         terminal of a job started with -t\n"
               "  --stdout-offset N, --stderr-offset N\n"
               "                         start the output at byte N of that stream (as run\n"
               "                         prints on detaching); default: 0, all of it\n"
               "  --from-end             only output written from now on\n"
               "\n%s"
               "\n"
               "Exit status: as for run: the job's exit code; 128+N if signal N ended it; 127\n"
               "if it failed to start; 130 after detaching; see 'jobrunner --help' for the\n"
               "others.\n",
               common_options_help);
}

static int attach_option(Cli *cli, int opt, const char *arg, void *userdata, CliError *e) {
        AttachArgs *a = userdata;

        (void) cli;
        if (input_option(opt, &a->interactive, &a->tty))
                return 1;
        switch (opt) {
        case ARG_FROM_END:
                a->from_end = true;
                break;
        default:
                return offset_option(opt, arg, &a->offsets, e);
        }
        return 1;
}

/* The checks that need every option but nothing of the job. */
static int attach_args_check(Cli *cli, void *userdata, CliError *e) {
        const AttachArgs *a = userdata;

        if (a->tty && !a->interactive)
                return cli_usage(cli, e, "-t needs -i: the terminal is connected to the job's to type into it "
                                 "(without either, attach only follows the output)");
        if (a->from_end && (a->offsets.stdout_set || a->offsets.stderr_set))
                return cli_usage(cli, e, "--from-end and the offset options exclude each other");
        return attach_check_tty(cli, a->tty, e);
}

/* What the job allows, now that it is known. */
static int attach_job_check(const AttachArgs *a, const JobStatus *j, CliError *e) {
        bool terminal = j->spec && j->spec->terminal,
             pipe = j->spec && j->spec->stdin == JOBRUNNER__V1__STDIN_MODE__STDIN_MODE_PIPE;

        if (a->interactive && !terminal && !pipe)
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                 "job %s has no input: it was started without -i or -t (attach without -i "
                                 "follows its output)", j->id);
        if (a->tty && !terminal)
                return cli_error(e, CLI_EXIT_USAGE, -EINVAL,
                                 "job %s has no terminal: it was started without -t; attach with -i alone", j->id);
        return 0;
}

int verb_attach(Cli *cli, int argc, char **argv, CliError *e) {
        static const struct option options[] = {
                { "interactive",   no_argument,       NULL, ARG_INTERACTIVE },
                { "tty",           no_argument,       NULL, ARG_TTY },
                { "from-end",      no_argument,       NULL, ARG_FROM_END },
                OFFSET_LONG_OPTIONS,
                {}
        };
        _cleanup_message_ Jobrunner__V1__GetStatusResponse *status = NULL;
        _cleanup_(job_status_freep) JobStatus *end = NULL;
        char id[JOB_ID_LEN + 1];
        AttachArgs a = {};
        AttachOptions o;
        LogsCursor cursor;
        LogsOutput out;
        RunInterrupt interrupt = { .id = id, .out = &out, .cursor = &cursor };
        const JobStatus *j;
        const char *arg;
        bool ended;
        int r;

        r = follow_job_parse(cli, argc, argv,
                             &(CommandSpec) { .short_options = "it", .options = options, .handler = attach_option,
                                              .userdata = &a, .help = help },
                             attach_args_check, &arg, e);
        if (r != 0)
                return r < 0 ? r : 0;
        /* Attaching may begin while the daemon restarts, as following the
         * output may. */
        r = follow_job_get(cli, arg, true, false, &out, id, &status, e);
        if (r < 0)
                return r;
        j = status->job;
        r = attach_job_check(&a, j, e);
        if (r < 0)
                return r;
        /* An ended job's input is closed: only its output is left. */
        ended = j->end_time_us != 0;

        if (a.from_end)
                logs_cursor_init(&cursor, j->stdout_bytes, j->stderr_bytes);
        else
                logs_cursor_init(&cursor, a.offsets.stdout_offset, a.offsets.stderr_offset);

        o = (AttachOptions) {
                .id = id,
                .input = a.interactive && !ended,
                .pipe = j->spec && !j->spec->terminal,
                .raw = a.tty && !ended,
                .in_fd = STDIN_FILENO,
                .interruptible = !(a.tty && !ended),
                .on_interrupt = run_interrupt,
                .userdata = &interrupt,
        };
        interrupt.conn = cli->conn;
        interrupt.context = cli->flags.context;
        interrupt.attach = a.tty ? "-it" : a.interactive ? "-i" : "";
        interrupt.replay = j->spec && j->spec->terminal;
        if (o.interruptible) {
                r = run_interrupt_install(id, e);
                if (r < 0)
                        return r;
        }

        r = attach_session(cli->conn, &o, &cursor, &out, &end, e);
        if (r == ATTACH_DETACHED) {
                run_tell_detached(&interrupt);
                return CLI_EXIT_INTERRUPTED;
        }
        if (r == -EINTR)
                return CLI_EXIT_INTERRUPTED;
        return job_followed_exit(cli->conn, id, r, &end, e);
}
