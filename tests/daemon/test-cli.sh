#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The jobrunner CLI end to end, in the test VM: the built `jobrunner` against
# the real jobrunnerd, installed by tests/daemon/install-daemon and
# socket-activated on localhost:50051, over mutual TLS with the test users'
# certificates.  Every command, the --json output, the exit codes of the job
# and of each error class, and the three ways of naming the certificates
# (options, environment, configuration file).
#
# Environment (meson sets it): what cli-harness.sh needs, and
# JOBRUNNER_MEMHOG (tests/helpers/memhog).
#
# Runs beside the other daemon tests (it never restarts the daemon); they
# start jobs as alice too, so it only looks for its own jobs, by id.
set -uo pipefail

test_name=test-cli
. "$(dirname "${BASH_SOURCE[0]}")/cli-harness.sh"
[[ -n ${JOBRUNNER_MEMHOG:-} ]] || { echo "test-cli: JOBRUNNER_MEMHOG must be set (meson sets it)" >&2; exit 99; }
# Units get a private /tmp, and the build tree may be there: jobs run helpers
# from a copy under /usr/local (a throw-away overlay in the VM).
helpers=/usr/local/libexec/jobrunner-test-cli.${T##*.}
install -D -m 0755 "$JOBRUNNER_MEMHOG" "$helpers/memhog" || exit 99

# ---------------------------------------------------------------- start, status, list

# The first call may start the daemon (socket activation): under TCG that
# alone can take 15 s, so it gets more than the default 30 s.  The job must
# still run when it is stopped, many calls later: on a busy host a call can
# take 5 s, so it sleeps long.
step "start prints the job's id"
id_sleep=
if jr 0 --timeout 2min start -- /bin/sleep 600; then
        id_sleep=$(cat "$T/out")
        is_id "$id_sleep" || fail "stdout is not one job id: '$id_sleep'"
        err_empty
fi

step "start --json prints the job as JSON"
id7=
if jr 0 --json start -- /bin/sh -c 'exit 7'; then
        id7=$(json_id)
        is_id "$id7" || fail "no job id in the JSON: '$id7'"
        json 'd["id"]' "$id7" 'd["owner"]' alice 'd["spec"]["argv"]' "['/bin/sh', '-c', 'exit 7']"
fi

# The job whose output logs -f follows below: deterministic binary output on
# both streams, in several pieces with pauses, so that following has to wait.
binprog='import sys, time
for i in range(4):
    sys.stdout.buffer.write(bytes(range(256)) * 250)
    sys.stdout.buffer.flush()
    sys.stderr.buffer.write(bytes(range(255, -1, -1)) * 10 + b"\0\n\r\xff")
    sys.stderr.buffer.flush()
    time.sleep(0.5)'
python3 -c "$binprog" > "$T/expected.out" 2> "$T/expected.err"
step "start a job writing binary output (python3)"
id_bin=
jr 0 start -- /usr/bin/python3 -c "$binprog" && id_bin=$(cat "$T/out")

step "logs -f writes the binary output byte for byte, each stream to its own"
if [[ -n $id_bin ]] && jr 0 logs -f "$id_bin"; then
        cmp "$T/out" "$T/expected.out" || fail "logs -f stdout differs from the job's ($(stat -c %s "$T/out") bytes)"
        cmp "$T/err" "$T/expected.err" || fail "logs -f stderr differs from the job's ($(stat -c %s "$T/err") bytes)"
fi
step "logs --stdout of the ended job, byte for byte"
if [[ -n $id_bin ]] && jr 0 logs --stdout "${id_bin:0:8}"; then
        cmp "$T/out" "$T/expected.out" || fail "logs --stdout differs from the job's"
        err_empty
fi

step "logs --merge --stderr: the job's stderr on stdout, byte for byte"
if [[ -n $id_bin ]] && jr 0 logs --merge --stderr "$id_bin"; then
        cmp "$T/out" "$T/expected.err" || fail "logs --merge --stderr differs from the job's stderr"
        err_empty
fi

step "logs --stderr --offset 100: the job's stderr from its byte 100"
if [[ -n $id_bin ]] && jr 0 logs --stderr --offset 100 "$id_bin"; then
        [[ ! -s $T/out ]] || fail "stdout is not empty"
        tail -c +101 "$T/expected.err" | cmp - "$T/err" || fail "stderr from offset 100 differs"
fi

step "logs --tail 3 of a job's 50 lines"
id_seq=
jr 0 start -- /usr/bin/seq 1 50 && id_seq=$(cat "$T/out")
if [[ -n $id_seq ]] && jr 0 wait "$id_seq" && jr 0 logs --tail 3 "$id_seq"; then
        [[ $(cat "$T/out") == $'48\n49\n50' ]] || { fail "logs --tail 3 is not the last 3 lines"; show; }
fi

step "status by a unique 8-character prefix: id, owner, state"
if [[ -n $id_sleep ]] && jr 0 status "${id_sleep:0:8}"; then
        out_has "^Id: +$id_sleep\$"
        out_has "^Unit: +jobrunner-$id_sleep\\.service\$"
        out_has '^Owner: +alice$'
        out_has '^Command: +/bin/sleep 600$'
        out_has '^State: +running'
fi

step "--json status parses, with state and owner"
if [[ -n $id_sleep ]] && jr 0 status --json "$id_sleep"; then
        json 'd["id"]' "$id_sleep" 'd["state"]' running 'd["owner"]' alice
fi

step "list shows the job"
if jr 0 list; then
        out_has '^ID +OWNER +STATE'
        out_has "^$id_sleep +alice +running +- +.*/bin/sleep 600\$"
fi

step "--json list parses and holds the job"
if jr 0 --json list; then
        json 'type(d).__name__' list "[j['state'] for j in d if j['id'] == '$id_sleep']" "['running']"
fi

step "list --state running -q: only ids"
if jr 0 list --state running -q; then
        grep -qx "$id_sleep" "$T/out" || fail "list -q lacks $id_sleep"
        grep -qvE '^[0-9a-f]{32}$' "$T/out" && fail "list -q printed more than ids"
fi

# ---------------------------------------------------------------- permissions

step "a viewer may not stop the job (4)"
if [[ -n $id_sleep ]] && jr 4 $(as victor) stop "$id_sleep"; then
        err_has 'permission denied'
        err_has 'victor \(role viewer\)'
fi

step "a viewer sees it"
[[ -n $id_sleep ]] && jr 0 $(as victor) status "$id_sleep" && out_has '^Owner: +alice$'

step "wait --timeout gives up (6)"
[[ -n $id_sleep ]] && jr 6 wait --timeout 1s "$id_sleep"

# ---------------------------------------------------------------- stop, wait

step "stop --grace 2s ends the job; status says stopped"
t_stop=$EPOCHREALTIME
if [[ -n $id_sleep ]] && jr 0 stop --grace 2s "$id_sleep"; then
        out_has "^job $id_sleep stopped by alice"
        took=$(awk -v a="$t_stop" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", b - a }')
        ((took < 60)) || fail "the stop took $took s: the job never got its SIGTERM"
        if jr 0 status "$id_sleep"; then
                out_has '^State: +stopped by alice'
        fi
        jr 0 --json status "$id_sleep" && json 'd["state"], d["stopped_by"]' "('stopped', 'alice')"
fi

step "stop of a job that has ended (5)"
[[ -n $id_sleep ]] && jr 5 stop "$id_sleep" && err_has "$id_sleep"

step "wait exits with the job's exit code (7)"
[[ -n $id7 ]] && jr 7 wait "$id7" && out_has "^job $id7 exited with code 7\$"

step "wait --json of an ended job"
[[ -n $id7 ]] && jr 7 --json wait "$id7" && json 'd["state"], d["exit_code"]' "('exited', 7)"

# ---------------------------------------------------------------- run

step "run: stdout and stderr on their streams, the job's exit code (3)"
if jr 3 run -- /bin/sh -c 'echo out; echo err >&2; exit 3'; then
        [[ $(cat "$T/out") == out ]] || { fail "stdout is not 'out'"; show; }
        [[ $(cat "$T/err") == err ]] || { fail "stderr is not 'err'"; show; }
fi

# Two pipes: the order of lines written back to back may swap.
step "run --merge: both streams on stdout, nothing on stderr"
if jr 3 run --merge -- /bin/sh -c 'echo out; echo err >&2; exit 3'; then
        [[ $(sort "$T/out") == $'err\nout' ]] || { fail "stdout is not the two lines"; show; }
        err_empty
fi

step "run --memory 64M of a memory hog: OOM-killed, 137"
jr 137 run --memory 64M -- "$helpers/memhog" 256
if jr 0 --json list --state oom-killed; then
        json "[(j['state'], j['oom_killed'], j['spec']['limits']['memory_max_bytes'])
               for j in d if j['spec']['argv'] == ['$helpers/memhog', '256']]" \
             "[('oom-killed', True, 67108864)]"
fi

step "start of a program that does not exist: id printed, reason, 127"
if jr 127 start -- /nonexistent/program; then
        is_id "$(cat "$T/out")" || fail "no job id on stdout"
        err_has 'No such file or directory'
fi

step "run, Ctrl-C: detaches (130), says how to follow or stop; the job runs on"
if interrupted 130 1 run -- /bin/sh -c 'echo ready; exec sleep 600'; then
        id_detached=$(sed -n 's/^jobrunner: detached from job \([0-9a-f]*\), which keeps running\.$/\1/p' "$T/err")
        if is_id "$id_detached"; then
                err_has "jobrunner logs -f --stdout-offset 6 --stderr-offset 0 $id_detached"
                err_has "jobrunner stop $id_detached"
                jr 0 --json status "$id_detached" && json 'd["state"]' running
                jr 0 stop --grace 1s "$id_detached"
        else
                fail "no 'detached from job ID' on stderr"
                show
        fi
fi

step "run --stop-on-interrupt, Ctrl-C: the job is stopped, run exits 128+SIGTERM"
interrupted 143 1 run --stop-on-interrupt -- /bin/sh -c 'echo ready; exec sleep 600' &&
        err_has "stopping job [0-9a-f]{32}"

# ---------------------------------------------------------------- input

step "run -i: stdin reaches the job byte for byte, and its end (sha256sum)"
head -c 3000000 /dev/urandom > "$T/input"
if jr_in 0 "$T/input" run -i -- /usr/bin/sha256sum; then
        [[ $(cut -d' ' -f1 "$T/out") == $(sha256sum < "$T/input" | cut -d' ' -f1) ]] ||
                { fail "the job's sha256 of its input differs"; show; }
        err_empty
fi

step "start -i: the job waits for input; attach -i gives it and exits with its code (5)"
id_in=
jr 0 start -i -- /bin/sh -c 'wc -c; exit 5' && id_in=$(cat "$T/out")
if [[ -n $id_in ]]; then
        jr 0 --json status "$id_in" && json 'd["state"]' running
        printf 'twelve bytes' > "$T/input12"
        jr_in 5 "$T/input12" attach -i "$id_in" && out_has '^ *12$'
        step "attach without -i replays the whole output and exits with the job's code"
        jr 5 attach "$id_in" && out_has '^ *12$'
fi

step "attach -i of a job started without input is refused (2)"
[[ -n $id7 ]] && jr 2 attach -i "$id7" && err_has "has no input"

step "run -it without a terminal on stdin is refused, as docker does (2)"
jr 2 run -it -- /bin/sh && err_has "the input device is not a TTY"

# ---------------------------------------------------------------- another user's job

# It ends 12 s after SIGTERM: within the grace that bob gives it, but after
# the server's default of 10 s, so it tells whether --grace reaches the job.
step "bob starts a job that takes 12 s to end after SIGTERM (certificate by options)"
id_bob=
jr 0 $(as bob) start -- /bin/sh -c 'trap "sleep 12; exit 0" TERM; echo ready; while :; do sleep 0.2; done' &&
        id_bob=$(cat "$T/out")
step "alice cannot see bob's job: stop is NOT_FOUND (3)"
if [[ -n $id_bob ]] && jr 3 stop "$id_bob"; then
        err_has 'no such job'
        err_has 'alice \(role operator\)'
fi
step "alice's list holds no job of bob's"
jr 0 --json list --all && json "[j for j in d if j['owner'] != 'alice']" "[]"
step "bob stops it with --grace 1min: it ends by itself, no SIGKILL"
[[ -n $id_bob ]] && wait_ready "$id_bob" $(as bob) && jr 0 $(as bob) --json stop --grace 1min "$id_bob" &&
        json 'd["state"], d["stopped_by"], d["killed_after_grace"], d["exit_code"]' "('stopped', 'bob', False, 0)"

# The grace is measured from the SIGTERM the job survives, which it stamps on
# its stdout, to its end as systemd saw it: the time of the calls around it
# is not part of it (under ASan in TCG on a busy host the stop call alone
# can take 15 s).
step "stop --grace 1s of a job that ignores SIGTERM: SIGKILL after the grace, well before 10 s"
id_deaf=
jr 0 start -- /bin/sh -c 'trap "echo TERM \$(date +%s%6N)" TERM; echo ready; while :; do sleep 0.2; done' &&
        id_deaf=$(cat "$T/out")
if [[ -n $id_deaf ]] && wait_ready "$id_deaf"; then
        if jr 0 stop --grace 1s "$id_deaf"; then
                out_has "^job $id_deaf stopped by alice: killed by SIGKILL after the grace period"
                end_us= term_us=
                jr 0 --json status "$id_deaf" && end_us=$(sed -n 's/.*"end_time_us":\([0-9]*\).*/\1/p' "$T/out")
                jr 0 logs --stdout "$id_deaf" && term_us=$(sed -n 's/^TERM \([0-9]*\)$/\1/p' "$T/out")
                if [[ -n $term_us && -n $end_us ]]; then
                        took=$(((end_us - term_us) / 1000000))
                        ((took < 8)) || fail "a 1 s grace took $took s"
                else
                        fail "no SIGTERM stamp on the job's stdout, or no end time"
                        show
                fi
        fi
fi

# ---------------------------------------------------------------- errors

step "no job with the prefix (3)"
jr 3 status 00000000deadbeef && err_has "no job id starts with '00000000deadbeef'"
step "no such job (3)"
jr 3 status 00000000000000000000000000000000 && err_has 'no such job'
step "prefix too short (2)"
jr 2 status abc
step "unknown command (2)"
jr 2 frobnicate
step "invalid --memory value, quoted (2)"
jr 2 start --memory 25x -- /bin/true && err_has "invalid memory size '25x'"
step "relative program (2)"
jr 2 run -- sh -c true && err_has "'sh' is not an absolute path" && err_has '/usr/bin/sh|/bin/sh'
step "connection refused (69)"
jr 69 --server localhost:1 list && err_has 'cannot connect to localhost:1'
step "expired certificate (69)"
jr 69 $(as old) list && err_has 'expired'
other=/run/jobrunner-other-ca/users/mallory
step "client certificate of another CA (69)"
jr 69 --cert "$other/client.crt" --key "$other/client.key" list && err_has 'not signed by the CA'
step "server certificate not signed by the CA given (69)"
jr 69 --cert "$other/client.crt" --key "$other/client.key" --ca "$other/ca.crt" list && err_has "server's certificate"
step "unreadable certificate (78)"
jr 78 --cert "$T/missing.crt" list && err_has "$T/missing.crt"
step "key of another certificate (78)"
jr 78 --key "$users/bob/client.key" list && err_has 'does not belong'

# ---------------------------------------------------------------- configuration file

home=$T/home
conf=$home/.config/jobrunner
# Not in the default place (tls/), so only the file can name them.
mkdir -p "$conf/alice"
cp "$users/alice/client.crt" "$users/alice/client.key" "$users/alice/ca.crt" "$conf/alice/"
cat > "$conf/config" <<EOF
# alice's configuration; relative paths are relative to this file's directory
server = localhost:50051
cert = alice/client.crt
key = alice/client.key

ca = alice/ca.crt
EOF
step "certificates from ~/.config/jobrunner/config"
[[ -n $id7 ]] && jr_env_free 0 "$home" status "$id7" && out_has '^Owner: +alice$'
step "certificates from the options only"
[[ -n $id7 ]] && jr_env_free 0 "$T/nohome" $(as alice) status "$id7" && out_has '^Owner: +alice$'
step "bad configuration file (78)"
mkdir -p "$T/badhome/.config/jobrunner"
printf 'server = localhost\ncolour = blue\n' > "$T/badhome/.config/jobrunner/config"
jr_env_free 78 "$T/badhome" list && err_has "$T/badhome/.config/jobrunner/config.*2"
step "root without certificates of its own: those of /etc/jobrunner/tls/users/root"
jr_env_free 0 "$T/nohome" list
step "no certificate anywhere (78): user nobody"
checks=$((checks + 1))
runuser -u nobody -- env -u JOBRUNNER_CERT -u JOBRUNNER_KEY -u JOBRUNNER_CA HOME=/nonexistent "$CLI" list \
        > "$T/out" 2> "$T/err" < /dev/null
rc=$?
if [[ $rc != 78 ]]; then
        fail "jobrunner list as nobody: exit status $rc, expected 78"
        show
else
        err_has "/nonexistent/.config/jobrunner/tls/client.crt"
fi

echo "# $checks commands, $failures failures, $(elapsed) s"
((failures == 0))
