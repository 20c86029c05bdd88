#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Asks a Prometheus server PromQL queries until each returns what is wanted.

Usage: promql.py URL TIMEOUT QUERY WANT [QUERY WANT]...
       promql.py URL --print QUERY...

Each QUERY is an instant query whose result is one sample (a vector of one
element, or a scalar); WANT is its value as Prometheus writes it ("3",
"0.5").  Prometheus scrapes every second or so, so the queries are asked
again, all of them, until every one matches or TIMEOUT seconds passed.
Prints one "ok - QUERY == WANT" line per query, or for each one that never
matched what it returned last, and exits 1 then.  With --print, prints what
each query returns now, one line each."""

import json
import sys
import time
import urllib.parse
import urllib.request


def ask(url, query):
    data = urllib.parse.urlencode({"query": query}).encode()
    with urllib.request.urlopen(url + "/api/v1/query", data, timeout=30) as r:
        reply = json.load(r)
    if reply.get("status") != "success":
        return "error: " + reply.get("error", "?")
    result = reply["data"]["result"]
    if reply["data"]["resultType"] == "scalar":
        return result[1]
    if len(result) != 1:
        return f"{len(result)} samples: {result!r}"
    return result[0]["value"][1]


def main():
    if sys.argv[2] == "--print":
        for query in sys.argv[3:]:
            print(ask(sys.argv[1], query))
        return 0
    url, timeout = sys.argv[1], float(sys.argv[2])
    pairs = list(zip(sys.argv[3::2], sys.argv[4::2]))
    deadline = time.monotonic() + timeout
    got = {}
    while True:
        for query, _ in pairs:
            try:
                got[query] = ask(url, query)
            except OSError as e:
                got[query] = f"no answer: {e}"
        if all(got[q] == want for q, want in pairs) or time.monotonic() > deadline:
            break
        time.sleep(1)
    failed = 0
    for query, want in pairs:
        if got[query] == want:
            print(f"ok - {query} == {want}")
        else:
            print(f"FAIL: {query}: {got[query]}, expected {want}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
