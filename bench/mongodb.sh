#!/usr/bin/env bash
# MongoDB transactions/s from a pcap of real driver traffic on loopback:
# pymongo 3.11 (tests/pcaps/mongodb-client.py load) against the in-memory
# responder (tests/mongodb_responder.py, OP_MSG), MONGODB_BENCH_COMMANDS
# commands (insert_one, find_one, update_one in turn; default 30000, at most
# 90 s). xdpbeat (pcap -> NDJSON) vs
# tshark -r pcap -d tcp.port==P,mongo -Y mongo -T ek > /dev/null, one core
# each, median of 3 runs, all in this run. Prints markdown. The pcap is
# cached in $BENCH_CACHE (delete it to record a new one).
# Needs root (tcpdump), python3-pymongo, tshark.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
commands=${MONGODB_BENCH_COMMANDS:-30000}
PCAP=$BENCH_CACHE/mongodb_perf.pcap
PORTFILE=$BENCH_CACHE/mongodb_perf.port
tmp=$(mktemp -d /tmp/xdpbeat-mongodb-bench.XXXXXX)
srv_pid=""

cleanup() {
	[ -z "$srv_pid" ] || stop_pid "$srv_pid" 20 || true
	capture_stop 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

load() {
	/usr/bin/python3 tests/mongodb_responder.py "$port" --seconds 120 >/dev/null &
	srv_pid=$!
	for _ in $(seq 100); do
		ss -Hant "sport = :$port" | grep -q LISTEN && break
		sleep 0.1
	done
	timeout 100 /usr/bin/python3 tests/pcaps/mongodb-client.py "$port" load "$commands" 90 >"$tmp/client.log"
	stop_pid "$srv_pid" 20 || true
	srv_pid=""
}

record_pcap() {
	port=$(free_ports 1)
	capture_lo "$tmp/mongodb-bench.pcap" "$port" load
	cp "$tmp/mongodb-bench.pcap" "$PCAP"
	echo "$port" >"$PORTFILE"
}

[ -s "$PCAP" ] && [ -s "$PORTFILE" ] || record_pcap
port=$(cat "$PORTFILE")
bench_file_yml mongodb "$port" "$tmp" >"$tmp/mongodb.yml"
"$XDPBEAT" -E xdpbeat.workers=1 -I "$PCAP" -c "$tmp/mongodb.yml" 2>"$tmp/stats.txt"
txns=$(cat "$tmp"/xdpbeat*.ndjson | grep -c . || true)
replies=$(tshark -r "$PCAP" -d tcp.port=="$port",mongo -Y 'mongo.response_to > 0' -T fields -e frame.number 2>/dev/null | wc -l)
pkts=$(tcpdump -r "$PCAP" 2>/dev/null | wc -l)
t_x=$(median_time 3 "$XDPBEAT" -E xdpbeat.workers=1 -I "$PCAP" -c "$tmp/mongodb.yml")
t_o=$(median_time 3 "$XDPBEAT" -E xdpbeat.workers=1 -I "$PCAP" -E "xdpbeat.protocols=[{type: mongodb, ports: [$port]}]" -E output.file.enabled=false)
t_t=$(median_time 3 tshark -r "$PCAP" -d tcp.port=="$port",mongo -Y mongo -T ek)
echo "### MongoDB: pcap -> NDJSON, one core"
echo
echo "pcap: pymongo 3.11 against tests/mongodb_responder.py on loopback (OP_MSG insert/find/update);"
echo "$pkts packets, $replies replies (tshark, mongo.response_to > 0), $txns events from xdpbeat."
echo
vs_tshark_table "$txns" "$replies" "$t_o" "$t_x" "$t_t" "tshark -r -d tcp.port==P,mongo -Y mongo -T ek"
echo
echo "Command: \`make bench\` (bench/mongodb.sh). Target: xdpbeat >= 50x tshark, like for like (both write"
echo "the NDJSON to /dev/null)."
echo
