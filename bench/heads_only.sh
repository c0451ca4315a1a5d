#!/usr/bin/env bash
# Heads-only capture: a 1 GiB download from nginx on lo, watched live, with
# xdpbeat.tcp.skip_body_bytes at its default (the body stays in the kernel)
# and at 0 (every byte copied to the daemon). Sensor cost per GiB = daemon
# utime + stime plus its BPF programs' run time (kernel.bpf_stats_enabled),
# median of 3 downloads each, interleaved. Prints markdown.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
echo "### Heads-only capture: sensor CPU per GiB downloaded"
echo
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root (eBPF)."
	echo
	exit 0
fi
PORT=$(free_ports 1)
WORK=$(mktemp -d /tmp/xdpbeat-heads.XXXXXX)
XB_PID=
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	bench_xb_stop
	stop_nginx
	sysctl -q -w kernel.bpf_stats_enabled="$stats_was"
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start_nginx "$PORT" > /dev/null || exit 0
head -c $((1 << 30)) /dev/zero > "$NGINX_DIR/html/1g.bin"
sysctl -q -w kernel.bpf_stats_enabled=1

# run SKIP: "daemon_s bpf_s body_bytes kernel_skipped" of one watched download.
run() {
	cat > "$WORK/x.yml" <<YML
xdpbeat.interfaces: [lo]
xdpbeat.tcp.skip_body_bytes: $1
xdpbeat.protocols:
  - type: http
    ports: [$PORT]
output.console.enabled: false
output.file.path: $WORK/out
YML
	rm -rf "$WORK/out"
	bench_xb_start "$WORK/x.yml" "$WORK/xb.err" > /dev/null || return 1
	local c0 b0 c1 b1
	c0=$(bench_cpu_secs "$XB_PID")
	b0=$(bpf_stat "$XB_PID" run_time_ns)
	curl -s -o /dev/null "http://127.0.0.1:$PORT/1g.bin"
	sleep 0.5
	c1=$(bench_cpu_secs "$XB_PID")
	b1=$(bpf_stat "$XB_PID" run_time_ns)
	bench_xb_stop
	awk -v c0="$c0" -v c1="$c1" -v b0="$b0" -v b1="$b1" -v bytes="$(cat "$WORK"/out/*.ndjson | jq '.http.response.body.bytes' | head -1)" \
		-v sk="$(bench_xb_stat "$WORK/xb.err" kernel.skipped_bytes)" \
		'BEGIN { printf "%.3f %.3f %s %s\n", c1 - c0, (b1 - b0) / 1e9, bytes, sk }'
}

declare -A D B BODY SK
for mode in 64KiB 0; do : > "$WORK/$mode"; done
for _ in 1 2 3; do
	for mode in 64KiB 0; do run $mode >> "$WORK/$mode"; done
done
for mode in 64KiB 0; do
	# the run with the median daemon + BPF time
	read -r D[$mode] B[$mode] BODY[$mode] SK[$mode] < <(awk '{print $1 + $2, $0}' "$WORK/$mode" | sort -n | sed -n 2p | cut -d' ' -f2-)
done
total() { awk -v d="${D[$1]}" -v b="${B[$1]}" 'BEGIN { printf "%.3f", d + b }'; }
echo "curl downloads 1 GiB from nginx on lo (MTU 64 KiB) with xdpbeat watching the port; median of 3 each, interleaved."
echo
echo "| xdpbeat.tcp.skip_body_bytes | daemon CPU s/GiB | BPF s/GiB | sensor s/GiB | body bytes in the event | kernel.skipped_bytes |"
echo "|---|---|---|---|---|---|"
for mode in 64KiB 0; do
	echo "| $mode$([ $mode = 0 ] && echo " (full copy)" || echo " (default, heads-only)") | ${D[$mode]} | ${B[$mode]} | **$(total $mode)** | ${BODY[$mode]} | ${SK[$mode]} |"
done
echo
echo "Heads-only costs $(ratio "$(total 0)" "$(total 64KiB)")x less sensor CPU per GiB than copying every byte."
echo
echo "Command: \`make bench\` (bench/heads_only.sh)."
echo
