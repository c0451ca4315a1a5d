#!/usr/bin/env bash
# Memory under attack, live: xdpbeat attached to the host end of a veth pair
# whose other end is in a network namespace this script creates (and
# deletes); tests/attack/live_sink.py serves the watched ports there and
# tests/attack/live_gen.py sends hostile traffic from the host (SYN floods,
# tiny out-of-order segments, messages that never finish, an endless chunked
# body, 10,000-deep pipelining, random bytes on every port). Then:
#   - the daemon's peak RSS (VmHWM) stays under RSS_CAP_MIB, with small
#     configured caps on connections and buffered bytes;
#   - every counter adds up: TCP bytes delivered = consumed + dropped by
#     reason, no unbalanced stream; every connection closed or evicted at
#     the end; the floods and the limits show in their counters;
#   - SIGINT exits 0.
# ATTACK_SCALE=small (default: about 30 s) or full.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/live_lib.bash
. tests/bytes_balance.bash
need_root
trap live_cleanup EXIT

SCALE=${ATTACK_SCALE:-small}
NS=xb-attack-$$
H=xah$$
N_IF=xan$$
NET=10.$((100 + $$ % 100)).$((($$ / 100) % 250))
HTTP=8080
PORTS=(6379 11211 3306 5432 27017 9090 53)
MAX_CONNS=4096
RSS_CAP_MIB=96 # about 32 MiB idle (ring buffers, tables) + twice the 32 MiB max_total_bytes (buffers grow by doubling)
# AddressSanitizer keeps freed memory in quarantine and adds redzones: the SAN build's bound is 4x
case "$XDPBEAT" in *build-san*) RSS_CAP_MIB=$((RSS_CAP_MIB * 4)) ;; esac

veth_netns "$NS" "$H" "$N_IF" "$NET"
check "namespace $NS and veth $H" $?

ip netns exec "$NS" $PY tests/attack/live_sink.py "$NET.2" 300 "$HTTP" "${PORTS[@]}" >"$LIVE_TMP/sink" 2>&1 &
LIVE_PIDS+=("$!")
wait_for 20 grep -q listening "$LIVE_TMP/sink"
check "servers up in $NS" $?

mkdir -p "$LIVE_TMP/out"
cat >"$LIVE_TMP/xdpbeat.yml" <<EOF
xdpbeat.interfaces: [$H]
xdpbeat.stats_period: 1s
xdpbeat.tcp.max_connections: $MAX_CONNS
xdpbeat.tcp.max_stream_bytes: 4MiB
xdpbeat.tcp.max_total_bytes: 32MiB
xdpbeat.protocols:
  - {type: http, ports: [$HTTP], max_message_size: 1MiB}
  - {type: redis, ports: [6379]}
  - {type: memcache, ports: [11211]}
  - {type: mysql, ports: [3306]}
  - {type: pgsql, ports: [5432]}
  - {type: mongodb, ports: [27017]}
  - {type: thrift, ports: [9090]}
  - {type: dns, ports: [53]}
output.console.enabled: false
output.file.path: $LIVE_TMP/out
EOF
xb_start "$LIVE_TMP/xdpbeat.yml" "$LIVE_TMP/err"
check "daemon attached to $H" $? || exit 1

start=$(date +%s)
timeout 300 $PY tests/attack/live_gen.py "$H" "$(cat /sys/class/net/"$H"/address)" \
	"$(ip -n "$NS" -br link show "$N_IF" | awk '{print $3}')" "$NET.2" "$HTTP" "${PORTS[@]}" --scale "$SCALE" \
	>"$LIVE_TMP/gen" 2>&1
check "generator ran ($(($(date +%s) - start)) s)" $?
sed 's/^/  /' "$LIVE_TMP/gen"
sleep 2 # the last records through the ring buffers

hwm=$(awk '/^VmHWM:/ {print int($2 / 1024)}' /proc/"$XB_PID"/status)
echo "--- peak RSS ${hwm} MiB; $(grep 'stats (periodic)' "$LIVE_TMP/err" | tail -1)"
check "peak RSS ${hwm} MiB <= ${RSS_CAP_MIB} MiB" $([ "${hwm:-999999}" -le "$RSS_CAP_MIB" ]; echo $?)

xb_stop
check "SIGINT: exit status 0" $?
line=$(grep 'stats (final)' "$LIVE_TMP/err" | tail -1)
echo "--- $line"
bytes_balanced "$line"
check "TCP bytes delivered = consumed + dropped by reason, no unbalanced stream" $?
st() { final_stat "$LIVE_TMP/err" "$1"; }
conns=$(st tcp.connections)
closed=$(($(st tcp.closed_idle) + $(st tcp.closed_fin) + $(st tcp.closed_rst) + $(st tcp.evicted_without_data)))
check "every connection closed or evicted at the end ($closed of $conns)" $([ "$closed" -eq "$conns" ]; echo $?)
check "the SYN flood hit the connection cap (tcp.connections=$conns, drops.connection_limit=$(st drops.connection_limit), evicted=$(st tcp.evicted_without_data))" \
	$([ "$conns" -ge "$MAX_CONNS" ] && [ $(($(st drops.connection_limit) + $(st tcp.evicted_without_data))) -gt 0 ]; echo $?)
check "tiny reversed segments counted (tcp.out_of_order=$(st tcp.out_of_order), drops.ooo_limit=$(st drops.ooo_limit))" \
	$([ "$(st tcp.out_of_order)" -gt 0 ] && [ "$(st drops.ooo_limit)" -gt 0 ]; echo $?)
check "messages cut by the close counted (tcp.bytes.unparsed_at_close=$(st tcp.bytes.unparsed_at_close))" \
	$([ "$(st tcp.bytes.unparsed_at_close)" -gt 0 ]; echo $?)
check "buffering stopped at the total cap (drops.total_limit=$(st drops.total_limit), tcp.bytes.dropped_cap=$(st tcp.bytes.dropped_cap))" \
	$([ "$(st drops.total_limit)" -gt 0 ] && [ "$(st tcp.bytes.dropped_cap)" -gt 0 ]; echo $?)
check "the endless body over the limit counted (http.too_large=$(st http.too_large))" \
	$([ "$(st http.too_large)" -ge 1 ]; echo $?)
check "pipelined requests seen (http.requests=$(st http.requests) >= 10000)" \
	$([ "$(st http.requests)" -ge 10000 ]; echo $?)
check "random bytes counted as parse errors (drops.parse_error=$(st drops.parse_error))" \
	$([ "$(st drops.parse_error)" -gt 0 ]; echo $?)

[ "$fail" -eq 0 ] && echo "attack live: all ok" || echo "attack live: failed"
exit "$fail"
