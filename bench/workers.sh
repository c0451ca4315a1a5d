#!/usr/bin/env bash
# Flow-sharded workers: an HTTP pcap of 128 keep-alive connections (wrk
# against nginx on loopback) -> NDJSON (file output) with
# xdpbeat.workers 1, 2 and 4 on every core of this machine, median wall
# time of 3 runs each, side by side; CPU time (user + system) per
# transaction beside it. Prints markdown.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
PORT=18081
trap stop_nginx EXIT
PCAP=$(bench_http_pcap $PORT 128)
out=$(mktemp -d)
trap 'stop_nginx; rm -rf "$out"' EXIT

# run W: "wall_s cpu_s events" of one run with W workers, events to a fresh file output.
run() {
	rm -rf "$out/ev"
	/usr/bin/time -f "%e %U %S" -o "$out/time" "$XDPBEAT" -I "$PCAP" -E "xdpbeat.workers=$1" \
		-E "xdpbeat.protocols=[{type: http, ports: [$PORT]}]" -E output.console.enabled=false \
		-E "output.file.path=$out/ev" -E output.file.rotate_every_kb=1048576 2> /dev/null
	awk -v n="$(cat "$out"/ev/xdpbeat-*.ndjson | grep -c .)" '{printf "%s %.2f %d\n", $1, $2 + $3, n}' "$out/time"
}

# median W: the run with the median wall time of 3.
median() {
	for _ in 1 2 3; do run "$1"; done | sort -n | sed -n 2p
}

declare -A wall cpu events
for w in 1 2 4; do
	read -r wall[$w] cpu[$w] events[$w] < <(median $w)
done
echo "### Workers: HTTP pcap -> NDJSON file, $(nproc) cores"
echo
echo "pcap: wrk -t1 -c128 -d3s against nginx on loopback, ${events[1]} transactions over 128 connections; every core available."
echo
echo "| xdpbeat.workers | median of 3 wall (s) | transactions/s | speed-up vs 1 | CPU µs per transaction | events |"
echo "|---|---|---|---|---|---|"
for w in 1 2 4; do
	echo "| $w | ${wall[$w]} | $(rate "${events[$w]}" "${wall[$w]}") | $(ratio "${wall[1]}" "${wall[$w]}")x | $(awk -v c="${cpu[$w]}" -v n="${events[$w]}" 'BEGIN { printf "%.2f", n ? c * 1e6 / n : 0 }') | ${events[$w]} |"
done
echo
echo "Command: \`make bench\` (bench/workers.sh). Targets: workers 2 >= 1.8x workers 1 on 2 cores; workers 4 no slower than 2."
echo
