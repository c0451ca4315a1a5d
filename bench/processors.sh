#!/usr/bin/env bash
# Processors cost: events/s from one generated HTTP pcap (tests/es_gen_pcap.py)
# to NDJSON on stdout, one core, with no processors (the event writer's text
# as is), with the default config's processors (add_host_metadata unless
# tagged forwarded), and with a
# chain of ten processors with conditions. Prints a markdown table.
#   BENCH_EVENTS (default 50000)  HTTP transactions in the pcap
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
n=${BENCH_EVENTS:-50000}
PCAP=$BENCH_CACHE/proc_http_$n.pcap
[ -s "$PCAP" ] || /usr/bin/python3 tests/es_gen_pcap.py "$PCAP" "$n" --conns 100 --port 8080 >/dev/null
tmp=$(mktemp -d /tmp/xdpbeat-bench-proc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

proto='xdpbeat.protocols:
  - type: http
    ports: [8080]
output.console.enabled: true'
printf '%s\n' "$proto" >"$tmp/none.yml"
# the default config/xdpbeat.yml's processors
printf '%s\n%s\n' "$proto" "$(sed -n '/^processors:/,/^$/p' config/xdpbeat.yml)" >"$tmp/host.yml"
printf '%s\n%s\n' "$proto" 'processors:
  - add_host_metadata: ~
  - add_fields: {target: project, fields: {name: bench, id: 1}}
  - add_tags: {tags: [bench]}
  - add_labels: {labels: {env: prod}}
  - drop_event: {when.range.http.response.status_code.gte: 600}
  - rename: {fields: [{from: user_agent.original, to: ua}], ignore_missing: true}
  - add_network_direction: {source: source.ip, destination: destination.ip, internal_networks: [private, loopback]}
  - community_id: {seed: 3, target: cid}
  - drop_fields: {fields: [client, server], when.regexp.url.path: "^/item/"}
  - add_locale: ~' >"$tmp/chain.yml"

events=$("$XDPBEAT" -E xdpbeat.workers=1 -I "$PCAP" -c "$tmp/none.yml" 2>/dev/null | wc -l)
t_none=$(median_time 5 "$XDPBEAT" -E xdpbeat.workers=1 -I "$PCAP" -c "$tmp/none.yml")
t_host=$(median_time 5 "$XDPBEAT" -E xdpbeat.workers=1 -I "$PCAP" -c "$tmp/host.yml")
t_chain=$(median_time 5 "$XDPBEAT" -E xdpbeat.workers=1 -I "$PCAP" -c "$tmp/chain.yml")

echo "### Processors: pcap -> NDJSON on stdout, one core"
echo
echo "pcap: $n generated HTTP transactions over 100 connections, $events events. Median of 5 runs."
echo
echo "| processors | seconds | events/s | time vs none |"
echo "|---|---|---|---|"
echo "| none (text as written) | $t_none | $(rate "$events" "$t_none") | 1.0x |"
echo "| the default config's (if forwarded: drop host, else add_host_metadata) | $t_host | $(rate "$events" "$t_host") | $(ratio "$t_host" "$t_none")x |"
echo "| ten processors with conditions | $t_chain | $(rate "$events" "$t_chain") | $(ratio "$t_chain" "$t_none")x |"
echo
