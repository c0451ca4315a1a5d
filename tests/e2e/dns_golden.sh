#!/usr/bin/env bash
# DNS golden test: the committed pcaps (tests/pcaps/make-dns.sh, dnsmasq +
# dig over UDP and TCP) read with `xdpbeat -I -c tests/configs/dns.yml` must
# give the committed events tests/golden/dns-{udp,tcp}.ndjson, one event per
# DNS response that tshark finds, and no parse errors.
#   tests/e2e/dns_golden.sh            check
#   tests/e2e/dns_golden.sh --update   rewrite the golden files (review git diff)
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${XDPBEAT:=$PWD/build/xdpbeat}"
tmp=$(mktemp -d /tmp/xdpbeat-dns-golden.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
update=0
[ "${1:-}" = "--update" ] && update=1

# One event per line, keys sorted, host-dependent keys removed.
normalize() {
	jq -c -S 'del(.agent, .host)'
}

check() { # description, 0 = ok
	if [ "$2" = 0 ]; then
		echo "ok: $1"
	else
		echo "FAIL: $1"
		fail=1
	fi
}

# DNS responses in a pcap (tshark reads 5353 as mDNS unless told).
tshark_responses() {
	tshark -r "$1" -d udp.port==5353,dns -d tcp.port==5353,dns -d udp.port==15353,dns -d tcp.port==15353,dns \
		-Y 'dns.flags.response == 1' 2>/dev/null | wc -l
}

for name in dns-udp dns-tcp; do
	pcap="tests/pcaps/$name.pcap"
	golden="tests/golden/$name.ndjson"
	"$XDPBEAT" -I "$pcap" -c tests/configs/dns.yml 2>"$tmp/$name.err" >"$tmp/$name.out"
	normalize <"$tmp/$name.out" >"$tmp/$name.ndjson"
	if [ $update = 1 ]; then
		cp "$tmp/$name.ndjson" "$golden"
		echo "$golden: $(wc -l <"$golden") events"
		continue
	fi
	rc=0
	diff -u "$golden" "$tmp/$name.ndjson" >"$tmp/$name.diff" || rc=1
	[ $rc = 0 ] || head -60 "$tmp/$name.diff"
	check "$name: events equal $golden" $rc
	events=$(wc -l <"$tmp/$name.out")
	want=$(tshark_responses "$pcap")
	check "$name: $events events == $want tshark responses" \
		$([ "$events" -eq "$want" ] && [ "$want" -gt 0 ] && echo 0 || echo 1)
	if grep -q "dns.parse_errors\|dns.unmatched" "$tmp/$name.err"; then
		grep stats "$tmp/$name.err"
		check "$name: no parse errors or unmatched responses" 1
	fi
done

if [ $update = 0 ]; then
	# Spot checks that a golden refresh must not silently lose.
	jq_check() { # description, file, filter that must be true over all events
		local rc=0
		jq -e -s "$3" "$2" >/dev/null || rc=1
		check "$1" $rc
	}
	jq_check "dns-udp: one NXDOMAIN" "$tmp/dns-udp.out" 'map(select(.dns.response_code == "NXDOMAIN")) | length == 1'
	jq_check "dns-udp: one SERVFAIL with status Error" "$tmp/dns-udp.out" \
		'map(select(.dns.response_code == "SERVFAIL" and .status == "Error")) | length == 1'
	jq_check "dns-udp: one truncated response" "$tmp/dns-udp.out" \
		'map(select(.dns.flags.truncated_response)) | length == 1'
	jq_check "dns-udp: CNAME chain resolved" "$tmp/dns-udp.out" \
		'map(select(.resource == "alias.example.com" and .dns.answers[0].type == "CNAME")) | length == 1'
	jq_check "dns-tcp: 7 transactions over TCP (3 on one kept-open connection)" "$tmp/dns-tcp.out" \
		'map(select(.network.transport == "tcp")) | length == 7'
fi
exit $fail
