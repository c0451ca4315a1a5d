#!/usr/bin/env bash
# Data streams (setup.template.data_stream: true): xdpbeat installs a data
# stream template before its first bulk request, the test server creates the
# stream on the first create, and every event of a committed pcap is stored
# exactly once in the backing index, also when the pcap is sent again. The
# official Python client checks that the server behaves as Elasticsearch does
# with data streams; op_type index or a date pattern with a data stream is a
# configuration error naming the key.
set -u
. "$(dirname "$0")/../es_lib.sh"

PCAP=$ES_ROOT/tests/pcaps/http-wrk.pcap
DS=xdpbeat-default
BACKING=.ds-$DS-$(date -u +%Y.%m.%d)-000001
# the events the pcap makes (console output, no Elasticsearch)
N=$("$XDPBEAT" -I "$PCAP" -E output.console.enabled=true -E output.file.enabled=false 2>/dev/null | wc -l)
check "the pcap makes events ($N)" ge "$N" 100

es_start
DSOPT=(-E setup.template.data_stream=true -E output.elasticsearch.bulk_max_size=50 -E output.elasticsearch.worker=2)

# ---- xdpbeat into a data stream
xb_run ds "$PCAP" "${DSOPT[@]}"
check "xdpbeat exit 0" eq $? 0
check "template installed before the first bulk" eq \
	"$(es_eval 's["log"][0][0] == "template_put" and not s["first_bulk_before_template"]')" True
check "template is a data stream template" eq "$(curl -s "$ES_URL/_index_template/xdpbeat" | $PY -c '
import json, sys
t = json.load(sys.stdin)["index_templates"][0]["index_template"]
print(t.get("data_stream") == {} and t["index_patterns"] == ["xdpbeat-*"])')" True
check "data stream $DS created with backing index $BACKING" eq "$(es_eval 's["data_streams"]')" "{'$DS': ['$BACKING']}"
check "all $N events stored, only in the backing index" eq "$(es_eval 's["indices"]')" "{'$BACKING': $N}"
check "no event stored twice" eq "$(es_eval 's["duplicates_content"] + s["duplicates_id"]')" 0
check "no item failed" eq "$(es_stat items_failed)" 0
check "xdpbeat: $N acked, none failed" eq "$(xb_stat ds events.acked)/$(xb_stat ds events.failed)" "$N/0"
check "every bulk item was a create with an _id" eq "$(es_stat bulk_items)" "$N"
check "log names the data stream" grep -q "data stream $DS" "$ES_TMP/ds.err"
check "_count on the data stream" eq "$(es_count "$DS")" "$N"
check "_count on a pattern matching it" eq "$(es_count 'xdpbeat-*')" "$N"
check "hits name the backing index" eq "$(curl -s "$ES_URL/$DS/_search?size=500" | $PY -c '
import json, sys
h = json.load(sys.stdin)["hits"]["hits"]
print(sorted({x["_index"] for x in h}), len(h))')" "['$BACKING'] $N"
check "GET /_data_stream/$DS" eq "$(curl -s "$ES_URL/_data_stream/$DS" | $PY -c '
import json, sys
d = json.load(sys.stdin)["data_streams"]
s = d[0]
print(len(d), s["name"], s["timestamp_field"]["name"], [i["index_name"] for i in s["indices"]], s["generation"],
      s["template"], s["status"], s["hidden"])')" "1 $DS @timestamp ['$BACKING'] 1 xdpbeat GREEN False"

# the same pcap again (a restart replaying events): 409 on create, still stored once
xb_run again "$PCAP" "${DSOPT[@]}"
check "resend: all $N are duplicates" eq "$(xb_stat again events.duplicates)/$(xb_stat again events.failed)" "$N/0"
check "resend: still $N documents, one backing index" eq "$(es_eval 's["indices"]')" "{'$BACKING': $N}"

# an index op on a data stream fails per item, as in Elasticsearch
check "bulk index op on a data stream: item 400 illegal_argument_exception" eq "$(printf '%s\n' \
	'{"index":{"_index":"'$DS'"}}' '{"@timestamp":"2026-01-01T00:00:00Z"}' \
	'{"create":{"_index":"'$DS'"}}' '{"message":"no timestamp"}' \
	'{"create":{"_index":"'$DS'"}}' '{"@timestamp":"2026-01-01T00:00:00Z"}' |
	curl -s -H 'Content-Type: application/x-ndjson' -XPOST "$ES_URL/_bulk" --data-binary @- | $PY -c '
import json, sys
r = json.load(sys.stdin)
a, b, c = [next(iter(i.values())) for i in r["items"]]
print(r["errors"], a["status"], a["error"]["type"], a["error"]["reason"], a["_index"], sep="|")
print(b["status"], b["error"]["caused_by"]["reason"], b["_index"] == "'$BACKING'", sep="|")
print(c["status"], c["_index"] == "'$BACKING'", sep="|")')" \
	"True|400|illegal_argument_exception|only write ops with an op_type of create are allowed in data streams|$DS
400|data stream timestamp field [@timestamp] is missing|True
201|True"
check "DELETE /_data_stream/$DS" eq "$(curl -s -XDELETE "$ES_URL/_data_stream/$DS")" '{"acknowledged": true}'
check "stream and backing index gone" eq "$(es_eval 's["data_streams"] == {} and s["docs_stored"] == 0')" True
check "GET a missing data stream: 404" eq "$(curl -s -o /dev/null -w '%{http_code}' "$ES_URL/_data_stream/$DS")" 404

# ---- an existing template that is not a data stream template is kept, and said so
es_reset
xb_run plain "$PCAP"
xb_run plainds "$PCAP" "${DSOPT[@]}" -E xdpbeat.shutdown_timeout=5s
check "existing regular template: warned" grep -q "exists and is not a data stream template" "$ES_TMP/plainds.err"
check "existing regular template: as warned, a regular index $DS" eq \
	"$(es_eval 's["data_streams"] == {} and s["indices"].get("'$DS'")')" "$N"
es_reset

# ---- configuration errors
xb_run badop "$PCAP" -E setup.template.data_stream=true -E output.elasticsearch.op_type=index
check "op_type index with a data stream: exit 2" eq $? 2
check "op_type index with a data stream: message names the key" \
	grep -q 'output.elasticsearch.op_type: .*data stream' "$ES_TMP/badop.err"
xb_run baddate "$PCAP" -E setup.template.data_stream=true -E 'output.elasticsearch.index=xdpbeat-%{+yyyy.MM.dd}'
check "date pattern with a data stream: exit 2" eq $? 2
check "date pattern with a data stream: message names the key" \
	grep -q 'output.elasticsearch.index: .*date pattern' "$ES_TMP/baddate.err"
check "-t sees it too" eq "$("$XDPBEAT" -t -E output.elasticsearch.hosts=[x] -E setup.template.data_stream=true \
	-E output.elasticsearch.op_type=index >/dev/null 2>&1; echo $?)" 2
check "nothing was sent by the refused configurations" eq "$(es_stat bulk_requests)" 0

# ---- the official Python client against the server's data streams
if $PY -c 'import elasticsearch' 2>/dev/null; then
	$PY - "$ES_PORT" <<'PYEOF'
import sys
import warnings
import elasticsearch
from elasticsearch import Elasticsearch, helpers

warnings.simplefilter("ignore")
fails = 0


def check(what, ok):
    global fails
    print("  %s %s" % ("ok  " if ok else "FAIL", what))
    fails += 0 if ok else 1


BadRequest = getattr(elasticsearch, "BadRequestError", None) or elasticsearch.RequestError
es = Elasticsearch("http://127.0.0.1:%s" % sys.argv[1])
es.indices.put_index_template(name="logs-demo", body={
    "index_patterns": ["logs-demo-*"], "data_stream": {}, "priority": 200,
    "template": {"mappings": {"properties": {"@timestamp": {"type": "date"}, "n": {"type": "long"}}}}})
r = es.index(index="logs-demo-a", document={"@timestamp": "2026-02-03T04:05:06Z", "n": 1, "msg": "hello"})
check("client: index without an id into a data stream is a create", r["result"] == "created"
      and r["_index"].startswith(".ds-logs-demo-a-") and r["_index"].endswith("-000001"))
ok, errs = helpers.bulk(es, ({"_op_type": "create", "_index": "logs-demo-a",
                              "_source": {"@timestamp": "2026-02-03T04:05:%02dZ" % i, "n": i}} for i in range(2, 12)))
check("client: bulk helper, 10 creates", ok == 10 and not errs)
es.indices.refresh(index="logs-demo-a")
r = es.search(index="logs-demo-a", query={"term": {"n": 1}})
check("client: search the data stream", r["hits"]["total"]["value"] == 1
      and r["hits"]["hits"][0]["_index"].startswith(".ds-logs-demo-a-")
      and r["hits"]["hits"][0]["_source"]["msg"] == "hello")
check("client: count through a pattern", es.count(index="logs-demo-*")["count"] == 11)
d = es.indices.get_data_stream(name="logs-demo-a")["data_streams"]
check("client: get_data_stream", len(d) == 1 and d[0]["name"] == "logs-demo-a" and d[0]["template"] == "logs-demo"
      and d[0]["indices"][0]["index_name"] == r["hits"]["hits"][0]["_index"])
try:
    es.index(index="logs-demo-a", id="x1", document={"@timestamp": "2026-02-03T04:05:06Z"})
    check("client: index with an id (op_type index) is refused", False)
except BadRequest as e:
    check("client: index with an id (op_type index) is refused", "op_type of create" in str(e))
try:
    es.create(index="logs-demo-a", id="x2", document={"n": 5})
    check("client: a document without @timestamp is refused", False)
except BadRequest as e:
    check("client: a document without @timestamp is refused", "mapper_parsing_exception" in str(e))
try:
    es.indices.delete_index_template(name="logs-demo")
    check("client: a template in use cannot be deleted", False)
except BadRequest:
    check("client: a template in use cannot be deleted", True)
es.indices.delete_data_stream(name="logs-demo-a")
try:
    es.indices.get_data_stream(name="logs-demo-a")
    check("client: deleted data stream is gone", False)
except elasticsearch.NotFoundError:
    check("client: deleted data stream is gone", True)
es.indices.create_data_stream(name="logs-demo-b")
check("client: create_data_stream", es.indices.get_data_stream(name="logs-demo-*")["data_streams"][0]["name"]
      == "logs-demo-b")
sys.exit(1 if fails else 0)
PYEOF
	[ $? -eq 0 ] || ES_FAILS=$((ES_FAILS + 1))
else
	echo "  skip python3-elasticsearch missing (scripts/install-deps.sh)"
fi
es_done
