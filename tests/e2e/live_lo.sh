#!/usr/bin/env bash
# Live capture on loopback (one hook: ingress, TC by default, generic XDP with
# XDPBEAT_INGRESS=xdp; both are run). lo has MTU 64 KiB and TSO, so one
# segment carries up to 64 KiB: the kernel side must send it whole in
# chunks. Checks, each time:
#   - N small requests give N transactions;
#   - 1 MiB downloads give transactions with the exact body size, no TCP
#     gaps, nothing truncated or lost in the ring buffer;
#   - exactly one hook on lo; gone after exit.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/live_lib.bash
need_root
trap live_cleanup EXIT

PORT=$(free_ports 1)
N=20
BIG=3

mkdir -p "$LIVE_TMP/www" "$LIVE_TMP/out"
echo "hello over loopback" > "$LIVE_TMP/www/index.html"
head -c 1048576 /dev/urandom > "$LIVE_TMP/www/big.bin"
$PY -m http.server "$PORT" --bind 127.0.0.1 --directory "$LIVE_TMP/www" >/dev/null 2>&1 &
LIVE_PIDS+=("$!")
wait_for 20 curl -sf -o /dev/null "http://127.0.0.1:$PORT/"
check "server up on 127.0.0.1:$PORT" $?

cat >"$LIVE_TMP/xdpbeat.yml" <<EOF
xdpbeat.interfaces: [lo]
xdpbeat.protocols:
  - type: http
    ports: [$PORT]
output.console.enabled: false
output.file.path: $LIVE_TMP/out
EOF

scenario() { # ingress mode: auto | xdp
	local mode=$1
	echo "--- ingress: $mode"
	if [ "$mode" = xdp ]; then export XDPBEAT_INGRESS=xdp; else unset XDPBEAT_INGRESS; fi
	rm -f "$LIVE_TMP/out"/* "$LIVE_TMP/err"
	xb_start "$LIVE_TMP/xdpbeat.yml" "$LIVE_TMP/err"
	check "daemon attached to lo" $?
	if [ "$mode" = xdp ]; then want="xdp - 1"; else want="tcx ingress 1"; fi
	got=$(xb_links "$XB_PID")
	check "one hook on lo: $got" $([ "$got" = "$want" ]; echo $?)
	ids=$(xb_prog_ids "$XB_PID")

	ok=0
	for i in $(seq $N); do
		curl -sf -o /dev/null "http://127.0.0.1:$PORT/" && ok=$((ok + 1))
	done
	for i in $(seq $BIG); do
		curl -sf -o /dev/null "http://127.0.0.1:$PORT/big.bin" && ok=$((ok + 1))
	done
	check "$((N + BIG)) requests answered" $([ $ok -eq $((N + BIG)) ]; echo $?)
	sleep 0.5

	xb_stop
	check "SIGINT: exit status 0" $?
	ev=$(events_in "$LIVE_TMP/out")
	grep 'stats (final)' "$LIVE_TMP/err" | sed 's/^/  /'
	total=$(events_on_port "$ev" "$PORT")
	check "$((N + BIG)) transactions (got $total)" $([ "$total" -eq $((N + BIG)) ]; echo $?)
	big=$(jq -c 'select(.http.response.body.bytes == 1048576 and .status == "OK")' "$ev" | grep -c .)
	check "$BIG 1 MiB responses seen whole (got $big)" $([ "$big" -eq $BIG ]; echo $?)
	check "no TCP gaps" $([ "$(final_stat "$LIVE_TMP/err" tcp.gaps)" -eq 0 ]; echo $?)
	check "nothing truncated by the kernel" $([ "$(final_stat "$LIVE_TMP/err" kernel.truncated_bytes)" -eq 0 ]; echo $?)
	check "ring buffer never full" $([ "$(final_stat "$LIVE_TMP/err" kernel.ringbuf_full)" -eq 0 ]; echo $?)

	wait_for 5 progs_gone $ids
	check "after exit: the daemon's programs are gone" $?
	ip link show dev lo | grep -q xdp
	check "after exit: no XDP program on lo" $([ $? -ne 0 ]; echo $?)
}

scenario auto
scenario xdp

# A small snaplen cuts payloads: the cut is reported as a gap, never silent.
echo "--- snaplen 100"
unset XDPBEAT_INGRESS
printf 'xdpbeat.snaplen: 100\n' >> "$LIVE_TMP/xdpbeat.yml"
rm -f "$LIVE_TMP/out"/* "$LIVE_TMP/err"
xb_start "$LIVE_TMP/xdpbeat.yml" "$LIVE_TMP/err"
check "daemon started with snaplen 100" $?
curl -sf -o /dev/null "http://127.0.0.1:$PORT/big.bin"
check "download answered" $?
sleep 0.5
xb_stop
check "SIGINT: exit status 0" $?
grep 'stats (final)' "$LIVE_TMP/err" | sed 's/^/  /'
cut=$(final_stat "$LIVE_TMP/err" kernel.truncated_bytes)
check "kernel counted the cut bytes ($cut)" $([ "$cut" -gt 1000000 ]; echo $?)
gaps=$(final_stat "$LIVE_TMP/err" tcp.gap_bytes)
check "the TCP layer saw them as gaps ($gaps bytes)" $([ "$gaps" -gt 1000000 ]; echo $?)

[ $fail -eq 0 ] && echo "live_lo: all checks passed"
exit $fail
