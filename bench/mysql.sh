#!/usr/bin/env bash
# MySQL transactions/s from a pcap of mysqlslap against a private MariaDB
# (tests/pcaps/make-mysql.sh --bench: 4 connections, MYSQL_BENCH_QUERIES
# SELECTs returning 3 rows each): xdpbeat (pcap -> NDJSON file) vs
# tshark -d tcp.port==P,mysql -Y mysql.command -T ek > /dev/null, one core
# each, median of 3 runs, in this run. Prints markdown. The pcap is cached
# in $BENCH_CACHE (delete it to record a new one).
# Needs root (tcpdump), mariadb-server, mariadb-client, tshark.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
queries=${MYSQL_BENCH_QUERIES:-20000}
PCAP=$BENCH_CACHE/mysql_slap.pcap
tmp=$(mktemp -d /tmp/xdpbeat-mysql-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

[ -s "$PCAP" ] || bash tests/pcaps/make-mysql.sh --bench "$PCAP" "$queries" >&2
port=$(tshark -r "$PCAP" -c 1 -T fields -e tcp.dstport 2>/dev/null)
cat >"$tmp/mysql.yml" <<YML
xdpbeat.protocols:
  - type: mysql
    ports: [$port]
output.console.enabled: true
YML
cat >"$tmp/mysql-file.yml" <<YML
xdpbeat.protocols:
  - type: mysql
    ports: [$port]
output.file:
  enabled: true
  path: $tmp
  filename: out.ndjson
YML

"$XDPBEAT" -E xdpbeat.workers=1 -I "$PCAP" -c "$tmp/mysql.yml" 2>"$tmp/stats" >/dev/null
txn=$(grep -o 'mysql.transactions=[0-9]*' "$tmp/stats" | tail -1 | cut -d= -f2)
tx=$(median_time 3 "$XDPBEAT" -E xdpbeat.workers=1 -I "$PCAP" -c "$tmp/mysql.yml")
tf=$(median_time 3 "$XDPBEAT" -E xdpbeat.workers=1 -I "$PCAP" -c "$tmp/mysql-file.yml")
tt=$(median_time 3 tshark -r "$PCAP" -d "tcp.port==$port,mysql" -Y mysql.command -T ek)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }

echo "## MySQL: pcap -> transactions (mysqlslap, $(stat -c %s "$PCAP") bytes, $txn transactions)"
echo
echo "| tool | seconds | transactions/s | vs tshark |"
echo "|---|---|---|---|"
echo "| xdpbeat -I, events on stdout > /dev/null | $tx | $(rate "$txn" "$tx") | $(ratio "$tt" "$tx") |"
echo "| xdpbeat -I, events into an NDJSON file | $tf | $(rate "$txn" "$tf") | $(ratio "$tt" "$tf") |"
echo "| tshark -d tcp.port==$port,mysql -Y mysql.command -T ek | $tt | $(rate "$txn" "$tt") | 1 |"
echo
echo "xdpbeat / tshark: $(ratio "$tt" "$tx"). Command: \`bash bench/mysql.sh\` (one core each: taskset -c 0; median of 3)."
echo
