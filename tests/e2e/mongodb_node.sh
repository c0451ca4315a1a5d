#!/usr/bin/env bash
# The official MongoDB Node.js driver (npm `mongodb`, tests/mongodb_node/)
# against tests/mongodb_responder.py on loopback, once plain and once with
# zlib compression, captured with tcpdump and read with xdpbeat -I: one
# transaction per command the driver's command monitoring started (the
# handshakes aside), its failures as status Error, no parse errors, and the
# same methods on the compressed connection. The driver is installed with
# `npm ci` from the committed package-lock.json when node_modules is missing;
# without npm or the registry the test says so and skips.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/golden_lib.bash
. tests/capture_lib.bash
. tests/free_port.bash
golden_init mongodb-node
srv_pid=""
trap 'capture_stop 2>/dev/null; [ -z "$srv_pid" ] || stop_pid "$srv_pid" 20; rm -rf "$tmp"' EXIT

if [ "$(id -u)" -ne 0 ]; then
	echo "skip: tcpdump needs root"
	exit 0
fi
if [ ! -d tests/mongodb_node/node_modules/mongodb ]; then
	if ! command -v npm >/dev/null || ! (cd tests/mongodb_node && timeout 300 npm ci --no-audit --no-fund >"$tmp/npm.log" 2>&1); then
		echo "skip: the MongoDB Node.js driver could not be installed (npm ci): $(tail -1 "$tmp/npm.log" 2>/dev/null)"
		exit 0
	fi
fi

port=$(free_ports 1)
/usr/bin/python3 tests/mongodb_responder.py "$port" --seconds 60 >"$tmp/responder.log" 2>&1 &
srv_pid=$!
for _ in $(seq 100); do
	ss -Hant "sport = :$port" | grep -q LISTEN && break
	sleep 0.1
done
capture_start lo "$tmp/node.pcap" "tcp port $port" -B 16384 || exit 1
plain=$(cd tests/mongodb_node && timeout 60 node client.js "$port")
check "node client, plain: $plain" $?
zlib=$(cd tests/mongodb_node && timeout 60 node client.js "$port" zlib)
check "node client, zlib: $zlib" $?
capture_stop
ncomp=$(tshark -r "$tmp/node.pcap" -d tcp.port=="$port",mongo -Y 'mongo.opcode == 2012' -T fields -e frame.number 2>/dev/null | wc -l)
[ "$ncomp" -gt 10 ]
check "the zlib run sent OP_COMPRESSED ($ncomp messages, by tshark)" $?

"$XDPBEAT" -I "$tmp/node.pcap" -E "xdpbeat.protocols=[{type: mongodb, ports: [$port]}]" \
	-E output.console.enabled=true >"$tmp/node.out" 2>"$tmp/node.err"
check "xdpbeat read the capture" $?
count() { # key=value line, key
	sed -n "s/.*$2=\([0-9]*\).*/\1/p" <<<"$1"
}
started=$(($(count "$plain" started) + $(count "$zlib" started)))
failed=$(($(count "$plain" failed) + $(count "$zlib" failed)))
o="$tmp/node.out"
jq_check "$started transactions besides the handshakes (the driver's commandStarted events)" "$o" \
	"map(select(.method | IN(\"isMaster\", \"ismaster\", \"hello\") | not)) | length == $started"
jq_check "$failed errors (commandFailed) with the server's errmsg" "$o" \
	"map(select(.status == \"Error\")) | length == $failed and all(.[] | select(.status == \"Error\"); .mongodb.error | length > 0)"
jq_check "the zlib connection gives the methods of the plain one" "$o" \
	'[group_by(.client.port)[] | select(length > 2)] | sort_by(.[0]["@timestamp"]) | map(map(.method)) |
	 length == 2 and .[0] == .[1]'
no_stats node "mongodb.parse_errors\|mongodb.unanswered\|mongodb.unmatched"
golden_exit
