#!/usr/bin/env bash
# Regenerate the PostgreSQL pcaps on loopback with a private PostgreSQL 15
# (tests/pcaps/pgsql-server.bash: initdb in a temporary directory, run as
# the postgres system user, 127.0.0.1 on port 15432, or 25432 when taken):
#   pgsql.pcap          psql (sslmode=prefer: an SSLRequest answered N, then
#                       SCRAM-SHA-256): a multi-statement query with ';'
#                       inside a literal, a dollar-quoted string and a
#                       comment; one that fails in its second statement (the
#                       third never runs); DDL/DML tags; an unknown table;
#                       COPY out and in; then pgsql-client.py psycopg2 and raw
#                       (see there: CSV quoting, errors, notices, LISTEN/NOTIFY,
#                       COPY, a CancelRequest, and the extended protocol with
#                       named statements/portals, binary parameters, row
#                       limits, pipelined Executes with an error)
#   pgsql-pgbench.pcap  pgbench -M simple, -M extended, -M prepared (2
#                       transactions each) and a \startpipeline script (libpq
#                       pipeline mode: several Executes before one Sync), one
#                       pipeline with an error inside
#   pgsql-ssl.pcap      ssl = on, psql sslmode=require: an SSLRequest
#                       answered S, then TLS (skipped, counted)
# pg_stat_statements (reset once each capture starts, read over the Unix
# socket that tcpdump does not see) gives how many statements the server
# completed; the golden test checks the OK transactions against it.
# Then regenerates tests/golden/pgsql*.ndjson with build/xdpbeat (or $XDPBEAT).
# Needs root (tcpdump, runuser), postgresql, postgresql-client,
# postgresql-contrib, python3-psycopg2, openssl.
# Usage: tests/pcaps/make-pgsql.sh [outdir]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)
. "$here/pgsql-server.bash"
. "$here/../capture_lib.bash"
work=$(mktemp -d /tmp/xdpbeat-pgsql-pcap.XXXXXX)
chmod 755 "$work"

cleanup() {
	capture_stop 2>/dev/null
	pg_stop
	rm -rf "$work"
}
trap cleanup EXIT

port=$(pick_port make-pgsql 15432 25432)
export PGPASSWORD=xdp
# psql over TCP; $ssl adds to the connection string
ssl=""
tcp() { timeout 60 psql "host=127.0.0.1 port=$port user=xdp dbname=xdp $ssl" "$@"; }

# Statements the server completed since the last reset (the reset itself is one).
completed() { pg_sock "SELECT sum(calls) - 1 FROM pg_stat_statements"; }
reset_counts() { pg_sock "SELECT pg_stat_statements_reset()" >/dev/null; }

# ---- pgsql.pcap ----
pg_start "$port"
capture_start lo "$out/pgsql.pcap" "tcp port $port"
reset_counts
tcp -qAt -c "SELECT 'a;b' AS semi, \$\$c;d\$\$ AS dollar, 1 -- a comment; here
; SELECT 2 AS two" >/dev/null
tcp -qAt -c "SELECT 1 AS one; SELECT 1/0; SELECT 3 AS never" >/dev/null 2>&1 || true
tcp -qAt -c "CREATE TABLE t (a int); INSERT INTO t VALUES (1), (2); UPDATE t SET a = a + 1; DELETE FROM t WHERE a = 3; SELECT a FROM t; DROP TABLE t" >/dev/null
tcp -qAt -c "SELECT * FROM missing_table" >/dev/null 2>&1 || true
tcp -qAt -c "COPY (SELECT g, 'row ' || g FROM generate_series(1, 3) AS g) TO STDOUT" >/dev/null
tcp -qAt -c "CREATE TABLE c (a int, b text)" >/dev/null
printf '1\tone\n2\ttwo\n' | tcp -qAt -c "COPY c FROM STDIN" >/dev/null
timeout 60 /usr/bin/python3 "$here/pgsql-client.py" psycopg2 "$port"
timeout 60 /usr/bin/python3 "$here/pgsql-client.py" raw "$port"
capture_stop
echo "pgsql.pcap: server completed $(completed) statements"
pg_stop

# ---- pgsql-pgbench.pcap ----
pg_start "$port"
pg_as pgbench -h "$PG_DIR" -p "$port" -U xdp -i -I dtGvp -s 1 -q xdp >/dev/null 2>&1
cat >"$work/pipeline.sql" <<'EOF'
\set aid random(1, 100000)
\set delta random(-5000, 5000)
\startpipeline
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
SELECT count(*) FROM pgbench_branches;
\endpipeline
EOF
cat >"$work/pipeline-error.sql" <<'EOF'
\startpipeline
SELECT 1 AS before;
SELECT 1 / 0 AS boom;
SELECT 3 AS skipped;
\endpipeline
EOF
chmod 644 "$work"/*.sql
capture_start lo "$out/pgsql-pgbench.pcap" "tcp port $port"
reset_counts
for mode in simple extended prepared; do
	timeout 60 pgbench -h 127.0.0.1 -p "$port" -U xdp -n -M "$mode" -c 1 -t 2 xdp >/dev/null 2>&1
done
timeout 60 pgbench -h 127.0.0.1 -p "$port" -U xdp -n -M extended -c 1 -t 2 -f "$work/pipeline.sql" xdp >/dev/null 2>&1
timeout 60 pgbench -h 127.0.0.1 -p "$port" -U xdp -n -M prepared -c 1 -t 1 -f "$work/pipeline-error.sql" xdp \
	>/dev/null 2>&1 || true
capture_stop
echo "pgsql-pgbench.pcap: server completed $(completed) statements"
pg_stop

# ---- pgsql-ssl.pcap ----
pg_start "$port" ssl
capture_start lo "$out/pgsql-ssl.pcap" "tcp port $port"
ssl=sslmode=require tcp -qAt -c "SELECT 'secret'" >/dev/null
ssl=sslmode=disable tcp -qAt -c "SELECT 'in the clear'" >/dev/null
capture_stop
pg_stop

ls -l "$out"/pgsql*.pcap
# Golden events from the new pcaps (review git diff tests/golden before committing).
if [ "$out" = "$here" ]; then
	XDPBEAT="${XDPBEAT:-$here/../../build/xdpbeat}" "$here/../e2e/pgsql_golden.sh" --update
fi
