#!/usr/bin/env bash
# Thrift golden test: the committed pcap (tests/pcaps/make-thrift.sh: Debian's
# python3-thrift server and client on tests/pcaps/thrift/store.thrift, one
# connection each of binary/buffered, binary/framed, old binary headers,
# compact/buffered, compact/framed, 16 calls each) read with xdpbeat -I must
# give the committed events: tests/golden/thrift.ndjson with idl_files (names
# and services) and tests/golden/thrift-noidl.ndjson without (field ids, as
# Packetbeat without IDL), every transport and protocol found per connection.
#   tests/e2e/thrift_golden.sh            check
#   tests/e2e/thrift_golden.sh --update   rewrite the golden files (review git diff)
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/golden_lib.bash
golden_init thrift "$@"

# The capture used port 19090 (29090 when 19090 was taken).
config() {
	cat <<YML
xdpbeat.protocols:
  - type: thrift
    ports: [9090, 19090, 29090]
    send_request: true
    send_response: true
$1
output.console:
  enabled: true
YML
}
config '    idl_files: ["tests/pcaps/thrift/store.thrift"]' >"$tmp/idl.yml"
config '' >"$tmp/noidl.yml"

golden_run thrift "$tmp/idl.yml"
golden_compare thrift
"$XDPBEAT" -I tests/pcaps/thrift.pcap -c "$tmp/noidl.yml" -E xdpbeat.workers=1 2>"$tmp/thrift-noidl.err" >"$tmp/thrift-noidl.out"
normalize <"$tmp/thrift-noidl.out" >"$tmp/thrift-noidl.ndjson"
golden_compare thrift-noidl

if [ $update = 0 ]; then
	no_stats thrift "thrift.parse_errors\|thrift.unanswered\|thrift.unmatched\|thrift.too_large\|thrift.gaps"
	no_stats thrift-noidl "thrift.parse_errors\|thrift.unanswered\|thrift.unmatched"
	o="$tmp/thrift.out"
	n="$tmp/thrift-noidl.out"
	# Spot checks that a golden refresh must not silently lose; the client
	# printed calls=16 oneway=1 exceptions=3 for each of the 5 connections.
	jq_check "80 transactions, 16 per connection, all thrift over tcp" "$o" \
		'length == 80 and all(.type == "thrift" and .network.transport == "tcp") and
		 (group_by(.source.port) | length == 5 and all(length == 16))'
	jq_check "5 oneway calls: no reply, no return value" "$o" \
		'map(select(.method == "log")) | length == 5 and
		 all(.thrift.return_value == null and .destination.bytes == null and .status == "OK")'
	jq_check "15 exceptions: status Error, return_value empty, response Exceptions: ..." "$o" \
		'map(select(.status == "Error")) | length == 15 and
		 all(.thrift.return_value == "" and (.response | startswith("Exceptions: (")) and
		     .event.outcome == "failure")'
	jq_check "the same thrift fields whatever the transport and protocol (sets aside: unordered)" "$o" \
		'group_by(.source.port) | map(map(select(.method != "tags") | .thrift)) | unique | length == 1'
	jq_check "IDL names the arguments and the exceptions, path the service" "$o" \
		'(map(select(.method == "add"))[0] | .query == "add(num1: 10, num2: -3)" and
		  .thrift.return_value == "7" and .path == "Store" and .thrift.service == "Store") and
		 (map(select(.query == "getItem(id: 101)"))[0].thrift.exceptions ==
		  "(notFound: (1: 404, 2: \"no item 101\"))") and
		 (map(select(.method == "getStruct")) | all(.path == "SharedService"))'
	jq_check "TApplicationException from the failing handler" "$o" \
		'map(select(.method == "fail")) | all(.status == "Error" and
		 .thrift.exceptions == "(message: \"Internal error\", type: 6)")'
	jq_check "every type rendered; blob in hex; i8 signed" "$o" \
		'map(select(.query == "getItem(id: 1)"))[0].thrift.return_value ==
		 "(1: 1, 2: \"item 1\", 3: [\"red\", \"small\"], 4: {\"seen\": 1, \"sold\": 2}, 5: {7}, 6: 9.75, 7: true, 8: 1700000000123, 9: -3, 10: ab0c1d281a00, 11: 2)"'
	jq_check "collection_max_size 15, string_max_size 200" "$o" \
		'(map(select(.method == "listItems"))[0].thrift.params | startswith("(ids: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, ...], ")) and
		 (map(select(.method == "echo"))[0].thrift.return_value == "\"" + ("x" * 200) + "...\"")'
	jq_check "doubles as Go prints them" "$o" \
		'map(select(.method == "average"))[0] | .thrift.params == "(values: [1.5, 2.25, 1000000000000000000000, -0.1])" and
		 .thrift.return_value == "250000000000000000000"'
	jq_check "without IDL: ids, no path or service" "$n" \
		'length == 80 and all(.path == null and .thrift.service == null) and
		 (map(select(.method == "add"))[0].query == "add(1: 10, 2: -3)") and
		 (map(select(.method == "fail"))[0].thrift.exceptions == "(1: \"Internal error\", 2: 6)")'
	jq_check "source.bytes: the messages on the wire (frame headers too)" "$o" \
		'map(select(.method == "ping") | .source.bytes) == [17, 21, 14, 9, 13]'
fi
golden_exit
