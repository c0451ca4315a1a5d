#!/usr/bin/env bash
# Secrets never reach a log line: runs with an Elasticsearch password and
# api_key configured (accepted, rejected with 401, server unreachable, bad
# config, -d debug output), the same with the values taken from the keystore
# (and one keystore value of the wrong type, and export config), and greps
# everything xdpbeat wrote on stdout and stderr for the secret values.
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

# The same secrets from the keystore, and one where a number is expected.
KS_PW='Ks-pw-3b9e-a17f'
KS_KEY='ks-kval-c41d-77e2'
KS_BAD='ks-not-a-number-e5a0'
KD="$ES_TMP/ksdata"
"$XDPBEAT" --path.data "$KD" keystore create >/dev/null
for kv in "XB_ES_PW=$KS_PW" "XB_ES_KEY=$KS_KEY" "XB_ES_BAD=$KS_BAD"; do
	printf '%s\n' "${kv#*=}" | "$XDPBEAT" --path.data "$KD" keystore add "${kv%%=*}" --stdin
done
xb_run kspw "$ES_TMP/small.pcap" --path.data "$KD" -d -E output.elasticsearch.username=elastic \
	-E 'output.elasticsearch.password=${XB_ES_PW}' -E xdpbeat.shutdown_timeout=3s
xb_run kskey "$ES_TMP/small.pcap" --path.data "$KD" -d -E 'output.elasticsearch.api_key=kid:${XB_ES_KEY}' \
	-E xdpbeat.shutdown_timeout=3s
xb_run ksdown "$ES_TMP/small.pcap" --path.data "$KD" -d -E 'output.elasticsearch.hosts=["127.0.0.1:1"]' \
	-E output.elasticsearch.username=elastic -E 'output.elasticsearch.password=${XB_ES_PW}' \
	-E 'output.elasticsearch.api_key=kid:${XB_ES_KEY}' -E xdpbeat.shutdown_timeout=2s
xb_run kstype "$ES_TMP/small.pcap" --path.data "$KD" -E 'xdpbeat.tcp.max_connections=${XB_ES_BAD}' \
	-E 'output.elasticsearch.password=${XB_ES_PW}'
"$XDPBEAT" --path.data "$KD" -E 'output.elasticsearch.password=${XB_ES_PW}' \
	-E 'output.elasticsearch.api_key=kid:${XB_ES_KEY}' -E 'name=${XB_ES_BAD}' export config \
	>"$ES_TMP/ksexport.out" 2>"$ES_TMP/ksexport.err"

check "badpw: the 401 is reported" grep -q '401' "$ES_TMP/badpw.err"
check "badkey: the 401 is reported" grep -q "401" "$ES_TMP/badkey.err"
check "good: events stored" ge "$(es_stat docs_stored)" 1
check "kspw: the 401 is reported" grep -q '401' "$ES_TMP/kspw.err"
check "kstype: the bad keystore value is reported by its key" grep -q 'max_connections: .*got a value from the keystore' \
	"$ES_TMP/kstype.err"
check "export config: masked keystore values" bash -c "grep -q 'password: \"xxxxx\"' '$ES_TMP/ksexport.out' && grep -q '^name: \"xxxxx\"' '$ES_TMP/ksexport.out'"
for f in good badpw badkey down badcfg kspw kskey ksdown kstype ksexport; do
	for v in "$PW" "$KEY" "$KS_PW" "$KS_KEY" "$KS_BAD"; do
		check "$f: no secret ${v:0:6}... in stdout/stderr" bash -c "! grep -qF -- '$v' '$ES_TMP/$f.err' '$ES_TMP/$f.out'"
	done
done
es_done
