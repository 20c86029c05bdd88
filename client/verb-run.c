/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jobrunner run: starts a job, shows its output as it comes, and exits with
 * the job's exit status. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "attach.h"
#include "fanout-run.h"
#include "first-contact.h"
#include "jobs.h"
#include "logs-follow.h"
#include "print.h"
#include "run-interrupt.h"
#include "spec-command.h"
#include "status.h"

enum {
        ARG_STOP_ON_INTERRUPT = 0x3000,
        ARG_MERGE,
};

typedef struct Run {
        bool merge;
        RunInterrupt interrupt;
} Run;

static void help(void) {
        printf("Usage: jobrunner run [OPTIONS] [--] PROGRAM [ARGUMENTS...]\n"
               "\n"
               "Starts PROGRAM on the server as a job, writes its output as it comes (its stdout\n"
               "to stdout, its stderr to stderr) and exits with its exit status.  PROGRAM must\n"
               "be an absolute path on the server (no shell, no PATH search).  If the server\n"
               "restarts meanwhile, the output resumes where it was, without loss or repeats;\n"
               "if it is restarting, the job is started once it is back, never twice.\n"
               "\n"
               "Ctrl-C detaches: the job keeps running, and the commands to follow it again\n"
               "(from where this left off) or to stop it are printed (exit status 130).  With\n"
               "--stop-on-interrupt, Ctrl-C stops the job instead and waits for its end.  A\n"
               "second Ctrl-C always exits at once, leaving the job as it is.\n"
               "\n"
               "With -i, this command's stdin is streamed to the job's as it is read, and its\n"
               "end is the job's end of input:  tar c . | jobrunner run -i -- /bin/tar x -C DIR\n"
               "\n"
               "With -i and -t (-it), this terminal is connected to the job's, in raw mode: all\n"
               "keys go to the job, Ctrl-C included, and its size follows this one's.  Ctrl-P\n"
               "Ctrl-Q detaches (the job keeps running; 'jobrunner attach -it ID' goes on);\n"
               "a Ctrl-P followed by another key reaches the job as typed.  -it needs a\n"
               "terminal on stdin.  With -t alone the job has a terminal but no input here.\n"
               "\n"
               "  --stop-on-interrupt    stop the job on Ctrl-C instead of detaching\n"
               "  --merge                the job's stderr to stdout too, both streams in the\n"
               "                         order the server captured them\n"
               "\n"
               "%s\n%s"
               "\n"
               "With --json, one JSON object per line: {\"type\":\"start\",\"job\":...} first, then\n"
               "the events of 'jobrunner logs --json'.\n"
               "\n"
               "With several contexts (-c given twice, -c PATTERN, --all-contexts), the job runs\n"
               "on each context's server, at most --parallel at a time; each output line is\n"
               "prefixed with its host ('web-1 | '; line-based, the bytes otherwise unchanged;\n"
               "with --json, a \"host\" member), and a line per host and a total end stderr.\n"
               "\n"
               "Exit status: the job's exit code; 128+N if signal N ended it (also when stopped;\n"
               "137 if the OOM killer did); 127 if it failed to start; 130 after detaching\n"
               "(Ctrl-C, or Ctrl-P Ctrl-Q with -it); see 'jobrunner --help' for the others.\n"
               "With several contexts (never with -i or -t: input goes to one job), the\n"
               "highest of the hosts' values, where a host that could not run the job counts 69\n"
               "and one left on Ctrl-C 130: 0 only when every job exited 0.\n",
               spec_options_help, common_options_help);
}

static int run_option(Cli *cli, int opt, const char *arg, void *userdata, CliError *e) {
        Run *run = userdata;

        (void) cli;
        (void) arg;
        (void) e;
        switch (opt) {
        case ARG_STOP_ON_INTERRUPT:
                run->interrupt.stop_on_interrupt = true;
                return 1;
        case ARG_MERGE:
                run->merge = true;
                return 1;
        default:
                return 0;
        }
}

static void print_json_start(const JobStatus *j) {
        JsonWriter w;

        json_init(&w, stdout);
        json_begin_object(&w);
        json_kv_string(&w, "type", "start");
        json_key(&w, "job");
        json_job_status(&w, j);
        json_end_object(&w);
        fputc('\n', stdout);
        fflush(stdout);
}

int verb_run(Cli *cli, int argc, char **argv, CliError *e) {
        static const struct option options[] = {
                { "stop-on-interrupt", no_argument, NULL, ARG_STOP_ON_INTERRUPT },
                { "merge", no_argument, NULL, ARG_MERGE },
                {}
        };
        /* Written by the signal handler on a second Ctrl-C. */
        _cleanup_(spec_args_done) SpecArgs a;
        _cleanup_(start_response_freep) Jobrunner__V1__StartResponse *resp = NULL;
        _cleanup_(job_status_freep) JobStatus *end = NULL;
        char id[JOB_ID_LEN + 1];
        const JobStatus *j;
        LogsFollowOptions o;
        FirstContact first;
        LogsCursor cursor;
        LogsOutput out;
        Run run = { .interrupt = { .out = &out, .id = id, .cursor = &cursor } };
        bool raw;
        int r;

        spec_args_init(&a);
        r = spec_command_parse(cli, argc, argv, options, run_option, &run, help, &a, e);
        if (r != 0)
                return r < 0 ? r : 0;
        if (run.merge && cli->json)
                return cli_usage(cli, e, "--merge and --json exclude each other (JSON names each chunk's stream)");
        if (cli_fans_out(cli) && (a.interactive || a.tty))
                return cli_usage(cli, e, "%s takes one context: a job's input comes from one place, and a "
                                 "terminal shows one job", a.interactive ? "-i" : "-t");
        r = attach_check_tty(cli, a.interactive && a.tty, e);
        if (r < 0)
                return r;
        if (cli_fans_out(cli))
                return fanout_run(cli,
                                  &(FanOutRunOptions) { .spec = &a.spec, .merge = run.merge,
                                                        .stop_on_interrupt = run.interrupt.stop_on_interrupt },
                                  e);

        logs_output_init(&out, STDOUT_FILENO, STDERR_FILENO, cli->json);
        out.merge = run.merge;
        raw = a.interactive && a.tty;

        /* Begun while the daemon restarts, Start is retried only when its
         * request certainly reached no daemon: never two jobs. */
        r = cli_connect(cli, e);
        if (r < 0)
                return r;
        run.interrupt.conn = cli->conn;
        first_contact_begin(&first, cli->conn, &out, false);
        r = cli_start_job(cli, &a.spec, &resp, e);
        first_contact_end(&first);
        if (r < 0)
                return r;
        j = resp->job;
        snprintf(id, sizeof(id), "%s", j->id);

        if (cli->json)
                print_json_start(j);
        if (j->state == JOBRUNNER__V1__JOB_STATE__JOB_STATE_FAILED_TO_START) {
                _cleanup_free_ char *result = format_job_result(j);

                return cli_error(e, CLI_EXIT_FAILED_TO_START, -ENOEXEC, "job %s %s", id, result ?: "failed to start");
        }

        /* On a raw terminal Ctrl-C is the job's: the terminal's own
         * handlers (tty-raw.h) see to the signals that still come. */
        if (!raw) {
                r = run_interrupt_install(id, e);
                if (r < 0)
                        return r;
        }

        logs_cursor_init(&cursor, 0, 0);
        if (a.interactive) {
                AttachOptions ao = {
                        .id = id,
                        .input = true,
                        .pipe = !a.tty,
                        .raw = raw,
                        .in_fd = STDIN_FILENO,
                        .interruptible = !raw,
                        .on_interrupt = run_interrupt,
                        .userdata = &run.interrupt,
                };

                run.interrupt.attach = a.tty ? "-it" : "-i";
                run.interrupt.replay = a.tty;
                r = attach_session(cli->conn, &ao, &cursor, &out, &end, e);
                if (r == ATTACH_DETACHED) {
                        run_tell_detached(&run.interrupt);
                        return CLI_EXIT_INTERRUPTED;
                }
        } else {
                o = (LogsFollowOptions) {
                        .follow = true,
                        .interruptible = true,
                        .on_interrupt = run_interrupt,
                        .userdata = &run.interrupt,
                };
                r = logs_follow(cli->conn, id, &o, &cursor, &out, &end, e);
        }
        if (r == -EINTR)
                return CLI_EXIT_INTERRUPTED;
        return job_followed_exit(cli->conn, id, r, &end, e);
}
