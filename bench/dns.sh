#!/usr/bin/env bash
# DNS transactions/s from a pcap of real DNS traffic on loopback (dnsmasq on
# 127.0.0.1 queried by dnsperf, or by a bounded Python client loop when
# dnsperf is missing): xdpbeat (pcap -> NDJSON file) vs
# tshark -r pcap -Y dns -T ek > /dev/null vs a bare libpcap loop, one core
# each, median of 3 runs, all in this run. Prints markdown.
#   DNS_BENCH_QUERIES=100000 DNS_BENCH_QPS=20000 by default; the pcap is
#   cached in $BENCH_CACHE (delete it to record a new one).
# Needs root (tcpdump), dnsmasq, tshark; dnsperf optional.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
queries=${DNS_BENCH_QUERIES:-100000}
qps=${DNS_BENCH_QPS:-20000}
PCAP=$BENCH_CACHE/dns_perf.pcap
PORTFILE=$BENCH_CACHE/dns_perf.port
CLIENTFILE=$BENCH_CACHE/dns_perf.client
tmp=$(mktemp -d /tmp/xdpbeat-dns-bench.XXXXXX)
dns_pid=""
dump_pid=""

cleanup() {
	if [ -n "$dump_pid" ]; then kill "$dump_pid" 2>/dev/null || true; wait "$dump_pid" 2>/dev/null || true; fi
	if [ -n "$dns_pid" ]; then kill "$dns_pid" 2>/dev/null || true; wait "$dns_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

record_pcap() {
port=$(free_ports 1)

dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll --bind-interfaces \
	--listen-address=127.0.0.1 --port="$port" --user=root --group=root \
	--pid-file="$tmp/dnsmasq.pid" --log-facility="$tmp/dnsmasq.log" --dns-forward-max=1000 \
	--local=/example.com/ --local-ttl=300 \
	--address=/www.example.com/192.0.2.10 \
	--host-record=host.example.com,192.0.2.11,2001:db8::11 \
	--mx-host=example.com,mail.example.com,10 \
	--host-record=mail.example.com,192.0.2.25 \
	--txt-record=txt.example.com,"v=spf1 -all","hello world" \
	--cname=alias.example.com,host.example.com &
dns_pid=$!
for _ in $(seq 50); do
	dig @127.0.0.1 -p "$port" +tries=1 +time=1 +short www.example.com >/dev/null 2>&1 && break
	sleep 0.1
done

printf '%s\n' "www.example.com A" "host.example.com AAAA" "example.com MX" "txt.example.com TXT" \
	"alias.example.com A" "missing.example.com A" >"$tmp/queries.txt"

pcap="$tmp/dns-bench.pcap"
tcpdump -i lo -U -B 262144 -s 0 -w "$pcap" "udp port $port" 2>"$tmp/tcpdump.err" &
dump_pid=$!
for _ in $(seq 50); do
	grep -q "listening on" "$tmp/tcpdump.err" 2>/dev/null && break
	sleep 0.1
done

if command -v dnsperf >/dev/null; then
	client="dnsperf"
	dnsperf -s 127.0.0.1 -p "$port" -d "$tmp/queries.txt" -n $((queries / 6 + 1)) -Q "$qps" -c 4 -l 120 \
		>"$tmp/client.log" 2>&1 || true
else
	client="python loop"
	/usr/bin/python3 - "$port" "$queries" >"$tmp/client.log" 2>&1 <<'PY' || true
import socket, struct, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
names = [("www.example.com", 1), ("host.example.com", 28), ("example.com", 15), ("txt.example.com", 16)]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
deadline = time.time() + 120
for i in range(n):
    if time.time() > deadline:
        break
    name, qtype = names[i % len(names)]
    q = struct.pack(">HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" + struct.pack(">HH", qtype, 1)
    s.sendto(q, ("127.0.0.1", port))
    try:
        s.recv(4096)
    except socket.timeout:
        pass
PY
fi
sleep 1
kill -INT "$dump_pid"
wait "$dump_pid" 2>/dev/null || true
dump_pid=""

cp "$tmp/dns-bench.pcap" "$PCAP"
grep -q "^0 packets dropped by kernel" "$tmp/tcpdump.err" || echo "dns bench: tcpdump dropped packets: $(grep dropped "$tmp/tcpdump.err")" >&2
echo "$port" >"$PORTFILE"
echo "$client" >"$CLIENTFILE"
kill "$dns_pid" 2>/dev/null || true
wait "$dns_pid" 2>/dev/null || true
dns_pid=""
}

[ -s "$PCAP" ] && [ -s "$PORTFILE" ] || record_pcap
port=$(cat "$PORTFILE")
client=$(cat "$CLIENTFILE" 2>/dev/null || echo "?")
cat >"$tmp/dns.yml" <<EOF
xdpbeat.protocols:
  - type: dns
    ports: [$port]
output.console.enabled: false
output.file:
  path: $tmp
  rotate_every_kb: 1048576
EOF
cfg="-c $tmp/dns.yml"
# shellcheck disable=SC2086
"$XDPBEAT" -E xdpbeat.workers=1 -I "$PCAP" $cfg 2>"$tmp/stats.txt"
txns=$(cat "$tmp"/xdpbeat-*.ndjson | grep -c . || true)
responses=$(tshark -r "$PCAP" -d udp.port=="$port",dns -Y 'dns.flags.response == 1' -T fields -e frame.number 2>/dev/null | wc -l)
pkts=$(tcpdump -r "$PCAP" 2>/dev/null | wc -l)
# shellcheck disable=SC2086
t_x=$(median_time 3 "$XDPBEAT" -E xdpbeat.workers=1 -I "$PCAP" $cfg)
# Like for like with tshark: the same NDJSON on stdout, which median_time sends to /dev/null.
t_o=$(median_time 3 "$XDPBEAT" -E xdpbeat.workers=1 -I "$PCAP" -E "xdpbeat.protocols=[{type: dns, ports: [$port]}]" -E output.file.enabled=false)
t_t=$(median_time 3 tshark -r "$PCAP" -d udp.port=="$port",dns -Y dns -T ek)
t_p=n/a
[ -x "$BUILD/bench/pcap_read" ] && t_p=$(median_time 3 "$BUILD/bench/pcap_read" "$PCAP")
echo "### DNS: pcap -> NDJSON, one core"
echo
echo "pcap: $client against dnsmasq on loopback (UDP); $pkts packets, $responses DNS responses (tshark), $txns events from xdpbeat."
echo
echo "| reader | median of 3 (s) | transactions/s | vs tshark |"
echo "|---|---|---|---|"
echo "| xdpbeat -I, events on stdout > /dev/null (as tshark) | $t_o | $(rate "$txns" "$t_o") | $(ratio "$t_t" "$t_o")x faster |"
echo "| xdpbeat -I, events to a file (rotating file output) | $t_x | $(rate "$txns" "$t_x") | $(ratio "$t_t" "$t_x")x faster |"
echo "| tshark -r -Y dns -T ek > /dev/null | $t_t | $(rate "$responses" "$t_t") | 1.0 |"
[ "$t_p" != n/a ] && echo "| bare libpcap read loop | $t_p | $(rate "$responses" "$t_p") | $(ratio "$t_t" "$t_p")x |"
echo
echo "Command: \`make bench\` (bench/dns.sh). Target: xdpbeat >= 30x tshark, compared like for like (both write"
echo "the NDJSON to /dev/null); the file row adds the kernel's cost of writing the events to ext4."
echo
