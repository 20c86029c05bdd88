#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Debian packages in the test VM, as an operator uses them on a host:
# apt install, the first command as root with no other step, a user with a
# certificate from jobrunner-keys, an upgrade to another version while a job
# runs and a client follows it (byte for byte), apt remove while a job runs,
# a reinstall, and apt purge, with a listing of the file system before and
# after.  Run by test-package through tests/vm/vm-run; the VM's root is an
# overlay, so nothing of this reaches the host.
#
# Usage: package-in-vm.sh DEB_DIR VERSION NEXT_VERSION
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../daemon/test-steps.sh"

[[ ${JOBRUNNER_TEST_VM:-} == 1 ]] || { echo "package-in-vm: not inside the test VM" >&2; exit 99; }
debs=$1 v1=$2 v2=$3
arch=$(dpkg --print-architecture)
deb() { echo "$debs/$1_$2_$arch.deb"; }

# Not under /tmp: jobs get a private one (and so would nothing here).
T=$(mktemp -d /run/jobrunner-package.XXXXXX) || exit 99
chmod 0755 "$T"
trap 'rm -rf "$T"' EXIT
export DEBIAN_FRONTEND=noninteractive
tls=/etc/jobrunner/tls
path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# logged NAME COMMAND...: runs COMMAND with its output in $T/NAME.log, which
# is shown when it fails.
logged() {
        local name=$1 rc t=$SECONDS
        shift
        "$@" > "$T/$name.log" 2>&1
        rc=$?
        echo "# $name: $((SECONDS - t)) s"
        if ((rc != 0)); then
                echo "  $* exited with $rc:" >&2
                tail -n 30 "$T/$name.log" | sed 's/^/  | /' >&2
        fi
        return "$rc"
}

apt_get() { apt-get -q -y --no-install-recommends -o Dpkg::Use-Pty=0 "$@"; }

# as USER COMMAND...: runs COMMAND as USER (root too) in a clean login-like
# environment, as a person at a shell would.
as() {
        local user=$1 home
        shift
        home=$(getent passwd "$user" | cut -d: -f6)
        [[ $user != root ]] || home=$T/root-home
        mkdir -p "$home"
        runuser -u "$user" -- env -i PATH="$path" HOME="$home" LANG=C.UTF-8 "$@" < /dev/null
}

# jr USER ARG...: the CLI as USER, stdout in $T/out, stderr in $T/err.
jr() {
        local user=$1
        shift
        as "$user" jobrunner "$@" > "$T/out" 2> "$T/err"
}

# state USER ID: the job's state, from jobrunner status --json.
state() {
        jr "$1" status --json "$2" && sed -n 's/.*"state":"\([a-z_]*\)".*/\1/p' "$T/out"
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds.
wait_for() {
        local deadline=$((SECONDS + $1))
        shift
        until "$@"; do
                ((SECONDS < deadline)) || return 1
                sleep 0.5
        done
}

is_active() { [[ $(systemctl is-active "$1") == active ]]; }
is_inactive() { [[ $(systemctl is-active "$1") != active ]]; }
installed_version() { [[ $(dpkg-query -W -f '${db:Status-Status} ${Version}' "$1" 2> /dev/null) == "installed $2" ]]; }
not_installed() { [[ $(dpkg-query -W -f '${db:Status-Status}' "$1" 2> /dev/null) != installed ]]; }
grep_file() { grep -q -- "$1" "$2"; }
lacks() { ! grep -q -- "$1" "$2"; }
key_sums() {
        sha256sum "$tls"/{ca.key,ca.crt,server.key,server.crt} "$tls"/users/root/{client.key,client.crt}
}
san() { openssl x509 -in "$tls/server.crt" -noout -ext subjectAltName; }

# The file system as a list of paths, where packages, their maintainer
# scripts and a daemon leave things: /etc, /var but the logs and what apt
# and dpkg keep of their own work (dpkg's notes on our packages are in),
# /run but this test's own directory, /srv, systemd's and polkit's
# directories in /usr, and every path the two packages hold.  Not all of
# the root file system: over 9p under TCG, that takes a quarter of an hour.
# Not /home: what users copied there is theirs, and no package touches it.
listing() {
        {
                find /etc /var /srv /usr/lib/systemd /usr/lib/sysusers.d /usr/libexec \
                        /usr/share/polkit-1 -xdev \( -path /var/log -o -path /var/cache \
                        -o -path /var/lib/apt -o -path /var/lib/dpkg \) -prune -o -print
                find /run -xdev -path "$T" -prune -o -print
                ls -d /var/lib/dpkg/info/jobrunner*
                while read -r p; do
                        [[ ! -e $p && ! -L $p ]] || echo "$p"
                done < "$T/package-paths"
        } 2> /dev/null | sort -u
}

for d in "$(deb jobrunnerd "$v1")" "$(deb jobrunner "$v1")"; do
        dpkg-deb -c "$d" | awk '{ print $6 }' | sed -e 's|^\./|/|' -e 's|/$||'
done | grep -v '^$' | sort -u > "$T/package-paths"

# ---------------------------------------------------------------- install

step "before: jobrunner is not installed"
check "jobrunnerd is not installed" not_installed jobrunnerd
check "jobrunner is not installed" not_installed jobrunner
listing > "$T/before"
echo "# $(wc -l < "$T/before") paths listed"

step "apt install ./jobrunnerd_$v1 ./jobrunner_$v1"
check "apt install succeeds" logged install apt_get install "$(deb jobrunnerd "$v1")" "$(deb jobrunner "$v1")"
grep '^jobrunnerd: ' "$T/install.log"
check "the postinst says what it made" grep_file "jobrunnerd: made a CA, a server certificate" "$T/install.log"
check "the postinst says how to add users" grep_file "jobrunner-keys user NAME ROLE" "$T/install.log"
check "jobrunnerd $v1 is installed" installed_version jobrunnerd "$v1"
check "jobrunner $v1 is installed" installed_version jobrunner "$v1"
check "the system user jobrunner exists" getent passwd jobrunner
check "jobrunner.socket is enabled" test "$(systemctl is-enabled jobrunner.socket)" = enabled
check "jobrunner.socket is active" is_active jobrunner.socket
check "jobrunner.service is not active before the first connection" is_inactive jobrunner.service
check "jobrunner-starter.socket is enabled" test "$(systemctl is-enabled jobrunner-starter.socket)" = enabled
check "jobrunner-starter.socket is active" is_active jobrunner-starter.socket
check "the starter's socket is root's, group jobrunner, 0660" \
        test "$(stat -c '%U %G %a' /run/jobrunner-starter.sock)" = "root jobrunner 660"
check "jobrunner-metrics.socket is installed but not enabled" \
        test "$(systemctl is-enabled jobrunner-metrics.socket)" = disabled
check "jobrunner-metrics.socket is not active" is_inactive jobrunner-metrics.socket
check "the units are in /usr/lib/systemd/system" test -f /usr/lib/systemd/system/jobrunner.service
check "the server certificate covers localhost" grep -q "DNS:localhost" <(san)
check "the server certificate covers 127.0.0.1" grep -q "IP Address:127.0.0.1" <(san)
check "the server certificate covers the host's name" grep -q "DNS:$(hostname)" <(san)
check "root has an admin certificate in $tls/users/root" grep -q "OU = admin, CN = root" \
        <(openssl x509 -in "$tls/users/root/client.crt" -noout -subject)
key_sums > "$T/keys.sum"

step "the first command, as root, with no other step"
check "jobrunner run -- /usr/bin/uname -a exits 0" jr root run -- /usr/bin/uname -a
check "it prints the kernel" grep -q "^Linux .* $(uname -r) " "$T/out"
cat "$T/out"
check "jobrunner.service is active now" is_active jobrunner.service
check "jobrunner-starter started the job's unit" \
        grep -q 'jobrunner-[0-9a-f]\{32\}\.service' <(journalctl -q -u jobrunner-starter.service)

step "a user with a certificate from jobrunner-keys user alice operator"
id alice > /dev/null 2>&1 || useradd --create-home --shell /bin/bash alice
check "jobrunner-keys user alice operator" logged keys-alice jobrunner-keys user alice operator
install -d -o alice -g alice -m 0700 ~alice/.config ~alice/.config/jobrunner
cp -r "$tls/users/alice" ~alice/.config/jobrunner/tls
chown -R alice:alice ~alice/.config/jobrunner/tls
check "alice: jobrunner run -- /bin/echo exits 0" jr alice run -- /bin/echo hello from alice
check "alice: it prints its output" test "$(cat "$T/out")" = "hello from alice"
check "root's certificates are untouched by a user's" sha256sum --quiet -c "$T/keys.sum"

# ---------------------------------------------------------------- upgrade

step "upgrade to $v2 while alice's job runs and she follows it"
# Lines of 129 bytes, one every 0.1 s, until the upgrade is over, then 20
# more, so that the follower gets output from before, during and after the
# restart.  The job sees $T (0755), not the test's /tmp.
job="i=0; n=-1; while [ \$i != \$n ]; do printf 'line %04d %0118d\\n' \$i \$i; i=\$((i + 1));
 if [ \$n = -1 ] && [ -e $T/upgraded ]; then n=\$((i + 20)); fi; sleep 0.1; done"
check "alice: jobrunner start" jr alice start -- /bin/sh -c "$job"
id=$(cat "$T/out")
as alice jobrunner logs -f "$id" > "$T/follow.out" 2> "$T/follow.err" &
follower=$!
check "the follower has output" wait_for 60 test -s "$T/follow.out"
daemon_before=$(systemctl show -P InvocationID jobrunner.service)
socket_before=$(systemctl show -P ActiveEnterTimestampMonotonic jobrunner.socket)
check "apt install ./jobrunnerd_$v2 ./jobrunner_$v2 succeeds" \
        logged upgrade apt_get install "$(deb jobrunnerd "$v2")" "$(deb jobrunner "$v2")"
echo "# upgraded with $(wc -l < "$T/follow.out") lines followed"
check "the job still runs after the upgrade" test "$(state alice "$id")" = running
touch "$T/upgraded"
check "jobrunnerd $v2 is installed" installed_version jobrunnerd "$v2"
check "jobrunner $v2 is installed" installed_version jobrunner "$v2"
check "the postinst made no keys" lacks "made a CA" "$T/upgrade.log"
check "the daemon was restarted" test "$(systemctl show -P InvocationID jobrunner.service)" != "$daemon_before"
check "jobrunner.service is active" is_active jobrunner.service
check "jobrunner.socket was neither stopped nor restarted" \
        test "$(systemctl show -P ActiveEnterTimestampMonotonic jobrunner.socket)" = "$socket_before"
check "the follower ends by itself" wait_for 240 eval '! kill -0 $follower 2> /dev/null'
wait "$follower"
check "the follower exits 0" test $? = 0
sed 's/^/  follower: /' "$T/follow.err"
check "the job exited by itself (not stopped)" test "$(state alice "$id")" = exited
check "jobrunner logs" jr alice logs "$id"
cp "$T/out" "$T/logs.out"
lines=$(wc -l < "$T/logs.out")
echo "# the job wrote $lines lines"
# What the job wrote: its own loop, run here without the waits.
n=$lines sh -c 'i=0; while [ $i != $n ]; do printf "line %04d %0118d\n" $i $i; i=$((i + 1)); done' > "$T/expected"
check "jobrunner logs has every line the job wrote, byte for byte" cmp "$T/expected" "$T/logs.out"
check "so has the follower" cmp "$T/expected" "$T/follow.out"
check "the keys are untouched" sha256sum --quiet -c "$T/keys.sum"

# As the README says: systemd refuses to start a socket whose service is
# already running, so the daemon stops first (its jobs keep running) and
# the next connection starts it with both sockets.
step "the metrics endpoint, once the administrator turns it on"
check "systemctl enable jobrunner-metrics.socket" systemctl enable jobrunner-metrics.socket
check "systemctl stop jobrunner.service" systemctl stop jobrunner.service
check "systemctl start jobrunner-metrics.socket" systemctl start jobrunner-metrics.socket
check "GET /metrics on 127.0.0.1:9632 answers with the daemon's build info" \
        grep -q "^jobrunner_build_info{version=\"${v1%%-*}\"} 1\$" <(curl -sS --max-time 30 http://127.0.0.1:9632/metrics)

# ---------------------------------------------------------------- remove

step "apt remove while a job runs"
check "root: jobrunner start" jr root start -- /bin/sh -c 'i=0; while :; do echo "tick $i"; i=$((i + 1)); sleep 1; done'
long=$(cat "$T/out")
check "the job prints" wait_for 60 eval 'jr root logs "$long" && test -s "$T/out"'
check "apt remove jobrunnerd jobrunner succeeds" logged remove apt_get remove jobrunnerd jobrunner
check "jobrunner.socket is stopped" is_inactive jobrunner.socket
check "jobrunner.service is stopped" is_inactive jobrunner.service
check "jobrunner-metrics.socket is stopped" is_inactive jobrunner-metrics.socket
check "jobrunner-starter.socket is stopped" is_inactive jobrunner-starter.socket
check "jobrunner-starter.service is stopped" is_inactive jobrunner-starter.service
check "the units are gone" test ! -e /usr/lib/systemd/system/jobrunner.socket
check "the CLI is gone" test ! -e /usr/bin/jobrunner
check "the keys stay" sha256sum --quiet -c "$T/keys.sum"
sleep 3
check "the job still runs 3 s later" is_active "jobrunner-$long.service"

step "apt install again"
check "apt install ./jobrunnerd_$v2 ./jobrunner_$v2 succeeds" \
        logged reinstall apt_get install "$(deb jobrunnerd "$v2")" "$(deb jobrunner "$v2")"
check "the postinst made no keys" lacks "made a CA" "$T/reinstall.log"
check "the keys are untouched" sha256sum --quiet -c "$T/keys.sum"
check "jobrunner.socket is active" is_active jobrunner.socket
check "the daemon knows the job, still running" test "$(state root "$long")" = running
# The pipes' read ends went with the stopped service's file descriptor
# store: what the job wrote since is lost, and so is all it writes later.
check "jobrunner logs" jr root logs "$long"
lines=$(wc -l < "$T/out")
echo "# its output: $lines lines, the last '$(tail -n 1 "$T/out")'"
sed 's/^/  logs: /' "$T/err"
check "a gap of unknown size ends the output" grep_file "stdout: output of unknown size missing" "$T/err"
check "... since jobrunnerd was not running" grep_file "jobrunnerd was not running" "$T/err"
sleep 3
jr root logs "$long"
check "nothing more arrives from the running job" test "$(wc -l < "$T/out")" = "$lines"
check "root: jobrunner stop" jr root stop "$long"
check "the job is stopped" test "$(state root "$long")" = stopped

# ---------------------------------------------------------------- purge

step "apt purge"
check "apt purge jobrunnerd jobrunner succeeds" logged purge apt_get purge jobrunnerd jobrunner
check "jobrunnerd is gone" not_installed jobrunnerd
check "/etc/jobrunner is gone" test ! -e /etc/jobrunner
check "/var/lib/jobrunner is gone" test ! -e /var/lib/jobrunner
check "the system user stays (Debian policy)" getent passwd jobrunner
listing > "$T/after"
comm -13 "$T/before" "$T/after" > "$T/added"
comm -23 "$T/before" "$T/after" > "$T/removed"
sed 's/^/  added: /' "$T/added"
sed 's/^/  removed: /' "$T/removed"
check "nothing of ours is left in the file system" test -z "$(grep -i jobrunner "$T/added")"
systemctl list-units --all --no-legend 'jobrunner*' | sed 's/^/  unit: /'

echo "# $checks checks, $failures failures, $(elapsed) s"
((failures == 0))
