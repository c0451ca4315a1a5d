#!/usr/bin/env bash
# DNS golden test: the committed pcaps (tests/pcaps/make-dns.sh, dnsmasq +
# dig over UDP and TCP; tests/pcaps/make-dns-nsec3.sh, BIND serving an NSEC3
# signed zone) read with `xdpbeat -I -c tests/configs/dns.yml` must give the
# committed events tests/golden/dns-{udp,tcp,nsec3}.ndjson, one event per DNS
# response that tshark finds, and no parse errors; every NSEC3 and
# NSEC3PARAM record says what tshark decodes from the same bytes.
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

# "type hash flags iterations salt next" of every NSEC3/NSEC3PARAM record, one per line, sorted.
tshark_nsec3() {
	tshark -r "$1" -d udp.port==5353,dns -d tcp.port==5353,dns -d udp.port==15353,dns -d tcp.port==15353,dns \
		-Y 'dns.flags.response == 1' -T json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
hashes = {"1": "SHA1"}
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if isinstance(v, dict) and "dns.nsec3.algo" in v:
                kind = "NSEC3" if "dns.nsec3.hash_value" in v else "NSEC3PARAM"
                salt = v.get("dns.nsec3.salt_value", "").replace(":", "").upper() or "-"
                nxt = v.get("dns.nsec3.hash_value", "").upper() if kind == "NSEC3" else salt
                print(kind, hashes.get(v["dns.nsec3.algo"], v["dns.nsec3.algo"]), int(v["dns.nsec3.flags"], 0),
                      v["dns.nsec3.iterations"], salt if kind == "NSEC3" else "-", nxt)
            else:
                walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(json.load(sys.stdin))
' | sort
}

xdpbeat_nsec3() {
	jq -r '.dns | (.answers // []) + (.authorities // []) + (.additionals // []) | .[]
		| select(.type == "NSEC3" or .type == "NSEC3PARAM")
		| [.type, .hash, .flags, .iterations, (.salt // "-"), .data] | join(" ")' "$1" | sort
}

for name in dns-udp dns-tcp dns-nsec3; do
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
	tshark_nsec3 tests/pcaps/dns-nsec3.pcap >"$tmp/nsec3.tshark"
	xdpbeat_nsec3 "$tmp/dns-nsec3.out" >"$tmp/nsec3.xdpbeat"
	rc=0
	[ -s "$tmp/nsec3.tshark" ] && diff -u "$tmp/nsec3.tshark" "$tmp/nsec3.xdpbeat" || rc=1
	check "dns-nsec3: $(wc -l <"$tmp/nsec3.tshark") NSEC3/NSEC3PARAM records as tshark decodes them" $rc
	jq_check "dns-nsec3: NXDOMAIN proven by NSEC3 records" "$tmp/dns-nsec3.out" \
		'map(select(.dns.response_code == "NXDOMAIN" and ([.dns.authorities[] | select(.type == "NSEC3")] | length) >= 2)) | length == 2'
fi
golden_exit
