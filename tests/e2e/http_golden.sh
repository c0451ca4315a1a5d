#!/usr/bin/env bash
# HTTP golden test: the committed pcaps (tests/pcaps/make-http.sh) read with
# `xdpbeat -I` must give the committed events (tests/golden/*.ndjson, made by
# tests/golden/update.sh), and the wrk capture one event per HTTP response
# that tshark finds.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${XDPBEAT:=$PWD/build/xdpbeat}"
tmp=$(mktemp -d /tmp/xdpbeat-http-golden.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0

normalize() {
	jq -c -S 'del(.agent, .host)'
}

check() { # description, condition result
	if [ "$2" = 0 ]; then
		echo "ok: $1"
	else
		echo "FAIL: $1"
		fail=1
	fi
}

# Final HTTP responses in a pcap (1xx interim responses are not transactions).
tshark_responses() {
	tshark -r "$1" -Y 'http.response and http.response.code >= 200' 2>/dev/null | wc -l
}

for name in http-curl; do
	"$XDPBEAT" -I "tests/pcaps/$name.pcap" -c tests/golden/http.yml 2>"$tmp/$name.err" | normalize >"$tmp/$name.ndjson"
	rc=0
	diff -u "tests/golden/$name.ndjson" "$tmp/$name.ndjson" >"$tmp/$name.diff" || rc=1
	[ $rc = 0 ] || head -50 "$tmp/$name.diff"
	check "$name: events equal tests/golden/$name.ndjson" $rc
done

for name in http-curl http-wrk; do
	pcap="tests/pcaps/$name.pcap"
	"$XDPBEAT" -I "$pcap" -c tests/golden/http.yml 2>"$tmp/$name.err" >"$tmp/$name.out"
	events=$(wc -l <"$tmp/$name.out")
	errors=$(jq -r 'select(.http.response.status_code == null) | .query' "$tmp/$name.out" | wc -l)
	want=$(tshark_responses "$pcap")
	check "$name: $events events == $want tshark responses" $([ "$events" -eq "$want" ] && [ "$want" -gt 0 ] && echo 0 || echo 1)
	check "$name: every event has a response ($errors without)" $([ "$errors" -eq 0 ] && echo 0 || echo 1)
	grep -q "parse_errors" "$tmp/$name.err" && { grep "stats" "$tmp/$name.err"; check "$name: no parse errors" 1; }
done

exit $fail
