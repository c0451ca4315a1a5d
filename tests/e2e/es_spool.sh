#!/usr/bin/env bash
# Disk spool (queue.disk.path) of the Elasticsearch output: events handed to
# the output survive an outage and a kill -9; on restart the unacknowledged
# ones are sent first, and every event ends up stored exactly once.
set -u
. "$(dirname "$0")/../es_lib.sh"

N=500
es_pcap ev $N --conns 5
es_pcap empty 0
SPOOL=$ES_TMP/spool

spool_lines() { cat "$SPOOL"/seg-*.ndjson 2>/dev/null | wc -l; }

# xb_bg LOG PCAP [-E ...]: xdpbeat in the background; sets XB_PID
xb_bg() {
	local log=$1 pcap=$2
	shift 2
	"$XDPBEAT" -I "$pcap" -E output.console.enabled=false -E output.file.enabled=false \
		-E "output.elasticsearch.hosts=[\"127.0.0.1:$ES_PORT\"]" \
		-E output.elasticsearch.backoff.init=100ms -E output.elasticsearch.backoff.max=1s \
		-E xdpbeat.shutdown_timeout=60s -E "queue.disk.path=$SPOOL" "$@" \
		>"$ES_TMP/$log.out" 2>"$ES_TMP/$log.err" &
	XB_PID=$!
	ES_PIDS+=($XB_PID)
}

echo "es_spool: Elasticsearch down, kill -9 xdpbeat, restart both"
es_start
PORT=$ES_PORT
kill "$ES_SERVER_PID"
wait "$ES_SERVER_PID" 2>/dev/null
xb_bg down "$ES_TMP/ev.pcap"
for _ in $(seq 200); do
	[ "$(spool_lines)" -ge $N ] && break
	sleep 0.05
done
sleep 0.3
kill -9 "$XB_PID"
wait "$XB_PID" 2>/dev/null
check "all $N events were on disk before the kill" eq "$(spool_lines)" $N
es_start --port "$PORT"
check "server back on the same port" eq "$ES_PORT" "$PORT"
xb_run replay "$ES_TMP/empty.pcap" -E "queue.disk.path=$SPOOL"
check "replay: xdpbeat exit 0" eq $? 0
check "replay: announced the backlog" grep -q "$N events from before" "$ES_TMP/replay.err"
check "replay: stored $N" eq "$(es_stat docs_stored)" $N
check "replay: nothing stored twice" eq "$(es_stat duplicates_content)" 0
check "replay: events.acked = $N" eq "$(xb_stat replay events.acked)" $N
check "replay: spool emptied" eq "$(cat "$SPOOL"/ack 2>/dev/null | wc -l)" 1
B=$(es_stat bulk_requests)
xb_run again "$ES_TMP/empty.pcap" -E "queue.disk.path=$SPOOL"
check "second restart sends nothing again" eq "$(es_stat bulk_requests)" "$B"

echo "es_spool: kill -9 while bulks are in flight (slow server), restart"
rm -rf "$SPOOL"
es_reset
es_fault '{"mode":"slow","delay":0.7,"count":100}'
xb_bg inflight "$ES_TMP/ev.pcap" -E output.elasticsearch.bulk_max_size=50
sleep 2.5
kill -9 "$XB_PID"
wait "$XB_PID" 2>/dev/null
partial=$(es_stat docs_stored)
check "some but not all stored before the kill ($partial)" eq "$([ "$partial" -gt 0 ] && [ "$partial" -lt $N ] && echo y)" y
es_nofault
xb_run resume "$ES_TMP/empty.pcap" -E "queue.disk.path=$SPOOL"
check "resume: stored exactly $N" eq "$(es_stat docs_stored)" $N
check "resume: nothing stored twice" eq "$(es_stat duplicates_content)" 0
dups=$(xb_stat resume events.duplicates)
check "resume: acked + resent-duplicates cover the rest ($(xb_stat resume events.acked) acked, $dups dup)" \
	ge $(($(xb_stat resume events.acked) + partial)) $N

echo "es_spool: outage in the middle, no restart"
rm -rf "$SPOOL"
es_reset
es_fault '{"mode":"refuse","after":2,"seconds":3}'
xb_run mid "$ES_TMP/ev.pcap" -E "queue.disk.path=$SPOOL" -E output.elasticsearch.bulk_max_size=50
check "mid: exit 0" eq $? 0
check "mid: stored $N" eq "$(es_stat docs_stored)" $N
check "mid: nothing stored twice" eq "$(es_stat duplicates_content)" 0
check "mid: events.acked = $N" eq "$(xb_stat mid events.acked)" $N

echo "es_spool: bounded spool (queue.disk.max_size=64KiB) with the server down: backpressure, nothing lost"
rm -rf "$SPOOL"
es_reset
es_fault '{"mode":"refuse","seconds":3}'
xb_run small "$ES_TMP/ev.pcap" -E "queue.disk.path=$SPOOL" -E queue.disk.max_size=64KiB
check "small: stored $N" eq "$(es_stat docs_stored)" $N
check "small: no queue drops" eq "$(xb_stat small drops.queue_full)" 0

es_done
