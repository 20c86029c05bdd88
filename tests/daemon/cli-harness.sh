# SPDX-License-Identifier: LGPL-2.1-or-later
# What the CLI's end-to-end scripts share (test-cli.sh, test-no-loss.sh):
# source it with the test's name first,
#
#   test_name=test-cli; . "$(dirname "$0")/cli-harness.sh"
#
# Outside the test VM (JOBRUNNER_TEST_VM=1) it exits 77: meson's SKIP.  In
# it, it installs the daemon (tests/daemon/install-daemon), makes a scratch
# directory $T, points the CLI at alice's certificates through the
# environment, and defines the checks below (and test-steps.sh's).
#
# Environment (meson sets it): JOBRUNNER_INSTALL_DAEMON, JOBRUNNER_BUILD_ROOT,
# JOBRUNNER_CLI (the jobrunner binary).

if [[ ${JOBRUNNER_TEST_VM:-} != 1 ]]; then
        echo "SKIP: not inside the jobrunner test VM (JOBRUNNER_TEST_VM is not 1): this test needs systemd as" \
             "PID 1 and an installed jobrunnerd; it runs there via the 'vm' suite or tests/vm/vm-run"
        exit 77
fi
for v in JOBRUNNER_INSTALL_DAEMON JOBRUNNER_BUILD_ROOT JOBRUNNER_CLI; do
        [[ -n ${!v:-} ]] || { echo "$test_name: $v must be set (meson sets it)" >&2; exit 99; }
done

. "$(dirname "${BASH_SOURCE[0]}")/test-steps.sh"

"$JOBRUNNER_INSTALL_DAEMON" "$JOBRUNNER_BUILD_ROOT" || { echo "$test_name: install-daemon failed" >&2; exit 99; }
echo "# daemon installed after $(elapsed) s"

CLI=$JOBRUNNER_CLI
users=/etc/jobrunner/tls/users
# Not under /tmp: units get a private one.
T=$(mktemp -d "/run/jobrunner-$test_name.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT

# No user or system configuration of root's may get in the way.
mkdir -p "$T/nohome"
export HOME=$T/nohome
unset XDG_CONFIG_HOME JOBRUNNER_SERVER JOBRUNNER_DEBUG

# alice, the main user, through the environment.
export JOBRUNNER_CERT=$users/alice/client.crt JOBRUNNER_KEY=$users/alice/client.key JOBRUNNER_CA=$users/alice/ca.crt
# Everybody else through the options.
as() { echo --cert "$users/$1/client.crt" --key "$users/$1/client.key" --ca "$users/$1/ca.crt"; }

show() {
        echo "  exit status: $rc" >&2
        echo "  stdout: $(head -c 2000 "$T/out" | cat -v)" >&2
        echo "  stderr: $(head -c 2000 "$T/err" | cat -v)" >&2
}

# jr WANT ARG...: runs the CLI with stdout in $T/out and stderr in $T/err and
# checks its exit status; returns non-zero (after reporting) if it differs.
jr() {
        local want=$1
        shift
        checks=$((checks + 1))
        "$CLI" "$@" > "$T/out" 2> "$T/err" < /dev/null
        rc=$?
        if [[ $rc != "$want" ]]; then
                fail "jobrunner $*: exit status $rc, expected $want"
                show
                return 1
        fi
        return 0
}

# jr_in WANT FILE ARG...: jr with FILE as the CLI's stdin.
jr_in() {
        local want=$1 input=$2
        shift 2
        checks=$((checks + 1))
        "$CLI" "$@" > "$T/out" 2> "$T/err" < "$input"
        rc=$?
        if [[ $rc != "$want" ]]; then
                fail "jobrunner $* < $input: exit status $rc, expected $want"
                show
                return 1
        fi
        return 0
}

# jr_env_free WANT HOME ARG...: jr without the environment's certificates,
# with that HOME.
jr_env_free() {
        local want=$1 home=$2
        shift 2
        checks=$((checks + 1))
        env -u JOBRUNNER_CERT -u JOBRUNNER_KEY -u JOBRUNNER_CA HOME="$home" "$CLI" "$@" \
                > "$T/out" 2> "$T/err" < /dev/null
        rc=$?
        if [[ $rc != "$want" ]]; then
                fail "HOME=$home jobrunner $* (no JOBRUNNER_CERT/KEY/CA): exit status $rc, expected $want"
                show
                return 1
        fi
        return 0
}

# out_has / err_has ERE: the output matches (grep -E, per line).
out_has() { grep -Eq -- "$1" "$T/out" || { fail "stdout lacks /$1/"; show; }; }
err_has() { grep -Eq -- "$1" "$T/err" || { fail "stderr lacks /$1/"; show; }; }
err_empty() { [[ ! -s $T/err ]] || { fail "unexpected stderr"; show; }; }

# json EXPR WANT [EXPR WANT]...: parses stdout as JSON (d) and checks that
# Python's str() of each EXPR is its WANT.  One python3 for all (it takes a
# second to start under TCG).
json() {
        local msg
        msg=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for expr, want in zip(sys.argv[2::2], sys.argv[3::2]):
    got = str(eval(expr))
    if got != want:
        print(f"JSON {expr} is {got!r}, expected {want!r}")' "$T/out" "$@" 2>&1) || {
                fail "stdout is not JSON as expected: $(tail -n 1 <<< "$msg")"
                show
                return 1
        }
        [[ -z $msg ]] || { fail "$msg"; return 1; }
}

# The id in the JSON object on stdout (its first field).
json_id() { sed -n 's/^{"id":"\([0-9a-f]*\)".*/\1/p' "$T/out"; }

is_id() { [[ $1 =~ ^[0-9a-f]{32}$ ]]; }

# wait_ready ID [CERT OPTIONS...]: until the job has printed "ready" (its
# SIGTERM trap is set by then); no check of its own.
wait_ready() {
        local id=$1 i
        shift
        for ((i = 0; i < 240; i++)); do
                "$CLI" "$@" logs "$id" 2> /dev/null | grep -q '^ready$' && return 0
                sleep 0.5
        done
        fail "job $id never printed 'ready'"
        return 1
}

# interrupted WANT COUNT ARG...: runs "jobrunner ARG..." in the background,
# waits until COUNT lines of its stdout end in "ready" (a job's, on one host
# or several), sends SIGINT (as Ctrl-C does) and checks the exit status.
interrupted() {
        local want=$1 count=$2 pid i
        shift 2
        checks=$((checks + 1))
        "$CLI" "$@" > "$T/out" 2> "$T/err" < /dev/null &
        pid=$!
        for ((i = 0; i < 240; i++)); do
                (($(grep -c 'ready$' "$T/out" 2> /dev/null) + 0 >= count)) && break
                sleep 0.5
        done
        kill -INT "$pid"
        wait "$pid"
        rc=$?
        if [[ $rc != "$want" ]]; then
                fail "jobrunner $* interrupted: exit status $rc, expected $want"
                show
                return 1
        fi
}
