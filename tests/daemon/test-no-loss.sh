#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# No output is lost whenever a job ends relative to the daemon's restarts and
# crashes, in the test VM, through the installed, socket-activated daemon and
# the real CLI.  A job writes 200 numbered lines on each stream, the second
# hundred only once the test lets it, then exits; the test arranges for that
# to happen
#
#   - while the daemon is frozen (SIGSTOP), and then killed (SIGKILL);
#   - right as the daemon is killed;
#   - between the stop and the start of "systemctl restart";
#   - right after the job's start, with the daemon killed at once;
#
# and checks that `jobrunner logs` gives back every byte on both streams,
# without a notice, and that the job's exit status is its own.  Then ten jobs
# writing for a while are followed with `jobrunner logs -f` across a restart
# and a crash of the daemon: every follower must receive everything.
#
# The pipes a job writes to are kept in systemd's file descriptor store while
# no daemon reads them, with FDPOLL=0: without it systemd drops a stored pipe
# as soon as the job's end hangs it up, with the last output still in it
# (daemon/fd-store.h).
#
# It stops and kills the daemon: meson runs it alone (is_parallel: false).
set -uo pipefail

test_name=test-no-loss
. "$(dirname "${BASH_SOURCE[0]}")/cli-harness.sh"

SERVICE=jobrunner.service
# Where the jobs (dynamic users) look for their trigger files.
chmod 0755 "$T" || exit 99
hold_dropin=/run/systemd/system/$SERVICE.d/50-test-no-loss-hold.conf
cleanup() {
        rm -f "$hold_dropin" "$T/release"
        systemctl daemon-reload
        rm -rf "$T"
}
trap cleanup EXIT

# The job: 100 lines on each stream, the next 100 once $1 exists, exit 3.
# An exit status of its own, so that a job reported as exited 0 or killed
# shows the daemon guessed.
job_script() {
        cat <<EOF
i=1; while [ \$i -le 100 ]; do echo "out \$i"; echo "err \$i" >&2; i=\$((i + 1)); done
while [ ! -e '$1' ]; do sleep 0.1; done
while [ \$i -le 200 ]; do echo "out \$i"; echo "err \$i" >&2; i=\$((i + 1)); done
exit 3
EOF
}
for i in $(seq 1 200); do echo "out $i"; done > "$T/expected.out"
for i in $(seq 1 200); do echo "err $i"; done > "$T/expected.err"

main_pid() { systemctl show -p MainPID --value "$SERVICE"; }

# wait_for WHAT COMMAND...: polls COMMAND until it succeeds, for up to 120 s.
wait_for() {
        local what=$1 i
        shift
        for ((i = 0; i < 1200; i++)); do
                "$@" && return 0
                sleep 0.1
        done
        fail "timed out waiting for $what"
        return 1
}

unit_gone() { ! systemctl -q is-active "jobrunner-$1.service"; }
daemon_active() { systemctl -q is-active "$SERVICE"; }
daemon_held() { [[ $(systemctl show -p SubState --value "$SERVICE") == start-pre ]]; }

# start_job NAME: starts the job with trigger file $T/NAME and sets $id.
start_job() {
        id=
        jr 0 --timeout 2min start -- /bin/sh -c "$(job_script "$T/$1")" || return 1
        id=$(cat "$T/out")
        is_id "$id" || { fail "start printed no job id: '$id'"; id=; return 1; }
}

job_running() { "$CLI" --json status "$1" 2> /dev/null | grep -q '"state":"running"'; }

# check_all ID: every byte of both streams is there, without a notice, and
# the job's exit status is its own.
check_all() {
        local id=$1
        jr 3 --timeout 2min wait "$id" || return 1
        if jr 0 logs --stdout "$id"; then
                cmp -s "$T/out" "$T/expected.out" ||
                        fail "stdout: $(wc -l < "$T/out") of 200 lines, or not byte-exact"
                err_empty
        fi
        if jr 0 logs --merge --stderr "$id"; then
                cmp -s "$T/out" "$T/expected.err" ||
                        fail "stderr: $(wc -l < "$T/out") of 200 lines, or not byte-exact"
                err_empty
        fi
        jr 0 --json status "$id" &&
                json 'd["state"], d["exit_code"], d["stdout_bytes"], d["stderr_bytes"]' \
                     "('exited', 3, $(stat -c %s "$T/expected.out"), $(stat -c %s "$T/expected.err"))"
}

# ---------------------------------------------------------------- frozen, then killed

step "the job ends while the daemon is frozen; then the daemon is killed"
if start_job frozen && wait_for "job $id running" job_running "$id"; then
        pid=$(main_pid)
        kill -STOP "$pid"
        touch "$T/frozen"
        wait_for "the job's unit to end" unit_gone "$id"
        kill -KILL "$pid"
        # Restart=on-failure, or the next connection, brings it back.
        check_all "$id"
fi

# ---------------------------------------------------------------- killed

step "the job ends as the daemon is killed"
if start_job killed && wait_for "job $id running" job_running "$id"; then
        touch "$T/killed"
        kill -KILL "$(main_pid)"
        wait_for "the job's unit to end" unit_gone "$id"
        check_all "$id"
fi

# ---------------------------------------------------------------- between stop and start

# The daemon's start waits for $T/release: the restart's stop is done, its
# start not yet.
mkdir -p "${hold_dropin%/*}"
printf '[Service]\nExecStartPre=/bin/sh -c "while [ ! -e %s ]; do sleep 0.1; done"\n' "$T/release" > "$hold_dropin"
systemctl daemon-reload

step "the job ends between the stop and the start of a restart"
if start_job restart && wait_for "job $id running" job_running "$id"; then
        systemctl restart --no-block "$SERVICE"
        if wait_for "the old daemon to stop" daemon_held; then
                touch "$T/restart"
                wait_for "the job's unit to end" unit_gone "$id"
        fi
        touch "$T/release"
        wait_for "the daemon to start" daemon_active
        check_all "$id"
fi
rm -f "$hold_dropin" "$T/release"
systemctl daemon-reload

# ---------------------------------------------------------------- right after the start

# No trigger to wait for: the job writes everything and exits at once, and
# the daemon is killed right after Start answered, sooner or later.
for delay in 0 0.1 0.5; do
        step "the job ends right after its start; the daemon is killed ${delay} s after Start answered"
        touch "$T/now"
        if start_job now; then
                sleep "$delay"
                kill -KILL "$(main_pid)"
                wait_for "the job's unit to end" unit_gone "$id"
                check_all "$id"
        fi
done

# ---------------------------------------------------------------- followers

# Ten jobs writing a line every 0.05 s, followed by `logs -f` across a
# restart and a crash of the daemon.
step "ten followed jobs across a restart and a kill -9"
follow_script='i=1; while [ $i -le 150 ]; do echo "line $i"; i=$((i + 1)); sleep 0.05; done; echo done'
for i in $(seq 1 150); do echo "line $i"; done > "$T/expected.follow"
echo done >> "$T/expected.follow"
ids=()
pids=()
for n in $(seq 0 9); do
        jr 0 --timeout 2min start -- /bin/sh -c "$follow_script" || break
        ids+=("$(cat "$T/out")")
done
for n in "${!ids[@]}"; do
        timeout 900 "$CLI" logs -f "${ids[n]}" > "$T/follow.$n.out" 2> "$T/follow.$n.err" &
        pids+=($!)
done
sleep 2
systemctl restart "$SERVICE"
sleep 2
kill -KILL "$(main_pid)"
for n in "${!ids[@]}"; do
        checks=$((checks + 1))
        wait "${pids[n]}"
        rc=$?
        [[ $rc == 0 ]] || fail "logs -f of job $n (${ids[n]}): exit status $rc: $(cat -v "$T/follow.$n.err")"
        cmp -s "$T/follow.$n.out" "$T/expected.follow" ||
                fail "logs -f of job $n (${ids[n]}) received $(wc -l < "$T/follow.$n.out") of 151 lines," \
                     "or not byte-exact: $(cat -v "$T/follow.$n.err")"
        # A follower that only began while the daemon restarted waits
        # for it with notices of its own.
        grep -v -E 'lost the connection|reconnect|cannot reach the server yet|^jobrunner: connected$' \
                "$T/follow.$n.err" | grep -q . &&
                fail "logs -f of job $n printed more than reconnection notices: $(cat -v "$T/follow.$n.err")"
done
((${#ids[@]} == 10)) || fail "started only ${#ids[@]} of 10 jobs"

echo "# $checks commands, $failures failures, $(elapsed) s"
((failures == 0))
