#!/usr/bin/env bash
# DNS benchmark: record a large pcap of real DNS traffic on loopback
# (dnsmasq on 127.0.0.1, queried by dnsperf, or by a bounded Python client
# loop when dnsperf is missing), then time in the same run
#   xdpbeat -I pcap  (dns on that port, events to the console -> /dev/null)
#   tshark -r pcap -Y dns -T ek > /dev/null
# and print a markdown table: transactions/s and the ratio.
#   bench/dns.sh            DNS_BENCH_QUERIES=100000 DNS_BENCH_QPS=25000 by default
# Needs root (tcpdump), dnsmasq, tshark; dnsperf optional.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${XDPBEAT:=$PWD/build/xdpbeat}"
queries=${DNS_BENCH_QUERIES:-100000}
qps=${DNS_BENCH_QPS:-25000}
tmp=$(mktemp -d /tmp/xdpbeat-dns-bench.XXXXXX)
dns_pid=""
dump_pid=""

cleanup() {
	if [ -n "$dump_pid" ]; then kill "$dump_pid" 2>/dev/null || true; wait "$dump_pid" 2>/dev/null || true; fi
	if [ -n "$dns_pid" ]; then kill "$dns_pid" 2>/dev/null || true; wait "$dns_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

port=25353
while ss -Hlnu "sport = :$port" | grep -q .; do port=$((port + 1)); done

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
tcpdump -i lo -U --immediate-mode -B 65536 -s 0 -w "$pcap" "udp port $port" 2>"$tmp/tcpdump.err" &
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
kill "$dump_pid"
wait "$dump_pid" 2>/dev/null || true
dump_pid=""
dropped=$(grep -o '[0-9]* packets dropped by kernel' "$tmp/tcpdump.err" | cut -d' ' -f1 || echo "?")

cat >"$tmp/dns.yml" <<EOF
xdpbeat.protocols:
  - type: dns
    ports: [$port]
output.console:
  enabled: true
EOF

now() { date +%s.%N; }
t0=$(now)
"$XDPBEAT" -I "$pcap" -c "$tmp/dns.yml" >/dev/null 2>"$tmp/xdpbeat.err"
t1=$(now)
tshark -r "$pcap" -d udp.port=="$port",dns -Y dns -T ek >/dev/null 2>"$tmp/tshark.err"
t2=$(now)

packets=$(grep -o 'packets=[0-9]*' "$tmp/xdpbeat.err" | head -1 | cut -d= -f2)
txn=$(grep -o ' transactions=[0-9]*' "$tmp/xdpbeat.err" | head -1 | cut -d= -f2)
size=$(du -h "$pcap" | cut -f1)

awk -v p="${packets:-0}" -v t="${txn:-0}" -v t0="$t0" -v t1="$t1" -v t2="$t2" \
	-v client="$client" -v size="$size" -v dropped="$dropped" 'BEGIN {
	x = t1 - t0; s = t2 - t1
	printf "### DNS: xdpbeat -I vs tshark -T ek (same pcap)\n\n"
	printf "pcap: %d packets (%s), %d DNS transactions over UDP from %s against dnsmasq on loopback (tcpdump dropped %s)\n\n", p, size, t, client, dropped
	printf "| tool | seconds | transactions/s | packets/s |\n|---|---:|---:|---:|\n"
	printf "| xdpbeat -I (events to /dev/null) | %.2f | %.0f | %.0f |\n", x, (x > 0 ? t / x : 0), (x > 0 ? p / x : 0)
	printf "| tshark -Y dns -T ek | %.2f | %.0f | %.0f |\n", s, (s > 0 ? t / s : 0), (s > 0 ? p / s : 0)
	printf "\nxdpbeat is **%.1fx** faster than tshark on this pcap.\n", (x > 0 ? s / x : 0)
}'
