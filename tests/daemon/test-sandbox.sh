#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The sandboxes, end to end in the test VM, through the installed,
# socket-activated daemon and the real CLI:
#
#   - what the daemon resolves on the host from inside its own sandbox: the
#     block devices of IO limits (it sees the host's device nodes, cannot open
#     them, and the limits throttle a job), the working directory, the user;
#   - what a job can learn of another user's job: neither its command line,
#     nor its environment, output, processes or cgroup.
#
# Runs beside the other daemon tests (it never restarts the daemon).
set -uo pipefail

test_name=test-sandbox
. "$(dirname "${BASH_SOURCE[0]}")/cli-harness.sh"

SCRATCH=/dev/vda        # the VM's scratch disk (tests/vm/vm-run)

# ---------------------------------------------------------------- the daemon's view of devices

step "the daemon is up"
jr 0 --timeout 2min list

step "the daemon sees the host's block devices but cannot open them"
cgroup=/sys/fs/cgroup$(systemctl show -p ControlGroup --value jobrunner.service)
if [[ -d $cgroup ]]; then
        checks=$((checks + 1))
        # A shell of ours in the daemon's cgroup: its device policy is ours.
        if out=$(sh -c 'echo $$ > "$1/cgroup.procs" && stat -c %t:%T "$2" && head -c 1 "$2" > /dev/null' \
                 sh "$cgroup" "$SCRATCH" 2>&1); then
                fail "read $SCRATCH from the daemon's cgroup: $out"
        elif ! grep -q 'Operation not permitted' <<< "$out"; then
                fail "reading $SCRATCH from the daemon's cgroup failed, but not for the device policy: $out"
        fi
        head -c 1 "$SCRATCH" > /dev/null || fail "root outside the daemon's cgroup cannot read $SCRATCH"
else
        fail "no cgroup $cgroup for jobrunner.service"
fi

# dd prints "N bytes (...) copied, S s, R MB/s" last; the seconds.
dd_seconds() { sed -n 's/.* copied, \([0-9.]*\) s, .*/\1/p' "$T/err" | tail -n 1; }

# throttled WHAT OPTION DD-ARGS...: runs dd as root with and without a
# 2 MB/s limit; 4 MiB must take at least the 2 s the limit implies, and the
# limit must be what slows it (the run without is at least twice as fast).
throttled() {
        local kind=$1 option=$2 free limited
        shift 2
        step "$kind: 4 MiB of direct IO on $SCRATCH without a limit"
        jr 0 $(as root) --timeout 2min run --user root -- /bin/dd "$@" bs=64k count=64 || return
        free=$(dd_seconds)
        step "$kind: the same under $option $SCRATCH=2M"
        jr 0 $(as root) --timeout 2min run --user root "$option" "$SCRATCH=2M" -- /bin/dd "$@" bs=64k count=64 ||
                return
        limited=$(dd_seconds)
        echo "# $kind: ${free} s free, ${limited} s at 2 MB/s"
        awk -v f="$free" -v l="$limited" 'BEGIN { exit !(l >= 1.9 && l >= 2 * f) }' ||
                fail "4 MiB took ${limited} s under the 2 MB/s limit and ${free} s without"
}
throttled "read" --io-read-bps if="$SCRATCH" of=/dev/null iflag=direct
throttled "write" --io-write-bps if=/dev/zero of="$SCRATCH" oflag=direct

step "an IO limit on what is not a block device is refused"
jr 2 start --io-read-bps /dev/null=1M -- /bin/true && err_has '/dev/null.*not a block device'
jr 2 start --io-read-bps /dev/nonexistent=1M -- /bin/true && err_has 'nonexistent.*No such file'

# ---------------------------------------------------------------- the rest of the spec

step "--cwd is the job's working directory on the host"
jr 0 run --cwd /usr/share -- /bin/pwd && [[ $(cat "$T/out") == /usr/share ]] || fail "pwd: $(cat "$T/out")"
step "--cwd that does not exist: the job fails to start, saying why"
jr 127 run --cwd /nonexistent -- /bin/pwd && err_has 'cannot change to the working directory /nonexistent'
step "--user names a user of the host (admin)"
jr 0 $(as root) run --user nobody -- /usr/bin/id -un && [[ $(cat "$T/out") == nobody ]] || fail "id: $(cat "$T/out")"
step "--user that the administrator did not allow: jobrunner-starter refuses it, saying why"
jr 127 $(as root) run --user daemon -- /usr/bin/id -un && err_has 'user "daemon": not allowed by the administrator \(RunAsUsers='
step "--user that does not exist: the job fails to start, saying why"
jr 127 $(as root) run --user no-such-user -- /usr/bin/id -un && err_has 'cannot resolve or set the user no-such-user'

# ---------------------------------------------------------------- jobs of other users

# alice's jobs, with their secrets in argv, environment and output; one in a
# PID namespace (the default), one without.
# The shell stays (no exec): its command line holds the secret.
secret=SECRET_ALICE_$RANDOM$RANDOM
alice_script="echo out-$secret; /bin/sleep 600; exit 0"
step "alice starts two jobs with secrets"
ids=()
for pidns in --pid-namespace --no-pid-namespace; do
        jr 0 start "$pidns" -e "TOKEN=$secret" -- /bin/sh -c "$alice_script" "$secret" && ids+=("$(cat "$T/out")")
done
((${#ids[@]} == 2)) || fail "alice's jobs did not start"
has_written() { "$CLI" logs --stdout "$1" 2> /dev/null | grep -q "out-$secret"; }
for id in "${ids[@]}"; do
        for ((i = 0; i < 600; i++)); do has_written "$id" && break; sleep 0.2; done
done

# What bob's job tries; it prints a line per attempt.  The secret is in its
# script only in pieces, so that its own command line never holds it.
probe='
a=$1; b=$2; s1=SECRET_; s2=ALICE_
for id in "$a" "$b"; do
        if cat /run/systemd/transient/jobrunner-$id.service > /dev/null 2>&1; then echo "read: transient unit file $id"; fi
        if ls /run/systemd/transient/ > /dev/null 2>&1; then echo "read: the transient unit directory"; fi
        if systemctl show jobrunner-$id.service 2>/dev/null | grep -q "$s1$s2"; then
                echo "read: unit properties of $id over D-Bus"; fi
        if ls /sys/fs/cgroup/jobrunner.slice/jobrunner-$id.service > /dev/null 2>&1; then echo "read: cgroup of $id"; fi
        if cat /var/lib/jobrunner/jobs/$id/output.log > /dev/null 2>&1; then echo "read: output of $id"; fi
done
for f in /proc/[0-9]*/cmdline /proc/[0-9]*/environ; do
        if tr "\0" " " < "$f" 2>/dev/null | grep -q "$s1$s2"; then echo "read: $f"; fi
done
if grep -rqs "$s1$s2" /run /sys/fs/cgroup; then echo "read: the secret somewhere below /run or /sys/fs/cgroup"; fi
n=$(ls /sys/fs/cgroup/jobrunner.slice 2>/dev/null | wc -l)
echo "cgroups visible: $n"
echo "probe done"
'
for pidns in --pid-namespace --no-pid-namespace; do
        step "bob's job ($pidns) cannot read alice's jobs"
        if ((${#ids[@]} == 2)) && jr 0 $(as bob) --timeout 5min run "$pidns" -- /bin/sh -c "$probe" sh "${ids[@]}"; then
                grep -q '^probe done$' "$T/out" || fail "the probe did not finish: $(cat "$T/out")"
                ! grep '^read: ' "$T/out" || fail "bob's job read what it must not: $(grep '^read: ' "$T/out")"
                ! grep -q "$secret" "$T/out" || fail "bob's job learnt alice's secret"
                grep -q '^cgroups visible: 1$' "$T/out" || fail "bob's job sees other jobs' cgroups: $(grep cgroups "$T/out")"
        fi
done

# The same reads from the host, as root: they find the secret, so the probe
# looks in the right places.
step "root on the host does read alice's secrets (the probe's places are right)"
checks=$((checks + 1))
if ((${#ids[@]} == 2)); then
        grep -q "$secret" "/run/systemd/transient/jobrunner-${ids[0]}.service" ||
                fail "the secret is not in alice's transient unit file"
        systemctl show "jobrunner-${ids[0]}.service" | grep -q "$secret" ||
                fail "the secret is not in alice's unit's properties"
        [[ -d /sys/fs/cgroup/jobrunner.slice/jobrunner-${ids[0]}.service ]] || fail "alice's job has no cgroup"
        # The main process is jobrunner-init; the job is its child.
        main=$(systemctl show -p MainPID --value "jobrunner-${ids[1]}.service")
        read -r pid _ < "/proc/$main/task/$main/children"
        tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "$secret" || fail "alice's job has not the secret in its cmdline"
        tr '\0' '\n' < "/proc/$pid/environ" | grep -qx "TOKEN=$secret" ||
                fail "alice's job has not the secret in its environment"
fi

step "alice's jobs are stopped"
for id in "${ids[@]}"; do jr 0 stop --grace 1s "$id"; done

echo "# $checks commands, $failures failures, $(elapsed) s"
((failures == 0))
