#!/usr/bin/env bash
# HTTP golden test: the committed pcaps (tests/pcaps/make-http.sh) read with
# `xdpbeat -I -c tests/golden/http.yml` must give the committed events
# (tests/golden/http-curl.ndjson), and both captures one event per final HTTP
# response that tshark finds, each with a response, and no parse errors.
#   tests/e2e/http_golden.sh            check
#   tests/e2e/http_golden.sh --update   rewrite the golden file (review git diff)
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/golden_lib.bash
golden_init http "$@"

# Final HTTP responses in a pcap (1xx interim responses are not transactions).
tshark_responses() {
	tshark -r "$1" -Y 'http.response and http.response.code >= 200' 2>/dev/null | wc -l
}

golden_run http-curl tests/golden/http.yml
golden_compare http-curl
[ $update = 1 ] && exit 0

for name in http-curl http-wrk; do
	[ -e "$tmp/$name.out" ] || golden_run $name tests/golden/http.yml
	events=$(wc -l <"$tmp/$name.out")
	want=$(tshark_responses "tests/pcaps/$name.pcap")
	check "$name: $events events == $want tshark responses" \
		$([ "$events" -eq "$want" ] && [ "$want" -gt 0 ] && echo 0 || echo 1)
	jq_check "$name: every event has a response" "$tmp/$name.out" 'all(.http.response.status_code != null)'
	no_stats $name "parse_errors"
done
golden_exit
