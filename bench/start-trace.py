#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Where one CLI call's time goes (bench/start --trace runs this in the test
VM): the CLI's milestones from its strace log (strace -f -ttt -s 256), the
daemon's from its debug timings and PID 1's from its debug messages in the
journal (journalctl -o json), all on the realtime clock.  Prints them
relative to the CLI's execve, with the spans between them.  The journal's
times are when journald received a line: a little after the event.

Usage: start-trace.py CLIENT_TRACE JOURNAL_JSON
"""
import json
import re
import sys

LINE = re.compile(r'^(?:\[pid\s+)?(\d+)\]?\s+(\d+\.\d+)\s+(.*)$')
CALL = re.compile(r'^(\w+)\((.*)$')
RET = re.compile(r'=\s+(-?\d+|\?)')


def parse(path):
    """(time, pid, syscall, args+result) for every finished or resumed call."""
    pending = {}
    out = []
    for raw in open(path, errors='replace'):
        m = LINE.match(raw.rstrip('\n'))
        if not m:
            continue
        pid, t, rest = int(m.group(1)), float(m.group(2)), m.group(3)
        if rest.endswith('<unfinished ...>'):
            c = CALL.match(rest)
            if c:
                pending[pid] = (t, c.group(1), c.group(2))
            continue
        r = re.match(r'^<\.\.\. (\w+) resumed>(.*)$', rest)
        if r and pid in pending:
            t0, name, args = pending.pop(pid)
            out.append((t0, t, pid, name, args + r.group(2)))
            continue
        c = CALL.match(rest)
        if c:
            out.append((t, t, pid, c.group(1), c.group(2)))
        elif rest.startswith('+++ exited'):
            out.append((t, t, pid, 'exited', rest))
    return out


def ret(args):
    m = RET.search(args.rsplit(')', 1)[-1] if ')' in args else args)
    return int(m.group(1)) if m and m.group(1) != '?' else None


def first(events, pred):
    for e in events:
        if pred(e):
            return e
    return None


def last(events, pred):
    found = None
    for e in events:
        if pred(e):
            found = e
    return found


def client_milestones(ev):
    ms = []
    start = first(ev, lambda e: e[3] == 'execve')
    ms.append(('client: exec', start[0]))
    libs = last(ev, lambda e: e[3] in ('openat', 'open') and '.so' in e[4] and ret(e[4]) is not None
                and ret(e[4]) >= 0)
    if libs:
        ms.append(('client: last shared library opened', libs[1]))
    cert = first(ev, lambda e: e[3] == 'openat' and ('.crt' in e[4] or '.key' in e[4]))
    if cert:
        ms.append(('client: certificates read (first)', cert[0]))
    dns = [e for e in ev if e[3] in ('connect', 'sendto') and 'htons(53)' in e[4]]
    if dns:
        ms.append(('client: first DNS packet (%d DNS sends/connects)' % len(dns), dns[0][0]))
    hosts = first(ev, lambda e: e[3] == 'openat' and ('/etc/hosts' in e[4] or 'resolv.conf' in e[4]))
    if hosts:
        ms.append(('client: resolver files opened', hosts[0]))
    conn = first(ev, lambda e: e[3] == 'connect' and 'htons(50051)' in e[4])
    if conn:
        ms.append(('client: TCP connect to the daemon', conn[0]))
        fd = conn[4].split(',', 1)[0]
        io = [e for e in ev if e[3] in ('write', 'sendmsg', 'read', 'recvmsg', 'writev') and e[4].startswith(fd + ',')
              and (ret(e[4]) or 0) > 0 and e[0] >= conn[0]]
        writes = [e for e in io if e[3] in ('write', 'sendmsg', 'writev')]
        reads = [e for e in io if e[3] in ('read', 'recvmsg')]
        if writes:
            ms.append(('client: ClientHello sent', writes[0][0]))
        if reads:
            ms.append(('client: server handshake received', reads[0][1]))
        if len(writes) > 1:
            ms.append(('client: Finished + request sent', writes[1][0]))
        if reads:
            ms.append(('client: last bytes from the daemon', reads[-1][1]))
    end = first(ev, lambda e: e[3] in ('exit_group', '_exit'))
    if end:
        ms.append(('client: exit_group', end[0]))
    gone = last(ev, lambda e: e[3] == 'exited')
    if gone:
        ms.append(('client: process gone', gone[1]))
    return ms


JOB = re.compile(r'job ([0-9a-f]{32}): (.*), \+[0-9.]+ ms$')
ANSWERED = re.compile(r'^(\w+)(?: of job ([0-9a-f]{32}))?: answered (\w+), ([0-9.]+) ms after')
PID1 = (
    ('Got message type=method_call', 'StartTransientUnit', 'systemd: StartTransientUnit received'),
    ('Installed new job', '', 'systemd: start job queued'),
    ('Forked ', '', 'systemd: forked the wrapper'),
    ('Got notification message', 'READY=1', 'systemd: wrapper said READY=1'),
    ('Changed dead -> start', '', 'systemd: unit starting'),
    ('Changed start -> running', '', 'systemd: unit running'),
    ('Job ', 'finished', 'systemd: start job finished'),
)


def journal_milestones(path, since):
    """The daemon's debug timings (lib/job.c, daemon/grpc-call.c) and PID 1's
    debug messages about the job's unit, at the journal's receive time."""
    entries = []
    for raw in open(path, errors='replace'):
        try:
            e = json.loads(raw)
        except ValueError:
            continue
        msg = e.get('MESSAGE')
        if not isinstance(msg, str):
            continue
        t = int(e['__REALTIME_TIMESTAMP']) / 1e6
        if t >= since:
            entries.append((t, e.get('_PID'), e.get('_SYSTEMD_UNIT', ''), msg))
    ms = []
    job = None
    for t, pid, unit, msg in entries:
        if unit != 'jobrunner.service':
            continue
        m = JOB.search(msg)
        if m:
            job = m.group(1)
            ms.append(('daemon: ' + m.group(2), t))
            continue
        m = ANSWERED.search(msg)
        if m:
            job = job or m.group(2)
            ms.append(('daemon: %s answered %s (%s ms after taken from gRPC)' % m.group(1, 3, 4), t))
    if job:
        seen = set()
        for t, pid, unit, msg in entries:
            if pid != '1' or 'jobrunner-' + job not in msg and 'StartTransientUnit' not in msg:
                continue
            for first_part, second_part, name in PID1:
                if first_part in msg and second_part in msg and name not in seen:
                    seen.add(name)
                    ms.append((name, t))
    return ms


def main():
    client = parse(sys.argv[1])
    ms = client_milestones(client)
    t0 = ms[0][1]
    ms += journal_milestones(sys.argv[2], t0)
    ms.sort(key=lambda m: m[1])
    print('%-52s %10s %10s' % ('milestone (one traced start)', 'at ms', '+ms'))
    prev = t0
    for name, t in ms:
        print('%-52s %10.1f %10.1f' % (name, (t - t0) * 1000, (t - prev) * 1000))
        prev = t


if __name__ == '__main__':
    main()
