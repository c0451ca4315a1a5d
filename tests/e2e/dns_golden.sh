#!/usr/bin/env bash
# DNS golden test: the committed pcaps (tests/pcaps/make-dns.sh, dnsmasq +
# dig over UDP and TCP) read with `xdpbeat -I -c tests/configs/dns.yml` must
# give the committed events tests/golden/dns-{udp,tcp}.ndjson, one event per
# DNS response that tshark finds, and no parse errors.
#   tests/e2e/dns_golden.sh            check
#   tests/e2e/dns_golden.sh --update   rewrite the golden files (review git diff)
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/golden_lib.bash
golden_init dns "$@"

# DNS responses in a pcap (tshark reads 5353 as mDNS unless told).
tshark_responses() {
	tshark -r "$1" -d udp.port==5353,dns -d tcp.port==5353,dns -d udp.port==15353,dns -d tcp.port==15353,dns \
		-Y 'dns.flags.response == 1' 2>/dev/null | wc -l
}

for name in dns-udp dns-tcp; do
	golden_run $name tests/configs/dns.yml
	golden_compare $name
	[ $update = 1 ] && continue
	events=$(wc -l <"$tmp/$name.out")
	want=$(tshark_responses "tests/pcaps/$name.pcap")
	check "$name: $events events == $want tshark responses" \
		$([ "$events" -eq "$want" ] && [ "$want" -gt 0 ] && echo 0 || echo 1)
	no_stats $name "dns.parse_errors\|dns.unmatched"
done

if [ $update = 0 ]; then
	# Spot checks that a golden refresh must not silently lose.
	jq_check "dns-udp: one NXDOMAIN" "$tmp/dns-udp.out" 'map(select(.dns.response_code == "NXDOMAIN")) | length == 1'
	jq_check "dns-udp: one SERVFAIL with status Error" "$tmp/dns-udp.out" \
		'map(select(.dns.response_code == "SERVFAIL" and .status == "Error")) | length == 1'
	# dns.* describes the response alone (as Packetbeat): the query's EDNS is not merged in.
	jq_check "dns-udp: SERVFAIL without OPT shows no dns.opt" "$tmp/dns-udp.out" \
		'map(select(.dns.response_code == "SERVFAIL" and .dns.opt == null)) | length == 1'
	jq_check "dns-udp: one truncated response" "$tmp/dns-udp.out" \
		'map(select(.dns.flags.truncated_response)) | length == 1'
	jq_check "dns-udp: CNAME chain resolved" "$tmp/dns-udp.out" \
		'map(select(.resource == "alias.example.com" and .dns.answers[0].type == "CNAME")) | length == 1'
	jq_check "dns-tcp: 7 transactions over TCP (3 on one kept-open connection)" "$tmp/dns-tcp.out" \
		'map(select(.network.transport == "tcp")) | length == 7'
fi
golden_exit
