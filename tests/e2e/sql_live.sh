#!/usr/bin/env bash
# Live capture on loopback of the SQL protocols against real servers started
# here: a private PostgreSQL 15 (tests/pcaps/pgsql-server.bash) driven by
# pgbench -M prepared -S, and a private MariaDB driven by mysqlslap and the
# mariadb client. The transactions the sensor publishes equal what the
# servers counted (pg_stat_statements calls, MariaDB's Com_select).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/live_lib.bash
. tests/pcaps/pgsql-server.bash
need_root
MY_DIR=$LIVE_TMP/mariadb
cleanup() {
	pg_stop
	[ -f "$MY_DIR/pid" ] && kill "$(cat "$MY_DIR/pid")" 2>/dev/null
	live_cleanup
}
trap cleanup EXIT

PG_P=$(free_ports 2) # two free ports from here
MY_P=$((PG_P + 1))
CLIENTS=2
TXNS=40 # per pgbench client
SELECTS=30

pg_start "$PG_P"
check "postgresql up on 127.0.0.1:$PG_P" $?
mkdir -p "$MY_DIR"
mariadb-install-db --no-defaults --datadir="$MY_DIR/data" --auth-root-authentication-method=normal \
	--skip-test-db --user=root >"$MY_DIR/install.log" 2>&1
mariadbd --no-defaults --datadir="$MY_DIR/data" --socket="$MY_DIR/sock" --port="$MY_P" \
	--bind-address=127.0.0.1 --user=root --pid-file="$MY_DIR/pid" --log-error="$MY_DIR/err.log" \
	--skip-name-resolve --skip-ssl >/dev/null 2>&1 &
LIVE_PIDS+=("$!")
my_sock() { mariadb --no-defaults --socket="$MY_DIR/sock" -uroot "$@"; }
my_tcp() { mariadb --no-defaults --skip-ssl -h 127.0.0.1 -P "$MY_P" -uxb -pxbpass "$@"; }
wait_for 30 my_sock -e 'SELECT 1' >/dev/null
check "mariadb up on 127.0.0.1:$MY_P" $?
my_sock -e "CREATE USER xb@'%' IDENTIFIED BY 'xbpass'; GRANT ALL ON *.* TO xb@'%'; CREATE DATABASE xb;"
pg_as "$PG_BIN/pgbench" -h "$PG_DIR" -p "$PG_P" -U xdp -i -s 1 -q xdp >/dev/null 2>&1
check "pgbench tables made (over the socket, not captured)" $?

mkdir -p "$LIVE_TMP/out"
cat >"$LIVE_TMP/xdpbeat.yml" <<EOF
xdpbeat.interfaces: [lo]
xdpbeat.protocols:
  - type: pgsql
    ports: [$PG_P]
  - type: mysql
    ports: [$MY_P]
output.console.enabled: false
output.file.path: $LIVE_TMP/out
EOF
xb_start "$LIVE_TMP/xdpbeat.yml" "$LIVE_TMP/err"
check "daemon attached to lo" $?

pg_sock "SELECT pg_stat_statements_reset()" >/dev/null
timeout 60 runuser -u "$PG_USER" -- env PGPASSWORD=xdp "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_P" -U xdp \
	-M prepared -S -c $CLIENTS -t $TXNS -n xdp >"$LIVE_TMP/pgbench.log" 2>&1
check "pgbench -M prepared -S: $CLIENTS x $TXNS transactions" $?
timeout 60 mysqlslap --no-defaults --skip-ssl -h 127.0.0.1 -P "$MY_P" -uxb -pxbpass --concurrency=$CLIENTS \
	--iterations=1 --number-of-queries=$((CLIENTS * 20)) --query="SELECT 700" --create-schema=xb \
	>"$LIVE_TMP/slap.log" 2>&1
check "mysqlslap" $?
for i in $(seq $SELECTS); do
	my_tcp -N -e "SELECT $i" xb >/dev/null
done
check "$SELECTS mariadb client connections" $?
sleep 1
xb_stop
check "SIGINT: exit status 0" $?
grep 'stats (final)' "$LIVE_TMP/err" | sed 's/^/  /'
ev=$(events_in "$LIVE_TMP/out")

pg_calls=$(pg_sock "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE 'SELECT abalance%'")
pg_seen=$(jq -c 'select(.type == "pgsql" and (.query // "" | startswith("SELECT abalance")) and .status == "OK")' \
	"$ev" | grep -c .)
check "pgsql: $pg_seen SELECT transactions = the server's $pg_calls calls = $((CLIENTS * TXNS))" \
	$([ "$pg_seen" = "$pg_calls" ] && [ "$pg_calls" = $((CLIENTS * TXNS)) ]; echo $?)
with_params=$(jq -c 'select(.type == "pgsql" and (.query // "" | startswith("SELECT abalance")) and .params)' \
	"$ev" | grep -c .)
check "pgsql: every prepared SELECT carries its parameter ($with_params)" $([ "$with_params" = "$pg_seen" ]; echo $?)

slap=$(jq -c 'select(.type == "mysql" and .query == "SELECT 700" and .status == "OK")' "$ev" | grep -c .)
check "mysql: mysqlslap's $((CLIENTS * 20)) SELECT 700 (got $slap)" $([ "$slap" = $((CLIENTS * 20)) ]; echo $?)
mine=$(jq -c 'select(.type == "mysql" and (.query // "" | test("^SELECT [0-9]+$")) and .query != "SELECT 700")' \
	"$ev" | grep -c .)
check "mysql: $SELECTS client SELECTs (got $mine)" $([ "$mine" = $SELECTS ]; echo $?)
users=$(jq -r 'select(.type == "mysql" and .query == "SELECT 1") | .user.name' "$ev" | sort -u)
check "mysql: the handshake's user on the events ($users)" $([ "$users" = xb ]; echo $?)
check "no TCP gaps" $([ "$(final_stat "$LIVE_TMP/err" tcp.gaps)" -eq 0 ]; echo $?)
check "no parse errors" $([ "$(final_stat "$LIVE_TMP/err" pgsql.parse_errors)" -eq 0 ] &&
	[ "$(final_stat "$LIVE_TMP/err" mysql.parse_errors)" -eq 0 ]; echo $?)
[ $fail = 0 ] && echo "sql_live: all checks passed"
exit $fail
