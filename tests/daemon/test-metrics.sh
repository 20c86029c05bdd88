#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The metrics endpoint end to end in the test VM: jobrunner-metrics.socket
# starts the installed daemon on its own; Debian's Prometheus scrapes it
# every second while jobs run, and PromQL queries against that Prometheus
# return the running count, an OOM-killed job counted as one, every other
# end by its result, the API's calls after a known sequence of them, and
# the open Logs calls; promtool finds nothing to say about a scrape taken
# with 50 jobs running.
#
# It stops the daemon (for the activation), so it runs alone.
#
# Environment (meson sets it): as cli-harness.sh, and JOBRUNNER_MEMHOG
# (tests/helpers/memhog).
set -uo pipefail

test_name=test-metrics
. "$(dirname "${BASH_SOURCE[0]}")/cli-harness.sh"
[[ -n ${JOBRUNNER_MEMHOG:-} ]] || { echo "test-metrics: JOBRUNNER_MEMHOG must be set (meson sets it)" >&2; exit 99; }
helpers=/usr/local/libexec/jobrunner-test-metrics.${T##*.}
install -D -m 0755 "$JOBRUNNER_MEMHOG" "$helpers/memhog" || exit 99
promql_py=$(dirname "${BASH_SOURCE[0]}")/promql.py

endpoint=http://127.0.0.1:9632
prom=http://127.0.0.1:9090
prom_pid=
ids=()

cleanup() {
        [[ -n $prom_pid ]] && kill "$prom_pid" 2> /dev/null && wait "$prom_pid" 2> /dev/null
        for id in "${ids[@]}"; do "$CLI" $(as root) stop "$id" > /dev/null 2>&1; done
        systemctl stop jobrunner-metrics.socket
        rm -rf "$T" "$helpers"
}
trap cleanup EXIT

scrape() { curl -sS --max-time 60 "$endpoint/metrics"; }

# promql TIMEOUT QUERY WANT [QUERY WANT]...: one check per query, all asked
# until they match (tests/daemon/promql.py).
promql() {
        local timeout=$1 out
        shift
        checks=$((checks + $# / 2))
        out=$(python3 "$promql_py" "$prom" "$timeout" "$@" 2>&1)
        local rc=$?
        echo "$out" | grep '^ok - '
        if ((rc != 0)); then
                while read -r line; do fail "${line#FAIL: }"; done < <(echo "$out" | grep -v '^ok - ')
                return 1
        fi
}

# start_job ARG...: jobrunner start as alice; the id goes to ids[] and $id.
start_job() {
        id=
        jr 0 start "$@" && id=$(cat "$T/out") && ids+=("$id")
}

# ---------------------------------------------------------------- activation

step "a connection to jobrunner-metrics.socket alone starts the daemon"
check "systemctl stop jobrunner.service" systemctl stop jobrunner.service
check "jobrunner.service is inactive" test "$(systemctl is-active jobrunner.service)" != active
check "systemctl start jobrunner-metrics.socket" systemctl start jobrunner-metrics.socket
check "GET /metrics answers 200" test "$(curl -sS --max-time 120 -o "$T/scrape" -w '%{http_code}' "$endpoint/metrics")" = 200
check "jobrunner.service is active" test "$(systemctl is-active jobrunner.service)" = active
check "the body names the daemon's version" grep -q '^jobrunner_build_info{version="[^"]*"} 1$' "$T/scrape"
check "Content-Type is the text format's" \
        grep -qi '^content-type: text/plain; version=0.0.4' <(curl -sS --max-time 60 -D - -o /dev/null "$endpoint/metrics")
check "any other path is 404" test "$(curl -sS --max-time 60 -o /dev/null -w '%{http_code}' "$endpoint/nope")" = 404
check "POST is 405" test "$(curl -sS --max-time 60 -o /dev/null -w '%{http_code}' -d x "$endpoint/metrics")" = 405
check "the API still answers beside it" "$CLI" list > /dev/null

# ---------------------------------------------------------------- prometheus

step "Debian's prometheus scrapes the endpoint every second"
mkdir -p "$T/prom"
cat > "$T/prometheus.yml" << 'YAML'
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: jobrunner
    static_configs:
      - targets: ['127.0.0.1:9632']
YAML
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
        --web.listen-address=127.0.0.1:9090 --log.level=warn > "$T/prometheus.log" 2>&1 &
prom_pid=$!
for ((i = 0; i < 240; i++)); do
        curl -sf --max-time 10 "$prom/-/ready" > /dev/null 2>&1 && break
        sleep 0.5
done
check "prometheus is ready" curl -sf --max-time 10 "$prom/-/ready" -o /dev/null || sed 's/^/  prometheus: /' "$T/prometheus.log"
promql 120 'up{job="jobrunner"}' 1

# ---------------------------------------------------------------- the API's calls

# First, so that nothing else has called these methods since the daemon
# started: the activation step's one list, then these.
step "the API's calls after a known sequence"
for i in 1 2 3 4; do jr 0 list; done
for i in 1 2; do jr 3 status 0123456789abcdef0123456789abcdef; done
jr 4 $(as victor) start -- /bin/true
promql 120 \
        'grpc_server_handled_total{grpc_service="jobrunner.v1.JobRunner",grpc_method="List",grpc_code="OK"}' 5 \
        'grpc_server_handled_total{grpc_method="GetStatus",grpc_code="NOT_FOUND"}' 2 \
        'grpc_server_handled_total{grpc_method="GetStatus",grpc_code="OK"}' 0 \
        'grpc_server_handled_total{grpc_method="Start",grpc_code="PERMISSION_DENIED"}' 1 \
        'grpc_server_handling_seconds_count{grpc_method="List"}' 5 \
        'grpc_server_handling_seconds_bucket{grpc_method="List",le="+Inf"}' 5 \
        'count(grpc_server_handling_seconds_count{grpc_method=~"Wait|Logs"}) or vector(0)' 0

# ---------------------------------------------------------------- jobs

step "the running count, and per-job series for running jobs only"
for i in 1 2 3; do start_job -- /bin/sleep 600; done
running=("${ids[@]}")
re=$(IFS='|'; echo "${running[*]}")
promql 120 \
        "count(jobrunner_job_memory_bytes{job_id=~\"$re\",owner=\"alice\"})" 3 \
        "count(jobrunner_job_tasks{job_id=~\"$re\"} >= 1)" 3 \
        'sum(jobrunner_jobs{state="running"}) - count(jobrunner_job_tasks)' 0

step "every end counted by its result"
# Jobs of earlier tests may end meanwhile: the counts are taken as they are
# now, and each must grow by exactly one.
results=(exited-zero exited-nonzero oom-killed failed-to-start stopped)
queries=()
for r in "${results[@]}"; do queries+=("jobrunner_jobs_ended_total{result=\"$r\"}"); done
mapfile -t before < <(python3 "$promql_py" "$prom" --print "${queries[@]}")
jr 0 run -- /bin/true
jr 3 run -- /bin/sh -c 'exit 3'
jr 137 run --memory 32M -- "$helpers/memhog" 256
jr 127 start -- /nonexistent/program
start_job -- /bin/sleep 600 && jr 0 $(as root) stop "$id"
want=()
for i in 0 1 2 3 4; do want+=("${queries[i]}" "$((before[i] + 1))"); done
promql 120 "${want[@]}" \
        'jobrunner_jobs_started_total' 8 \
        'jobrunner_jobs{state="oom-killed"} >= bool 1' 1

step "output stored, in bytes"
jr 0 run -- /usr/bin/head -c 100000 /dev/zero
promql 120 'jobrunner_output_stored_bytes_total >= bool 100000' 1


step "open Logs calls"
"$CLI" logs -f "${running[0]}" > /dev/null 2>&1 &
f1=$!
"$CLI" logs -f "${running[1]}" > /dev/null 2>&1 &
f2=$!
promql 120 'jobrunner_logs_calls' 2
kill "$f1" "$f2"
wait "$f1" "$f2" 2> /dev/null
promql 120 'jobrunner_logs_calls' 0

# ---------------------------------------------------------------- 50 jobs

step "promtool check metrics on a scrape with 50 jobs running"
for ((n = 0; n < 50; n++)); do start_job -- /bin/sleep 600 || break; done
promql 300 "count(jobrunner_job_memory_bytes{owner=\"alice\"}) >= bool 50" 1
scrape > "$T/scrape50"
check "the scrape has a series for each of them" \
        test "$(grep -c '^jobrunner_job_cpu_seconds_total{job_id=' "$T/scrape50")" -ge 50
checks=$((checks + 1))
promtool check metrics < "$T/scrape50" > "$T/promtool" 2>&1
rc=$?
if ((rc != 0)) || [[ -s $T/promtool ]]; then
        fail "promtool check metrics: exit status $rc"
        sed 's/^/  promtool: /' "$T/promtool" >&2
else
        echo "ok - promtool check metrics: nothing to say ($(wc -l < "$T/scrape50") lines)"
fi

echo "# $checks checks, $failures failures, $(elapsed) s"
((failures == 0))
