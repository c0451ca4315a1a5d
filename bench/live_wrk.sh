#!/usr/bin/env bash
# Live HTTP through the kernel capture path: wrk (keep-alive, 50 connections)
# from the host against nginx in a namespace behind a veth pair, with and
# without xdpbeat watching port 8080 on the host end. Interleaved pairs,
# medians; in every attached run, ring-buffer drops and events counted
# against wrk's own request count. Prints markdown.
# Run by bench/run.sh; alone: BUILD=$PWD/build bench/live_wrk.sh
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
echo "### Live HTTP on a veth pair: wrk with and without xdpbeat"
echo
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root (network namespace, veth pair, eBPF)."
	echo
	exit 0
fi
PAIRS=${LIVE_WRK_PAIRS:-5}
SECS=${LIVE_WRK_SECS:-5}
CONNS=50
THREADS=2
PORT=8080
NS=xb-lwrk-$$
H=xblwh$$
N_IF=xblwn$$
NET=$(bench_subnet)
URL="http://$NET.2:$PORT/"
WORK=$(mktemp -d /tmp/xdpbeat-live-wrk.XXXXXX)
XB_PID=
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	bench_xb_stop
	bench_veth_down "$NS" # nginx runs inside it
	sysctl -q -w kernel.bpf_stats_enabled="$stats_was"
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "failed: $*"
	echo
	exit 0
}

bench_veth_up "$NS" "$H" "$N_IF" "$NET" || fail "cannot create the veth pair"
mkdir -p "$WORK/html" "$WORK/logs" "$WORK/out"
chmod 755 "$WORK" "$WORK/html"
echo "hello from the xdpbeat bench namespace" > "$WORK/html/index.html"
cat > "$WORK/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/logs/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_requests 1000000;
	server { listen $NET.2:$PORT; root $WORK/html; }
}
CONF
ip netns exec "$NS" nginx -p "$WORK" -c "$WORK/nginx.conf" || fail "nginx did not start"
up=0
for _ in $(seq 50); do
	curl -s -m 1 -o /dev/null "$URL" && up=1 && break
	sleep 0.1
done
[ "$up" = 1 ] || fail "nginx does not answer on $URL"

cat > "$WORK/xdpbeat.yml" <<CONF
xdpbeat.interfaces: [$H]
xdpbeat.protocols:
  - type: http
    ports: [$PORT]
output.console.enabled: false
output.file.path: $WORK/out
output.file.rotate_every_kb: 4194304
CONF

# One wrk run into $WORK/wrk.txt; prints requests/s.
run_wrk() {
	timeout $((SECS + 30)) wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --timeout 5s "$URL" > "$WORK/wrk.txt" 2>&1
	awk '/Requests\/sec/ {printf "%.0f", $2}' "$WORK/wrk.txt"
}

sysctl -q -w kernel.bpf_stats_enabled=1
RPS_NONE=()
RPS_XB=()
SENSOR_US=()
DETAIL=()
drops_ok=1
count_ok=1
total_full=0
run_none() { RPS_NONE+=("$(run_wrk)"); }
run_xb() {
	local rps cpu reqs events answered full bpf
	rm -f "$WORK/out"/*
	bench_xb_start "$WORK/xdpbeat.yml" "$WORK/xb.err" || fail "xdpbeat did not start"
	cpu=$(bench_cpu_secs "$XB_PID")
	bpf=$(bpf_stat "$XB_PID" run_time_ns)
	rps=$(run_wrk)
	cpu=$(awk -v a="$cpu" -v b="$(bench_cpu_secs "$XB_PID")" 'BEGIN {print b - a}')
	bpf=$(awk -v a="$bpf" -v b="$(bpf_stat "$XB_PID" run_time_ns)" 'BEGIN {print (b - a) / 1e9}')
	sleep 1 # let the daemon drain the ring before it is stopped
	bench_xb_stop
	RPS_XB+=("$rps")
	reqs=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
	reqs=${reqs:-0}
	events=$(cat "$WORK/out"/xdpbeat-*.ndjson 2>/dev/null | grep -c .)
	answered=$(cat "$WORK/out"/xdpbeat-*.ndjson 2>/dev/null | jq -c 'select(.http.response != null)' | grep -c .)
	full=$(bench_xb_stat "$WORK/xb.err" kernel.ringbuf_full)
	total_full=$((total_full + full))
	[ "$full" = 0 ] || drops_ok=0
	[ "$answered" -ge "$reqs" ] || count_ok=0
	SENSOR_US+=("$(awk -v c="$cpu" -v b="$bpf" -v n="$reqs" 'BEGIN { if (n > 0) printf "%.2f", (c + b) * 1e6 / n; else print 0 }')")
	DETAIL+=("| ${#RPS_XB[@]} | $rps | $reqs | $events | $answered | $((events - answered)) | $((answered - reqs)) | $full | $(bench_xb_stat "$WORK/xb.err" kernel.truncated_bytes) | $(bench_xb_stat "$WORK/xb.err" tcp.gaps) | $(bench_pct "$cpu" "$SECS") | $(bench_pct "$bpf" "$SECS") | ${SENSOR_US[-1]} |")
}

for i in $(seq "$PAIRS"); do
	# Alternate which side goes first so slow drift does not favour one.
	if [ $((i % 2)) = 1 ]; then
		run_none
		run_xb
	else
		run_xb
		run_none
	fi
done

m_none=$(bench_median "${RPS_NONE[@]}")
m_xb=$(bench_median "${RPS_XB[@]}")
echo "nginx (1 worker) in a namespace, \`wrk -t$THREADS -c$CONNS -d${SECS}s\` (keep-alive) from the host over a veth pair;"
echo "$PAIRS interleaved pairs (order alternating). xdpbeat on the host end, default hooks (TC ingress + TC egress"
echo "on a virtual device), watching port $PORT as HTTP, events to a file."
echo
echo "| xdpbeat | runs (req/s) | median req/s | vs none |"
echo "|---|---|---:|---:|"
echo "| not running | ${RPS_NONE[*]} | $m_none | 100% |"
echo "| watching the traffic | ${RPS_XB[*]} | $m_xb | $(bench_pct "$m_xb" "$m_none") |"
echo
echo "Every attached run, wrk's own count against what xdpbeat published: *answered* = events with an"
echo "\`http.response\`; *unanswered* = requests published without one (in flight when wrk stopped and closed"
echo "its connections, so never answered); *answered − wrk* = responses wrk did not count (they arrived after"
echo "its clock stopped, but they are real request/response pairs on the wire). *daemon CPU* = the daemon's"
echo "user + system time during the wrk run over its length; this machine has $(nproc) cores, and wrk and nginx"
echo "alone keep them busy, so the daemon's CPU comes out of the same budget as the server's."
echo
echo "| run | req/s | wrk requests | events | answered | unanswered | answered − wrk | kernel.ringbuf_full | kernel.truncated_bytes | tcp.gaps | daemon CPU (of one core) | BPF programs (of one core) | sensor µs per request |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${DETAIL[@]}"
echo
# wrk and nginx keep every core busy: each request costs the machine ncpu / req/s of CPU, and
# what the sensor spends per request comes out of that budget.
m_sensor=$(bench_median "${SENSOR_US[@]}")
awk -v n="$(nproc)" -v r="$m_none" -v s="$m_sensor" 'BEGIN {
	base = n * 1e6 / r
	printf "- CPU budget: without the sensor a request costs the %d cores %.1f µs (wrk + nginx + the stack); the sensor\n", n, base
	printf "  adds %.1f µs (median; daemon + BPF run time), so a CPU-bound machine can keep %.1f%% of its req/s\n", s, 100 * base / (base + s)
	printf "  (%.1f%% needs a sensor cost of at most %.1f µs per request).\n", 90, base / 9
}'
if [ "$(bench_at_least "$m_xb" "$m_none" 0.90)" = 1 ]; then
	echo "- Throughput target (>= 90% of the req/s without the sensor): **met** ($(bench_pct "$m_xb" "$m_none"))."
else
	echo "- Throughput target (>= 90% of the req/s without the sensor): **not met** ($(bench_pct "$m_xb" "$m_none"))."
fi
if [ "$drops_ok" = 1 ]; then
	echo "- Ring-buffer drops: **0** in every attached run."
else
	echo "- Ring-buffer drops: **$total_full** records lost in total (target 0): **not met**."
fi
if [ "$count_ok" = 1 ]; then
	echo "- Every request wrk counted has an answered event: **met** in every attached run."
else
	echo "- Every request wrk counted has an answered event: **not met** (a run has fewer answered events than wrk requests)."
fi
echo
echo "Command: \`make bench\` (bench/live_wrk.sh; \`LIVE_WRK_PAIRS\`, \`LIVE_WRK_SECS\` change the defaults)."
echo
