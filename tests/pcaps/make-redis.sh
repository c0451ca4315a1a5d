#!/usr/bin/env bash
# Regenerate tests/pcaps/redis.pcap on loopback: a private redis-server on
# 127.0.0.1 (port 16379, or 26379 when 16379 is taken; no persistence, its
# own temporary --dir, DEBUG enabled for DEBUG PROTOCOL), tcpdump on lo, and:
#   - redis-cli, one command per connection: SET/GET/MGET, a missing key
#     (nil), HSET/HGETALL, LPUSH/LRANGE, INCR, INCR on a string (ERR),
#     LPUSH on a string (WRONGTYPE), EVAL returning nested arrays and an
#     error, CONFIG GET (a two-word command), redis-cli -3 HGETALL (HELLO 3)
#   - a pipelined batch in one segment (printf | nc): multibulk and inline
#     commands (one with a quoted argument), MULTI/EXEC with an error inside
#     the EXEC array, DEL
#   - redis-client.py: HELLO 3 and replies of every RESP3 type (map, set,
#     double, null; from DEBUG PROTOCOL verbatim string, booleans, big
#     number, an attribute before its reply, a push before its reply); a
#     20000-byte value over a 1400-byte MSS (several segments both ways:
#     lo's GSO shows tcpdump a few MSS per packet); RESP2 pub/sub (SUBSCRIBE two channels, PSUBSCRIBE, published
#     messages, PING, UNSUBSCRIBE, PUNSUBSCRIBE, GET); RESP3 pub/sub (a
#     push message, a GET while subscribed)
# Then regenerates tests/golden/redis.ndjson with build/xdpbeat (or $XDPBEAT).
# Needs root (tcpdump), redis-server, redis-tools, netcat-openbsd, python3.
# Usage: tests/pcaps/make-redis.sh [outdir]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)
. "$here/../capture_lib.bash"
tmp=$(mktemp -d /tmp/xdpbeat-redis-pcap.XXXXXX)
srv_pid=""

cleanup() {
	CAPTURE_LINGER=0 capture_stop
	if [ -n "$srv_pid" ]; then kill "$srv_pid" 2>/dev/null || true; wait "$srv_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

port=$(pick_port make-redis 16379 26379)

redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
	--enable-debug-command local --logfile "$tmp/redis.log" &
srv_pid=$!
for _ in $(seq 100); do
	redis-cli -p "$port" PING >/dev/null 2>&1 && break
	sleep 0.1
done
kill -0 "$srv_pid" 2>/dev/null || { echo "make-redis: redis-server did not start" >&2; exit 1; }

capture_start lo "$out/redis.pcap" "tcp port $port"

# redis-cli with the command as arguments: one connection each (reading a
# script on stdin would make it fetch COMMAND DOCS, a 160 KB reply, first).
cli() { redis-cli -p "$port" "$@" >/dev/null; }
cli SET greeting "hello world"
cli GET greeting
cli MGET greeting missing
cli GET missing
cli HSET user:1 name Ada lang C
cli HGETALL user:1
cli LPUSH list a b c
cli LRANGE list 0 -1
cli INCR counter
cli INCR greeting || true
cli LPUSH greeting x || true
cli EVAL "return {1, {2, 'two', {3, 'three'}}, 'end'}" 0
cli EVAL "return redis.error_reply('MYERR custom failure')" 0 || true
cli CONFIG GET maxmemory
cli -3 HGETALL user:1

# One segment of pipelined commands, multibulk and inline (as a telnet user
# types them), MULTI/EXEC with a failing command inside, answered in order.
{
	printf '*3\r\n$3\r\nSET\r\n$4\r\npipe\r\n$1\r\n1\r\n*2\r\n$4\r\nINCR\r\n$4\r\npipe\r\n'
	printf 'PING\r\nECHO "inline with spaces"\r\n'
	printf 'MULTI\r\nINCR counter\r\nINCR greeting\r\nEXEC\r\n'
	printf '*2\r\n$3\r\nGET\r\n$4\r\npipe\r\n*3\r\n$3\r\nDEL\r\n$8\r\ngreeting\r\n$4\r\nlist\r\n'
} | nc -q 2 127.0.0.1 "$port" >/dev/null

/usr/bin/python3 "$here/redis-client.py" resp3 "$port"
/usr/bin/python3 "$here/redis-client.py" big "$port"
/usr/bin/python3 "$here/redis-client.py" pubsub "$port"
/usr/bin/python3 "$here/redis-client.py" resp3-pubsub "$port"

capture_stop
ls -l "$out/redis.pcap"
# Golden events from the new pcap (review git diff tests/golden before committing).
if [ "$out" = "$here" ]; then
	XDPBEAT="${XDPBEAT:-$here/../../build/xdpbeat}" "$here/../e2e/redis_golden.sh" --update
fi
