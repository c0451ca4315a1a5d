#!/usr/bin/env bash
# PostgreSQL transactions/s from a pcap of pgbench on loopback (a private
# PostgreSQL 15, tests/pcaps/pgsql-server.bash; pgbench -M extended, TPC-B,
# 4 clients): xdpbeat (pcap -> NDJSON) vs
# tshark -r pcap -d tcp.port==P,pgsql -Y pgsql -T ek > /dev/null, one core
# each, median of 3 runs, all in this run. Prints markdown.
#   PGSQL_BENCH_TXNS=2500 pgbench transactions per client (7 statements
#   each); the pcap is cached in $BENCH_CACHE (delete it to record a new one).
# Needs root (tcpdump, runuser), postgresql, postgresql-contrib, tshark.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
. tests/pcaps/pgsql-server.bash
txns=${PGSQL_BENCH_TXNS:-2500}
PCAP=$BENCH_CACHE/pgsql_pgbench.pcap
PORTFILE=$BENCH_CACHE/pgsql_pgbench.port
tmp=$(mktemp -d /tmp/xdpbeat-pgsql-bench.XXXXXX)

cleanup() {
	capture_stop 2>/dev/null
	pg_stop
	rm -rf "$tmp"
}
trap cleanup EXIT

record_pcap() {
	local port
	port=$(free_ports 1)
	pg_start "$port"
	pg_as pgbench -h "$PG_DIR" -p "$port" -U xdp -i -I dtGvp -s 1 -q xdp >/dev/null 2>&1
	capture_start lo "$tmp/pgsql.pcap" "tcp port $port" -B 262144
	PGPASSWORD=xdp timeout 300 pgbench -h 127.0.0.1 -p "$port" -U xdp -n -M extended -c 4 -t "$txns" xdp \
		>"$tmp/pgbench.log" 2>&1 || true
	capture_stop
	pg_stop
	cp "$tmp/pgsql.pcap" "$PCAP"
	echo "$port" >"$PORTFILE"
}

[ -s "$PCAP" ] && [ -s "$PORTFILE" ] || record_pcap
port=$(cat "$PORTFILE")
cat >"$tmp/pgsql.yml" <<EOF
xdpbeat.protocols:
  - type: pgsql
    ports: [$port]
output.console.enabled: true
EOF
"$XDPBEAT" -E xdpbeat.workers=1 -I "$PCAP" -c "$tmp/pgsql.yml" 2>"$tmp/stats.txt" >"$tmp/events.ndjson"
events=$(grep -c . "$tmp/events.ndjson" || true)
completes=$(tshark -r "$PCAP" -d tcp.port=="$port",pgsql -Y 'pgsql.type == "Command completion"' -T fields \
	-e frame.number 2>/dev/null | wc -l)
pkts=$(tcpdump -r "$PCAP" 2>/dev/null | wc -l)
t_x=$(median_time 3 "$XDPBEAT" -E xdpbeat.workers=1 -I "$PCAP" -c "$tmp/pgsql.yml")
t_t=$(median_time 3 tshark -r "$PCAP" -d tcp.port=="$port",pgsql -Y pgsql -T ek)
echo "### PostgreSQL: pcap -> NDJSON, one core"
echo
echo "pcap: pgbench -M extended (TPC-B, 4 clients x $txns transactions) against PostgreSQL 15 on loopback;"
echo "$pkts packets, $events events from xdpbeat (frames with a CommandComplete, tshark: $completes)."
echo
echo "| reader | median of 3 (s) | transactions/s | vs tshark |"
echo "|---|---|---|---|"
echo "| xdpbeat -I, events on stdout > /dev/null | $t_x | $(rate "$events" "$t_x") | $(ratio "$t_t" "$t_x")x faster |"
echo "| tshark -r -d tcp.port==$port,pgsql -Y pgsql -T ek > /dev/null | $t_t | $(rate "$events" "$t_t") | 1.0 |"
echo
echo "Command: \`make bench\` (bench/pgsql.sh). Target: xdpbeat >= 50x tshark."
echo
