#!/usr/bin/env bash
# Regenerate tests/pcaps/dns-nsec3.pcap on loopback: BIND's named serves a
# zone signed with NSEC3 (dnssec-signzone -3, salt aabbccdd, 5 iterations)
# on 127.0.0.1 (port 5353, or 15353 when something holds 5353), and dig
# asks it, with the DO bit, for
#   the zone's NSEC3PARAM                     (NSEC3PARAM answer)
#   a name that does not exist                (NXDOMAIN, NSEC3 proofs in the authority section)
#   a type the existing www name does not have (NODATA, NSEC3 for www)
#   the same NXDOMAIN over TCP
# Needs root (tcpdump), bind9 (named), bind9-utils (dnssec-keygen,
# dnssec-signzone), dig. Usage: tests/pcaps/make-dns-nsec3.sh [outdir]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)
. "$here/../capture_lib.bash"
tmp=$(mktemp -d /tmp/xdpbeat-nsec3-pcap.XXXXXX)
named_pid=""
zone=nsec3.test

cleanup() {
	CAPTURE_LINGER=0 capture_stop
	if [ -n "$named_pid" ]; then stop_pid "$named_pid" 50 || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

port=$(pick_port make-dns-nsec3 5353 15353)

cat >"$tmp/$zone" <<EOF
\$TTL 300
@	IN SOA ns.$zone. admin.$zone. 1 3600 600 86400 300
	IN NS ns.$zone.
ns	IN A 192.0.2.53
www	IN A 192.0.2.80
mail	IN A 192.0.2.25
	IN MX 10 mail.$zone.
EOF
dnssec-keygen -q -K "$tmp" -a ECDSAP256SHA256 -f KSK "$zone" >/dev/null
dnssec-keygen -q -K "$tmp" -a ECDSAP256SHA256 "$zone" >/dev/null
dnssec-signzone -q -K "$tmp" -d "$tmp" -S -3 aabbccdd -H 5 -o "$zone" -f "$tmp/$zone.signed" "$tmp/$zone" >/dev/null

cat >"$tmp/named.conf" <<EOF
options {
	directory "$tmp";
	pid-file "$tmp/named.pid";
	listen-on port $port { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
};
zone "$zone" { type primary; file "$tmp/$zone.signed"; };
EOF
named -g -c "$tmp/named.conf" >"$tmp/named.log" 2>&1 &
named_pid=$!

q() { dig @127.0.0.1 -p "$port" +nocookie +dnssec +tries=1 +time=3 "$@" >>"$tmp/dig.log" 2>&1 || true; }

for _ in $(seq 50); do
	dig @127.0.0.1 -p "$port" +tries=1 +time=1 +short "www.$zone" A 2>/dev/null | grep -q . && break
	sleep 0.1
done

queries() {
	q "$zone" NSEC3PARAM
	q "missing.$zone" A
	q "www.$zone" TXT
	q +tcp "missing.$zone" A
}

# dig's last answer may still be on its way: a second before the capture stops.
CAPTURE_LINGER=1 capture_run lo "$out/dns-nsec3.pcap" "port $port" queries
grep -q "NSEC3" "$tmp/dig.log" || { echo "make-dns-nsec3: no NSEC3 in the answers: $(cat "$tmp/dig.log")" >&2; exit 1; }
echo "make-dns-nsec3: named on port $port; wrote $out/dns-nsec3.pcap"
