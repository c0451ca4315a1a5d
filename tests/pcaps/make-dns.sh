#!/usr/bin/env bash
# Regenerate the DNS pcaps on loopback: a private dnsmasq on 127.0.0.1
# (port 5353, or 15353 when something such as avahi holds 5353), tcpdump on
# lo, and dig queries over UDP and TCP.
#   dns-udp.pcap  A, AAAA, MX, TXT, CNAME chain, SRV, PTR, NXDOMAIN, REFUSED
#                 (no upstream), SERVFAIL (relayed from a tiny upstream that
#                 answers SERVFAIL to everything), a
#                 truncated answer (+bufsize=512 on a big TXT), a query with
#                 the DO bit
#   dns-tcp.pcap  A, MX, TXT, NXDOMAIN over +tcp, and three queries on one
#                 kept-open connection (+keepopen)
# Needs root (tcpdump), dnsmasq, dig. Usage: tests/pcaps/make-dns.sh [outdir]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)
. "$here/../capture_lib.bash"
tmp=$(mktemp -d /tmp/xdpbeat-dns-pcap.XXXXXX)
dns_pid=""
up_pid=""

cleanup() {
	CAPTURE_LINGER=0 capture_stop
	if [ -n "$dns_pid" ]; then kill "$dns_pid" 2>/dev/null || true; wait "$dns_pid" 2>/dev/null || true; fi
	if [ -n "$up_pid" ]; then kill "$up_pid" 2>/dev/null || true; wait "$up_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

port=$(pick_port make-dns 5353 15353)
up=$((port + 1)) # the SERVFAIL upstream
port_busy $up && { echo "make-dns: port $up is taken" >&2; exit 1; }

big=()
for i in $(seq 1 12); do big+=("\"chunk $i of a long text record that does not fit in 512 bytes\""); done
big_txt=$(IFS=,; echo "${big[*]}")

dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll --bind-interfaces \
	--listen-address=127.0.0.1 --port="$port" --user=root --group=root \
	--pid-file="$tmp/dnsmasq.pid" --log-facility="$tmp/dnsmasq.log" --log-queries \
	--cache-size=0 --local-ttl=300 \
	--local=/example.com/ \
	--address=/www.example.com/192.0.2.10 \
	--host-record=host.example.com,192.0.2.11,2001:db8::11 \
	--mx-host=example.com,mail.example.com,10 \
	--host-record=mail.example.com,192.0.2.25 \
	--txt-record=txt.example.com,"v=spf1 -all","hello world" \
	--txt-record=big.example.com,"$big_txt" \
	--cname=alias.example.com,host.example.com \
	--srv-host=_sip._udp.example.com,host.example.com,5060,1,5 \
	--ptr-record=11.2.0.192.in-addr.arpa,host.example.com \
	--server=/fail.test/127.0.0.1#$up &
dns_pid=$!

# Upstream for fail.test: answers SERVFAIL; at most 20 queries or 60 s.
/usr/bin/python3 - "$up" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.settimeout(60)
for _ in range(20):
    try:
        q, peer = s.recvfrom(4096)
    except socket.timeout:
        break
    i = 12
    while i < len(q) and q[i]:
        i += q[i] + 1
    qend = i + 5
    if len(q) < 12 or qend > len(q):
        continue
    flags = 0x8082 | (q[2] & 1) << 8
    s.sendto(q[:2] + flags.to_bytes(2, "big") + b"\0\1\0\0\0\0\0\0" + q[12:qend], peer)
PY
up_pid=$!

q() { dig @127.0.0.1 -p "$port" +nocookie +tries=1 +time=3 "$@" >>"$tmp/dig.log" 2>&1 || true; }

for _ in $(seq 50); do
	dig @127.0.0.1 -p "$port" +tries=1 +time=1 +short www.example.com >/dev/null 2>&1 && break
	sleep 0.1
done

udp_queries() {
	q www.example.com A
	q host.example.com AAAA
	q example.com MX
	q txt.example.com TXT
	q alias.example.com A
	q _sip._udp.example.com SRV
	q -x 192.0.2.11
	q missing.example.com A
	q nowhere.invalid A
	q down.fail.test A
	q +bufsize=512 +ignore big.example.com TXT
	q +dnssec host.example.com A
}

tcp_queries() {
	q +tcp www.example.com A
	q +tcp example.com MX
	q +tcp txt.example.com TXT
	q +tcp missing.example.com A
	q +tcp +keepopen host.example.com A host.example.com AAAA alias.example.com A
}

# dig's last answers may still be on their way: a second before the capture stops.
CAPTURE_LINGER=1 capture_run lo "$out/dns-udp.pcap" "port $port" udp_queries
CAPTURE_LINGER=1 capture_run lo "$out/dns-tcp.pcap" "port $port" tcp_queries
echo "make-dns: dnsmasq on port $port; wrote $out/dns-udp.pcap and $out/dns-tcp.pcap"
