#!/usr/bin/env bash
# Live capture with `xdpbeat.interfaces: [any]`, run inside a network
# namespace of the test's own (so "any" is that namespace's lo and one end
# of a veth pair, never the host's interfaces): an HTTP server on the
# namespace's loopback and one in a second namespace behind the veth pair.
# Checks:
#   - "any" attaches to both up interfaces of the namespace (lo: one hook;
#     the veth end: ingress and egress);
#   - requests over lo and over the veth pair give exactly one transaction
#     each (no packet is seen twice);
#   - SIGINT exits 0 and no program stays attached.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/live_lib.bash
need_root
trap live_cleanup EXIT

NS=xb-anya-$$
PEER=xb-anyb-$$
A_IF=xbaa$$
B_IF=xbab$$
NET=10.$((100 + ($$ + 37) % 100)).$(((($$ + 37) / 100) % 250))
NLO=12
NVETH=15
LIVE_NETNS+=("$NS" "$PEER")

ip netns add "$NS"
ip netns add "$PEER"
ip -n "$NS" link add "$A_IF" type veth peer name "$B_IF" netns "$PEER"
ip -n "$NS" addr add "$NET.1/24" dev "$A_IF"
ip -n "$PEER" addr add "$NET.2/24" dev "$B_IF"
ip -n "$NS" link set "$A_IF" up
ip -n "$PEER" link set "$B_IF" up
ip -n "$NS" link set lo up
ip -n "$PEER" link set lo up

mkdir -p "$LIVE_TMP/www" "$LIVE_TMP/out"
echo "hello from a namespace" > "$LIVE_TMP/www/index.html"
ip netns exec "$NS" $PY -m http.server 8080 --bind 127.0.0.1 --directory "$LIVE_TMP/www" >/dev/null 2>&1 &
LIVE_PIDS+=("$!")
ip netns exec "$PEER" $PY -m http.server 8080 --bind "$NET.2" --directory "$LIVE_TMP/www" >/dev/null 2>&1 &
LIVE_PIDS+=("$!")
in_ns() { ip netns exec "$NS" "$@"; }
wait_for 20 in_ns curl -sf -o /dev/null "http://127.0.0.1:8080/" && wait_for 20 in_ns curl -sf -o /dev/null "http://$NET.2:8080/"
check "servers up on the namespace's lo and behind its veth pair" $?

cat >"$LIVE_TMP/xdpbeat.yml" <<CONF
xdpbeat.interfaces: [any]
xdpbeat.protocols:
  - type: http
    ports: [8080]
output.console.enabled: false
output.file.path: $LIVE_TMP/out
CONF
# The daemon runs inside the namespace: `ip netns exec` execs it, so the PID is the daemon's.
REAL_XDPBEAT=$XDPBEAT
XDPBEAT=$LIVE_TMP/xdpbeat-in-ns
printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$NS" "$REAL_XDPBEAT" >"$XDPBEAT"
chmod +x "$XDPBEAT"
xb_start "$LIVE_TMP/xdpbeat.yml" "$LIVE_TMP/err"
check "daemon started with interfaces: [any]" $?

lo_idx=$(in_ns cat /sys/class/net/lo/ifindex)
a_idx=$(in_ns cat /sys/class/net/"$A_IF"/ifindex)
got=$(xb_links "$XB_PID" | sort | tr '\n' ';')
want=$(printf 'tcx egress %s\ntcx ingress %s\ntcx ingress %s\n' "$a_idx" "$a_idx" "$lo_idx" | sort | tr '\n' ';')
check "any = lo (one hook) + $A_IF (two): $got" $([ "$got" = "$want" ]; echo $?)
grep -q "capturing on 2 interface(s): .*lo (tc ingress)" "$LIVE_TMP/err" &&
	grep -q "$A_IF (tc ingress, tc egress)" "$LIVE_TMP/err"
check "the start line names both: $(grep -o 'capturing on.*' "$LIVE_TMP/err")" $?
ids=$(xb_prog_ids "$XB_PID")

ok=0
for _ in $(seq $NLO); do in_ns curl -sf -o /dev/null "http://127.0.0.1:8080/" && ok=$((ok + 1)); done
for _ in $(seq $NVETH); do in_ns curl -sf -o /dev/null "http://$NET.2:8080/" && ok=$((ok + 1)); done
check "$((NLO + NVETH)) requests answered" $([ $ok -eq $((NLO + NVETH)) ]; echo $?)
sleep 0.5
xb_stop
check "SIGINT: exit status 0" $?
wait_for 5 progs_gone $ids
check "no program left attached" $?

ev=$(events_in "$LIVE_TMP/out")
n_lo=$(jq -c 'select(.server.ip == "127.0.0.1" and .http.response.status_code == 200)' "$ev" | grep -c .)
n_veth=$(jq -c 'select(.server.ip == "'"$NET.2"'" and .http.response.status_code == 200)' "$ev" | grep -c .)
total=$(grep -c . "$ev")
check "over lo: $n_lo of $NLO transactions" $([ "$n_lo" -eq $NLO ]; echo $?)
check "over the veth pair: $n_veth of $NVETH transactions" $([ "$n_veth" -eq $NVETH ]; echo $?)
check "nothing else, nothing twice: $total events" $([ "$total" -eq $((NLO + NVETH)) ]; echo $?)
grep 'stats (final)' "$LIVE_TMP/err" | sed 's/^/  /'
[ $fail = 0 ] && echo "live_any: all checks passed"
exit $fail
