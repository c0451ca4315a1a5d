#!/usr/bin/env bash
# A protocol's `index` routes its events (libbeat's per-input index): HTTP
# with index web-%{+yyyy.MM.dd} lands in web-<date>, DNS without one in the
# output's index, and no document stored carries @metadata. The console
# output shows the index as @metadata.raw_index, after beat/type/version, in
# one @metadata object. keep_null changes nothing: xdpbeat writes no null
# fields (libbeat drops nulls before the processors run, so theirs stay).
set -u
. "$(dirname "$0")/../es_lib.sh"

protos='[{type: http, ports: [8080], index: "web-%{+yyyy.MM.dd}", keep_null: false}, {type: dns, ports: [5353]}]'
http=$("$XDPBEAT" -I "$ES_ROOT/tests/pcaps/http-curl.pcap" -E "xdpbeat.protocols=$protos" 2>/dev/null | wc -l)
dns=$("$XDPBEAT" -I "$ES_ROOT/tests/pcaps/dns-udp.pcap" -E "xdpbeat.protocols=$protos" 2>/dev/null | wc -l)
check "events to send (http $http, dns $dns)" [ "$http" -gt 0 -a "$dns" -gt 0 ]

"$XDPBEAT" -I "$ES_ROOT/tests/pcaps/http-curl.pcap" -E "xdpbeat.protocols=$protos" 2>/dev/null >"$ES_TMP/console.ndjson"
check "console: one @metadata with raw_index after beat/type/version" eq "$($PY - "$ES_TMP/console.ndjson" <<'PYEOF'
import json, sys

def no_dups(pairs):
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), keys
    return dict(pairs)

ok = True
for line in open(sys.argv[1]):
    meta = json.loads(line, object_pairs_hook=no_dups)["@metadata"]
    ok = ok and list(meta) == ["beat", "type", "version", "raw_index"] and meta["raw_index"] == "web-%{+yyyy.MM.dd}"
print(ok)
PYEOF
)" True

es_start
xb_run http "$ES_ROOT/tests/pcaps/http-curl.pcap" -E "xdpbeat.protocols=$protos"
check "http run: exit 0" eq $? 0
xb_run dns "$ES_ROOT/tests/pcaps/dns-udp.pcap" -E "xdpbeat.protocols=$protos"
check "dns run: exit 0" eq $? 0
curl -s -XPOST "$ES_URL/_refresh" >/dev/null
check "HTTP events in web-* ($http)" eq "$(es_count 'web-*')" "$http"
check "DNS events in xdpbeat-* ($dns)" eq "$(es_count 'xdpbeat-*')" "$dns"
check "web-* index named by the events' date" eq "$(curl -s "$ES_URL/web-*/_search?size=1" |
	$PY -c 'import json,sys; h=json.load(sys.stdin)["hits"]["hits"][0]; print(h["_index"] == "web-" + h["_source"]["@timestamp"][:10].replace("-", "."))')" True
check "no stored document has @metadata" eq "$(curl -s "$ES_URL/web-*,xdpbeat-*/_search?size=1000" |
	$PY -c 'import json,sys; h=json.load(sys.stdin)["hits"]["hits"]; print(len(h) > 0 and not any("@metadata" in x["_source"] for x in h))')" True
check "every event acked" eq "$(($(xb_stat http events.acked) + $(xb_stat dns events.acked)))" $((http + dns))

null_fields=$(cat "$ES_ROOT"/tests/golden/*.ndjson | $PY -c '
import json, sys
def walk(v, p):
    if isinstance(v, dict):
        for k, x in v.items():
            if x is None:
                print(p + k)
            walk(x, p + k + ".")
for line in sys.stdin:
    walk(json.loads(line), "")' | sort -u | tr '\n' ' ')
check "no null-valued field in any golden event (keep_null has nothing to keep)" eq "$null_fields" ""
es_done
