#!/usr/bin/env bash
# Live cost per transaction at a fixed rate, next to a replay of the same
# traffic: hey -c 50 -q 200 (10,000 requests/s) against nginx on lo for
# LIVE_COST_SECS seconds with xdpbeat capturing live, while tcpdump writes the
# same packets to a pcap; then xdpbeat -I reads that pcap. Live cost = the
# daemon's utime + stime plus its BPF programs' run time
# (kernel.bpf_stats_enabled) over the transactions; replay cost = the
# reader's utime + stime over its transactions. Both with workers 1 and the
# default. Prints markdown.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
echo "### Live cost per transaction at 10k req/s on lo vs replaying the capture"
echo
if [ "$(id -u)" -ne 0 ] || ! command -v hey > /dev/null; then
	echo "skipped: needs root (eBPF) and hey."
	echo
	exit 0
fi
SECS=${LIVE_COST_SECS:-10}
PORT=$(free_ports 1)
WORK=$(mktemp -d /tmp/xdpbeat-live-cost.XXXXXX)
XB_PID=
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	bench_xb_stop
	capture_stop 2> /dev/null
	stop_nginx
	sysctl -q -w kernel.bpf_stats_enabled="$stats_was"
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ratio() { awk -v l="$1" -v r="$2" 'BEGIN { if (r > 0) printf "%.2fx", l / r; else print "n/a" }'; }
us_per() { awk -v s="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.2f", s * 1e6 / n; else print "n/a" }'; }

yml() {
	cat <<YML
xdpbeat.interfaces: [lo]
xdpbeat.workers: $1
xdpbeat.protocols:
  - type: http
    ports: [$PORT]
output.console.enabled: false
output.file:
  path: $WORK/out-$1
  rotate_every_kb: 1048576
YML
}

start_nginx "$PORT" || exit 0
sysctl -q -w kernel.bpf_stats_enabled=1
ROWS=()
for w in 1 0; do
	yml $w > "$WORK/live-$w.yml"
	bench_xb_start "$WORK/live-$w.yml" "$WORK/xb-$w.err" || exit 0
	nw=$(grep -o 'with [0-9]* worker' "$WORK/xb-$w.err" | awk '{print $2}')
	CAPTURE_LOG=$WORK/tcpdump.err capture_start lo "$WORK/live-$w.pcap" "tcp port $PORT" -B 262144
	cpu0=$(bench_cpu_secs "$XB_PID")
	bpf0=$(bpf_stat "$XB_PID" run_time_ns)
	runs0=$(bpf_stat "$XB_PID" run_cnt)
	timeout $((SECS + 30)) hey -c 50 -q 200 -z "${SECS}s" "http://127.0.0.1:$PORT/" > "$WORK/hey.txt" 2>&1
	sleep 1 # the daemon takes what is left in its rings
	cpu1=$(bench_cpu_secs "$XB_PID")
	bpf1=$(bpf_stat "$XB_PID" run_time_ns)
	runs1=$(bpf_stat "$XB_PID" run_cnt)
	CAPTURE_LINGER=0 capture_stop
	bench_xb_stop
	tx=$(bench_xb_stat "$WORK/xb-$w.err" http.transactions)
	live_cpu=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {print b - a}')
	live_bpf=$(awk -v a="$bpf0" -v b="$bpf1" 'BEGIN {print (b - a) / 1e9}')
	yml $w > "$WORK/replay-$w.yml"
	/usr/bin/time -f "%U %S" -o "$WORK/time" "$XDPBEAT" -I "$WORK/live-$w.pcap" -c "$WORK/replay-$w.yml" 2> "$WORK/rp.err"
	rtx=$(bench_xb_stat "$WORK/rp.err" http.transactions)
	rcpu=$(awk '{print $1 + $2}' "$WORK/time")
	# the same replay while hey and nginx load both cores again, as they did around the live sensor
	timeout $((SECS + 30)) hey -c 50 -q 200 -z "${SECS}s" "http://127.0.0.1:$PORT/" > /dev/null 2>&1 &
	hey_pid=$!
	sleep 1
	/usr/bin/time -f "%U %S" -o "$WORK/time" "$XDPBEAT" -I "$WORK/live-$w.pcap" -c "$WORK/replay-$w.yml" 2> /dev/null
	lcpu=$(awk '{print $1 + $2}' "$WORK/time")
	wait "$hey_pid"
	live=$(awk -v c="$live_cpu" -v b="$live_bpf" 'BEGIN {print c + b}')
	ns_run=$(awk -v t="$((bpf1 - bpf0))" -v n="$((runs1 - runs0))" 'BEGIN { if (n > 0) printf "%.0f", t / n; else print "n/a" }')
	ROWS+=("| $nw | $(awk '/Requests\/sec/ {printf "%.0f", $2}' "$WORK/hey.txt") | $tx | $(us_per "$live_cpu" "$tx") | $(us_per "$live_bpf" "$tx") ($((runs1 - runs0)) runs, $ns_run ns each) | **$(us_per "$live" "$tx")** | $rtx | $(us_per "$rcpu" "$rtx") | $(us_per "$lcpu" "$rtx") | $(ratio "$(us_per "$live" "$tx")" "$(us_per "$rcpu" "$rtx")") | $(ratio "$(us_per "$live_cpu" "$tx")" "$(us_per "$lcpu" "$rtx")") |")
done
# The same load on a port xdpbeat does not watch: what a BPF run costs live without a record to write.
yml 1 | sed "s/ports: \[$PORT\]/ports: [$((PORT + 1))]/" > "$WORK/unwatched.yml"
unwatched="n/a"
if bench_xb_start "$WORK/unwatched.yml" "$WORK/xb-u.err"; then
	bpf0=$(bpf_stat "$XB_PID" run_time_ns)
	runs0=$(bpf_stat "$XB_PID" run_cnt)
	timeout $((SECS + 30)) hey -c 50 -q 200 -z "${SECS}s" "http://127.0.0.1:$PORT/" > /dev/null 2>&1
	bpf1=$(bpf_stat "$XB_PID" run_time_ns)
	runs1=$(bpf_stat "$XB_PID" run_cnt)
	bench_xb_stop
	unwatched=$(awk -v t="$((bpf1 - bpf0))" -v n="$((runs1 - runs0))" 'BEGIN { if (n > 0) printf "%.0f", t / n; else print "n/a" }')
fi
echo "hey -c 50 -q 200 -z ${SECS}s against nginx on lo; tcpdump writes the same packets to a pcap, which xdpbeat -I then reads:"
echo "on the idle machine, and again while the same hey load runs (not captured). CPU per transaction in µs."
echo
echo "| workers | req/s | live transactions | daemon | BPF programs | live total | replay transactions | replay (-I) | replay under the same load | live / replay | daemon / replay under the same load |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "The same load on a port xdpbeat does not watch: $unwatched ns per BPF run (live, kernel.bpf_stats_enabled), against"
echo "the 30-40 ns of bench/bpf_cost.sh for the same path under BPF_PROG_TEST_RUN, where one packet repeats with hot caches."
echo
echo "Command: \`make bench\` (bench/live_cost.sh). Targets: live <= 1.0x replay, live <= 3 µs per transaction."
echo
