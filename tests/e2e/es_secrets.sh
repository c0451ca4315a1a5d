#!/usr/bin/env bash
# Secrets never reach a log line: runs with an Elasticsearch password and
# api_key configured (accepted, rejected with 401, server unreachable, bad
# config, -d debug output) and greps everything xdpbeat wrote on stdout and
# stderr for the secret values.
set -u
. "$(dirname "$0")/../es_lib.sh"

PW='S3cr3t-pw-7f1c'
KEY='kval-9a2e-secret'
es_pcap small 20 --conns 2
es_start --user elastic:secret --api-key kid:kval

xb_run good "$ES_TMP/small.pcap" -d -E output.elasticsearch.username=elastic -E output.elasticsearch.password=secret \
	-E "output.elasticsearch.headers.X-Note=none"
xb_run badpw "$ES_TMP/small.pcap" -d -E output.elasticsearch.username=elastic \
	-E "output.elasticsearch.password=$PW" -E xdpbeat.shutdown_timeout=3s
xb_run badkey "$ES_TMP/small.pcap" -d -E "output.elasticsearch.api_key=kid:$KEY" -E xdpbeat.shutdown_timeout=3s
xb_run down "$ES_TMP/small.pcap" -d -E 'output.elasticsearch.hosts=["127.0.0.1:1"]' \
	-E output.elasticsearch.username=elastic -E "output.elasticsearch.password=$PW" \
	-E "output.elasticsearch.api_key=kid:$KEY" -E xdpbeat.shutdown_timeout=2s
xb_run badcfg "$ES_TMP/small.pcap" -E "output.elasticsearch.password=[$PW" -E "output.elasticsearch.api_key=$KEY"

check "badpw: the 401 is reported" grep -q '401' "$ES_TMP/badpw.err"
check "badkey: the 401 is reported" grep -q "401" "$ES_TMP/badkey.err"
check "good: events stored" ge "$(es_stat docs_stored)" 1
for f in good badpw badkey down badcfg; do
	check "$f: no password in stdout/stderr" bash -c "! grep -qF -- '$PW' '$ES_TMP/$f.err' '$ES_TMP/$f.out'"
	check "$f: no api_key in stdout/stderr" bash -c "! grep -qF -- '$KEY' '$ES_TMP/$f.err' '$ES_TMP/$f.out'"
done
es_done
