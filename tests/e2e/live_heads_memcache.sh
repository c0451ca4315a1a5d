#!/usr/bin/env bash
# Heads-only capture of memcache values, live on loopback: a private
# memcached (items up to 64 MiB) gets a 24 MiB value set and then read
# twice over one connection, and a small get between. With
# xdpbeat.tcp.skip_body_bytes at its default the values stay in the kernel
# (both directions: the set's data and the VALUE replies) and every
# transaction has its exact byte counts, no gap, no note; with 0 every byte
# is copied and the events are the same. Default workers, then workers: 1.
# Loopback moves gigabytes a second: the client paces its writes and reads
# (a small receive buffer) and the rings are large, so a busy machine that
# leaves the daemon unscheduled for a while does not overflow them (a ring
# overflow is a counted gap, and this test is about heads, not about it).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/live_lib.bash
need_root
trap live_cleanup EXIT

MC_PORT=$(free_ports 1)
SIZE=$((8 * 1048576))
memcached -l 127.0.0.1 -p "$MC_PORT" -U 0 -u root -m 128 -I 64m &
LIVE_PIDS+=("$!")
wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MC_PORT"
check "memcached up on 127.0.0.1:$MC_PORT" $?
mkdir -p "$LIVE_TMP/out"

client() {
	/usr/bin/python3 - "$MC_PORT" "$SIZE" <<'PY'
import os, socket, sys
port, size = int(sys.argv[1]), int(sys.argv[2])
import time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.settimeout(10)
s.connect(("127.0.0.1", port))

def rpc(data, end):
    for off in range(0, len(data), 1 << 20):
        s.sendall(data[off:off + (1 << 20)])
        time.sleep(0.002)
    buf = b""
    while not buf.endswith(end):
        time.sleep(0.0005)
        chunk = s.recv(256 << 10)
        if not chunk:
            sys.exit("memcached closed the connection")
        buf += chunk
    return buf

value = os.urandom(size)
assert rpc(b"set big 0 0 %d\r\n" % size + value + b"\r\n", b"\r\n") == b"STORED\r\n"
for key in (b"big", b"none", b"big"):
    reply = rpc(b"get " + key + b"\r\n", b"END\r\n")
    assert reply.endswith(b"END\r\n") and (key != b"big" or value in reply), key
s.close()
PY
}

scenario() { # skip_body_bytes workers
	local skip=$1 ev
	echo "--- xdpbeat.tcp.skip_body_bytes: $skip, xdpbeat.workers: $2"
	rm -f "$LIVE_TMP/out"/*
	cat >"$LIVE_TMP/xdpbeat.yml" <<YML
xdpbeat.interfaces: [lo]
xdpbeat.tcp.skip_body_bytes: $skip
xdpbeat.tcp.max_ooo_segments: 4096
xdpbeat.ring_size: 64MiB
xdpbeat.workers: $2
xdpbeat.protocols:
  - type: memcache
    ports: [$MC_PORT]
output.console.enabled: false
output.file.path: $LIVE_TMP/out
YML
	xb_start "$LIVE_TMP/xdpbeat.yml" "$LIVE_TMP/err"
	check "daemon attached to lo" $?
	client
	check "set and get an 8 MiB value" $?
	sleep 0.5
	xb_stop
	check "SIGINT: exit status 0" $?
	grep 'stats (final)' "$LIVE_TMP/err" | sed 's/^/  /'
	ev=$(events_in "$LIVE_TMP/out")
	jq -c -S '{c: .memcache.request.command, s: .status, q: .memcache.request.bytes, r: .memcache.response.bytes,
		cb: .client.bytes, sb: .server.bytes, e: .error.message}' "$ev" | sort >"$LIVE_TMP/events-$skip"
	sed 's/^/  /' "$LIVE_TMP/events-$skip"
	check "4 transactions" $([ "$(events_on_port "$ev" "$MC_PORT")" -eq 4 ]; echo $?)
	check "the set carries the value's size" \
		$([ "$(jq "select(.memcache.request.command == \"set\") | .memcache.request.bytes" "$ev")" = "$SIZE" ]; echo $?)
	check "both gets of big carry it (got $(jq -c "select(.memcache.response.bytes == $SIZE)" "$ev" | grep -c .))" \
		$([ "$(jq -c "select(.memcache.response.bytes == $SIZE and .status == \"OK\")" "$ev" | grep -c .)" -eq 2 ]; echo $?)
	check "no notes" $([ "$(jq -c 'select(.error != null)' "$ev" | grep -c .)" -eq 0 ]; echo $?)
	check "no TCP gaps" $([ "$(final_stat "$LIVE_TMP/err" tcp.gaps)" -eq 0 ]; echo $?)
	skipped=$(final_stat "$LIVE_TMP/err" kernel.skipped_bytes)
	if [ "$skip" = 0 ]; then
		check "nothing skipped ($skipped)" $([ "$skipped" -eq 0 ]; echo $?)
	else
		check "most of the 24 MiB of values stayed in the kernel ($skipped bytes)" \
			$([ "$skipped" -gt $((20 * 1048576)) ]; echo $?)
	fi
}

scenario 64KiB 0
scenario 0 1
diff "$LIVE_TMP/events-64KiB" "$LIVE_TMP/events-0"
check "heads-only and full capture give the same events" $?
exit $fail
