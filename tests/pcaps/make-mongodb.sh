#!/usr/bin/env bash
# Regenerate tests/pcaps/mongodb.pcap on loopback: tests/mongodb_responder.py
# (an in-memory MongoDB wire-protocol server) and Debian's pymongo 3.11
# (mongodb-client.py), one client run per line of RUNS below, each against a
# responder claiming the given maxWireVersion:
#   17 msg          OP_MSG, moreToCome for unacknowledged writes
#   5  query        commands in OP_QUERY on db.$cmd, legacy OP_INSERT /
#                   OP_UPDATE / OP_DELETE for unacknowledged writes
#   3  legacy       OP_QUERY finds, OP_GET_MORE, OP_KILL_CURSORS, $err
#   17 msg zlib|zstd|snappy   OP_COMPRESSED after the handshake
# The client's command-monitoring counts are written to mongodb-counts.txt
# (tests/e2e/mongodb_golden.sh checks the events against them). Port 27917
# (27937 when taken). Then the golden files are regenerated with
# build/xdpbeat (or $XDPBEAT). Needs root (tcpdump), python3-pymongo,
# python3-zstandard, python3-snappy.
# Usage: tests/pcaps/make-mongodb.sh [outdir]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)
. "$here/../capture_lib.bash"
srv_pid=""
RUNS=("17 msg" "5 query" "3 legacy" "17 msg zlib" "17 msg zstd" "17 msg snappy")

cleanup() {
	capture_stop 2>/dev/null
	[ -z "$srv_pid" ] || stop_pid "$srv_pid" 20 || true
}
trap cleanup EXIT

port=$(pick_port make-mongodb 27917 27937)

capture_start lo "$out/mongodb.pcap" "tcp port $port" -B 16384
: >"$out/mongodb-counts.txt"
for run in "${RUNS[@]}"; do
	read -r wire mode comp <<<"$run"
	/usr/bin/python3 "$here/../mongodb_responder.py" "$port" --wire "$wire" --seconds 30 >/dev/null &
	srv_pid=$!
	for _ in $(seq 100); do
		port_busy "$port" && break
		sleep 0.1
	done
	counts=$(timeout 30 /usr/bin/python3 "$here/mongodb-client.py" "$port" "$mode" ${comp:+"$comp"})
	echo "$wire $mode ${comp:-none} $counts" | tee -a "$out/mongodb-counts.txt"
	sleep 0.2
	stop_pid "$srv_pid" 20 || true
	srv_pid=""
done
capture_stop
ls -l "$out/mongodb.pcap"
if [ "$out" = "$here" ]; then
	XDPBEAT="${XDPBEAT:-$here/../../build/xdpbeat}" "$here/../e2e/mongodb_golden.sh" --update
fi
