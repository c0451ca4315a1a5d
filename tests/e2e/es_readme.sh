#!/usr/bin/env bash
# The README's example queries (tests/es_queries.sh) against the test server
# loaded by xdpbeat from pcaps (HTTP with slow responses, DNS with an
# NXDOMAIN) plus Packetbeat-shaped Redis events.
set -u
. "$(dirname "$0")/../es_lib.sh"

es_start
es_pcap web 100 --conns 4 --slow-every 10
xb_run web "$ES_TMP/web.pcap"
check "100 HTTP events" eq "$(es_count 'xdpbeat-*')" 100
DNS_PCAP=$ES_ROOT/tests/pcaps/dns-udp.pcap
if [ -f "$DNS_PCAP" ]; then
	xb_run dns "$DNS_PCAP" -E 'xdpbeat.protocols=[{type: dns, ports: [53, 5353]}]'
fi
# Redis events as Packetbeat writes them (xdpbeat's redis parser uses the same names)
day=$(date -u +%Y.%m.%d)
{
	for i in 1 2 3; do
		echo '{"create":{"_index":"xdpbeat-'"$day"'"}}'
		echo '{"@timestamp":"2026-01-02T03:04:0'$i'.000Z","type":"redis","status":"OK","method":"GET","resource":"k'$i'","network":{"protocol":"redis","transport":"tcp"},"redis":{"return_value":"v"}}'
	done
	for i in 4 5; do
		echo '{"create":{"_index":"xdpbeat-'"$day"'"}}'
		echo '{"@timestamp":"2026-01-02T03:04:0'$i'.000Z","type":"redis","status":"Error","method":"INCR","resource":"name","network":{"protocol":"redis","transport":"tcp"},"redis":{"error":"ERR value is not an integer or out of range"}}'
	done
} | curl -s -H 'Content-Type: application/x-ndjson' -XPOST "$ES_URL/_bulk" --data-binary @- >/dev/null

Q=$ES_ROOT/tests/es_queries.sh
hits() { $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["hits"]["total"]["value"] if "hits" in d else d.get("count"))'; }
check "slow_http: 10 requests >= 1 s" eq "$("$Q" "$ES_URL" slow_http | hits)" 10
check "slow_http: slowest first, only the asked fields" eq "$("$Q" "$ES_URL" slow_http | $PY -c '
import json, sys
h = json.load(sys.stdin)["hits"]["hits"]
d = [x["_source"]["event"]["duration"] for x in h]
print(d == sorted(d, reverse=True) and all(set(x["_source"]) <= {"@timestamp", "url", "http", "event"} for x in h))')" True
check "http_errors: 10 responses >= 400" eq "$("$Q" "$ES_URL" http_errors | hits)" 10
if [ -f "$DNS_PCAP" ]; then
	check "dns_nxdomain: 1 lookup" eq "$("$Q" "$ES_URL" dns_nxdomain | hits)" 1
	check "dns_nxdomain: the missing name" eq "$("$Q" "$ES_URL" dns_nxdomain | $PY -c 'import json,sys; print(json.load(sys.stdin)["hits"]["hits"][0]["_source"]["dns"]["question"]["name"])')" missing.example.com
fi
check "redis_errors: 2 errors" eq "$("$Q" "$ES_URL" redis_errors | hits)" 2
check "all queries run without a name" eq "$("$Q" "$ES_URL" | grep -c '^## ')" 4
es_done
