#!/usr/bin/env bash
# Heads-only capture of Redis values, live on loopback: a private
# redis-server (no persistence, in a temp dir) gets an 8 MiB value SET and
# then read twice with GET over one connection, and a GET of a missing key
# between. An event keeps the first 1 MiB of a query or reply text
# (REDIS_TEXT_MAX), so with xdpbeat.tcp.skip_body_bytes at its default the
# other 7 MiB of each value stay in the kernel (both directions: the SET's
# argument and the GET replies) and every transaction still has its exact
# byte counts and kept text, no gap; with 0 every byte is copied and the
# events are the same. Default workers, then workers: 1.
# The client paces its writes and reads, with a small receive buffer
# (why: tests/e2e/heads_lib.bash).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/live_lib.bash
. tests/e2e/heads_lib.bash
need_root
trap live_cleanup EXIT
if ! command -v redis-server >/dev/null; then
	echo "skip: no redis-server (scripts/install-deps.sh installs it)"
	exit 0
fi

RD_PORT=$(free_ports 1)
SIZE=$((8 * 1048576))
TEXT_MAX=1048576
mkdir -p "$LIVE_TMP/redis" "$LIVE_TMP/out"
redis-server --bind 127.0.0.1 --port "$RD_PORT" --dir "$LIVE_TMP/redis" --save '' --appendonly no \
	--protected-mode no --daemonize no --logfile "$LIVE_TMP/redis/log" &
LIVE_PIDS+=("$!")
wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$RD_PORT"
check "redis-server up on 127.0.0.1:$RD_PORT" $?

client() {
	"$PY" - "$RD_PORT" "$SIZE" <<'PY'
import base64, random, socket, sys, time
port, size = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.settimeout(10)
s.connect(("127.0.0.1", port))

def command(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out

def reply_done(buf):
    """The length of one whole RESP reply at the start of buf (+, -, :, $ only), or 0."""
    nl = buf.find(b"\r\n")
    if nl < 0:
        return 0
    if buf[:1] != b"$":
        return nl + 2
    n = int(buf[1:nl])
    end = nl + 2 + (n + 2 if n >= 0 else 0)
    return end if len(buf) >= end else 0

def rpc(data):
    for off in range(0, len(data), 1 << 20):
        s.sendall(data[off:off + (1 << 20)])
        time.sleep(0.002)
    buf = b""
    while not reply_done(buf):
        time.sleep(0.0005)
        chunk = s.recv(256 << 10)
        if not chunk:
            sys.exit("redis closed the connection")
        buf += chunk
    assert reply_done(buf) == len(buf), "one reply"
    return buf

# the same value in every scenario, so their events compare
value = base64.b64encode(random.Random(size).randbytes(size * 3 // 4))[:size]
assert rpc(command(b"SET", b"big", value)) == b"+OK\r\n"
for key in (b"big", b"none", b"big"):
    reply = rpc(command(b"GET", key))
    want = b"$%d\r\n%s\r\n" % (size, value) if key == b"big" else b"$-1\r\n"
    assert reply == want, key
s.close()
PY
}

scenario() { # skip_body_bytes workers
	local skip=$1 ev
	heads_start "$skip" "$2" redis "$RD_PORT"
	client
	check "SET and GET an 8 MiB value" $?
	# what the copies cost, for the record (not checked: a busy machine varies it)
	echo "  daemon CPU: $(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' /proc/"$XB_PID"/stat) s"
	heads_stop
	ev=$HEADS_EV
	# the kept texts whole would make lines of megabytes: their lengths, heads and tails
	jq -c -S '{m: .method, res: .resource, s: .status, ql: (.query | length), qh: .query[0:24], qt: .query[-24:],
		rl: (.redis.return_value | length), rh: .redis.return_value[0:16], rt: .redis.return_value[-24:],
		cb: .client.bytes, sb: .server.bytes, e: .error.message}' "$ev" | sort >"$LIVE_TMP/events-$skip"
	sed 's/^/  /' "$LIVE_TMP/events-$skip"
	check "4 transactions" $([ "$(events_on_port "$ev" "$RD_PORT")" -eq 4 ]; echo $?)
	check "the SET's query is the first 1 MiB of its text, its bytes all of it" \
		$([ "$(jq -c "select(.method == \"SET\") | [(.query | length), .client.bytes]" "$ev")" = \
			"[$TEXT_MAX,$((SIZE + 34))]" ]; echo $?)
	check "both GETs of big return the first 1 MiB of the value, and count all of it" \
		$([ "$(jq -c "select(.method == \"GET\" and .resource == \"big\" and .status == \"OK\" and
			(.redis.return_value | length) == $TEXT_MAX and .server.bytes == $((SIZE + 12)))" "$ev" | grep -c .)" -eq 2 ]; echo $?)
	# of each value's 7 MiB past its kept text, what the kernel still copied before the
	# daemon's request reached it is copied (1.4 MiB each on an idle machine)
	heads_counts "$skip" "$ev" $((12 * 1048576)) "the 3 x 7 MiB past the kept texts"
}

scenario 64KiB 0
scenario 0 1
heads_same
exit $fail
