#!/usr/bin/env bash
# PostgreSQL golden test: the committed pcaps (tests/pcaps/make-pgsql.sh: a
# private PostgreSQL 15; psql, psycopg2 and a raw v3 client in pgsql.pcap;
# pgbench -M simple/extended/prepared and pipeline mode in
# pgsql-pgbench.pcap; an SSLRequest answered S in pgsql-ssl.pcap) read with
# `xdpbeat -I -c tests/configs/pgsql.yml` must give the committed events
# tests/golden/pgsql*.ndjson, with no parse errors.
#   tests/e2e/pgsql_golden.sh            check
#   tests/e2e/pgsql_golden.sh --update   rewrite the golden files (review git diff)
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/golden_lib.bash
golden_init pgsql "$@"

for name in pgsql pgsql-pgbench pgsql-ssl; do
	golden_run "$name" tests/configs/pgsql.yml
	golden_compare "$name"
	[ $update = 1 ] || no_stats "$name" "pgsql.parse_errors\|pgsql.too_large\|pgsql.unmatched"
done

if [ $update = 0 ]; then
	o="$tmp/pgsql.out"
	jq_check "pgsql.pcap: 43 transactions over tcp, user, database, application_name from the startup" "$o" \
		'length == 43 and all(.type == "pgsql" and .network.transport == "tcp" and .user.name and
		 .pgsql.database == "xdp" and .pgsql.application_name)'
	jq_check "one transaction per statement the server answered, literals and comments kept whole" "$o" \
		'map(select(.pgsql.application_name == "psql") | .query)[0:4] == ["SELECT '"'"'a;b'"'"' AS semi, $$c;d$$ AS dollar, 1 -- a comment; here",
		 "SELECT 2 AS two", "SELECT 1 AS one", "SELECT 1/0"]'
	jq_check "an error: status Error, code, message, severity; the statements after it make no event" "$o" \
		'(map(select(.query == "SELECT 1/0")) | length == 1 and .[0].status == "Error" and
		  .[0].pgsql.error_code == "22012" and .[0].pgsql.error_message == "division by zero" and
		  .[0].pgsql.error_severity == "ERROR" and .[0].event.outcome == "failure") and
		 (map(select(.query == "SELECT 3 AS never")) | length == 0)'
	jq_check "response as CSV quoted as Packetbeat (comma, quote, newline, leading space, NULL)" "$o" \
		'map(select(.query == "SELECT id, name, note FROM items ORDER BY id"))[0].response ==
		 "id,name,note\n1,plain,\n2,\"a,b\",\"say \"\"hi\"\"\"\n3,two\\nlines,\" lead\"\n"'
	jq_check "max_rows: 15 rows counted, 10 in the response" "$o" \
		'map(select(.pgsql.num_rows == 15))[0] | (.response | split("\n") | length) == 12 and .pgsql.num_fields == 2'
	jq_check "method is the first keyword, query the statement (send_request: request too)" "$o" \
		'map(select(.method)) | all(.method as $m | .request == .query and (.query | ascii_upcase | startswith($m)))'
	jq_check "COPY TO counts its rows; a cancelled statement is 57014" "$o" \
		'(map(select(.query == "COPY items TO STDOUT"))[0].pgsql.num_rows == 3) and
		 (map(select(.query == "SELECT pg_sleep(5)"))[0].pgsql.error_code == "57014")'
	jq_check "extended protocol: binary parameters decoded, named portal, row limit" "$o" \
		'(map(select(.user.name == "raw" and .params))[0].params == ["40", "2", "café", "t", "2.5", null]) and
		 (map(select(.query == "SELECT g FROM generate_series(1, 5) AS g") | .pgsql.num_rows) == [2, 3])'
	jq_check "pipelined Executes with an error: one fails, the next is skipped with a note" "$o" \
		'map(select(.query == "SELECT 1/0 AS boom" or .query == "SELECT 3 AS three") |
		 [.status, .pgsql.error_code, .error.message]) ==
		 [["Error", "22012", null], ["Error", null, "Not executed: an earlier message of its pipeline failed"]]'
	# make-pgsql.sh printed what pg_stat_statements counted: 34 statements completed in
	# pgsql.pcap, 53 in pgsql-pgbench.pcap.
	jq_check "OK transactions = the server's 34 + the comment-only query + the Execute resuming a suspended portal" "$o" \
		'map(select(.status == "OK")) | length == 36'
	o="$tmp/pgsql-pgbench.out"
	jq_check "OK transactions = the server's 53 + BEGIN and END run again from prepared statements (counted once by pg_stat_statements)" "$o" \
		'map(select(.status == "OK")) | length == 55'
	jq_check "pgbench: 57 transactions, 7 statements per TPC-B transaction in each mode" "$o" \
		'length == 57 and (map(select(.method == "BEGIN")) | length) == 6 and
		 (map(select(.method == "INSERT")) | length) == 6'
	jq_check "extended and prepared: every Execute has its statement and parameters" "$o" \
		'map(select(.query | test("\\$1"))) | length == 24 and all(.params | length > 0)'
	jq_check "pipeline mode: three Executes before one Sync pair one by one" "$o" \
		'map(select(.query == "SELECT count(*) FROM pgbench_branches;")) | length == 2 and all(.pgsql.num_rows == 1)'
	jq_check "pipeline with an error: before OK, boom Error, skipped unanswered" "$o" \
		'map(select(.query | test("AS (before|boom|skipped)")) | .status) == ["OK", "Error", "Error"]'
	o="$tmp/pgsql-ssl.out"
	jq_check "SSLRequest answered S: the TLS session makes no event; the plain one does" "$o" \
		'length == 1 and .[0].query == "SELECT '"'"'in the clear'"'"'"'
	check "the TLS session is counted (as a gap: its bytes are not read)" \
		$(grep -q 'pgsql.gaps=1' "$tmp/pgsql-ssl.err" && echo 0 || echo 1)
fi
golden_exit
