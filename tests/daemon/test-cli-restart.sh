#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The jobrunner CLI begun while the daemon restarts, in the test VM, against
# the real jobrunnerd installed by tests/daemon/install-daemon: the restart
# is held in ExecStartPre= (a drop-in) while `jobrunner logs -f` and
# `jobrunner run` begin, so that their connections wait in the backlog of
# jobrunner.socket for longer than a call's deadline; once the daemon is let
# go, both must finish as if it had answered at once: output byte for byte,
# their exit statuses, and exactly one job started by the run.  A follower
# connected before the restart waits just as long, and resumes.
#
# Environment and set-up: cli-harness.sh.
#
# It restarts the daemon: meson runs it alone (is_parallel: false).
set -uo pipefail

test_name=test-cli-restart
. "$(dirname "$0")/cli-harness.sh"

dropin=/run/systemd/system/jobrunner.service.d/50-test-cli-restart.conf
# The job (a dynamic user) waits for a file in here.
chmod 0755 "$T"
release=$T/release-daemon
pids=()

cleanup() {
        local p
        for p in "${pids[@]}"; do
                kill "$p" 2> /dev/null
        done
        touch "$release" "$T/go"
        rm -f "$dropin"
        systemctl daemon-reload
        # Leave the daemon running, as the other tests expect to find it.
        systemctl start jobrunner.service
        rm -rf "$T"
}
trap cleanup EXIT

# show_of NAME: the output of the CLI that wrote $T/NAME.out and .err.
show_of() {
        echo "  $1 stdout: $(head -c 2000 "$T/$1.out" | cat -v)" >&2
        echo "  $1 stderr: $(head -c 2000 "$T/$1.err" | cat -v)" >&2
}

# until_true SECONDS COMMAND...: runs COMMAND every 0.2 s until it
# succeeds; fails after SECONDS.
until_true() {
        local end=$((SECONDS + $1))
        shift
        while ((SECONDS < end)); do
                "$@" && return 0
                sleep 0.2
        done
        "$@"
}

# The number of alice's jobs whose argv is the marker's.
marker=$T/marker
count_marker_jobs() {
        "$CLI" --json list --all | python3 -c 'import json, sys
print(sum(1 for j in json.load(sys.stdin) if j["spec"]["argv"][-1] == sys.argv[1]))' "$marker"
}

# ---------------------------------------------------------------- before the restart

# The first connection may start the daemon: under TCG that can take a while.
step "start the job that logs -f follows: output before and after the restart"
"$CLI" --timeout 2min start -- /bin/sh -c \
        "printf 'before\n'; printf 'err before\n' >&2; while [ ! -e '$T/go' ]; do sleep 0.2; done;
         printf 'after\n'; printf 'err after\n' >&2; exit 3" > "$T/id" || { fail "start failed"; exit 1; }
id=$(cat "$T/id")
is_id "$id" || { fail "start printed no job id: '$id'"; exit 1; }
before=$(count_marker_jobs) || { fail "list failed"; exit 1; }

step "a follower connected before the restart"
"$CLI" logs -f "$id" > "$T/early.out" 2> "$T/early.err" < /dev/null &
early_pid=$!
pids+=("$early_pid")
has_line() { grep -qxF "$2" "$T/$1.$3"; }
until_true 120 has_line early "err before" err || { fail "the early follower got no output"; show_of early; }

step "hold the daemon's next start in ExecStartPre=, restart it"
mkdir -p "${dropin%/*}"
cat > "$dropin" <<EOF
[Service]
ExecStartPre=+/bin/sh -c 'while [ ! -e $release ]; do sleep 0.2; done'
TimeoutStartSec=10min
EOF
systemctl daemon-reload
systemctl restart --no-block jobrunner.service
is_held() { [[ $(systemctl show -p ActiveState,SubState --value jobrunner.service | paste -sd ' ') == "activating start-pre" ]]; }
until_true 120 is_held || { fail "jobrunner.service never got held in ExecStartPre="; exit 1; }

# ---------------------------------------------------------------- while it is held

step "logs -f and run begin while no daemon accepts"
"$CLI" logs -f "$id" > "$T/logs.out" 2> "$T/logs.err" < /dev/null &
logs_pid=$!
pids+=("$logs_pid")
"$CLI" run -- /bin/sh -c 'printf "run out\n"; printf "run err\n" >&2; exit 5' "$marker" \
        > "$T/run.out" 2> "$T/run.err" < /dev/null &
run_pid=$!
pids+=("$run_pid")

# Past a call's deadline (30 s), which a CLI that does not retry would not
# have survived; the notice says when.
notice="jobrunner: cannot reach the server yet (no TLS handshake within 30s); retrying..."
# waiting NAME PID: it said so, or it is gone (and never will).
waiting() { grep -qxF "$notice" "$T/$1.err" || ! kill -0 "$2" 2> /dev/null; }
for c in logs run; do
        pid=${c}_pid
        until_true 180 waiting "$c" "${!pid}"
        grep -qxF "$notice" "$T/$c.err" || { fail "$c never said that it waits for the server"; show_of "$c"; }
done
is_held || fail "the daemon was let go before the test said so"

step "let the daemon go; let the job end"
touch "$release"
until_true 300 systemctl is-active --quiet jobrunner.service || fail "jobrunner.service did not start"
touch "$T/go"

# ---------------------------------------------------------------- both finish

step "logs -f: the whole output, byte for byte, exit status 0"
wait "$logs_pid"
rc=$?
[[ $rc == 0 ]] || { fail "logs -f: exit status $rc, expected 0"; show_of logs; }
[[ $(cat "$T/logs.out"; echo .) == $'before\nafter\n.' ]] || { fail "logs -f: stdout differs"; show_of logs; }
[[ $(cat "$T/logs.err"; echo .) == "$notice"$'\njobrunner: connected\nerr before\nerr after\n.' ]] ||
        { fail "logs -f: stderr differs"; show_of logs; }

step "the follower connected before: the whole output, byte for byte, exit status 0"
wait "$early_pid"
rc=$?
[[ $rc == 0 ]] || { fail "early logs -f: exit status $rc, expected 0"; show_of early; }
[[ $(cat "$T/early.out"; echo .) == $'before\nafter\n.' ]] || { fail "early logs -f: stdout differs"; show_of early; }
[[ $(grep -v '^jobrunner: ' "$T/early.err"; echo .) == $'err before\nerr after\n.' ]] ||
        { fail "early logs -f: the job's stderr differs"; show_of early; }
has_line early "jobrunner: reconnected" err || { fail "early logs -f: no reconnection"; show_of early; }

step "run: the job's output byte for byte, its exit status (5), one job started"
wait "$run_pid"
rc=$?
[[ $rc == 5 ]] || { fail "run: exit status $rc, expected 5"; show_of run; }
[[ $(cat "$T/run.out"; echo .) == $'run out\n.' ]] || { fail "run: stdout differs"; show_of run; }
[[ $(cat "$T/run.err"; echo .) == "$notice"$'\njobrunner: connected\nrun err\n.' ]] ||
        { fail "run: stderr differs"; show_of run; }
after=$(count_marker_jobs) || fail "list failed"
[[ $((after - before)) == 1 ]] || fail "run started $((after - before)) jobs, expected 1"
pids=()

echo "# $failures failures, $(elapsed) s"
((failures == 0))
