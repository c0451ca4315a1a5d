#!/usr/bin/env bash
# Redis golden test: the committed pcap (tests/pcaps/make-redis.sh: a private
# redis-server 7, redis-cli commands, a pipelined batch with inline commands,
# RESP3 replies of every type after HELLO 3, a 20000-byte value over several
# segments, RESP2 and RESP3 pub/sub) read with
# `xdpbeat -I -c tests/configs/redis.yml` must give the committed events
# tests/golden/redis.ndjson, with no parse errors, and the pub/sub pushes
# (messages answering no command) counted, not published.
#   tests/e2e/redis_golden.sh            check
#   tests/e2e/redis_golden.sh --update   rewrite the golden file (review git diff)
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/golden_lib.bash
golden_init redis "$@"

golden_run redis tests/configs/redis.yml
golden_compare redis

if [ $update = 0 ]; then
	no_stats redis "redis.parse_errors\|redis.unanswered\|redis.too_large\|redis.gaps"
	o="$tmp/redis.out"
	# Spot checks that a golden refresh must not silently lose.
	jq_check "56 transactions, all redis over tcp with a duration" "$o" \
		'length == 56 and all(.type == "redis" and .network.transport == "tcp" and .event.duration >= 0)'
	check "7 pushes counted as unmatched responses, none published" \
		$(grep -q 'redis.responses=63 .*redis.unmatched_responses=7' "$tmp/redis.err" && echo 0 || echo 1)
	jq_check "method upper-case, resource the key, query the command line, action" "$o" \
		'map(select(.query == "HSET user:1 name Ada lang C")) | length == 1 and .[0].method == "HSET" and
		 .[0].resource == "user:1" and .[0].event.action == "redis.hset" and .[0].redis.return_value == "2"'
	jq_check "send_request / send_response: the query and the reply text" "$o" \
		'all(.request == .query and .response == (.redis.return_value // .redis.error))'
	jq_check "a missing key is nil (RESP2 and RESP3)" "$o" \
		'map(select(.query == "GET missing") | .redis.return_value) == ["nil", "nil"]'
	jq_check "three error replies: status Error, redis.error, outcome failure" "$o" \
		'map(select(.status == "Error")) | length == 3 and
		 all(.redis.error and .redis.return_value == null and .event.outcome == "failure") and
		 (map(.redis.error | split(" ")[0]) == ["ERR", "WRONGTYPE", "MYERR"])'
	jq_check "EVAL returns nested arrays" "$o" \
		'map(select(.method == "EVAL" and .redis.return_value == "[1, [2, two, [3, three]], end]")) |
		 length == 1'
	jq_check "EXEC array holds the queued command's error, status OK" "$o" \
		'map(select(.method == "EXEC")) | .[0].status == "OK" and
		 .[0].redis.return_value == "[2, ERR value is not an integer or out of range]"'
	jq_check "two-word command" "$o" \
		'map(select(.method == "CONFIG GET")) |
		 .[0].resource == "maxmemory" and .[0].event.action == "redis.config get"'
	jq_check "pipelined batch: 10 replies paired in order, inline commands unquoted" "$o" \
		'(map(select(.query == "SET pipe 1"))[0].source.port) as $p | map(select(.source.port == $p)) |
		 map(.query + "=" + .redis.return_value) == ["SET pipe 1=OK", "INCR pipe=2", "PING=PONG",
		 "ECHO inline with spaces=inline with spaces", "MULTI=OK", "INCR counter=QUEUED",
		 "INCR greeting=QUEUED",
		 "EXEC=[2, ERR value is not an integer or out of range]", "GET pipe=2", "DEL greeting list=2"]'
	jq_check "RESP3: map, set, double, verbatim, booleans, big number" "$o" \
		'(map(select(.method == "HELLO")) |
		  all(.redis.return_value | test("^\\{server: redis, version: 7[.0-9]*, proto: 3, "))) and
		 (map(.redis.return_value) | index(["{name: Ada, lang: C}", "[red, green]", "1.5"]) != null) and
		 (map(select(.method == "DEBUG PROTOCOL") | .resource + "=" + .redis.return_value) ==
		  ["verbatim=This is a verbatim\nstring", "true=true", "false=false",
		   "bignum=1234567999999999999999999999999999999", "map={0: false, 1: true, 2: false}",
		   "attrib=Some real reply following the attribute", "push=Some real reply following the push reply"])'
	jq_check "the push before its reply is not the reply (its bytes are not the reply's)" "$o" \
		'map(select(.resource == "push")) | .[0].destination.bytes == 47'
	jq_check "20000-byte value over several segments, both ways" "$o" \
		'(map(select(.method == "SET" and .resource == "big")) |
		  .[0].source.bytes == 20032 and (.[0].query | length) == 20008) and
		 (map(select(.method == "GET" and .resource == "big")) | .[0].destination.bytes == 20010 and
		  (.[0].redis.return_value | length) == 20000 and
		  (.[0].redis.return_value | endswith("00999:xxxxxxxxxxxxxx")))'
	jq_check "pub/sub: confirmations answer their command, messages never pair" "$o" \
		'map(select(.method | test("SUBSCRIBE|PING|PUBLISH")) | .query + "=" + .redis.return_value) ==
		 ["PING=PONG", "SUBSCRIBE news weather=[subscribe, news, 1]",
		  "PSUBSCRIBE w*=[psubscribe, w*, 3]",
		  "PUBLISH news extra extra=1", "PUBLISH weather rain=2", "PING=[pong, ]",
		  "UNSUBSCRIBE=[unsubscribe, news, 2]", "PUNSUBSCRIBE=[punsubscribe, w*, 0]",
		  "SUBSCRIBE alerts=[subscribe, alerts, 1]", "PUBLISH alerts disk full=1",
		  "UNSUBSCRIBE alerts=[unsubscribe, alerts, 0]"]'
	jq_check "GET after leaving pub/sub, and GET between RESP3 pushes, answered by their own replies" "$o" \
		'map(select(.query == "GET news" or .query == "GET alerts") | .redis.return_value) == ["nil", "nil"]'
fi
golden_exit
