#!/usr/bin/env bash
# Issue acceptance: a pcap of >= 10,000 HTTP transactions made with wrk against
# nginx on loopback (captured now, not committed: several MB) read with
# `xdpbeat -I` gives exactly one event per HTTP response tshark finds, no gaps,
# no parse errors, and every event has method, path, status code and duration > 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${XDPBEAT:=$PWD/build/xdpbeat}"
. bench/lib.sh
PORT=$(free_ports 1)
tmp=$(mktemp -d /tmp/xdpbeat-wrk10k.XXXXXX)
trap 'stop_nginx; rm -rf "$tmp"' EXIT
start_nginx $PORT
# wrk runs for 1 s at a time until the capture holds 10,000 requests (at most 10 rounds).
capture_lo "$tmp/wrk.pcap" $PORT bash -c "for i in \$(seq 10); do wrk -t1 -c4 -d1s http://127.0.0.1:$PORT/ > $tmp/wrk.\$i.txt; n=\$(awk '/requests in/ {s += \$1} END {print s+0}' $tmp/wrk.*.txt); [ \$n -ge 10000 ] && break; done"
stop_nginx
"$XDPBEAT" -I "$tmp/wrk.pcap" -E "xdpbeat.protocols=[{type: http, ports: [$PORT]}]" -E output.file.enabled=false \
	> "$tmp/events.ndjson" 2> "$tmp/stats.txt"
events=$(grep -c . "$tmp/events.ndjson")
answered=$(jq -c 'select(.http.response.status_code != null)' "$tmp/events.ndjson" | grep -c . || true)
responses=$(tshark -r "$tmp/wrk.pcap" -d tcp.port==$PORT,http -Y 'http.response' -T fields -e frame.number 2> /dev/null | wc -l)
requests=$(tshark -r "$tmp/wrk.pcap" -d tcp.port==$PORT,http -Y 'http.request' -T fields -e frame.number 2> /dev/null | wc -l)
bad=$(jq -c 'select(.method != "GET" or .url.path != "/" or .http.response.status_code != 200 or (.event.duration // 0) <= 0)' "$tmp/events.ndjson" | grep -c . || true)
cat "$tmp/stats.txt"
echo "pcap: $requests requests, $responses responses (tshark); xdpbeat: $events events, $answered with a response"
fail=0
[ "$responses" -ge 10000 ] || { echo "FAIL: capture holds fewer than 10,000 responses"; fail=1; }
[ "$answered" -eq "$responses" ] || { echo "FAIL: $answered transactions != $responses responses"; fail=1; }
[ "$events" -eq "$requests" ] || { echo "FAIL: $events events != $requests requests (unanswered ones are published too)"; fail=1; }
[ "$bad" -eq 0 ] || { echo "FAIL: $bad events without GET / 200 and a positive duration"; fail=1; }
grep -q 'tcp.gaps=' "$tmp/stats.txt" && { echo "FAIL: TCP gaps in a complete capture"; fail=1; }
grep -q 'parse_error' "$tmp/stats.txt" && { echo "FAIL: parse errors"; fail=1; }
[ $fail -eq 0 ] && echo "ok: $answered transactions == $responses responses in the wrk capture"
exit $fail
