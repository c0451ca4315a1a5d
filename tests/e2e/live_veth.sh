#!/usr/bin/env bash
# Live capture on a veth pair: an HTTP server in a network namespace, curl
# from the host, xdpbeat attached to the host end (ingress sees the
# responses, TC egress the requests). Run twice: with the default ingress
# hook for a virtual device (TC) and with XDPBEAT_INGRESS=xdp (native XDP on
# veth). Checks, each time:
#   - N requests on the watched port give N transactions;
#   - traffic on an unwatched port gives nothing and kernel.sent stays put;
#   - SIGHUP with the port added starts capturing it;
#   - SIGINT exits 0 and leaves no program attached; after kill -9 nothing
#     is left either, and the next start works.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/live_lib.bash
need_root
trap live_cleanup EXIT

NS=xb-test-$$
H=xbh$$
N_IF=xbn$$
NET=10.$((100 + $$ % 100)).$((($$ / 100) % 250))
NET6=fd00:b0e7:$(printf %x $(($$ % 65536)))
N=20

veth_netns "$NS" "$H" "$N_IF" "$NET"
ip addr add "$NET6::1/64" dev "$H" nodad
ip -n "$NS" addr add "$NET6::2/64" dev "$N_IF" nodad

mkdir -p "$LIVE_TMP/www" "$LIVE_TMP/out"
echo "hello from the namespace" > "$LIVE_TMP/www/index.html"
for port in 8080 8081; do
	ip netns exec "$NS" $PY -m http.server "$port" --bind "$NET.2" --directory "$LIVE_TMP/www" \
		>/dev/null 2>&1 &
	LIVE_PIDS+=("$!")
done
ip netns exec "$NS" $PY -m http.server 8080 --bind "$NET6::2" --directory "$LIVE_TMP/www" >/dev/null 2>&1 &
LIVE_PIDS+=("$!")
wait_for 20 curl -sf -o /dev/null "http://$NET.2:8080/" && wait_for 20 curl -sf -o /dev/null "http://$NET.2:8081/" &&
	wait_for 20 curl -sf -o /dev/null "http://[$NET6::2]:8080/"
check "servers up in namespace $NS" $?

write_config() { # ports...
	local ports
	ports=$(IFS=,; echo "$*")
	cat >"$LIVE_TMP/xdpbeat.yml" <<EOF
xdpbeat.interfaces: [$H]
xdpbeat.stats_period: 300ms
xdpbeat.protocols:
  - type: http
    ports: [$ports]
output.console.enabled: false
output.file.path: $LIVE_TMP/out
EOF
}

scenario() { # ingress mode: auto | xdp
	local mode=$1
	echo "--- ingress: $mode"
	if [ "$mode" = xdp ]; then export XDPBEAT_INGRESS=xdp; else unset XDPBEAT_INGRESS; fi
	# Warm-up requests above went out before capture started: start clean.
	write_config 8080
	rm -f "$LIVE_TMP/out"/* "$LIVE_TMP"/err*
	xb_start "$LIVE_TMP/xdpbeat.yml" "$LIVE_TMP/err1"
	check "daemon attached to $H" $?
	ifx=$(cat /sys/class/net/"$H"/ifindex)
	if [ "$mode" = xdp ]; then
		want=$(printf 'tcx egress %s\nxdp - %s' "$ifx" "$ifx")
	else
		want=$(printf 'tcx egress %s\ntcx ingress %s' "$ifx" "$ifx")
	fi
	got=$(xb_links "$XB_PID")
	check "hooks on $H: $(echo $got)" $([ "$got" = "$want" ]; echo $?)
	ids=$(xb_prog_ids "$XB_PID")
	check "daemon holds its programs ($(echo $ids | wc -w))" $([ "$(echo $ids | wc -w)" -ge 2 ]; echo $?)

	ok=0
	for i in $(seq $N); do
		curl -sf -o /dev/null "http://$NET.2:8080/" && ok=$((ok + 1))
	done
	check "$N requests on the watched port answered" $([ $ok -eq $N ]; echo $?)
	ok=0
	for i in $(seq 5); do
		curl -sf -o /dev/null "http://[$NET6::2]:8080/" && ok=$((ok + 1))
	done
	check "5 requests over IPv6 answered" $([ $ok -eq 5 ]; echo $?)

	# kernel.sent once the watched traffic is in, then unwatched traffic.
	sleep 1
	sent1=$(periodic_sent "$LIVE_TMP/err1")
	for i in $(seq 10); do
		curl -sf -o /dev/null "http://$NET.2:8081/"
	done
	sleep 1
	sent2=$(periodic_sent "$LIVE_TMP/err1")
	check "watched traffic was sent by the kernel (kernel.sent=$sent1)" $([ "$sent1" -gt 0 ]; echo $?)
	check "unwatched port: kernel.sent does not grow ($sent1 -> $sent2)" $([ "$sent1" = "$sent2" ]; echo $?)

	# SIGHUP adds 8081.
	write_config 8080 8081
	kill -HUP "$XB_PID"
	wait_for 10 grep -q "configuration reloaded" "$LIVE_TMP/err1"
	check "SIGHUP reloads the config" $?
	for i in $(seq 5); do
		curl -sf -o /dev/null "http://$NET.2:8081/"
	done
	sleep 0.5

	xb_stop
	check "SIGINT: exit status 0" $?
	ev=$(events_in "$LIVE_TMP/out")
	n8080=$(events_on_port "$ev" 8080)
	n8081=$(events_on_port "$ev" 8081)
	check "$N + 5 transactions on 8080 (got $n8080)" $([ "$n8080" -eq $((N + 5)) ]; echo $?)
	n6=$(jq -c 'select(.network.type == "ipv6" and .server.ip == "'"$NET6::2"'")' "$ev" | grep -c .)
	check "5 of them over IPv6 (got $n6)" $([ "$n6" -eq 5 ]; echo $?)
	check "5 transactions on 8081 after SIGHUP, none before (got $n8081)" $([ "$n8081" -eq 5 ]; echo $?)
	status_ok=$(jq -c 'select(.status == "OK" and .http.response.status_code == 200)' "$ev" | grep -c .)
	check "all transactions complete with status 200 ($status_ok)" $([ "$status_ok" -eq $((N + 10)) ]; echo $?)
	grep 'stats (final)' "$LIVE_TMP/err1" | sed 's/^/  /'
	check "final stats line with kernel counters" $(grep 'stats (final)' "$LIVE_TMP/err1" | grep -q 'kernel.matched='; echo $?)

	# Lifecycle: after a normal exit nothing is attached.
	wait_for 5 progs_gone $ids
	check "normal exit: the daemon's programs are gone" $?
	ip link show dev "$H" | grep -q xdp
	check "normal exit: no XDP program on $H" $([ $? -ne 0 ]; echo $?)
	check "normal exit: no tc filter on $H" $([ -z "$(tc filter show dev "$H" egress 2>/dev/null)" ]; echo $?)

	# kill -9: the kernel drops the links with the process.
	xb_start "$LIVE_TMP/xdpbeat.yml" "$LIVE_TMP/err2"
	check "second start" $?
	ids=$(xb_prog_ids "$XB_PID")
	kill -9 "$XB_PID"
	wait "$XB_PID" 2>/dev/null
	wait_for 5 progs_gone $ids
	check "kill -9: no program left behind" $?
	ip link show dev "$H" | grep -q xdp
	check "kill -9: no XDP program on $H" $([ $? -ne 0 ]; echo $?)

	xb_start "$LIVE_TMP/xdpbeat.yml" "$LIVE_TMP/err3"
	check "start after kill -9" $?
	curl -sf -o /dev/null "http://$NET.2:8080/"
	sleep 0.5
	xb_stop
	check "stop after restart: exit status 0" $?
	check "capture works after restart" $([ "$(final_stat "$LIVE_TMP/err3" transactions)" -ge 1 ]; echo $?)
}

scenario auto
scenario xdp

# A server on the host: its 1 MiB responses leave through TC egress as GSO
# packets of up to 64 KiB, which the kernel side sends whole in chunks.
echo "--- GSO egress"
unset XDPBEAT_INGRESS
head -c 1048576 /dev/urandom > "$LIVE_TMP/www/big.bin"
$PY -m http.server 8082 --bind "$NET.1" --directory "$LIVE_TMP/www" >/dev/null 2>&1 &
LIVE_PIDS+=("$!")
wait_for 20 ip netns exec "$NS" curl -sf -o /dev/null "http://$NET.1:8082/"
check "host server up" $?
write_config 8082
rm -f "$LIVE_TMP/out"/* "$LIVE_TMP"/err*
xb_start "$LIVE_TMP/xdpbeat.yml" "$LIVE_TMP/err1"
for i in 1 2; do
	ip netns exec "$NS" curl -sf -o /dev/null "http://$NET.1:8082/big.bin"
done
sleep 0.5
xb_stop
grep 'stats (final)' "$LIVE_TMP/err1" | sed 's/^/  /'
big=$(jq -c 'select(.http.response.body.bytes == 1048576 and .status == "OK")' "$(events_in "$LIVE_TMP/out")" | grep -c .)
check "2 x 1 MiB responses seen whole (got $big)" $([ "$big" -eq 2 ]; echo $?)
check "no TCP gaps" $([ "$(final_stat "$LIVE_TMP/err1" tcp.gaps)" -eq 0 ]; echo $?)
check "records outnumber packets (GSO chunks)" \
	$([ "$(final_stat "$LIVE_TMP/err1" kernel.sent)" -gt "$(final_stat "$LIVE_TMP/err1" kernel.matched)" ]; echo $?)

# Two daemons on the same interface (tcx keeps both): each program hands the
# packet on (TCX_NEXT), so both see all of the traffic.
echo "--- two daemons"
unset XDPBEAT_INGRESS
write_config 8080
mkdir -p "$LIVE_TMP/out2"
sed "s|$LIVE_TMP/out\$|$LIVE_TMP/out2|" "$LIVE_TMP/xdpbeat.yml" > "$LIVE_TMP/xdpbeat2.yml"
rm -f "$LIVE_TMP/out"/* "$LIVE_TMP"/err*
xb_start "$LIVE_TMP/xdpbeat.yml" "$LIVE_TMP/errA"
pid_a=$XB_PID
xb_start "$LIVE_TMP/xdpbeat2.yml" "$LIVE_TMP/errB"
check "second daemon attached next to the first" $?
for i in $(seq 10); do
	curl -sf -o /dev/null "http://$NET.2:8080/"
done
sleep 0.5
xb_stop
XB_PID=$pid_a
xb_stop
na=$(events_on_port "$(events_in "$LIVE_TMP/out")" 8080)
nb=$(events_on_port "$(events_in "$LIVE_TMP/out2")" 8080)
check "both daemons saw the 10 transactions ($na, $nb)" $([ "$na" -eq 10 ] && [ "$nb" -eq 10 ]; echo $?)
[ $fail -eq 0 ] && echo "live_veth: all checks passed"
exit $fail
