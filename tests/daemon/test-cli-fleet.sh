#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A fleet from one CLI, in the test VM: three more jobrunnerd instances
# stand for three hosts, each on an address of its own (127.0.0.2, .3, .4,
# port 7443), socket-activated by a socket unit of its own, with its own
# state directory and slice; h1 and h2 have certificates from one CA (a
# fleet CA, as an administrator would keep it), h3 from a CA of its own (as
# the Debian package makes one on each host).  h4 names 127.0.0.5, where
# nobody listens, and "stranger" reaches h3 with the fleet CA, which did not
# sign h3's certificate.  Everything goes through the real CLI: the context
# commands and the precedence of settings, a fan-out run with byte-exact
# per-host output, exit statuses, the host that is down, the wrong CA,
# Ctrl-C across hosts (detach and --stop-on-interrupt), start, list, and
# CONTEXT/ID addressing.
#
# The instances run as root, not as user jobrunner, and start their jobs
# themselves, without jobrunner-starter (whose jobs all go to
# jobrunner.slice, and which serves jobrunner.service alone): root needs no
# polkit.  Apart from User=, Group= and their paths, their
# units are copies of the installed jobrunner.service, sandbox included.
#
# Environment (meson sets it): what cli-harness.sh needs.
#
# Runs beside the other daemon tests: it neither restarts jobrunner.service
# nor starts jobs through it, and its instances' jobs live in a slice of
# their own (jobrunner-fleet.slice).
set -uo pipefail

test_name=test-cli-fleet
. "$(dirname "${BASH_SOURCE[0]}")/cli-harness.sh"

# The harness points the CLI at alice's certificates through the
# environment, which would come before every context: here the contexts
# alone say who we are and where.
unset JOBRUNNER_CERT JOBRUNNER_KEY JOBRUNNER_CA
export HOME=$T/home
mkdir -p "$HOME"
fleet=/run/jobrunner-fleet
units=/run/systemd/system
hosts=(h1 h2 h3)
declare -A addr=([h1]=127.0.0.2 [h2]=127.0.0.3 [h3]=127.0.0.4 [h4]=127.0.0.5)
port=7443

keys=$(command -v jobrunner-keys) || { echo "$test_name: jobrunner-keys is not installed" >&2; exit 99; }
service=$(systemctl show -P FragmentPath jobrunner.service)
[[ -f $service ]] || { echo "$test_name: jobrunner.service is not installed" >&2; exit 99; }

cleanup() {
        local h
        for h in "${hosts[@]}"; do
                systemctl stop "jrfleet-$h.socket" "jrfleet-$h.service" 2> /dev/null
                rm -rf "$units/jrfleet-$h".*
        done
        # Jobs left by a failed check.
        systemctl stop jobrunner-fleet.slice 2> /dev/null
        systemctl daemon-reload
        rm -rf "$fleet" "$T"
}
trap cleanup EXIT

# ---------------------------------------------------------------- the hosts

step "certificates: a fleet CA for h1 and h2, a CA of h3's own"
rm -rf "$fleet"
mkdir -p "$fleet"
{
        # The fleet CA signs each host's server certificate in turn; each
        # host gets a copy of its own (jobrunner-keys server replaces the
        # last one).  h2's carries only a DNS name: the CLI must be told it
        # (tls-server-name), as for a host reached by an address its
        # certificate does not name.
        "$keys" --dir "$fleet/ca-fleet" init &&
        "$keys" --dir "$fleet/ca-fleet" server h1.fleet.test "${addr[h1]}" &&
        install -D -m 0600 -t "$fleet/h1" "$fleet/ca-fleet/server.crt" "$fleet/ca-fleet/server.key" \
                "$fleet/ca-fleet/ca.crt" &&
        "$keys" --dir "$fleet/ca-fleet" server h2.fleet.test &&
        install -D -m 0600 -t "$fleet/h2" "$fleet/ca-fleet/server.crt" "$fleet/ca-fleet/server.key" \
                "$fleet/ca-fleet/ca.crt" &&
        "$keys" --dir "$fleet/ca-fleet" user alice operator &&
        "$keys" --dir "$fleet/h3" init &&
        "$keys" --dir "$fleet/h3" server h3.fleet.test "${addr[h3]}" &&
        "$keys" --dir "$fleet/h3" user alice operator
} > /dev/null || { echo "$test_name: jobrunner-keys failed" >&2; exit 99; }
# Where the user keeps them: one directory per CA, as handed over.
cp -r "$fleet/ca-fleet/users/alice" "$HOME/fleet-tls"
cp -r "$fleet/h3/users/alice" "$HOME/h3-tls"

# fleet_units HOST: the socket and the service of one instance.  The service
# is the installed one with the instance's socket, state directory, slice
# and certificates, run as root (see the top).
fleet_units() {
        local h=$1
        cat > "$units/jrfleet-$h.socket" <<EOF
[Unit]
Description=jobrunner test fleet: $h's API socket

[Socket]
ListenStream=${addr[$h]}:$port
NoDelay=yes
Backlog=512
EOF
        sed -e '/^User=/d' -e '/^Group=/d' \
            -e "s/jobrunner\\.socket/jrfleet-$h.socket/g" \
            -e "s/^StateDirectory=jobrunner\$/StateDirectory=jobrunner-fleet-$h/" \
            -e "s|/etc/jobrunner/tls/|$fleet/$h/|" \
            -e "s|^ExecStart=\([^ ]*\).*\$|ExecStart=\1 --state-dir /var/lib/jobrunner-fleet-$h --slice jobrunner-fleet.slice|" \
            "$service" > "$units/jrfleet-$h.service"
        # The ASan+UBSan build: the same drop-in as jobrunner.service's, so
        # that the final check sees the instances' reports too.
        if [[ -d /etc/systemd/system/jobrunner.service.d ]]; then
                mkdir -p "$units/jrfleet-$h.service.d"
                cp /etc/systemd/system/jobrunner.service.d/*.conf "$units/jrfleet-$h.service.d/"
        fi
}

step "three instances, socket-activated on ${addr[h1]}, ${addr[h2]}, ${addr[h3]} port $port"
for h in "${hosts[@]}"; do
        fleet_units "$h"
        check "$h's service is the installed one for its own socket, state and certificates" \
                grep -q "^ExecStart=.*--state-dir /var/lib/jobrunner-fleet-$h --slice" "$units/jrfleet-$h.service"
        check "$h's service reads its own certificates" \
                grep -q "^LoadCredential=server.key:$fleet/$h/server.key\$" "$units/jrfleet-$h.service"
done
systemctl daemon-reload
check "the three sockets listen" systemctl start jrfleet-h1.socket jrfleet-h2.socket jrfleet-h3.socket

# ---------------------------------------------------------------- contexts

step "context add, from the files jobrunner-keys made"
jr 0 context add h1 --server "${addr[h1]}:$port" --tls-dir "$HOME/fleet-tls" && err_empty
jr 0 context add h2 --server "${addr[h2]}:$port" --tls-dir "$HOME/fleet-tls" --tls-server-name h2.fleet.test
jr 0 context add h3 --server "${addr[h3]}:$port" --cert "$HOME/h3-tls/client.crt" \
        --key "$HOME/h3-tls/client.key" --ca "$HOME/h3-tls/ca.crt"
jr 0 context add h4 --server "${addr[h4]}:$port" --tls-dir "$HOME/fleet-tls"
jr 0 context add stranger --server "${addr[h3]}:$port" --tls-dir "$HOME/fleet-tls"
jr 2 context add h1 --server "${addr[h1]}:$port" --tls-dir "$HOME/fleet-tls" && err_has "h1"
check "the user's file is private (0600)" test "$(stat -c %a "$HOME/.config/jobrunner/config")" = 600

step "context use h1; context list marks it"
jr 0 context use h1
if jr 0 context list; then
        out_has "^\\* h1 +${addr[h1]}:$port\$"
        out_has "^  h2 +${addr[h2]}:$port\$"
        [[ $(grep -c '^\*' "$T/out") == 1 ]] || { fail "not exactly one context marked"; show; }
fi

# Each instance has jobs of its own: a job started on one host is known to
# that host alone, which tells which host a command reached.
step "a job on each host (start -c NAME), for telling the hosts apart"
declare -A marker
for h in "${hosts[@]}"; do
        marker[$h]=
        jr 0 -c "$h" start -- /bin/sleep 900 && marker[$h]=$(cat "$T/out")
        is_id "${marker[$h]}" || fail "start on $h did not print one id: '${marker[$h]}'"
done

# reaches WANT ARG...: "jobrunner ARG... list -q" reaches the host WANT: it
# lists WANT's marker job.
reaches() {
        local want=$1
        shift
        jr 0 "$@" list -q || return 1
        grep -qx "${marker[$want]}" "$T/out" || { fail "jobrunner $* list did not reach $want"; show; }
}

step "precedence: the current context, JOBRUNNER_CONTEXT, --context"
reaches h1
JOBRUNNER_CONTEXT=h2 reaches h2
JOBRUNNER_CONTEXT=h2 reaches h3 -c h3
reaches h3 --context h3
step "precedence: options and the environment come before the context's settings"
# h1's settings, h2's address and name: the same fleet certificate fits.
reaches h2 --server "${addr[h2]}:$port" --tls-server-name h2.fleet.test
JOBRUNNER_SERVER=${addr[h2]}:$port JOBRUNNER_TLS_SERVER_NAME=h2.fleet.test reaches h2
step "context show says where each setting came from"
if JOBRUNNER_SERVER=${addr[h2]}:$port jr 0 -c h3 context show; then
        out_has '^context +h3 \(from --context\)$'
        out_has "^server +${addr[h2]}:$port \\(from \\\$JOBRUNNER_SERVER\\)\$"
        out_has "^ca +$HOME/h3-tls/ca.crt \\(from $HOME/.config/jobrunner/config:[0-9]+\\)\$"
fi
step "a context that does not exist is a configuration error (78)"
jr 78 -c nosuch list && err_has "nosuch"
JOBRUNNER_CONTEXT=nosuch jr 78 list && err_has 'JOBRUNNER_CONTEXT'

# ---------------------------------------------------------------- run on several hosts

step "-c 'h*' run -- /usr/bin/uname -n: three answers, h4's error, a summary, 69"
node=$(uname -n)
if jr 69 -c 'h*' run -- /usr/bin/uname -n; then
        # In the order they came.
        [[ $(sort "$T/out") == "h1 | $node"$'\n'"h2 | $node"$'\n'"h3 | $node" ]] ||
                { fail "stdout is not the three prefixed answers"; show; }
        err_has "^h4: .*${addr[h4]}:$port.*onnection refused"
        err_has '^h1: exited with code 0$'
        err_has '^h2: exited with code 0$'
        err_has '^h3: exited with code 0$'
        err_has '^jobrunner: 4 hosts: 3 succeeded, 1 in error$'
fi

# Large output on both streams, interleaved in time: each host's lines,
# prefix taken off, are the job's bytes.
step "run on three hosts: each host's stdout and stderr byte for byte, kept apart"
prog='i=0; while [ $i -lt 3000 ]; do echo "out $i: the quick brown fox"; echo "err $i" >&2; i=$((i+1)); done; printf "last line without newline"'
sh -c "$prog" > "$T/expected.out" 2> "$T/expected.err"
printf '\n' >> "$T/expected.out"
if jr 0 -c h1 -c h2 -c h3 run -- /bin/sh -c "$prog"; then
        for h in "${hosts[@]}"; do
                sed -n "s/^$h | //p" "$T/out" | cmp -s - "$T/expected.out" ||
                        fail "$h's stdout, prefix taken off, is not the job's (a last line gets its newline)"
                sed -n "s/^$h | //p" "$T/err" | cmp -s - "$T/expected.err" || fail "$h's stderr differs"
        done
        [[ $(grep -vc '^h[123] | ' "$T/out") == 0 ]] || fail "stdout has unprefixed lines"
        [[ $(wc -l < "$T/out") == $((3 * 3001)) ]] || fail "stdout has $(wc -l < "$T/out") lines, not 3 × 3001"
        err_has '^jobrunner: 3 hosts: 3 succeeded$'
fi

step "run --json: one object per host and line, the host first"
if jr 0 --json -c 'h[12]' run -- /usr/bin/printf 'a\nb\n'; then
        python3 - "$T/out" <<'EOF' || fail "--json output is not as expected"
import base64, json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
assert all(list(o)[0] == "host" for o in objs), objs
for h in ("h1", "h2"):
    mine = [o for o in objs if o["host"] == h]
    data = b"".join(base64.b64decode(o["data"]) for o in mine
                    if o["type"] == "chunk" and o["stream"] == "stdout")
    assert data == b"a\nb\n", (h, data)
    assert mine[-1]["type"] == "end" and mine[-1]["job"]["exit_code"] == 0, mine[-1]
EOF
fi

step "exit status: the highest job status over the hosts"
jr 0 -c 'h[123]' run -- /bin/true && err_has '^jobrunner: 3 hosts: 3 succeeded$'
jr 3 -c h1 -c h2 run -- /bin/sh -c 'exit 3' && err_has '^h1: exited with code 3$'
step "exit status: a job status above 69 beats the host that is down"
jr 100 -c h1 -c h4 run -- /bin/sh -c 'exit 100' && err_has '^jobrunner: 2 hosts: 1 failed, 1 in error$'
step "a job killed by a signal counts 128+N"
jr 137 -c h2 -c h3 run -- /bin/sh -c 'kill -9 $$' && err_has '^h2: killed by SIGKILL'

step "the wrong CA: h1 answers, 'stranger' is a TLS error, 69"
if jr 69 -c h1 -c stranger run -- /bin/echo hello; then
        [[ $(cat "$T/out") == "h1       | hello" ]] || { fail "stdout is not h1's answer, padded to 'stranger'"; show; }
        err_has '^stranger: .*(TLS|certificate)'
        err_has '^jobrunner: 2 hosts: 1 succeeded, 1 in error$'
fi
step "the wrong CA alone, one host: 69 with a TLS error"
jr 69 -c stranger list && err_has '(TLS|certificate)'

# ---------------------------------------------------------------- Ctrl-C

step "Ctrl-C across hosts: detaches from all three (130), their jobs run on"
if interrupted 130 3 -c 'h[123]' run -- /bin/sh -c 'echo ready; exec sleep 600'; then
        err_has '^jobrunner: 3 hosts: 3 interrupted$'
        # The checks below write $T/err.
        cp "$T/err" "$T/detached.err"
        for h in "${hosts[@]}"; do
                id=$(sed -n "s/^$h: detached from job \\([0-9a-f]\\{32\\}\\).*/\\1/p" "$T/detached.err")
                if ! is_id "$id"; then
                        fail "no '$h: detached from job ID' on stderr"
                        show
                        continue
                fi
                jr 0 --json status "$h/$id" && json 'd["state"]' running
                jr 0 stop --grace 1s "$h/$id"
        done
fi
step "Ctrl-C with --stop-on-interrupt: every host's job stopped and waited for (128+SIGTERM)"
if interrupted 143 3 -c 'h[123]' run --stop-on-interrupt -- /bin/sh -c 'echo ready; exec sleep 600'; then
        for h in "${hosts[@]}"; do
                err_has "^$h \\| jobrunner: stopping job [0-9a-f]{32} "
                err_has "^$h: stopped by alice: ended by SIGTERM\$"
        done
fi

# ---------------------------------------------------------------- start, list, CONTEXT/ID

step "start on three hosts prints CONTEXT ID per host"
declare -A started
if jr 0 -c 'h[123]' start -- /bin/sleep 900; then
        for h in "${hosts[@]}"; do
                started[$h]=$(sed -n "s/^$h \\([0-9a-f]\\{32\\}\\)\$/\\1/p" "$T/out")
                is_id "${started[$h]}" || fail "no '$h ID' line"
        done
        [[ $(wc -l < "$T/out") == 3 ]] || { fail "not three lines"; show; }
fi
step "list over every context: a HOST column; h4 and stranger in error (69)"
if jr 69 --all-contexts list --active; then
        out_has '^HOST +ID +OWNER +STATE'
        for h in "${hosts[@]}"; do
                out_has "^$h +${started[$h]} +alice +running"
        done
        err_has "^jobrunner: h4: cannot connect to ${addr[h4]}:$port"
        err_has "^jobrunner: stranger: TLS handshake with ${addr[h3]}:$port failed"
fi
step "list -q: CONTEXT/ID; --json: a host member"
if jr 0 -c 'h[123]' list -q --active; then
        for h in "${hosts[@]}"; do
                grep -qx "$h/${started[$h]}" "$T/out" || { fail "list -q lacks $h/${started[$h]}"; show; }
        done
fi
jr 0 --json -c 'h[123]' list --active &&
        json "sorted(j['host'] for j in d if j['id'] == '${started[h2]}')" "['h2']"

step "status CONTEXT/ID and CONTEXT/PREFIX address one host"
jr 0 status "h2/${started[h2]}" && out_has "^Id: +${started[h2]}\$"
jr 0 status "h3/${started[h3]:0:8}" && out_has "^Id: +${started[h3]}\$"
step "an id of another host under CONTEXT/ is not found there (3)"
jr 3 status "h1/${started[h2]}"
step "a plain id with several contexts is looked up on each: found on exactly one"
jr 0 -c 'h[123]' status "${started[h3]:0:8}" && out_has "^Id: +${started[h3]}\$"
step "a plain id that no host has: not found (3)"
jr 3 -c 'h[123]' status 0123456789abcdef0123456789abcdef
step "logs and wait by CONTEXT/ID; stop with a plain id over the hosts"
jr 0 -c 'h[123]' stop --grace 1s "${started[h1]}"
jr 143 wait "h1/${started[h1]}"
if jr 0 logs "h1/${started[h1]}"; then
        [[ ! -s $T/out ]] || fail "logs of a silent job printed something"
fi
for h in h2 h3; do
        jr 0 stop --grace 1s "$h/${started[$h]}"
done
for h in "${hosts[@]}"; do
        [[ -n ${marker[$h]} ]] && jr 0 stop --grace 1s "$h/${marker[$h]}"
done

echo "# $checks checks, $failures failures, $(elapsed) s"
((failures == 0))
