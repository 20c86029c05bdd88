#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Missing output end to end, in the test VM: the built `jobrunner` against
# the installed jobrunnerd, reconfigured for the test by a drop-in: an output
# cap of 1 MiB, and its state on a tmpfs of its own that the test fills up.
#
#   - a job past the cap runs to its end; logs -f, logs, logs --json and
#     logs --tail show the stored part byte for byte, then ONE notice (or
#     gap event) with the whole missing range, although the server stores
#     it as several gaps and sends some of them live;
#   - a job that writes on a full disk runs to its end, the daemon stays up,
#     logs shows the stored part and ONE notice for the rest, and once there
#     is room again the next job works.
#
# Environment (meson sets it): what cli-harness.sh needs.  It stops and
# reconfigures the daemon, so meson runs it alone (is_parallel: false); it
# puts the daemon back as it was.
set -uo pipefail

test_name=test-cli-gaps
# shellcheck source=tests/daemon/cli-harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/cli-harness.sh"

state=/var/lib/jobrunner-test-gaps
dropin=/run/systemd/system/jobrunner.service.d/50-test-gaps.conf
cap=1048576

# Puts the daemon back as it was, whatever happened.
cleanup() {
        rm -f "$dropin"
        systemctl daemon-reload
        systemctl stop jobrunner.service
        umount "$state" 2> /dev/null
        rmdir "$state" 2> /dev/null
        rm -rf "$T"
}
trap cleanup EXIT

main_pid() { systemctl show -P MainPID jobrunner.service; }

step "reconfigure the daemon: --output-cap 1M, state on a tmpfs of 24 MiB"
exe=$(systemctl show -P ExecStart jobrunner.service | sed -n 's/^{ path=\([^ ;]*\) .*/\1/p')
[[ -x $exe ]] || { fail "cannot find jobrunnerd in ExecStart= ('$exe')"; exit 1; }
if ! mkdir -p "$state" "${dropin%/*}" ||
   ! mount -t tmpfs -o "size=24m,mode=0700,uid=$(id -u jobrunner),gid=$(id -g jobrunner)" jobrunner-test-gaps "$state"; then
        fail "cannot mount a tmpfs on $state"
        exit 1
fi
cat > "$dropin" <<EOF
[Service]
ExecStart=
ExecStart=$exe --starter /run/jobrunner-starter.sock --state-dir $state --output-cap 1M
ReadWritePaths=$state
EOF
if ! systemctl daemon-reload || ! systemctl stop jobrunner.service; then
        fail "cannot restart the daemon"
        exit 1
fi

# ---------------------------------------------------------------- the output cap

# 1288895 bytes of numbered lines, then 200 MiB of zeroes: past the cap the
# server stores a gap every 64 MiB and at the end, four in all.
seq 1 200000 > "$T/lines"
head -c "$cap" "$T/lines" > "$T/stored"
missing=$(($(stat -c %s "$T/lines") + 200 * 1048576 - cap))
notice="jobrunner: job stdout: $missing bytes missing at offset $cap (the job's output cap was reached: later output is counted but not kept)"

step "a job writing 201 MiB with a cap of 1 MiB; logs -f shows 1 MiB, then one notice"
id_cap=
jr 0 --timeout 2min start -- /bin/sh -c 'seq 1 200000; head -c 200M /dev/zero' && id_cap=$(cat "$T/out")
if [[ -n $id_cap ]] && jr 0 logs -f "$id_cap"; then
        cmp "$T/out" "$T/stored" || fail "logs -f stdout is not the first MiB ($(stat -c %s "$T/out") bytes)"
        [[ $(cat "$T/err") == "$notice" ]] || { fail "stderr is not the one notice"; show; }
fi
step "it ran to its end: exit code 0, output_truncated"
[[ -n $id_cap ]] && jr 0 --json wait "$id_cap" &&
        json 'd["exit_code"], d["output_truncated"], d["stdout_bytes"]' "(0, True, $((cap + missing)))"

step "logs of the ended job: the same"
if [[ -n $id_cap ]] && jr 0 logs "$id_cap"; then
        cmp "$T/out" "$T/stored" || fail "logs stdout is not the first MiB"
        [[ $(cat "$T/err") == "$notice" ]] || { fail "stderr is not the one notice"; show; }
fi

step "logs --tail 3: the last 3 lines stored, then the notice"
if [[ -n $id_cap ]] && jr 0 logs --tail 3 "$id_cap"; then
        tail -n 3 "$T/stored" | cmp - "$T/out" || { fail "stdout is not the last 3 lines stored"; show; }
        [[ $(cat "$T/err") == "$notice" ]] || { fail "stderr is not the one notice"; show; }
fi

step "logs --json: one gap event with the whole range"
if [[ -n $id_cap ]] && jr 0 --json logs --stdout "$id_cap"; then
        python3 -c 'import json, sys
gaps = [e for e in map(json.loads, open(sys.argv[1])) if e["type"] == "gap"]
want = [{"type": "gap", "stream": "stdout", "offset": int(sys.argv[2]), "length": int(sys.argv[3]),
         "reason": "output-truncated"}]
sys.exit(0 if gaps == want else f"gap events {gaps}, expected {want}")' "$T/out" "$cap" "$missing" ||
                fail "not one gap event"
fi

# ---------------------------------------------------------------- a full disk

# 32 writes of 64 KiB, each of one letter, with pauses: the daemon reads each
# whole, so once one does not fit no later one does.
fullprog='import os, time
for i in range(32):
    os.write(1, bytes([65 + i % 26]) * 65536)
    time.sleep(0.3)'
python3 -c "$fullprog" > "$T/full.expected"

step "fill the daemon's file system up to 256 KiB"
avail=$(df --output=avail -B1 "$state" | tail -n 1)
fallocate -l $((avail - 262144)) "$state/filler" || fail "cannot fill $state"
pid_before=$(main_pid)

step "a job writing 2 MiB on it runs to its end"
id_full=
jr 0 start -- /usr/bin/python3 -c "$fullprog" && id_full=$(cat "$T/out")
[[ -n $id_full ]] && jr 0 --json wait "$id_full" && json 'd["state"], d["exit_code"]' "('exited', 0)"

step "the daemon stayed up"
[[ $(main_pid) == "$pid_before" && $pid_before != 0 ]] ||
        fail "jobrunnerd's main PID went from $pid_before to $(main_pid)"
[[ $(systemctl show -P NRestarts jobrunner.service) == 0 ]] || fail "jobrunnerd was restarted"

# check_full_disk_logs: the stored part is a prefix of whole writes, the
# rest one notice.
check_full_disk_logs() {
        local stored
        stored=$(stat -c %s "$T/out")
        cmp -s "$T/out" <(head -c "$stored" "$T/full.expected") || fail "the stored part is not the job's output"
        ((stored > 0 && stored < 2097152 && stored % 65536 == 0)) || fail "stored $stored bytes"
        [[ $(cat "$T/err") == "jobrunner: job stdout: $((2097152 - stored)) bytes missing at offset $stored (the server could not store it: a disk error)" ]] ||
                { fail "stderr is not one notice for the rest"; show; }
}

step "logs: the stored part byte for byte, then one notice"
[[ -n $id_full ]] && jr 0 logs "$id_full" && check_full_disk_logs

step "room again: the next job works"
rm -f "$state/filler"
if jr 0 run -- /bin/echo next; then
        [[ $(cat "$T/out") == next ]] || { fail "stdout is not 'next'"; show; }
        err_empty
fi
step "and the full disk's job reads the same"
[[ -n $id_full ]] && jr 0 logs "$id_full" && check_full_disk_logs

echo "# $checks commands, $failures failures, $(elapsed) s"
((failures == 0))
