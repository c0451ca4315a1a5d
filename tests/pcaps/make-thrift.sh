#!/usr/bin/env bash
# Regenerate tests/pcaps/thrift.pcap on loopback: Debian's python3-thrift
# server and client (thrift-peer.py) with the code thrift-compiler generates
# from tests/pcaps/thrift/store.thrift into a temporary directory, port 19090
# (29090 when taken), tcpdump on lo, one connection per combination:
#   binary/buffered, binary/framed, old binary (no version)/buffered,
#   compact/buffered, compact/framed
# each making the same 16 calls (thrift-peer.py calls(): every type in
# arguments and results, two declared exceptions, a oneway call, a
# TApplicationException from a failing handler, a method of the included
# base service). Then regenerates the golden files with build/xdpbeat (or
# $XDPBEAT). Needs root (tcpdump), python3-thrift, thrift-compiler.
# Usage: tests/pcaps/make-thrift.sh [outdir]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)
tmp=$(mktemp -d /tmp/xdpbeat-thrift-pcap.XXXXXX)
srv_pid=""
dump_pid=""

stop() {
	if [ -n "${!1}" ]; then kill "${!1}" 2>/dev/null || true; wait "${!1}" 2>/dev/null || true; fi
	eval "$1="
}
cleanup() {
	stop dump_pid
	stop srv_pid
	rm -rf "$tmp"
}
trap cleanup EXIT

port_busy() {
	ss -Hant "sport = :$1" | grep -q .
}

port=19090
port_busy $port && port=29090
port_busy $port && { echo "make-thrift: ports 19090 and 29090 are both taken" >&2; exit 1; }

thrift --gen py -r -out "$tmp" "$here/thrift/store.thrift"
export PYTHONHASHSEED=0 # sets in the same order on every connection

: >"$tmp/dump.log"
tcpdump -i lo --immediate-mode -U -s 0 -w "$out/thrift.pcap" "tcp port $port" 2>"$tmp/dump.log" &
dump_pid=$!
for _ in $(seq 100); do
	grep -q "listening on" "$tmp/dump.log" && break
	sleep 0.1
done
sleep 0.2

for combo in binary:buffered binary:framed binary-old:buffered compact:buffered compact:framed; do
	proto=${combo%%:*} transport=${combo##*:}
	/usr/bin/python3 "$here/thrift-peer.py" server "$tmp" "$port" "$proto" "$transport" &
	srv_pid=$!
	for _ in $(seq 100); do
		port_busy "$port" && break
		sleep 0.1
	done
	echo "$proto/$transport: $(timeout 30 /usr/bin/python3 "$here/thrift-peer.py" client "$tmp" "$port" "$proto" "$transport")"
	sleep 0.2
	stop srv_pid
done

sleep 0.5
stop dump_pid
grep -E "packets captured" "$tmp/dump.log" || true
ls -l "$out/thrift.pcap"
if [ "$out" = "$here" ]; then
	XDPBEAT="${XDPBEAT:-$here/../../build/xdpbeat}" "$here/../e2e/thrift_golden.sh" --update
fi
