#!/usr/bin/env bash
# Flow-sharded workers: an HTTP pcap of 128 keep-alive connections (wrk
# against nginx on loopback) -> NDJSON with xdpbeat.workers 1, 2 and 4 on
# every core of this machine, events on stdout (> /dev/null) and to the
# rotating file output; median wall time of 3 runs each, side by side, and
# CPU time (user + system) per transaction beside it. Prints markdown.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
PORT=18081
trap stop_nginx EXIT
PCAP=$(bench_http_pcap $PORT 128)
out=$(mktemp -d)
trap 'stop_nginx; rm -rf "$out"' EXIT

# run OUTPUT W: "wall_s cpu_s events" of one run with W workers, events to stdout or a fresh file output.
run() {
	local args=(-I "$PCAP" -E "xdpbeat.workers=$2" -E "xdpbeat.protocols=[{type: http, ports: [$PORT]}]")
	rm -rf "$out/ev"
	if [ "$1" = file ]; then
		args+=(-E output.console.enabled=false -E "output.file.path=$out/ev" -E output.file.rotate_every_kb=1048576)
		/usr/bin/time -f "%e %U %S" -o "$out/time" "$XDPBEAT" "${args[@]}" 2> "$out/err"
	else
		args+=(-E output.file.enabled=false)
		/usr/bin/time -f "%e %U %S" -o "$out/time" "$XDPBEAT" "${args[@]}" 2> "$out/err" > /dev/null
	fi
	awk -v n="$(bench_xb_stat "$out/err" events.published)" '{printf "%s %.2f %d\n", $1, $2 + $3, n}' "$out/time"
}

# median OUTPUT W: the run with the median wall time of 3.
median() {
	for _ in 1 2 3; do run "$1" "$2"; done | sort -n | sed -n 2p
}

echo "### Workers: HTTP pcap -> NDJSON, $(nproc) cores"
echo
echo "pcap: wrk -t1 -c128 -d3s against nginx on loopback (128 connections); every core available."
echo
echo "| events to | xdpbeat.workers | median of 3 wall (s) | transactions/s | speed-up vs 1 | CPU µs per transaction | events |"
echo "|---|---|---|---|---|---|---|"
for o in stdout file; do
	declare -A wall cpu events
	for w in 1 2 4; do
		read -r wall[$w] cpu[$w] events[$w] < <(median $o $w)
	done
	for w in 1 2 4; do
		echo "| $o | $w | ${wall[$w]} | $(rate "${events[$w]}" "${wall[$w]}") | $(ratio "${wall[1]}" "${wall[$w]}")x | $(awk -v c="${cpu[$w]}" -v n="${events[$w]}" 'BEGIN { printf "%.2f", n ? c * 1e6 / n : 0 }') | ${events[$w]} |"
	done
done
echo
echo "With one worker the pcap is read and parsed on one thread while the publisher writes on another; the file output's"
echo "writes (ext4, in the publisher thread) take CPU the workers would otherwise use."
echo
echo "Command: \`make bench\` (bench/workers.sh). Targets: workers 2 >= 1.8x workers 1 on 2 cores; workers 4 no slower than 2."
echo
