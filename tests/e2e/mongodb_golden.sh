#!/usr/bin/env bash
# MongoDB golden test: the committed pcap (tests/pcaps/make-mongodb.sh:
# pymongo 3.11 against tests/mongodb_responder.py with OP_MSG, OP_QUERY
# commands with legacy writes, legacy OP_QUERY/OP_GET_MORE finds, and zlib,
# zstd and snappy compression) read with xdpbeat -I must give the committed
# events, tests/golden/mongodb.ndjson, and the transactions must equal what
# pymongo's command monitoring counted (tests/pcaps/mongodb-counts.txt).
#   tests/e2e/mongodb_golden.sh            check
#   tests/e2e/mongodb_golden.sh --update   rewrite the golden file (review git diff)
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/golden_lib.bash
golden_init mongodb "$@"

cat >"$tmp/mongodb.yml" <<YML
xdpbeat.protocols:
  - type: mongodb
    ports: [27017, 27917, 27937]
    send_request: true
    send_response: true
output.console:
  enabled: true
YML
golden_run mongodb "$tmp/mongodb.yml"
golden_compare mongodb

if [ $update = 0 ]; then
	o="$tmp/mongodb.out"
	no_stats mongodb "mongodb.parse_errors\|mongodb.unanswered\|mongodb.unmatched\|mongodb.too_large\|mongodb.gaps"
	# The handshakes (isMaster/hello, which command monitoring does not
	# report) aside, one transaction per monitored command. Unacknowledged
	# writes: pymongo reports each; xdpbeat publishes them at once.
	started=$(awk '{sub("started=", "", $4); s += $4} END {print s}' tests/pcaps/mongodb-counts.txt)
	failed=$(awk '{sub("failed=", "", $6); s += $6} END {print s}' tests/pcaps/mongodb-counts.txt)
	jq_check "$started transactions besides the handshakes (pymongo's started events)" "$o" \
		"map(select(.method | IN(\"isMaster\", \"ismaster\", \"hello\") | not)) | length == $started"
	jq_check "six client connections, every event mongodb over tcp" "$o" \
		'all(.type == "mongodb" and .network.transport == "tcp")'
	# Errors: pymongo's failed events, plus per run the duplicate _id
	# (writeErrors) and per OP_MSG run the writeConcernError, both replies
	# with ok: 1 that pymongo reports as succeeded.
	errors=$((failed + 6 + 4))
	jq_check "$errors errors: status Error with the server's errmsg and code" "$o" \
		"map(select(.status == \"Error\")) | length == $errors and
		 all(.[] | select(.status == \"Error\"); (.mongodb.error | length > 0) and .mongodb.code > 0)"
	jq_check "method is the command, resource the namespace" "$o" \
		'(map(select(.method == "insert" and .resource == "shop.items")) | length == 4 * 4 + 2 * 3) and
		 (map(select(.method == "nosuchcommand"))[0].mongodb.error == "no such command: '"'"'nosuchcommand'"'"'")'
	jq_check "legacy OP_INSERT/OP_UPDATE/OP_DELETE of the wire-5 and wire-3 runs: published at once, no reply" "$o" \
		'[.[] | select(.mongodb.fullCollectionName == "shop.items" and (.method | IN("insert", "update", "delete"))
		   and .destination.bytes == 0)] | length == 3 * 2'
	jq_check "OP_MSG moreToCome writes (w: 0) of the OP_MSG runs: published at once, no reply" "$o" \
		'[.[] | select(.mongodb.fullCollectionName == null and (.method | IN("insert", "update", "delete"))
		   and .destination.bytes == 0)] | length == 3 * 4'
	jq_check "the zlib, zstd and snappy connections give the methods of the plain OP_MSG one" "$o" \
		'[group_by(.client.port)[] | select(length > 1)] | sort_by(.[0]["@timestamp"]) |
		 [.[0], .[3], .[4], .[5]] | map(map(.method)) | unique | length == 1'
	jq_check "legacy finds: OP_QUERY with numberToSkip/numberToReturn, OP_GET_MORE with cursorId, \$err" "$o" \
		'(map(select(.mongodb.numberToReturn != null)) | length > 0) and
		 (map(select(.method == "getMore" and .mongodb.cursorId != null)) | length > 0) and
		 (map(select(.resource == "shop.bad"))[0] | .status == "Error" and .mongodb.code == 17287)'
	# The numbers xdpbeat writes must be numbers in the index template too
	# (a 64-bit cursorId as keyword would not range-query or sort).
	jq_check "cursorId/startingFrom/numberReturned are numbers, mapped long in the ES template" "$o" \
		'[.[] | .mongodb // {} | .cursorId, .startingFrom, .numberReturned | select(. != null)] |
		 length > 0 and all(type == "number")'
	jq_check "every numeric mongodb field is long in config/xdpbeat.template.json" config/xdpbeat.template.json \
		'[.[0] | .. | objects | select(has("mongodb")) | .mongodb.properties |
		  .cursorId.type, .startingFrom.type, .numberReturned.type, .numberToReturn.type,
		  .numberToSkip.type, .code.type] | length == 6 and all(. == "long")'
fi
golden_exit
