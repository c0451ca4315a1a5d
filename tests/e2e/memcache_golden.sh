#!/usr/bin/env bash
# Memcache golden test: the committed pcaps (tests/pcaps/make-memcache.sh:
# memcached + libmemcached-tools, text and --binary, a GETKQ...NOOP pipeline,
# UDP framing with a multi-datagram response, a multi-key get answered in
# separate frame sets, binary quiet gets over UDP, meta commands with a quiet
# pipeline closed by mn) read with
# `xdpbeat -I -c tests/configs/memcache.yml` must give the committed events
# tests/golden/memcache-{text,binary,udp,udp-multi,meta}.ndjson, with no parse errors.
#   tests/e2e/memcache_golden.sh            check
#   tests/e2e/memcache_golden.sh --update   rewrite the golden files (review git diff)
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/golden_lib.bash
golden_init memcache "$@"

for name in memcache-text memcache-binary memcache-udp memcache-udp-multi memcache-meta; do
	golden_run $name tests/configs/memcache.yml
	golden_compare $name
	[ $update = 1 ] && continue
	no_stats $name "memcache.parse_errors\|memcache.unmatched\|memcache.unanswered"
done

if [ $update = 0 ]; then
	# Spot checks that a golden refresh must not silently lose.
	t="$tmp/memcache-text.out"
	b="$tmp/memcache-binary.out"
	u="$tmp/memcache-udp.out"
	m="$tmp/memcache-udp-multi.out"
	e="$tmp/memcache-meta.out"
	jq_check "text: every event is text protocol over tcp" "$t" \
		'length > 10 and all(.memcache.protocol_type == "text" and .network.transport == "tcp")'
	jq_check "text: set and get of the 2931-byte value" "$t" \
		'map(select(.memcache.request.bytes == 2931 or .memcache.response.bytes == 2931)) | length == 2'
	jq_check "text: a miss (END) and a NOT_FOUND delete with status Error" "$t" \
		'(map(select(.memcache.response.command == "END")) | length == 1) and
		 (map(select(.memcache.response.command == "NOT_FOUND" and .status == "Error")) | length == 1)'
	jq_check "text: stats listed" "$t" 'map(select((.memcache.response.stats | length) > 20)) | length == 1'
	jq_check "binary: GETKQ x and y published without response, status OK" "$b" \
		'map(select(.memcache.request.opcode == "GetKQ" and .memcache.response == null and .status == "OK"))
		 | map(.memcache.request.keys[0]) == ["x", "y"]'
	jq_check "binary: GETKQ k1 paired with its response, then the NOOP" "$b" \
		'(map(select(.memcache.request.opcode == "GetKQ" and .memcache.response.opaque == 3)) | length == 1) and
		 (map(select(.memcache.request.command == "noop" and .memcache.response.opaque == 5)) | length == 1)'
	jq_check "binary: incr response value" "$b" 'map(select(.memcache.response.value == 8)) | length == 1'
	jq_check "binary: Key not found is an Error" "$b" \
		'map(select(.memcache.response.status_code == 1)) | all(.status == "Error")'
	jq_check "udp: 6 transactions over udp" "$u" 'length == 6 and all(.network.transport == "udp")'
	jq_check "udp: the 4000-byte value reassembled from several datagrams" "$u" \
		'map(select(.memcache.response.bytes == 4000 and .memcache.response.count_values == 1)) | length == 1'
	jq_check "udp: binary GetK over udp" "$u" \
		'map(select(.memcache.protocol_type == "binary" and .memcache.response.opaque == 42)) | length == 1'
	jq_check "udp multi: the multi-key get, answered in separate frame sets, is one transaction" "$m" \
		'map(select(.memcache.request.keys == ["ubig", "usmall", "nokey"])) | length == 1 and
		 (.[0].memcache.response | .keys == ["ubig", "usmall"] and .count_values == 2 and .bytes == 5003)'
	jq_check "udp multi: the GetQ miss (an empty frame) is OK without a response" "$m" \
		'map(select(.memcache.request.opcode == "GetQ")) | length == 1 and
		 all(.status == "OK" and .memcache.response == null)'
	jq_check "udp multi: the GetKQ hit paired with its response" "$m" \
		'map(select(.memcache.request.opcode == "GetKQ" and .memcache.response.keys == ["usmall"])) | length == 1'
	jq_check "meta: 20 transactions, mg/ms/md/ma/me/mn classified as get/set/delete/incr/info" "$e" \
		'length == 20 and
		 (map(select(.memcache.request.command == "mg")) | all(.memcache.request.type == "Load")) and
		 (map(select(.memcache.request.command == "ms")) | all(.memcache.request.type == "Store")) and
		 (map(select(.memcache.request.command == "ma")) | all(.memcache.request.type == "Counter"))'
	jq_check "meta: the 3000-byte ms sent in pieces, and its mg" "$e" \
		'map(select(.memcache.request.bytes == 3000 or .memcache.response.bytes == 3000)) | length == 2'
	jq_check "meta: the classic get after mg pairs with its VALUE (no shift)" "$e" \
		'map(select(.memcache.request.command == "get")) | .[0].memcache.response.command == "VALUE"'
	jq_check "meta: quiet pipeline - suppressed replies are OK without response, the rest paired" "$e" \
		'map(select(.memcache.request.quiet == true)) |
		 map([.memcache.request.command, .memcache.response.command, .status]) ==
		 [["ms",null,"OK"],["mg",null,"OK"],["mg","VA","OK"],["ms","NS","Error"],["md",null,"OK"],["md","NF","Error"]]'
fi
golden_exit
