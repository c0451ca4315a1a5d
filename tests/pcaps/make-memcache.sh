#!/usr/bin/env bash
# Regenerate the memcache pcaps on loopback: a private memcached on
# 127.0.0.1:11311 (TCP and UDP), tcpdump on lo, libmemcached-tools and a small
# python client (memcache-client.py).
#   memcache-text.pcap    memccp/memccat/memcrm/memcflush/memcstat, text protocol
#   memcache-binary.pcap  the same tools with --binary, plus a GETKQ...NOOP pipeline
#   memcache-udp.pcap     UDP framing: set/get, a get answered in several datagrams,
#                         a binary get, a delete
#   memcache-udp-multi.pcap  a multi-key get over UDP answered as one frame set per
#                         value plus one for END; a GetQ miss (empty frame), a GetKQ hit
#   memcache-meta.pcap    meta commands (mg, ms, md, ma, me, mn) mixed with classic ones,
#                         a quiet pipeline closed by mn (memcache-client.py meta)
# Then regenerates the golden events (tests/golden/memcache-*.ndjson) with
# build/xdpbeat (or $XDPBEAT). Needs root (tcpdump), memcached, libmemcached-tools.
# Usage: tests/pcaps/make-memcache.sh [outdir [name...]]   (names: only these pcaps,
#        e.g. memcache-udp-multi; default all)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)
. "$here/../capture_lib.bash"
names=("${@:2}")
port=11311
srv=127.0.0.1:$port
tmp=$(mktemp -d /tmp/xdpbeat-memcache-pcap.XXXXXX)
mc_pid=""

cleanup() {
	CAPTURE_LINGER=0 capture_stop
	[ -n "$mc_pid" ] && kill "$mc_pid" 2>/dev/null && wait "$mc_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# Debian names the tools memc*; upstream names them mem*.
tool() {
	if command -v "memc$1" >/dev/null; then echo "memc$1"; else echo "mem$1"; fi
}
CP=$(tool cp)
CAT=$(tool cat)
RM=$(tool rm)
FLUSH=$(tool flush)
STAT=$(tool stat)

user=()
[ "$(id -u)" -eq 0 ] && user=(-u root)
memcached "${user[@]}" -l 127.0.0.1 -p "$port" -U "$port" -m 16 -t 1 &
mc_pid=$!
for _ in $(seq 100); do
	(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
	sleep 0.1
done
kill -0 "$mc_pid" 2>/dev/null || { echo "memcached did not start (port $port busy?)" >&2; exit 1; }

printf 'hello memcache\n' >"$tmp/small.txt"
for i in $(seq 1 60); do echo "line $i of a value that needs a few TCP segments"; done >"$tmp/big.txt"

tools_session() {
	local -a bin=("$@")
	(cd "$tmp" && $CP "${bin[@]}" --servers="$srv" small.txt big.txt)
	$CAT "${bin[@]}" --servers="$srv" small.txt big.txt >/dev/null
	$CAT "${bin[@]}" --servers="$srv" nosuchkey >/dev/null 2>&1 || true
	$RM "${bin[@]}" --servers="$srv" small.txt
	$RM "${bin[@]}" --servers="$srv" small.txt 2>/dev/null || true
	$STAT "${bin[@]}" --servers="$srv" >/dev/null
	$FLUSH "${bin[@]}" --servers="$srv"
}

# Is pcap $1 asked for (all when no names were given)?
want() {
	local n
	[ ${#names[@]} -eq 0 ] && return 0
	for n in "${names[@]}"; do
		[ "$n" = "$1" ] && return 0
	done
	return 1
}

# take NAME COMMAND...: $out/NAME.pcap of COMMAND's traffic, when NAME is asked for.
take() {
	local name=$1
	shift
	want "$name" || return 0
	capture_run lo "$out/$name.pcap" "port $port" "$@"
}

client() { /usr/bin/python3 "$here/memcache-client.py" "$1" "$port"; }

binary_session() {
	tools_session --binary
	client tcp-quiet
}

take memcache-text tools_session
take memcache-binary binary_session
take memcache-udp client udp
take memcache-udp-multi client udp-multi
take memcache-meta client meta

ls -l "$out"/memcache-*.pcap
# Golden events from the new pcaps (review git diff tests/golden before committing).
if [ "$out" = "$here" ]; then
	XDPBEAT="${XDPBEAT:-$here/../../build/xdpbeat}" "$here/../e2e/memcache_golden.sh" --update
fi
