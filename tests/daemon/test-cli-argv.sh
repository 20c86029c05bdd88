#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A job's command line as large as execve(2) takes it, end to end in the
# test VM: the built `jobrunner` against the installed, socket-activated
# jobrunnerd.  5000 arguments, one argument of 100 KiB, and arguments of
# exactly the most bytes a job takes reach the job byte for byte; one more
# is refused before anything is sent; and a daemon-reload while such a job
# runs leaves its unit loaded and the job running.
#
# Environment (meson sets it): what cli-harness.sh needs.  The daemon-reload
# makes PID 1 busy for seconds under emulation, so meson runs it alone
# (is_parallel: false).
set -uo pipefail

test_name=test-cli-argv
# shellcheck source=tests/daemon/cli-harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/cli-harness.sh"

# common/exec-limits.h: one string at most, all of them with their NULs and
# 8-byte pointers at most.
string_max=131071
exec_max=2080768

# Arguments that a shell or systemd would change if anything parsed them.
# shellcheck disable=SC2016  # literally
odd=('' '$HOME' '${HOME}' '$$' '%s %n %%' '"quoted" '"'single'"' \back\slash' $'line\nbreak\ttab' \
     'héllo wörld ☃' '  spaces  ' '--' '-n')

step "run -- /bin/echo with 5000 arguments: the job's output is echo's, byte for byte"
args=("${odd[@]}")
for ((i = ${#args[@]}; i < 5000; i++)); do
        args+=("argument-$i")
done
/bin/echo "${args[@]}" > "$T/expected"
if jr 0 --timeout 2min run -- /bin/echo "${args[@]}"; then
        cmp "$T/out" "$T/expected" || fail "the output differs from echo's ($(stat -c %s "$T/out") bytes)"
        err_empty
fi

step "run -- /bin/echo with one argument of 100 KiB"
big="héllo \$HOME \"☃\" $(head -c 76800 /dev/urandom | base64 -w 0)"
/bin/echo "$big" > "$T/expected"
if jr 0 run -- /bin/echo "$big"; then
        cmp "$T/out" "$T/expected" || fail "the output differs from echo's"
        err_empty
fi

# printf '%s\0' ARGS: each argument with a NUL.  The job's own two strings
# cost 24 and 13 bytes; then strings of the longest length, and the rest.
long=$(head -c "$string_max" /dev/zero | tr '\0' x)
max_args=()
left=$((exec_max - 24 - 13))
while ((left > string_max + 9)); do
        max_args+=("$long")
        left=$((left - string_max - 9))
done
max_args+=("$(head -c $((left - 9)) /dev/zero | tr '\0' y)")
/usr/bin/printf '%s\0' "${max_args[@]}" > "$T/expected"

step "run with arguments of exactly the $exec_max bytes a job takes, byte for byte"
if jr 0 run -- /usr/bin/printf '%s\0' "${max_args[@]}"; then
        cmp "$T/out" "$T/expected" || fail "the output differs ($(stat -c %s "$T/out") bytes)"
        err_empty
fi

step "one byte more: refused before anything is sent (2)"
if jr 2 run -- /usr/bin/printf '%s\0' "${max_args[@]}" z; then
        err_has "come to $((exec_max + 10)) bytes as execve\(\) counts them .*a job takes at most $exec_max"
fi
# A string one byte too long cannot even reach the CLI: execve() of the CLI
# itself refuses it (unit tests check the CLI's own check, test-daemon-api
# the server's).

step "a daemon-reload while a job with 5000 arguments runs: its unit stays loaded, the job runs on"
id=
jr 0 start -- /bin/sh -c 'echo ready; exec sleep 600' "${args[@]}" && id=$(cat "$T/out")
if [[ -n $id ]] && wait_ready "$id"; then
        systemctl daemon-reload || fail "daemon-reload failed"
        [[ $(systemctl show -P LoadState "jobrunner-$id.service") == loaded ]] ||
                fail "after the reload the unit is $(systemctl show -P LoadState "jobrunner-$id.service")"
        jr 0 --json status "$id" && json 'd["state"], len(d["spec"]["argv"])' "('running', 5003)"
        jr 0 --json stop --grace 2s "$id" && json 'd["state"]' stopped
fi

echo "# $checks commands, $failures failures, $(elapsed) s"
((failures == 0))
