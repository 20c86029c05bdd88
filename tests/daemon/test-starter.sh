#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# jobrunner-starter in the test VM, through the installed units (issue 15):
#
#   - jobs start through it: jobrunnerd asks, the starter runs as root with
#     no capability, and its policy (/etc/jobrunner/starter.conf) is what
#     the CLI's user meets, whatever the daemon would allow;
#   - a compromised jobrunnerd, played by processes of user jobrunner in
#     jobrunner.service's cgroup, cannot start a unit of its own over D-Bus
#     (polkit no longer grants the detail-less request), yet may still kill
#     its jobs' units;
#   - hostile clients of the starter's socket: someone else (another user,
#     root from another cgroup, user jobrunner from another cgroup) is
#     hung up on; the "daemon" itself is refused a forged unit name, a
#     malformed request, a policy breach, missing or wrong descriptors, an
#     unsealed or oversized request, and survives a flood of requests and
#     of connections, with nothing started.
#
# Environment (meson sets it): what cli-harness.sh needs, and
# JOBRUNNER_STARTER_PROBE (tests/helpers/starter-probe.c).
#
# It restarts jobrunner-starter.service with other policies and runs
# processes in jobrunner.service's cgroup, so it runs alone.
set -uo pipefail

test_name=test-starter
. "$(dirname "${BASH_SOURCE[0]}")/cli-harness.sh"

probe=${JOBRUNNER_STARTER_PROBE:?meson sets it}
sock=/run/jobrunner-starter.sock
policy=/etc/jobrunner/starter.conf
daemon_cgroup=/sys/fs/cgroup/system.slice/jobrunner.service
cp "$policy" "$T/policy.saved"

restore() {
        cp "$T/policy.saved" "$policy"
        systemctl stop jobrunner-starter.service
        rm -rf "$T"
}
trap restore EXIT

# A job id of this test's own (valid: "bad" is hex), so that a request is
# refused for what the test meant, and a unit by that name is easy to spot.
hostile_id() { printf 'bad%029d' "$1"; }

# as_daemon CMD...: CMD as jobrunnerd would run it: user and group
# jobrunner, in jobrunner.service's cgroup (which a compromised daemon's
# every process is in).
as_daemon() {
        sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$daemon_cgroup" \
                setpriv --reuid=jobrunner --regid=jobrunner --init-groups --no-new-privs -- "$@"
}

# set_policy TEXT: the starter's next start reads it.
set_policy() {
        printf '%s\n' "$1" > "$policy"
        systemctl stop jobrunner-starter.service
}

# unit_absent ID: systemd never heard of jobrunner-ID.service.
unit_absent() {
        [[ $(systemctl show -P LoadState "jobrunner-$1.service") == not-found ]] &&
                ! journalctl -q -u "jobrunner-$1.service" | grep -q .
}

# ---------------------------------------------------------------- set-up

step "the starter's socket: root's, group jobrunner, 0660"
check "jobrunner-starter.socket is listening" systemctl is-active --quiet jobrunner-starter.socket
check "the socket's owner and mode" test "$(stat -c '%U %G %a %F' "$sock")" == "root jobrunner 660 socket"

# ---------------------------------------------------------------- jobs through the starter

step "a job starts through jobrunner-starter"
jr 0 run -- /bin/echo through-the-starter && out_has '^through-the-starter$'
jr 0 start -- /bin/sleep 300 && id=$(cat "$T/out")
check "the starter logged the start of $id" \
        sh -c "journalctl -q -u jobrunner-starter.service | grep -q 'jobrunner-$id.service'"

step "the starter runs as root with no capability, no_new_privs, no network"
pid=$(systemctl show -P MainPID jobrunner-starter.service)
check "the starter is running" test "$pid" -gt 0
check "uid 0" test "$(awk '/^Uid:/ { print $2 $3 $4 $5 }' "/proc/$pid/status")" == 0000
for cap in CapInh CapPrm CapEff CapBnd CapAmb; do
        check "$cap is empty" test "$(awk -v c="$cap:" '$1 == c { print $2 }' "/proc/$pid/status")" == 0000000000000000
done
check "NoNewPrivs" test "$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$pid/status")" == 1
check "seccomp filter" test "$(awk '/^Seccomp:/ { print $2 }' "/proc/$pid/status")" == 2
check "a network namespace of its own" test "$(readlink "/proc/$pid/ns/net")" != "$(readlink /proc/1/ns/net)"

step "the administrator's policy is what the user meets"
set_policy $'RunAsUsers=nobody\nMaxMemory=1G\nAllowHostNetwork=no'
jr 127 $(as root) run --memory 2G -- /bin/true && err_has 'MaxMemory=1G'
jr 127 $(as root) run --user root -- /bin/true && err_has 'user "root": not allowed by the administrator'
jr 127 run --network host --memory 512M -- /bin/true && err_has 'AllowHostNetwork=no'
jr 0 $(as root) run --user nobody --memory 512M -- /usr/bin/id -un && out_has '^nobody$'

# ---------------------------------------------------------------- a compromised jobrunnerd

step "a compromised jobrunnerd cannot start a unit of its own over D-Bus"
for unit in jobrunner-evil.service "jobrunner-$(hostile_id 1).service"; do
        checks=$((checks + 1))
        out=$(as_daemon busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
                org.freedesktop.systemd1.Manager StartTransientUnit 'ssa(sv)a(sa(sv))' \
                "$unit" fail 2 ExecStart 'a(sasb)' 1 /usr/bin/touch 2 /usr/bin/touch /run/jobrunner-owned false \
                User s root 0 2>&1)
        if [[ $? != 0 && $out == *"ccess denied"* || $out == *"nteractive authentication required"* ]]; then
                echo "ok - StartTransientUnit $unit as the daemon: $out"
        else
                fail "StartTransientUnit $unit as the daemon was not denied: $out"
        fi
done
check "nothing ran" test ! -e /run/jobrunner-owned
check "no such unit" unit_absent "$(hostile_id 1)"
checks=$((checks + 1))
out=$(as_daemon busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
        org.freedesktop.systemd1.Manager KillUnit ssi systemd-journald.service all 18 2>&1)
[[ $out == *"ccess denied"* || $out == *"nteractive authentication required"* ]] ||
        fail "KillUnit systemd-journald.service as the daemon was not denied: $out"

step "... but it may still kill its jobs' units"
check "KillUnit jobrunner-$id.service as the daemon" as_daemon busctl call org.freedesktop.systemd1 \
        /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager KillUnit ssi "jobrunner-$id.service" all 15
jr 143 wait "$id"

# ---------------------------------------------------------------- hostile clients

set_policy $'RunAsUsers=nobody\nMaxMemory=1G\nAllowHostNetwork=no'

# expect_probe WANT WHO KIND ID [COUNT]: runs the probe of KIND with job id
# ID as WHO (daemon, root, or a user) and checks its output's first line
# against the regular expression WANT.
expect_probe() {
        local want=$1 who=$2 kind=$3 id=$4 count=${5:-1} out
        checks=$((checks + 1))
        case $who in
        daemon) out=$(as_daemon "$probe" "$sock" "$kind" "$id" "$count" 2>&1) ;;
        root) out=$("$probe" "$sock" "$kind" "$id" "$count" 2>&1) ;;
        *) out=$(setpriv --reuid="$who" --regid="$(id -gn "$who")" --init-groups -- \
                        "$probe" "$sock" "$kind" "$id" "$count" 2>&1) ;;
        esac
        if [[ $(head -n 1 <<< "$out") =~ $want ]]; then
                echo "ok - $kind as $who: $(head -n 1 <<< "$out")"
        else
                fail "$kind as $who: got '$out', expected /$want/"
        fi
}

step "someone else than jobrunnerd is hung up on"
expect_probe '^closed$' jobrunner valid "$(hostile_id 10)"      # user jobrunner, the test's cgroup
expect_probe '^closed$' root valid "$(hostile_id 11)"           # root, the test's cgroup
expect_probe 'connect: Permission denied' nobody valid "$(hostile_id 12)"

step "jobrunnerd itself is refused what the policy or the format forbids"
expect_probe '^reply -1 .*RunAsUsers' daemon root "$(hostile_id 20)"
expect_probe '^reply -1 .*MaxMemory=1G' daemon memory "$(hostile_id 21)"
expect_probe '^reply -1 .*AllowHostNetwork=no' daemon host-network "$(hostile_id 22)"
expect_probe '^reply -74 ' daemon garbage "$(hostile_id 23)"
expect_probe '^reply -74 ' daemon no-magic "$(hostile_id 24)"
expect_probe '^reply -9 ' daemon no-fds "$(hostile_id 25)"
expect_probe '^reply -9 ' daemon one-fd "$(hostile_id 26)"
expect_probe '^reply -9 ' daemon read-ends "$(hostile_id 27)"
expect_probe '^reply -9 .*seal' daemon unsealed "$(hostile_id 28)"
expect_probe '^reply -9 ' daemon file "$(hostile_id 29)"
expect_probe '^reply -90 ' daemon oversize "$(hostile_id 30)"
# The forged names the unit would get: an id that is not 32 lowercase hex
# digits never becomes a unit name.
for forged in '../../etc/systemd/system/evil' 'x.service' 'BAD00000000000000000000000000031' \
              "$(hostile_id 31)-x" "$(hostile_id 31).service" "${RANDOM}x" ''; do
        expect_probe '^reply -22 ' daemon bad-id "$forged"
done

step "a flood of requests, and of connections"
expect_probe '^flood sent 5000 replies 5000$' daemon flood "$(hostile_id 40)" 5000
for i in $(seq 50); do
        "$probe" "$sock" valid "$(hostile_id $((100 + i)))" > "$T/conn-$i" 2>&1 &
done
wait
check "every connection from another cgroup was hung up on" \
        test "$(cat "$T"/conn-* | sort | uniq -c | awk '{ print $1, $2 }')" == "50 closed"
check "the starter still runs" systemctl is-active --quiet jobrunner-starter.service
mem=$(systemctl show -P MemoryCurrent jobrunner-starter.service)
check "the starter's memory stayed small ($mem bytes)" test "$mem" -lt $((32 << 20))

step "nothing was started for any of them"
for n in 1 10 11 12 $(seq 20 31) 40 $(seq 101 150); do
        unit_absent "$(hostile_id "$n")" || fail "jobrunner-$(hostile_id "$n").service exists"
done
checks=$((checks + 1))

step "a valid request of the daemon's own is started, so the refusals above were the checks'"
expect_probe '^reply 0 /org/freedesktop/systemd1/job/' daemon valid "$(hostile_id 99)"
check "jobrunner-$(hostile_id 99).service ran" \
        sh -c "journalctl -q -u jobrunner-$(hostile_id 99).service | grep -q ."
systemctl stop "jobrunner-$(hostile_id 99).service" 2> /dev/null
systemctl reset-failed "jobrunner-$(hostile_id 99).service" 2> /dev/null

step "jobs still start after all that, under the VM's policy again"
cp "$T/policy.saved" "$policy"
systemctl stop jobrunner-starter.service
jr 0 run -- /bin/echo still-fine && out_has '^still-fine$'

echo "# $checks checks, $failures failures, $(elapsed) s"
((failures == 0))
