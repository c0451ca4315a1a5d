#!/usr/bin/env bash
# pcap -> xdpbeat -> Elasticsearch test server: every event arrives exactly
# once, in the index named after its own day (UTC), the template is installed
# before the first bulk and types every field (no mapping errors).
set -u
. "$(dirname "$0")/../es_lib.sh"

N=300
# starts 2026-01-02T23:59:59Z; every 5th response takes 1.5 s: crosses midnight
es_pcap day 300 --start 1767398399 --slow-every 5 --conns 6
es_start

echo "es_pipeline: $N HTTP transactions over midnight, gzip on"
xb_run run1 "$ES_TMP/day.pcap" -E output.elasticsearch.bulk_max_size=50
check "xdpbeat exit 0" eq $? 0
check "server stored every event" eq "$(es_stat docs_stored)" $N
check "no event stored twice (content)" eq "$(es_stat duplicates_content)" 0
check "no _id resent" eq "$(es_stat duplicates_id)" 0
check "events.acked = $N" eq "$(xb_stat run1 events.acked)" $N
check "events.failed = 0" eq "$(xb_stat run1 events.failed)" 0
check "bulk requests gzip" eq "$(es_eval 's["bulk_gzip"] == s["bulk_requests"] > 1')" True
check "template installed" eq "$(es_eval '"xdpbeat" in s["templates"]')" True
check "template before first bulk" eq "$(es_eval 's["log"][0][0] == "template_put" and not s["first_bulk_before_template"]')" True
check "no mapping errors" eq "$(es_stat mapping_errors)" 0
unm=$(es_eval '",".join(s["unmapped_fields"])')
[ -n "$unm" ] && echo "       note: fields not in the template: $unm"
check "two daily indices" eq "$(es_eval 'sorted(s["indices"])')" "['xdpbeat-2026.01.02', 'xdpbeat-2026.01.03']"
check "index day = @timestamp day (UTC)" eq "$(curl -s "$ES_URL/_test/docs" | $PY -c '
import json, sys
d = json.load(sys.stdin)
bad = [n for n, docs in d.items() for x in docs if x["@timestamp"][:10].replace("-", ".") != n[len("xdpbeat-"):]]
print(len(bad))')" 0
check "search finds /item/7 once" eq "$(curl -s "$ES_URL/xdpbeat-*/_search" -H 'Content-Type: application/json' \
	-d '{"query":{"term":{"url.path":"/item/7"}}}' | $PY -c 'import json,sys; print(json.load(sys.stdin)["hits"]["total"]["value"])')" 1

echo "es_pipeline: same pcap again (op_type create + content ids): duplicates acknowledged, nothing stored twice"
xb_run run2 "$ES_TMP/day.pcap" -E output.elasticsearch.compression_level=0
check "still $N stored" eq "$(es_stat docs_stored)" $N
check "events.duplicates = $N" eq "$(xb_stat run2 events.duplicates)" $N
check "events.acked = $N" eq "$(xb_stat run2 events.acked)" $N
check "template not put again (exists, overwrite off)" eq "$(es_stat template_puts)" 1

echo "es_pipeline: custom index, op_type index, overwrite template, 2 workers, bulk of 20"
es_reset
xb_run run3 "$ES_TMP/day.pcap" -E 'output.elasticsearch.index=net-%{+yyyy}' -E output.elasticsearch.op_type=index \
	-E setup.template.name=net -E setup.template.pattern='net-*' -E setup.template.overwrite=true \
	-E output.elasticsearch.worker=2 -E output.elasticsearch.bulk_max_size=20
check "stored in net-2026" eq "$(es_count net-2026)" $N
check "template net installed" eq "$(es_eval 's["templates"]')" "['net']"
check ">= 15 bulk requests" ge "$(es_stat bulk_requests)" 15

echo "es_pipeline: custom headers and an ingest pipeline name"
es_reset
xb_run run5 "$ES_TMP/day.pcap" -E 'output.elasticsearch.headers={X-Team: netops, X-Env: test}' \
	-E output.elasticsearch.pipeline=geoip
check "headers sent" eq "$(es_eval 's["last_bulk_headers"].get("x-team"), s["last_bulk_headers"].get("x-env")')" "('netops', 'test')"
check "content type ndjson" eq "$(es_eval 's["last_bulk_headers"].get("content-type")')" "application/x-ndjson"
check "pipeline named on every item" eq "$(es_eval 's["pipelines"]')" "{'geoip': $N}"

echo "es_pipeline: proxy_url (the test server plays the proxy), proxy_disable against a bad http_proxy"
es_reset
xb_run proxy "$ES_TMP/day.pcap" -E 'output.elasticsearch.hosts=["http://es.invalid:9200"]' \
	-E "output.elasticsearch.proxy_url=http://127.0.0.1:$ES_PORT"
check "via proxy: stored $N" eq "$(es_stat docs_stored)" $N
check "via proxy: requests in absolute form" ge "$(es_stat proxied_requests)" 2
es_reset
http_proxy=http://127.0.0.1:1 HTTP_PROXY=http://127.0.0.1:1 no_proxy= NO_PROXY= \
	xb_run noproxy "$ES_TMP/day.pcap" -E output.elasticsearch.proxy_disable=true
check "proxy_disable: stored $N" eq "$(es_stat docs_stored)" $N
check "proxy_disable: direct" eq "$(es_stat proxied_requests)" 0

echo "es_pipeline: setup.template.enabled=false"
es_reset
xb_run run4 "$ES_TMP/day.pcap" -E setup.template.enabled=false
check "no template" eq "$(es_eval 'len(s["templates"])')" 0
check "stored" eq "$(es_stat docs_stored)" $N

es_done
