#!/usr/bin/env bash
# Regenerate the MySQL/MariaDB pcaps on loopback from a private MariaDB 10.11
# (mariadb-install-db into a temporary directory, mariadbd on 127.0.0.1 port
# 13306, or 23306 when that is taken, with a TLS certificate made by
# openssl; user xb/xbpass, database xb with tables people and notes), all
# clients over TCP so tcpdump sees them:
#   mysql.pcap      the mariadb CLI (--skip-ssl): CREATE, INSERT, SELECT,
#                   an ERR, USE (COM_INIT_DB), one connection with --compress;
#                   mariadb-admin ping (COM_PING) and status (COM_STATISTICS);
#                   mysql-client.pl text (COM_QUERY: insert ids, affected
#                   rows, NULLs and CSV quoting, a 20000-byte value, a
#                   multi-statement query with several results) and prepare
#                   (DBD::MariaDB mariadb_server_prepare=1: PREPARE, EXECUTE
#                   with binary parameters, types resent, binary rows, an
#                   EXECUTE failing with ERR, a PREPARE failing, CLOSE)
#   mysql-tls.pcap  the mariadb CLI with --ssl: an SSL request, then TLS
# The server's Com_* counters for the main capture are printed at the end
# (tests/e2e/mysql_golden.sh checks the event counts against them).
# Then regenerates tests/golden/mysql*.ndjson with build/xdpbeat (or $XDPBEAT).
#   tests/pcaps/make-mysql.sh [outdir]
#   tests/pcaps/make-mysql.sh --bench FILE [QUERIES]   mysqlslap load into FILE (bench/mysql.sh)
# Needs root (tcpdump), mariadb-server, mariadb-client, libdbd-mariadb-perl, openssl.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../capture_lib.bash"
bench=""
if [ "${1:-}" = "--bench" ]; then
	bench=$2
	queries=${3:-20000}
	out=$(cd "$(dirname "$bench")" && pwd)
else
	out=$(cd "${1:-$here}" && pwd)
fi
tmp=$(mktemp -d /tmp/xdpbeat-mysql-pcap.XXXXXX)
srv_pid=""

cleanup() {
	capture_stop 2>/dev/null || true
	if [ -n "$srv_pid" ]; then stop_pid "$srv_pid" 100; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

port=$(pick_port make-mysql 13306 23306)

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
mariadb-install-db --no-defaults --datadir="$tmp/data" --auth-root-authentication-method=normal \
	--skip-test-db --user=root >"$tmp/install.log" 2>&1
mariadbd --no-defaults --datadir="$tmp/data" --socket="$tmp/sock" --port="$port" \
	--bind-address=127.0.0.1 --user=root --pid-file="$tmp/pid" --log-error="$tmp/err.log" \
	--skip-name-resolve --ssl-cert="$tmp/cert.pem" --ssl-key="$tmp/key.pem" &
srv_pid=$!
root() { mariadb --no-defaults --socket="$tmp/sock" -uroot "$@"; }
for _ in $(seq 100); do
	root -e 'SELECT 1' >/dev/null 2>&1 && break
	sleep 0.1
done
root -e 'SELECT 1' >/dev/null || { echo "make-mysql: mariadbd did not start: $(tail -5 "$tmp/err.log")" >&2; exit 1; }
root <<'SQL'
CREATE USER xb@'%' IDENTIFIED BY 'xbpass';
GRANT ALL ON *.* TO xb@'%';
CREATE DATABASE xb;
CREATE TABLE xb.people (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64), score DOUBLE, born DATE, at DATETIME);
CREATE TABLE xb.notes (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT);
SQL

cli() { mariadb --no-defaults -h 127.0.0.1 -P "$port" -uxb -pxbpass "$@"; }

if [ -n "$bench" ]; then
	cli --skip-ssl xb -e "INSERT INTO people (name) VALUES ('a'), ('b'), ('c'), ('d')"
	capture_start lo "$bench" "tcp port $port" -B 131072
	mysqlslap --no-defaults -h 127.0.0.1 -P "$port" -uxb -pxbpass --skip-ssl --create-schema=xb \
		--concurrency=4 --iterations=1 --number-of-queries="$queries" \
		--query="SELECT id, name, score FROM people WHERE id <= 3" >/dev/null
	CAPTURE_LINGER=1 capture_stop
	ls -l "$bench"
	exit 0
fi

root -e 'FLUSH STATUS'
capture_start lo "$out/mysql.pcap" "tcp port $port"
cli --skip-ssl xb -e "INSERT INTO people (name, score) VALUES ('Eve', 1.5)"
cli --skip-ssl xb -e "SELECT name, score FROM people WHERE name = 'Eve'"
cli --skip-ssl xb -e "SELECT * FROM nope" || true
cli --skip-ssl -e "USE xb" -e "SELECT COUNT(*) AS n FROM people"
cli --skip-ssl --compress xb -e "SELECT 'compressed'"
mariadb-admin --no-defaults -h 127.0.0.1 -P "$port" -uxb -pxbpass --skip-ssl ping >/dev/null
mariadb-admin --no-defaults -h 127.0.0.1 -P "$port" -uxb -pxbpass --skip-ssl status >/dev/null
perl "$here/mysql-client.pl" text "$port"
perl "$here/mysql-client.pl" prepare "$port"
capture_stop
root -e "SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_stmt_prepare', 'Com_stmt_execute', 'Com_stmt_close',
	'Com_insert', 'Com_select', 'Com_update', 'Com_delete', 'Com_change_db', 'Questions')"

capture_start lo "$out/mysql-tls.pcap" "tcp port $port"
cli --ssl xb -e "SELECT 'secret'" >/dev/null
capture_stop
ls -l "$out"/mysql*.pcap

if [ "$out" = "$here" ]; then
	XDPBEAT="${XDPBEAT:-$here/../../build/xdpbeat}" "$here/../e2e/mysql_golden.sh" --update
fi
