#!/usr/bin/env bash
# Processors golden test: tests/pcaps/http-curl.pcap read with
# `xdpbeat -I -c tests/golden/processors.yml` (a protocol's processors and
# global ones, conditions, if/then/else) must give the committed events
# (tests/golden/processors-http.ndjson; host.* stripped, TZ=UTC for
# add_locale), with host.* present before stripping and the drop counted.
#   tests/e2e/processors_golden.sh            check
#   tests/e2e/processors_golden.sh --update   rewrite the golden file (review git diff)
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/golden_lib.bash
golden_init processors "$@"

name=processors-http
TZ=UTC "$XDPBEAT" -I tests/pcaps/http-curl.pcap -c tests/golden/processors.yml -E xdpbeat.workers=1 2>"$tmp/$name.err" >"$tmp/$name.out"
normalize <"$tmp/$name.out" >"$tmp/$name.ndjson"
golden_compare $name
[ $update = 1 ] && exit 0

all=$(TZ=UTC "$XDPBEAT" -I tests/pcaps/http-curl.pcap -c tests/golden/http.yml 2>/dev/null | wc -l)
dropped=$(grep -o 'events.dropped_by_processors=[0-9]*' "$tmp/$name.err" | cut -d= -f2)
events=$(wc -l <"$tmp/$name.out")
check "$events events + ${dropped:-0} dropped by drop_event == $all without processors" \
	$([ "$events" -gt 0 ] && [ "${dropped:-0}" -gt 0 ] && [ $((events + dropped)) -eq "$all" ] && echo 0 || echo 1)
jq_check "every event has host.hostname, host.os.type and host.id" "$tmp/$name.out" \
	'all(.host.hostname != null and .host.os.type == "linux" and .host.id != null)'
jq_check "no 404 is left" "$tmp/$name.out" 'all(.http.response.status_code != 404)'
check "add_docker_metadata accepted with a warning" $(grep -q 'add_docker_metadata accepted but does nothing' "$tmp/$name.err" && echo 0 || echo 1)
no_stats $name "processors.errors"
golden_exit
