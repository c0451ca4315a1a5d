#!/usr/bin/env bash
# MySQL/MariaDB golden test: the committed pcaps (tests/pcaps/make-mysql.sh:
# a private MariaDB 10.11 on port 13306 or 23306; the mariadb CLI,
# mariadb-admin, and DBD::MariaDB with text queries and server-side prepared
# statements; a --compress connection; a TLS connection) read with
# `xdpbeat -I` must give the committed events tests/golden/mysql.ndjson and
# mysql-tls.ndjson, with no parse errors or unmatched responses, the
# statement counts the server reported (Com_* printed by make-mysql.sh),
# and the compressed and TLS sessions announced once each, never parsed.
#   tests/e2e/mysql_golden.sh            check
#   tests/e2e/mysql_golden.sh --update   rewrite the golden files (review git diff)
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/golden_lib.bash
golden_init mysql "$@"

cat >"$tmp/mysql.yml" <<'YML'
xdpbeat.protocols:
  - type: mysql
    ports: [3306, 3307, 13306, 23306]
    send_request: true
    send_response: true
output.console:
  enabled: true
YML

golden_run mysql "$tmp/mysql.yml"
golden_compare mysql
golden_run mysql-tls "$tmp/mysql.yml"
golden_compare mysql-tls

if [ $update = 0 ]; then
	no_stats mysql "mysql.parse_errors\|mysql.unanswered\|mysql.unmatched\|mysql.too_large\|mysql.gaps"
	no_stats mysql-tls "mysql.parse_errors\|mysql.unmatched"
	o="$tmp/mysql.out"
	jq_check "46 transactions, all mysql over tcp, user xb" "$o" \
		'length == 46 and all(.type == "mysql" and .network.transport == "tcp" and .user.name == "xb")'
	# Com_stmt_prepare 4, Com_stmt_execute 5, Com_stmt_close 3, Com_insert 7,
	# Com_update 1, Com_change_db 1 (make-mysql.sh prints them after the capture)
	jq_check "as many PREPARE, EXECUTE, CLOSE, INSERT, UPDATE, INIT_DB as the server counted" "$o" \
		'(map(.event.action) | (map(select(. == "mysql.stmt_prepare")) | length) == 4 and
		  (map(select(. == "mysql.stmt_execute")) | length) == 5 and
		  (map(select(. == "mysql.stmt_close")) | length) == 3 and
		  (map(select(. == "mysql.init_db")) | length) == 1) and
		 (map(select(.method == "INSERT" and .event.action != "mysql.stmt_prepare")) | length) == 7 and
		 (map(select(.method == "UPDATE")) | length) == 1'
	jq_check "ERR: status Error, code and SQLSTATE: message, outcome failure" "$o" \
		'map(select(.query == "SELECT * FROM nope"))[0] | .status == "Error" and .event.outcome == "failure" and
		 .mysql.error_code == 1146 and .mysql.error_message == "42S02: Table '"'xb.nope'"' doesn'"'"'t exist"'
	jq_check "four errors in all (two queries, a PREPARE, an EXECUTE)" "$o" \
		'map(select(.status == "Error") | .mysql.error_code) == [1146, 1146, 1062, 1146]'
	jq_check "OK: insert ids and affected rows" "$o" \
		'(map(select(.method == "INSERT" and .status == "OK" and .event.action != "mysql.stmt_prepare") |
		  .mysql.insert_id) == [1, 2, 3, 1, 4, 5]) and
		 (map(select(.method == "UPDATE"))[0].mysql.affected_rows == 2)'
	jq_check "text result: path, num_rows, num_fields, CSV with NULL and quoting" "$o" \
		'map(select(.query == "SELECT id, name, score, born FROM people ORDER BY id"))[0] |
		 .path == "xb.people" and .mysql.num_rows == 3 and .mysql.num_fields == 4 and
		 .response == "id,name,score,born\n1,Eve,2.5,NULL\n2,Ada,37.5,1815-12-10\n3,\"Bob, \"\"the builder\"\"\",NULL,NULL\n"'
	jq_check "20000-byte value: all its bytes counted, the CSV row's values cut at max_row_length" "$o" \
		'map(select(.query == "SELECT LENGTH(body), body FROM notes"))[0] |
		 .destination.bytes == 20123 and (.response | split("\n")[1] | length) == 1024 + 1'
	jq_check "multi-statement: two result sets and an OK in one transaction" "$o" \
		'map(select(.query // "" | startswith("SELECT 1 AS one;")))[0] |
		 .mysql.num_rows == 2 and .mysql.affected_rows == 1 and .response == "one\n1\n"'
	jq_check "EXECUTE: the prepared text, its verb, binary parameters of four types" "$o" \
		'map(select(.event.action == "mysql.stmt_execute") | .method + " " + (.params | join("|"))) ==
		 ["INSERT Cy|2.25|2001-02-03|NULL", "INSERT Dee|-7|1999-12-31|2020-01-02 03:04:05",
		  "SELECT 1|nobody", "SELECT 3|Ada", "INSERT 1|duplicate"]'
	jq_check "binary rows (metadata not resent): CSV from the PREPARE's columns" "$o" \
		'map(select(.event.action == "mysql.stmt_execute" and .method == "SELECT"))[1] |
		 .mysql.num_rows == 2 and .path == "xb.people" and
		 .response == "id,name,score,born,at\n4,Cy,2.25,2001-02-03,NULL\n5,Dee,-7,1999-12-31,2020-01-02 03:04:05\n"'
	jq_check "CLOSE, QUIT: published without a response, status OK" "$o" \
		'map(select(.method == "STMT_CLOSE" or .method == "QUIT")) | length == 11 and
		 all(.status == "OK" and .destination.bytes == null)'
	jq_check "PING, STATISTICS, INIT_DB answered" "$o" \
		'map(select(.method == "PING" or .method == "STATISTICS" or .method == "INIT_DB") | .query) ==
		 ["INIT_DB xb", "PING", "STATISTICS", "PING"]'
	jq_check "the compressed connection: one event, not decoded" "$o" \
		'map(select(.method == "COMPRESS")) | length == 1 and
		 .[0].error.message == "Compressed protocol: not decoded" and .[0].event.action == "mysql.compressed"'
	jq_check "database from the handshake or INIT_DB" "$o" \
		'map(select(.mysql.database == "xb")) | length == 41'
	jq_check "TLS: the SSL request announced once, nothing else parsed" "$tmp/mysql-tls.out" \
		'length == 1 and .[0].method == "SSL" and .[0].error.message == "TLS session: not decoded"'
fi
golden_exit
