# Helpers for the Elasticsearch e2e tests (tests/e2e/es_*.sh): sourced, not run.
# Starts tests/es_server.py on a free port, runs xdpbeat from a pcap into it,
# reads counters from both sides. Every process started here is killed on exit
# (ES_KEEP=1 keeps the temporary directory with the logs).

ES_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${XDPBEAT:=$ES_ROOT/build/xdpbeat}"
PY=/usr/bin/python3
if [ ! -s "$XDPBEAT" ] || ! head -c 4 "$XDPBEAT" | grep -q ELF; then
	echo "es tests: $XDPBEAT is not a built binary (run make)"
	exit 1
fi
ES_TMP=$(mktemp -d /tmp/xdpbeat-es-e2e.XXXXXX)
ES_PIDS=()
ES_FAILS=0

es_cleanup() {
	for p in "${ES_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${ES_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	[ -n "${ES_KEEP:-}" ] && echo "kept $ES_TMP" || rm -rf "$ES_TMP"
}
trap es_cleanup EXIT

# es_start [server args...]: start the test server; sets ES_PORT, ES_URL.
es_start() {
	rm -f "$ES_TMP/port"
	$PY "$ES_ROOT/tests/es_server.py" --port-file "$ES_TMP/port" "$@" >>"$ES_TMP/server.log" 2>&1 &
	ES_PIDS+=($!)
	ES_SERVER_PID=$!
	for _ in $(seq 100); do
		[ -s "$ES_TMP/port" ] && break
		sleep 0.05
	done
	ES_PORT=$(cat "$ES_TMP/port")
	ES_URL="http://127.0.0.1:$ES_PORT"
}

es_reset() { curl -s -XPOST "$ES_URL/_test/reset" >/dev/null; }
es_fault() { curl -s -XPOST "$ES_URL/_fault" -H 'Content-Type: application/json' -d "$1" >/dev/null; }
es_nofault() { curl -s -XDELETE "$ES_URL/_fault" >/dev/null; }

# es_stat KEY: a counter from /_test/stats
es_stat() {
	curl -s "$ES_URL/_test/stats" | $PY -c "import json,sys; print(json.load(sys.stdin).get(sys.argv[1]))" "$1"
}

# es_eval EXPR: python expression over s (the /_test/stats dict)
es_eval() {
	curl -s "$ES_URL/_test/stats" | $PY -c "import json,sys; s=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"
}

# es_count INDEX_PATTERN
es_count() {
	curl -s "$ES_URL/$1/_count" | $PY -c "import json,sys; print(json.load(sys.stdin).get('count', -1))"
}

# es_pcap NAME N [generator args]: make tests pcap $ES_TMP/NAME.pcap
es_pcap() {
	local name=$1 n=$2
	shift 2
	$PY "$ES_ROOT/tests/es_gen_pcap.py" "$ES_TMP/$name.pcap" "$n" "$@"
}

# xb_run LOG PCAP [-E k=v ...]: run xdpbeat from a pcap into the test server.
xb_run() {
	local log=$1 pcap=$2
	shift 2
	"$XDPBEAT" -I "$pcap" \
		-E output.console.enabled=false -E output.file.enabled=false \
		-E "output.elasticsearch.hosts=[\"127.0.0.1:$ES_PORT\"]" \
		-E output.elasticsearch.backoff.init=100ms -E output.elasticsearch.backoff.max=1s \
		-E xdpbeat.shutdown_timeout=60s \
		"$@" >"$ES_TMP/$log.out" 2>"$ES_TMP/$log.err"
	local rc=$?
	cp "$ES_TMP/$log.err" "$ES_TMP/last.err"
	return $rc
}

# xb_stat LOG NAME: a counter from xdpbeat's final stats line (0 if absent)
xb_stat() {
	local v
	v=$(grep 'stats (final)' "$ES_TMP/$1.err" | tail -1 | grep -o " $2=[0-9]*" | cut -d= -f2)
	echo "${v:-0}"
}

check() {
	local what=$1
	shift
	if "$@"; then
		echo "  ok   $what"
	else
		echo "  FAIL $what"
		ES_FAILS=$((ES_FAILS + 1))
	fi
}

eq() { [ "$1" = "$2" ] || { echo "       expected '$2', got '$1'" >&2; return 1; }; }
le() { [ "$1" -le "$2" ] || { echo "       expected <= $2, got $1" >&2; return 1; }; }
ge() { [ "$1" -ge "$2" ] || { echo "       expected >= $2, got $1" >&2; return 1; }; }

show_err() { sed 's/^/       | /' "$ES_TMP/$1.err" | grep -v 'stats (final)' | head -"${2:-8}"; }

es_done() {
	if [ "$ES_FAILS" -ne 0 ]; then
		echo "$ES_FAILS check(s) failed; server log:"
		tail -20 "$ES_TMP/server.log"
		exit 1
	fi
	exit 0
}
