#!/usr/bin/env bash
# Heads-only capture, live on loopback: nginx serves 32 MiB downloads, two
# of them over one keep-alive connection (curl URL URL) and one alone, and
# small pages between them. With xdpbeat.tcp.skip_body_bytes at its default
# (64 KiB) the bodies stay in the kernel (kernel.skipped_bytes) and every
# transaction has its exact body size, status OK, no gap, no note; with 0,
# every byte is copied and the events are the same. The first run has the
# default workers (one per CPU), the second xdpbeat.workers: 1. Records of
# several CPUs interleave in a ring: a loaded machine reorders many
# segments, so the out-of-order queue is made deep enough not to matter.
# curl reads at a bounded rate (why: tests/e2e/heads_lib.bash).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/live_lib.bash
. tests/e2e/heads_lib.bash
need_root
trap 'stop_nginx; live_cleanup' EXIT
. bench/lib.sh # start_nginx / stop_nginx

PORT=$(free_ports 1)
SIZE=$((32 * 1048576))
start_nginx "$PORT" >/dev/null
check "nginx up on 127.0.0.1:$PORT" $?
head -c $SIZE /dev/urandom >"$NGINX_DIR/html/big.bin"
mkdir -p "$LIVE_TMP/out"

scenario() { # skip_body_bytes workers
	local skip=$1 ev big
	heads_start "$skip" "$2" http "$PORT"
	curl -sf --limit-rate 256M -o /dev/null -o /dev/null "http://127.0.0.1:$PORT/big.bin" "http://127.0.0.1:$PORT/big.bin"
	check "two downloads over one connection" $?
	curl -sf --limit-rate 256M -o /dev/null "http://127.0.0.1:$PORT/"
	curl -sf --limit-rate 256M -o /dev/null "http://127.0.0.1:$PORT/big.bin"
	curl -sf --limit-rate 256M -o /dev/null "http://127.0.0.1:$PORT/"
	heads_stop
	ev=$HEADS_EV
	jq -c -S '{p: .url.path, s: .status, c: .http.response.status_code, b: .http.response.body.bytes, e: .error.message}' \
		"$ev" >"$LIVE_TMP/events-$skip"
	big=$(jq -c "select(.url.path == \"/big.bin\" and .status == \"OK\" and .http.response.body.bytes == $SIZE)" "$ev" | grep -c .)
	check "3 downloads with their exact body size, OK (got $big)" $([ "$big" -eq 3 ]; echo $?)
	check "5 transactions" $([ "$(events_on_port "$ev" "$PORT")" -eq 5 ]; echo $?)
	heads_counts "$skip" "$ev" $((80 * 1048576)) "the 96 MiB"
	if [ "$skip" != 0 ]; then
		check "tcp.bytes.skipped counted" $([ "$(final_stat "$LIVE_TMP/err" tcp.bytes.skipped)" -gt $((80 * 1048576)) ]; echo $?)
	fi
}

scenario 64KiB 0
scenario 0 1
heads_same
exit $fail
