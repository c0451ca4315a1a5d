#!/usr/bin/env bash
# Elasticsearch output under faults injected by the test server: every event
# ends up stored exactly once (sent = stored), resends of events that were in
# fact stored are counted as duplicates, rejected events are counted failed
# (or go to the dead-letter index), wrong credentials give a clear error and
# a bounded number of attempts.
set -u
. "$(dirname "$0")/../es_lib.sh"

N=200
es_pcap small $N --conns 4
es_pcap big 1000 --conns 10
es_start

# run NAME FAULT [-E ...]: reset the server, arm FAULT, run xdpbeat on small.pcap
run() {
	local name=$1 fault=$2
	shift 2
	es_reset
	[ -n "$fault" ] && es_fault "$fault"
	xb_run "$name" "${PCAP:-$ES_TMP/small.pcap}" "$@"
	XB_RC=$?
	XB_N=${EXPECT:-$N}
}

# all_stored NAME: the exact-count checks every scenario shares
all_stored() {
	check "$1: xdpbeat exit 0" eq "$XB_RC" 0
	check "$1: stored = sent = $XB_N" eq "$(es_stat docs_stored)" "$XB_N"
	check "$1: nothing stored twice" eq "$(es_stat duplicates_content)" 0
	check "$1: events.acked = $XB_N" eq "$(xb_stat "$1" events.acked)" "$XB_N"
	check "$1: events.failed = 0" eq "$(xb_stat "$1" events.failed)" 0
}

echo "es_faults: down at start (listener closed 3 s)"
es_reset
es_fault '{"mode":"refuse","seconds":3}'
t0=$(date +%s)
xb_run down_start "$ES_TMP/small.pcap"
XB_RC=$? XB_N=$N
all_stored down_start
check "down_start: waited for the server" ge $(($(date +%s) - t0)) 2
check "down_start: connection errors counted" ge "$(xb_stat down_start output.errors)" 1
check "down_start: template before first bulk" eq "$(es_eval 's["log"][0][0] == "template_put"')" True
show_err down_start 3

echo "es_faults: down in the middle (after 3 bulks, 30 s, as the issue asks)"
t0=$(date +%s)
EXPECT=1000 PCAP=$ES_TMP/big.pcap run down_mid '{"mode":"refuse","after":3,"seconds":30}' \
	-E output.elasticsearch.bulk_max_size=50 -E queue.mem.flush.min_events=50
all_stored down_mid
check "down_mid: the outage lasted 30 s" ge $(($(date +%s) - t0)) 30
check "down_mid: outage seen (output.errors)" ge "$(xb_stat down_mid output.errors)" 1
check "down_mid: >= 20 bulks" ge "$(es_stat bulk_requests)" 20

echo "es_faults: 429 storm (6 whole requests)"
run storm429 '{"mode":"429","count":6}'
all_stored storm429
check "storm429: 6 faults served" eq "$(es_stat faults_applied)" 6
check "storm429: output.errors >= 6" ge "$(xb_stat storm429 output.errors)" 6
check "storm429: events.retried = 6 x $N" eq "$(xb_stat storm429 events.retried)" $((6 * N))

echo "es_faults: 503 (3 whole requests)"
run e503 '{"mode":"503","count":3}'
all_stored e503
check "e503: events.retried = 3 x $N" eq "$(xb_stat e503 events.retried)" $((3 * N))

echo "es_faults: partial item failures (5 items x 3 bulks answered 429)"
run items429 '{"mode":"fail_items","items":5,"status":429,"count":3}'
all_stored items429
check "items429: events.retried = 15" eq "$(xb_stat items429 events.retried)" 15

echo "es_faults: rejected items (4 items answered 400 mapper_parsing_exception)"
EXPECT=$((N - 4)) run items400 '{"mode":"fail_items","items":4,"status":400,"count":1}'
check "items400: stored = $((N - 4))" eq "$(es_stat docs_stored)" $((N - 4))
check "items400: events.failed = 4" eq "$(xb_stat items400 events.failed)" 4
check "items400: events.acked = $((N - 4))" eq "$(xb_stat items400 events.acked)" $((N - 4))
check "items400: reason logged" grep -q 'rejected.*400.*mapper_parsing_exception' "$ES_TMP/items400.err"

echo "es_faults: rejected items go to the dead-letter index"
run dlq '{"mode":"fail_items","items":4,"status":400,"count":1}' -E output.elasticsearch.dead_letter_index=deadletter
check "dlq: $((N - 4)) in xdpbeat-*" eq "$(es_count 'xdpbeat-*')" $((N - 4))
check "dlq: 4 in deadletter" eq "$(es_count deadletter)" 4
check "dlq: events.failed = 0" eq "$(xb_stat dlq events.failed)" 0
check "dlq: events.dead_letter = 4" eq "$(xb_stat dlq events.dead_letter)" 4
check "dlq: events.acked = $((N - 4))" eq "$(xb_stat dlq events.acked)" $((N - 4))
check "dlq: reason kept" eq "$(curl -s "$ES_URL/deadletter/_search" -H 'Content-Type: application/json' \
	-d '{"query":{"term":{"error.type":"mapper_parsing_exception"}}}' |
	$PY -c 'import json,sys; h=json.load(sys.stdin)["hits"]; print(h["total"]["value"], json.loads(h["hits"][0]["_source"]["message"])["type"])')" "4 http"

echo "es_faults: connection cut mid-response (docs were stored)"
run cut '{"mode":"close_mid_response","count":1}'
all_stored cut
check "cut: events.duplicates = $N (resent, already there)" eq "$(xb_stat cut events.duplicates)" $N

echo "es_faults: malformed responses (2, docs stored)"
run malformed '{"mode":"malformed","count":2}'
all_stored malformed
check "malformed: events.duplicates = $N" eq "$(xb_stat malformed events.duplicates)" $N
check "malformed: logged" grep -q 'malformed _bulk response' "$ES_TMP/malformed.err"

echo "es_faults: malformed response from a proxy (nothing stored)"
run proxy '{"mode":"malformed","count":1,"store":false}'
all_stored proxy
check "proxy: events.duplicates = 0" eq "$(xb_stat proxy events.duplicates)" 0

echo "es_faults: slow server (3 s) with timeout 1 s"
run slow '{"mode":"slow","delay":3,"count":1}' -E output.elasticsearch.timeout=1s
all_stored slow
check "slow: timeout logged" grep -qi 'timeout\|timed out' "$ES_TMP/slow.err"
sleep 2 # the slow handler stores its (stale) bulk late: let it finish before the next reset

echo "es_faults: hanging server with timeout 1 s"
run hang '{"mode":"hang","count":1}' -E output.elasticsearch.timeout=1s
all_stored hang

echo "es_faults: 413 request too large -> split"
run split '{"mode":"413","count":1}'
all_stored split

echo "es_faults: max_retries=2 gives up after 3 attempts (503 x 5)"
EXPECT=0 run giveup '{"mode":"503","count":5}' -E output.elasticsearch.max_retries=2
check "giveup: nothing stored" eq "$(es_stat docs_stored)" 0
check "giveup: events.failed = $N" eq "$(xb_stat giveup events.failed)" $N
check "giveup: 3 bulk attempts" eq "$(es_stat faults_applied)" 3
check "giveup: reason logged" grep -q 'max_retries: gave up after 3 attempts' "$ES_TMP/giveup.err"

echo "es_faults: document_id=auto: a cut answer makes Elasticsearch store duplicates (why ids are content hashes)"
run autoid '{"mode":"close_mid_response","count":1}' -E output.elasticsearch.document_id=auto
check "autoid: every event stored twice" eq "$(es_stat duplicates_content)" $N
check "autoid: xdpbeat cannot tell (0 duplicates counted)" eq "$(xb_stat autoid events.duplicates)" 0

echo "es_faults: no privilege for templates (403): events flow without it"
run notpl '{"mode":"403","path":"_index_template","count":10}'
all_stored notpl
check "notpl: no template" eq "$(es_eval 'len(s["templates"])')" 0
check "notpl: told why" grep -q '403.*no privilege to manage index templates' "$ES_TMP/notpl.err"

echo "es_faults: two hosts, one of them down: the other takes everything at once"
es_reset
DEAD=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
t0=$(date +%s%N)
xb_run failover "$ES_TMP/big.pcap" -E "output.elasticsearch.hosts=[\"127.0.0.1:$DEAD\", \"http://127.0.0.1:$ES_PORT/\"]" \
	-E output.elasticsearch.bulk_max_size=100 -E output.elasticsearch.backoff.init=8s -E output.elasticsearch.backoff.max=10s
XB_RC=$? XB_N=1000
all_stored failover
check "failover: no backoff pauses (< 4 s, a pause is >= 4 s)" le $((($(date +%s%N) - t0) / 1000000)) 4000

echo "es_faults: 2 workers share a batch"
run workers '' -E output.elasticsearch.worker=2
all_stored workers
check "workers: 2 bulk requests for one batch" eq "$(es_stat bulk_requests)" 2

kill "$ES_SERVER_PID" 2>/dev/null
echo "es_faults: wrong credentials (server wants elastic:secret)"
es_start --user elastic:secret --api-key kid:kval
t0=$(date +%s)
xb_run badauth "$ES_TMP/small.pcap" -E xdpbeat.shutdown_timeout=3s \
	-E output.elasticsearch.username=elastic -E output.elasticsearch.password=wrong
check "badauth: exits after the shutdown timeout" le $(($(date +%s) - t0)) 10
check "badauth: nothing stored" eq "$(es_stat docs_stored)" 0
check "badauth: clear error" grep -q '401.*username/password/api_key' "$ES_TMP/badauth.err"
check "badauth: bounded attempts (<= 12 in 3 s)" le "$(es_stat auth_failures)" 12
check "badauth: message not repeated per attempt" le "$(grep -c 'HTTP 401' "$ES_TMP/badauth.err")" 3
show_err badauth 2
xb_run badauth2 "$ES_TMP/small.pcap" -E xdpbeat.shutdown_timeout=2s -E setup.template.enabled=false \
	-E output.elasticsearch.api_key=kid:wrong
check "badauth (bulk): clear error" grep -q 'rejected the credentials (HTTP 401' "$ES_TMP/badauth2.err"
check "badauth (bulk): nothing stored" eq "$(es_stat docs_stored)" 0
check "badauth (bulk): events kept, not failed" eq "$(xb_stat badauth2 events.failed)" 0
check "badauth (bulk): output.auth_errors counted" ge "$(xb_stat badauth2 output.auth_errors)" 1
show_err badauth2 1
xb_run goodauth "$ES_TMP/small.pcap" -E output.elasticsearch.username=elastic -E output.elasticsearch.password=secret
check "basic auth: stored $N" eq "$(es_stat docs_stored)" $N
es_reset
xb_run apikey "$ES_TMP/small.pcap" -E output.elasticsearch.api_key=kid:kval
check "api_key: stored $N" eq "$(es_stat docs_stored)" $N

es_done
