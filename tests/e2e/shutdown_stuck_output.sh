#!/usr/bin/env bash
# Regression: with Elasticsearch unreachable the queue fills and holds the
# pipeline back; SIGTERM must still end the daemon within shutdown_timeout
# (plus a margin), exit 0, and count every event it could not deliver.
set -uo pipefail
cd "$(dirname "$0")/../.."
: "${XDPBEAT:=$PWD/build/xdpbeat}"
err=$(mktemp /tmp/xdpbeat-stuck.XXXXXX)
trap 'rm -f "$err"' EXIT
"$XDPBEAT" -I tests/pcaps/http-wrk.pcap -c tests/golden/http.yml -E output.console.enabled=false \
	-E 'output.elasticsearch.hosts=["http://127.0.0.1:9"]' -E queue.mem.events=64 \
	-E queue.mem.flush.min_events=32 -E xdpbeat.shutdown_timeout=2s >/dev/null 2>"$err" &
pid=$!
sleep 3
start=$(date +%s%N)
kill -TERM $pid
( sleep 20; kill -9 $pid 2>/dev/null ) &
watchdog=$!
wait $pid
rc=$?
kill $watchdog 2>/dev/null
ms=$(( ($(date +%s%N) - start) / 1000000 ))
stats=$(grep 'stats (final)' "$err")
echo "$stats"
# every transaction, answered or not, is an event
answered=$(echo "$stats" | grep -o ' transactions=[0-9]*' | cut -d= -f2)
unanswered=$(echo "$stats" | grep -o ' transactions.unanswered=[0-9]*' | cut -d= -f2)
txn=$((${answered:-0} + ${unanswered:-0}))
dropped=$(echo "$stats" | grep -o 'drops.queue_full=[0-9]*' | cut -d= -f2)
fail=0
[ $rc -eq 0 ] || { echo "FAIL: exit status $rc"; fail=1; }
[ $ms -lt 6000 ] || { echo "FAIL: took $ms ms to stop (shutdown_timeout 2 s)"; fail=1; }
[ "$txn" -gt 0 ] && [ "${dropped:-0}" -eq "$txn" ] || { echo "FAIL: $txn events but ${dropped:-0} counted as dropped"; fail=1; }
[ $fail -eq 0 ] && echo "ok: stopped in $ms ms, all $txn undelivered events counted"
exit $fail
