#!/usr/bin/env bash
# HTTP transactions/s from a pcap made with wrk against nginx on loopback:
# xdpbeat (pcap -> NDJSON file) vs tshark -Y http -T ek vs a bare libpcap loop,
# one core each, median of 3 runs, all in this run. Prints markdown.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
PORT=18081
trap stop_nginx EXIT
PCAP=$(bench_http_pcap $PORT)
out=$(mktemp -d)
cfg=(-E "xdpbeat.protocols=[{type: http, ports: [$PORT]}]" -E output.console.enabled=false -E "output.file.path=$out" -E output.file.rotate_every_kb=1048576)
"$XDPBEAT" -E xdpbeat.workers=1 -I "$PCAP" "${cfg[@]}" 2> "$out/stats.txt"
txns=$(cat "$out"/xdpbeat-*.ndjson | grep -c . || true)
responses=$(tshark -r "$PCAP" -d tcp.port==$PORT,http -Y http.response -T fields -e frame.number 2> /dev/null | wc -l)
pkts=$(tcpdump -r "$PCAP" 2> /dev/null | wc -l)
t_x=$(median_time 3 "$XDPBEAT" -E xdpbeat.workers=1 -I "$PCAP" "${cfg[@]}")
# Like for like with tshark: the same NDJSON on stdout, which median_time sends to /dev/null.
t_o=$(median_time 3 "$XDPBEAT" -E xdpbeat.workers=1 -I "$PCAP" -E "xdpbeat.protocols=[{type: http, ports: [$PORT]}]" -E output.file.enabled=false)
t_t=$(median_time 3 tshark -r "$PCAP" -d tcp.port==$PORT,http -Y http -T ek)
t_p=$(median_time 3 "$BUILD/bench/pcap_read" "$PCAP")
rm -rf "$out"
echo "### HTTP: pcap -> NDJSON, one core"
echo
echo "pcap: wrk -t1 -c8 -d3s against nginx on loopback; $pkts packets, $responses HTTP responses (tshark), $txns events from xdpbeat."
echo
echo "| reader | median of 3 (s) | transactions/s | vs tshark |"
echo "|---|---|---|---|"
echo "| xdpbeat -I, events on stdout > /dev/null (as tshark) | $t_o | $(rate "$txns" "$t_o") | $(ratio "$t_t" "$t_o")x faster |"
echo "| xdpbeat -I, events to a file (rotating file output) | $t_x | $(rate "$txns" "$t_x") | $(ratio "$t_t" "$t_x")x faster |"
echo "| tshark -r -d tcp.port==PORT,http -Y http -T ek > /dev/null | $t_t | $(rate "$responses" "$t_t") | 1.0 |"
echo "| bare libpcap read loop | $t_p | $(rate "$responses" "$t_p") | $(ratio "$t_t" "$t_p")x |"
echo
echo "Command: \`make bench\` (bench/http.sh). Target: xdpbeat >= 30x tshark, compared like for like (both"
echo "write the NDJSON to /dev/null); the file row adds the kernel's cost of writing the events to ext4."
echo
