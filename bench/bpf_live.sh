#!/usr/bin/env bash
# Live cost of the kernel filter on a veth pair (nginx in a namespace, wrk
# and iperf3 from the host): without xdpbeat, with xdpbeat watching another
# port (every packet pays the filter, none is sent), and with xdpbeat
# watching the traffic (records, parsing, events to a file). Prints markdown.
# Run by bench/run.sh; alone: BUILD=$PWD/build bench/bpf_live.sh
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
echo "### Kernel filter on a live veth pair"
echo
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root."
	echo
	exit 0
fi
SECS=${BPF_LIVE_SECS:-5}
NS=xb-bench-$$
H=xbbh$$
N_IF=xbbn$$
NET=10.$((150 + $$ % 50)).$((($$ / 50) % 250))
WORK=$(mktemp -d /tmp/xdpbeat-bpf-live.XXXXXX)
XB_PID=
cleanup() {
	[ -n "$XB_PID" ] && kill -9 "$XB_PID" 2>/dev/null
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

ip netns add "$NS"
ip link add "$H" type veth peer name "$N_IF" netns "$NS"
ip addr add "$NET.1/24" dev "$H"
ip link set "$H" up
ip -n "$NS" addr add "$NET.2/24" dev "$N_IF"
ip -n "$NS" link set "$N_IF" up
ip -n "$NS" link set lo up

mkdir -p "$WORK/html" "$WORK/logs" "$WORK/out"
chmod 755 "$WORK" "$WORK/html"
echo "hello from the bench namespace" > "$WORK/html/index.html"
cat > "$WORK/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/logs/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_requests 1000000;
	server { listen $NET.2:8080; root $WORK/html; }
}
CONF
ip netns exec "$NS" nginx -p "$WORK" -c "$WORK/nginx.conf"
ip netns exec "$NS" iperf3 -s -D -B "$NET.2" -p 5201 > /dev/null 2>&1
for _ in $(seq 50); do
	curl -s -o /dev/null "http://$NET.2:8080/" && break
	sleep 0.1
done

write_config() { # port
	cat > "$WORK/xdpbeat.yml" <<EOF
xdpbeat.interfaces: [$H]
xdpbeat.protocols:
  - type: http
    ports: [$1]
output.console.enabled: false
output.file.path: $WORK/out
output.file.rotate_every_kb: 1048576
EOF
}

xb_up() {
	rm -f "$WORK/out"/*
	"$XDPBEAT" -c "$WORK/xdpbeat.yml" 2> "$WORK/xb.err" &
	XB_PID=$!
	for _ in $(seq 300); do
		grep -q "capturing on" "$WORK/xb.err" && return 0
		sleep 0.1
	done
	echo "xdpbeat did not start: $(cat "$WORK/xb.err")" >&2
	return 1
}

xb_down() {
	kill -INT "$XB_PID"
	for _ in $(seq 300); do
		kill -0 "$XB_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$XB_PID" 2>/dev/null
	XB_PID=
}

wrk_rps() {
	wrk -t1 -c8 -d"${SECS}s" "http://$NET.2:8080/" 2>/dev/null | awk '/Requests\/sec/ {printf "%.0f", $2}'
}

wrk_requests() { # last wrk output's total requests
	awk '/requests in/ {print $1}' "$WORK/wrk.txt"
}

iperf_gbps() { # [-R]
	iperf3 -c "$NET.2" -p 5201 -t "$SECS" ${1:-} -J 2>/dev/null |
		jq -r '.end.sum_received.bits_per_second / 1e9 | . * 100 | floor / 100'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# One row: label, then wrk req/s, iperf3 host->ns, iperf3 ns->host.
ROWS=()
row() {
	ROWS+=("| $1 | $2 | $(ratio "$2" "$r_base") | $3 | $(ratio "$3" "$g_base") | $4 | $(ratio "$4" "$gr_base") |")
}

r_base=$(wrk_rps)
g_base=$(iperf_gbps)
gr_base=$(iperf_gbps -R)
row "not running" "$r_base" "$g_base" "$gr_base"

write_config 9999
xb_up
row "attached, watching another port" "$(wrk_rps)" "$(iperf_gbps)" "$(iperf_gbps -R)"
xb_down

export XDPBEAT_INGRESS=xdp
xb_up
row "same, XDPBEAT_INGRESS=xdp (native XDP on veth)" "$(wrk_rps)" "$(iperf_gbps)" "$(iperf_gbps -R)"
xb_down
unset XDPBEAT_INGRESS

write_config 8080
xb_up
wrk -t1 -c8 -d"${SECS}s" "http://$NET.2:8080/" > "$WORK/wrk.txt" 2>/dev/null
r_watch=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$WORK/wrk.txt")
reqs=$(wrk_requests)
xb_down
events=$(cat "$WORK/out"/*.ndjson 2>/dev/null | grep -c . || true)
kstats=$(grep 'stats (final)' "$WORK/xb.err" | grep -o 'kernel\.[a-z_]*=[0-9]*' | tr '\n' ' ')

write_config 5201
xb_up
g_watch=$(iperf_gbps)
gr_watch=$(iperf_gbps -R)
xb_down
kstats_iperf=$(grep 'stats (final)' "$WORK/xb.err" | grep -o 'kernel\.[a-z_]*=[0-9]*' | tr '\n' ' ')
row "attached, watching this traffic" "$r_watch" "$g_watch" "$gr_watch"

echo "veth pair, nginx and iperf3 server in a namespace, clients on the host, ${SECS}s per run;"
echo "xdpbeat on the host end (default: TC ingress + TC egress on a virtual device)."
echo
echo "| xdpbeat | wrk -t1 -c8 (req/s) | vs none | iperf3 host->ns (Gbit/s) | vs none | iperf3 ns->host (Gbit/s) | vs none |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "Watched wrk run: $reqs requests completed, $events HTTP events written; $kstats"
echo "Watched iperf3 runs (port configured as http: every byte goes through the ring buffer): $kstats_iperf"
echo
echo "Command: \`make bench\` (bench/bpf_live.sh)."
echo
