#!/usr/bin/env bash
# The index template types what xdpbeat emits: every pcap in tests/pcaps goes
# through xdpbeat (all registered protocols, raw request/response on) into the
# test server, which checks each field against the template's mapping. A field
# of the wrong type (a mapping error: Elasticsearch would reject the event)
# or one the template does not map (by name or dynamic template) fails the test.
set -u
. "$(dirname "$0")/../es_lib.sh"

declare -A PORTS=(
	[http]="80, 8080, 8000, 5000, 8002" [dns]="53, 5353, 15353" [memcache]="11211, 11212"
	[redis]="6379, 16379, 26379" [mysql]="3306" [pgsql]="5432" [mongodb]="27017" [thrift]="9090"
)
protos=""
for p in "${!PORTS[@]}"; do
	entry="{type: $p, ports: [${PORTS[$p]}], send_request: true, send_response: true}"
	"$XDPBEAT" -t -E "xdpbeat.protocols=[$entry]" >/dev/null 2>&1 && protos="$protos${protos:+, }$entry"
done
echo "es_template: protocols: $(echo "$protos" | grep -o 'type: [a-z]*' | cut -d' ' -f2 | tr '\n' ' ')"
es_start
n=0
for pcap in "$ES_ROOT"/tests/pcaps/*.pcap; do
	[ -e "$pcap" ] || continue
	xb_run "pcap$n" "$pcap" -E "xdpbeat.protocols=[$protos]"
	check "$(basename "$pcap"): xdpbeat exit 0" eq $? 0
	n=$((n + 1))
done
es_pcap gen 50 --slow-every 7
xb_run gen "$ES_TMP/gen.pcap" -E "xdpbeat.protocols=[$protos]"
stored=$(es_stat docs_stored)
check "events stored ($stored)" ge "$stored" 50
check "no mapping errors (wrong field types)" eq "$(es_stat mapping_errors)" 0
if [ "$(es_stat mapping_errors)" != 0 ]; then
	grep -h 'rejected' "$ES_TMP"/*.err | sort | uniq -c | head -20
fi
check "nothing failed" eq "$(cat "$ES_TMP"/*.err | grep -o 'events.failed=[0-9]*' | cut -d= -f2 | awk '{s += $1} END {print s + 0}')" 0
unm=$(es_eval '" ".join(s["unmapped_fields"])')
check "every field mapped by config/xdpbeat.template.json (a property or a dynamic template)" eq "$unm" ""
es_done
