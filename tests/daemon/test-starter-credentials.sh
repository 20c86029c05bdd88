#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What systemd (252 in the test VM) takes as privileged for
# StartTransientUnit without asking polkit: the ground jobrunner-starter's
# unit stands on (issue 15).  polkit is masked and stopped meanwhile, so any
# call that would need it fails, and one that succeeds was granted on the
# caller's credentials alone:
#
#   - euid 0 is enough, with no capability at all (empty bounding set,
#     no_new_privs): the starter needs root and nothing else;
#   - capabilities count for nothing: user jobrunner with CAP_SYS_ADMIN, or
#     with every capability, is sent to polkit.  (dbus-daemon reports the
#     peer's uid from SO_PEERCRED; systemd will not trust capabilities read
#     from /proc, so it never sees any.)
#
# polkit is unmasked again at the end; it runs alone.
set -uo pipefail

if [[ ${JOBRUNNER_TEST_VM:-} != 1 ]]; then
        echo "SKIP: not inside the jobrunner test VM: this test needs systemd as PID 1"
        exit 77
fi
. "$(dirname "${BASH_SOURCE[0]}")/test-steps.sh"

n=0
# start_transient WANT DESCRIPTION [WRAPPER...]: StartTransientUnit of a
# /bin/true service through busctl, run under WRAPPER; WANT is ok, or
# polkit: refused because systemd asked polkit (masked: "Unit polkit.service
# is masked"), not for any other reason.
start_transient() {
        local want=$1 description=$2 out rc
        shift 2
        n=$((n + 1))
        checks=$((checks + 1))
        out=$("$@" busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
                org.freedesktop.systemd1.Manager StartTransientUnit 'ssa(sv)a(sa(sv))' \
                "jobrunner-credentials-probe-$n.service" fail 1 ExecStart 'a(sasb)' 1 /bin/true 1 /bin/true false \
                0 2>&1)
        rc=$?
        if [[ $want == ok && $rc == 0 ]] || [[ $want == polkit && $rc != 0 && $out == *polkit* ]]; then
                echo "ok - $description: ${out:0:100}"
        else
                fail "$description: busctl exited $rc, expected $want: $out"
        fi
}

restore() { systemctl unmask --runtime polkit.service > /dev/null 2>&1; }
trap restore EXIT

step "polkit out of the picture"
check "polkit.service masked" systemctl mask --runtime polkit.service
systemctl stop polkit.service 2> /dev/null
check "polkit is not running" test "$(systemctl is-active polkit.service)" != active
getent passwd jobrunner > /dev/null || check "a user jobrunner" useradd --system jobrunner

step "uid 0 alone is privileged"
start_transient ok "root with every capability" env
start_transient ok "root with no capability (empty bounding set, no_new_privs)" \
        setpriv --bounding-set=-all --inh-caps=-all --ambient-caps=-all --no-new-privs --
start_transient ok "euid 0 with real uid jobrunner" setpriv --ruid=jobrunner --

step "capabilities count for nothing"
start_transient polkit "user jobrunner" setpriv --reuid=jobrunner --regid=jobrunner --clear-groups --
start_transient polkit "user jobrunner with CAP_SYS_ADMIN" \
        setpriv --reuid=jobrunner --regid=jobrunner --clear-groups --inh-caps=+sys_admin --ambient-caps=+sys_admin --
start_transient polkit "user jobrunner with every capability" \
        setpriv --reuid=jobrunner --regid=jobrunner --clear-groups --inh-caps=+all --ambient-caps=+all --
start_transient polkit "euid jobrunner with CAP_SYS_ADMIN, real uid 0" \
        setpriv --euid=jobrunner --inh-caps=+sys_admin --ambient-caps=+sys_admin --

echo "# $checks checks, $failures failures, $(elapsed) s"
((failures == 0))
