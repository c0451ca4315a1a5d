#!/usr/bin/env bash
# The README's example queries (tests/es_queries.sh) against the test server
# loaded by xdpbeat from pcaps (HTTP with slow responses, DNS with an
# NXDOMAIN, Redis with error replies).
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
REDIS_PCAP=$ES_ROOT/tests/pcaps/redis.pcap
xb_run redis "$REDIS_PCAP" -E 'xdpbeat.protocols=[{type: redis, ports: [6379, 16379, 26379]}]'

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
check "redis_errors: 3 errors" eq "$("$Q" "$ES_URL" redis_errors | hits)" 3
check "redis_errors: the commands and their errors" eq "$("$Q" "$ES_URL" redis_errors | $PY -c '
import json, sys
h = json.load(sys.stdin)["hits"]["hits"]
print(sorted((x["_source"]["method"], x["_source"]["redis"]["error"].split()[0]) for x in h))')" \
	"[('EVAL', 'MYERR'), ('INCR', 'ERR'), ('LPUSH', 'WRONGTYPE')]"
check "all queries run without a name" eq "$("$Q" "$ES_URL" | grep -c '^## ')" 4
es_done
