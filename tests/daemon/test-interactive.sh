#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Interactive jobs end to end in the test VM, through the installed,
# socket-activated, sandboxed daemon and the real CLI:
#
#   - run -i: 50 MiB of random bytes through the job's stdin byte for byte
#     (sha256sum's hash is the local one), the end of input, a job that stops
#     reading early, and a slow reader that does not grow the daemon;
#   - run -it in a real terminal (tmux): a bash prompt, tty names a pty,
#     stty size follows the pane's size, Ctrl-C interrupts sleep and the
#     shell survives, exit 3 is the CLI's status, and the local terminal is
#     as it was;
#   - detach (Ctrl-P Ctrl-Q) and attach again, the output recorded meanwhile;
#   - attach refused to a viewer and, as not found, to another operator;
#   - a daemon restart while attached;
#   - a terminal job keeps its limits and sandbox.
#
# It restarts the daemon, so it runs alone.
set -uo pipefail

test_name=test-interactive
. "$(dirname "${BASH_SOURCE[0]}")/cli-harness.sh"

# ---------------------------------------------------------------- stdin

step "run -i: 50 MiB of random bytes reach sha256sum byte for byte"
head -c 50M /dev/urandom > "$T/in"
want=$(sha256sum < "$T/in" | cut -d' ' -f1)
checks=$((checks + 1))
"$CLI" --timeout 10min run -i -- /usr/bin/sha256sum < "$T/in" > "$T/out" 2> "$T/err"
rc=$?
got=$(cut -d' ' -f1 "$T/out")
if [[ $rc != 0 || $got != "$want" ]]; then
        fail "exit status $rc, hash $got, expected 0 and $want"
        show
fi
rm -f "$T/in"

step "run -i: the end of the local input is the job's"
checks=$((checks + 1))
printf 'one\ntwo\nthree\n' | "$CLI" run -i -- /usr/bin/wc -l > "$T/out" 2> "$T/err"
rc=$?
[[ $rc == 0 && $(tr -d ' ' < "$T/out") == 3 ]] || { fail "exit status $rc, wc -l said '$(cat "$T/out")'"; show; }

step "run -i: a job that ends before reading all; its status is the CLI's"
checks=$((checks + 1))
head -c 20M /dev/zero | "$CLI" run -i -- /bin/sh -c 'head -c 1000 > /dev/null; exit 5' > "$T/out" 2> "$T/err"
rc=$?
[[ $rc == 5 ]] || { fail "exit status $rc, expected 5"; show; }

step "run without -i: the job's stdin is /dev/null as before"
checks=$((checks + 1))
echo data | "$CLI" run -- /bin/sh -c 'cat; echo end' > "$T/out" 2> "$T/err"
[[ $? == 0 && $(cat "$T/out") == end ]] || { fail "stdout '$(cat "$T/out")'"; show; }

daemon_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$(systemctl show -p MainPID --value jobrunner.service)/status"; }

step "a slow reader holds back its writer, not the daemon's memory"
before=$(daemon_rss_kib)
# The job reads nothing for 20 s while 300 MiB wait to be sent.
# The CLI's own status: head dies of SIGPIPE once the CLI stops reading.
(head -c 300M /dev/zero | "$CLI" run -i -- /bin/sh -c 'echo ready; sleep 20; head -c 1M > /dev/null; echo done' \
        > "$T/slow.out" 2> "$T/slow.err"; exit "${PIPESTATUS[1]}") &
slow=$!
for ((i = 0; i < 120; i++)); do grep -q ready "$T/slow.out" 2> /dev/null && break; sleep 0.5; done
sleep 8
during=$(daemon_rss_kib)
echo "# jobrunnerd VmRSS: ${before} KiB before, ${during} KiB while the writer waits"
checks=$((checks + 1))
((during - before < 32 * 1024)) || fail "the daemon grew by $(((during - before) / 1024)) MiB"
wait "$slow"
rc=$?
checks=$((checks + 1))
[[ $rc == 0 ]] && grep -q done "$T/slow.out" || { fail "exit status $rc: $(cat "$T/slow.out" "$T/slow.err")"; }

# ---------------------------------------------------------------- attach: who may

step "attach: a viewer is refused, another operator finds no such job"
id=
if jr 0 start -i -- /bin/cat; then
        id=$(cat "$T/out")
        jr 4 $(as victor) attach "$id" && err_has 'ermission'
        jr 3 $(as bob) attach "$id"
        # The owner may; admins too.  Ending the input ends cat.
        checks=$((checks + 1))
        echo hello | "$CLI" attach -i "$id" > "$T/out" 2> "$T/err"
        rc=$?
        [[ $rc == 0 ]] && grep -q '^hello$' "$T/out" || { fail "attach -i: exit status $rc"; show; }
fi

# ---------------------------------------------------------------- a terminal, through tmux

tmux_out() { tmux capture-pane -p -J -S -200 -t jr; }
# wait_pane ERE [SECONDS]: until the pane shows a line matching ERE.
wait_pane() {
        local i
        for ((i = 0; i < ${2:-120} * 2; i++)); do
                tmux_out | grep -Eq -- "$1" && return 0
                sleep 0.5
        done
        fail "the terminal never showed /$1/"
        tmux_out | tail -n 15 | sed 's/^/  pane: /' >&2
        return 1
}
keys() { tmux send-keys -t jr "$@"; }

step "run -it: a bash prompt in a terminal 80x24"
# The pane's own terminal settings before and after the CLI: raw mode must
# not outlive it.
tmux kill-server 2> /dev/null
tmux new-session -d -s jr -x 80 -y 24 \
        "stty -g > $T/stty.before; $CLI run -it -e PS1='jr-prompt\$ ' -- /bin/bash --norc --noprofile -i; \
echo CLI-EXIT=\$?; stty -g > $T/stty.after; sleep 600"
if wait_pane 'jr-prompt\$'; then
        step "run -it: tty names a pseudo-terminal"
        keys 'tty' Enter
        wait_pane '^/dev/pts/[0-9]+'
        step "run -it: stty size is the pane's, then follows its resize"
        keys 'stty size' Enter
        wait_pane '^24 80'
        tmux resize-window -t jr -x 100 -y 30
        sleep 1
        keys 'stty size' Enter
        wait_pane '^30 100'
        step "run -it: Ctrl-C interrupts sleep 100, and the shell survives it"
        keys 'sleep 100' Enter
        sleep 2
        keys C-c
        keys 'echo alive-$((6*7))' Enter
        wait_pane '^alive-42' 20
        step "run -it: exit 3 is the CLI's exit status"
        keys 'exit 3' Enter
        wait_pane '^CLI-EXIT=3'
        step "run -it: the local terminal is restored"
        checks=$((checks + 1))
        [[ -s $T/stty.before ]] && cmp -s "$T/stty.before" "$T/stty.after" ||
                fail "stty -g before '$(cat "$T/stty.before")', after '$(cat "$T/stty.after" 2> /dev/null)'"
fi
tmux kill-server 2> /dev/null

step "the daemon has no controlling terminal after the terminal jobs"
checks=$((checks + 1))
tty_nr=$(awk '{ print $7 }' "/proc/$(systemctl show -p MainPID --value jobrunner.service)/stat")
[[ $tty_nr == 0 ]] || fail "jobrunnerd's tty_nr is $tty_nr"

step "detach with Ctrl-P Ctrl-Q: the job keeps running and recording"
tmux new-session -d -s jr -x 80 -y 24 \
        "$CLI run -it -e PS1='jr-prompt\$ ' -- /bin/bash --norc --noprofile -i; echo CLI-EXIT=\$?; sleep 600"
term=
if wait_pane 'jr-prompt\$'; then
        keys 'echo one-$((1+1))' Enter
        wait_pane '^one-2'
        keys C-p C-q
        wait_pane '^CLI-EXIT=' && { tmux_out | grep -q "^CLI-EXIT=130" || fail "detach: $(tmux_out | grep CLI-EXIT)"; }
        # The job is still running; its id from the list.
        jr 0 --json list && term=$(python3 -c 'import json, sys
for j in json.load(open(sys.argv[1])):
    if j["state"] == "running" and "/bin/bash" in j["spec"]["argv"]:
        print(j["id"]); break' "$T/out")
        checks=$((checks + 1))
        is_id "$term" || fail "no running terminal job after the detach: $(cat "$T/out")"
fi
tmux kill-server 2> /dev/null

if [[ -n $term ]]; then
        step "attach -it: the same shell, again"
        tmux new-session -d -s jr -x 80 -y 24 "$CLI attach -it $term; echo CLI-EXIT=\$?; sleep 600"
        keys 'echo two-$((2+2))' Enter
        wait_pane '^two-4'
        keys 'exit 4' Enter
        wait_pane '^CLI-EXIT=4'
        tmux kill-server 2> /dev/null
        step "the whole session is recorded, before and after the detach"
        jr 0 logs "$term" && out_has '^one-2' && out_has '^two-4'
fi

# ---------------------------------------------------------------- limits and sandbox of a terminal job

step "a terminal job keeps its limits and sandbox"
# The job sees its own cgroup at its own path.
if jr 0 start -t --memory 64M -- /bin/sh -c \
        'cat "/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/memory.max"; id -u; cat /proc/net/dev; tty'; then
        id=$(cat "$T/out")
        jr 0 wait "$id"
        jr 0 logs "$id" && out_has '^67108864' && out_has '^/dev/pts/' &&
                { grep -Eq '^ *(eth|ens|enp)' "$T/out" && fail "the job sees the host's network"; } ;
        grep -Eq '^0\r?$' "$T/out" && fail "the terminal job runs as root"
fi

# ---------------------------------------------------------------- a daemon restart while attached

step "run -i goes on through a daemon restart"
mkfifo "$T/fifo"
"$CLI" run -i -- /bin/sh -c 'while read -r l; do echo "got $l"; done; echo finished' \
        < "$T/fifo" > "$T/r.out" 2> "$T/r.err" &
cli=$!
exec 7> "$T/fifo"
echo first >&7
for ((i = 0; i < 120; i++)); do grep -q 'got first' "$T/r.out" && break; sleep 0.5; done
systemctl restart jobrunner.service
sleep 2
echo second >&7
exec 7>&-
wait "$cli"
rc=$?
checks=$((checks + 1))
[[ $rc == 0 ]] && grep -q 'got second' "$T/r.out" && grep -q finished "$T/r.out" ||
        fail "exit status $rc; stdout: $(cat "$T/r.out"); stderr: $(cat "$T/r.err")"

echo "# $checks checks, $failures failures, $(elapsed) s"
((failures == 0))
