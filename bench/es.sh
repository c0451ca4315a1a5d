#!/usr/bin/env bash
# Elasticsearch output throughput: events/s from one large pcap into the
# test server (tests/es_server.py), gzip off and on, next to the file output,
# same pcap, same run. Prints a markdown table.
#   BENCH_EVENTS (default 50000)  HTTP transactions in the generated pcap
#   XDPBEAT (default build/xdpbeat)
# The test server (run with --fast: no mapping checks) is Python and one
# process: it, not xdpbeat, bounds the ES rows; "xdpbeat CPU s" is what
# xdpbeat itself spent (user+sys). "wire bytes/event" = bulk request bodies +
# request headers as received by the server, divided by the events.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${XDPBEAT:=$ROOT/build/xdpbeat}"
: "${BENCH_EVENTS:=50000}"
PY=/usr/bin/python3
TMP=$(mktemp -d /tmp/xdpbeat-es-bench.XXXXXX)
SRV=
trap '[ -n "$SRV" ] && kill $SRV 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT

$PY "$ROOT/tests/es_gen_pcap.py" "$TMP/big.pcap" "$BENCH_EVENTS" --conns 200
$PY "$ROOT/tests/es_server.py" --fast --port-file "$TMP/port" >"$TMP/server.log" 2>&1 &
SRV=$!
for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
PORT=$(cat "$TMP/port")
URL=http://127.0.0.1:$PORT

now() { date +%s.%N; }
elapsed() { $PY -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$1" "$2"; }
stat() { curl -s "$URL/_test/stats" | $PY -c "import json,sys; s=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
row() { # label seconds events wire_bytes bulks  (CPU from $TMP/cpu)
	$PY -c "import sys; l,t,n,b,k,c=sys.argv[1:]; t=float(t); n=int(n); c=sum(map(float, c.split()))
print('| %s | %d | %.2f | %.0f | %.2f | %s | %s |' % (l, n, t, n / t if t else 0, c, ('%.0f' % (int(b) / n)) if n else '-', k))" "$@" "$(cat "$TMP/cpu")"
}
TIME="/usr/bin/time -f %U_%S -o $TMP/cpu.raw"
cpu() { tr _ ' ' <"$TMP/cpu.raw" >"$TMP/cpu"; }

echo "### Elasticsearch output: events/s into the test server, next to the file output"
echo
echo "One pcap of $BENCH_EVENTS HTTP transactions through \`xdpbeat -I\` into each output, one after the other."
echo "The Python test server (one process, mapping checks off) bounds the Elasticsearch rows; *xdpbeat CPU s*"
echo "is what xdpbeat itself spent (user + system), *wire bytes/event* the bulk bodies and headers the server"
echo "received over the events."
echo
echo "| output | events | seconds | events/s | xdpbeat CPU s | wire bytes/event | bulk requests |"
echo "|---|---:|---:|---:|---:|---:|---:|"

mkdir -p "$TMP/file"
t0=$(now)
$TIME "$XDPBEAT" -E xdpbeat.workers=1 -I "$TMP/big.pcap" -E output.console.enabled=false -E "output.file.path=$TMP/file" \
	-E output.file.rotate_every_kb=10000000 2>"$TMP/file.err" >/dev/null
t1=$(now)
cpu
n=$(cat "$TMP"/file/* | wc -l)
row "file (NDJSON)" "$(elapsed "$t0" "$t1")" "$n" "$(cat "$TMP"/file/* | wc -c)" "-"

es_run() { # label -E...
	local label=$1
	shift
	curl -s -XPOST "$URL/_test/reset" >/dev/null
	t0=$(now)
	$TIME "$XDPBEAT" -E xdpbeat.workers=1 -I "$TMP/big.pcap" -E output.console.enabled=false -E output.file.enabled=false \
		-E "output.elasticsearch.hosts=[\"127.0.0.1:$PORT\"]" -E xdpbeat.shutdown_timeout=600s \
		-E queue.mem.events=8192 -E queue.mem.flush.min_events=1600 "$@" 2>"$TMP/es.err" >/dev/null
	t1=$(now)
	cpu
	row "$label" "$(elapsed "$t0" "$t1")" "$(stat 's["docs_stored"]')" \
		"$(stat 's["bulk_bytes"] + s["bulk_header_bytes"]')" "$(stat 's["bulk_requests"]')"
}

es_run "elasticsearch, gzip off" -E output.elasticsearch.compression_level=0
es_run "elasticsearch, gzip level 1" -E output.elasticsearch.compression_level=1
es_run "elasticsearch, gzip level 6" -E output.elasticsearch.compression_level=6
es_run "elasticsearch, gzip 1, 2 workers, bulk 800" -E output.elasticsearch.compression_level=1 \
	-E output.elasticsearch.worker=2 -E output.elasticsearch.bulk_max_size=800
es_run "elasticsearch, gzip 1, disk spool" -E output.elasticsearch.compression_level=1 -E "queue.disk.path=$TMP/spool"
echo
echo "pcap: $BENCH_EVENTS HTTP transactions (tests/es_gen_pcap.py); $(nproc) CPUs; test server: Python $($PY -c 'import platform; print(platform.python_version())')."
echo
echo "Command: \`make bench\` (bench/es.sh; \`BENCH_EVENTS\` changes the size)."
echo
