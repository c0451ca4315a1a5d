#!/usr/bin/env bash
# HTTPS to Elasticsearch: ssl.certificate_authorities and the three
# ssl.verification_mode values against a test server with a test CA.
set -u
. "$(dirname "$0")/../es_lib.sh"

command -v openssl >/dev/null || { echo "es_tls: openssl missing"; exit 1; }
D=$ES_TMP/pki
mkdir -p "$D"
# a CA, and a server certificate for 127.0.0.1 (IP SAN) signed by it
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=xdpbeat test CA" \
	-keyout "$D/ca.key" -out "$D/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=es-test" -keyout "$D/srv.key" -out "$D/srv.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$D/ext"
openssl x509 -req -in "$D/srv.csr" -CA "$D/ca.crt" -CAkey "$D/ca.key" -CAcreateserial -days 2 \
	-extfile "$D/ext" -out "$D/srv.crt" 2>/dev/null
# the same key, but a name that does not match 127.0.0.1
printf 'subjectAltName=DNS:elsewhere.example\n' >"$D/ext2"
openssl x509 -req -in "$D/srv.csr" -CA "$D/ca.crt" -CAkey "$D/ca.key" -CAcreateserial -days 2 \
	-extfile "$D/ext2" -out "$D/wrong.crt" 2>/dev/null

es_pcap t 30 --conns 2
https() { # NAME -E...
	local name=$1
	shift
	es_reset
	xb_run "$name" "$ES_TMP/t.pcap" -E "output.elasticsearch.hosts=[\"https://127.0.0.1:$ES_PORT\"]" "$@"
}
es_start --tls "$D/srv.crt" "$D/srv.key"
ES_URL=https://127.0.0.1:$ES_PORT
curl() { command curl -k "$@"; }

https full -E "output.elasticsearch.ssl.certificate_authorities=[$D/ca.crt]"
check "full + CA: 30 stored" eq "$(es_stat docs_stored)" 30
https noca -E xdpbeat.shutdown_timeout=2s
check "full without the CA: nothing stored" eq "$(es_stat docs_stored)" 0
check "full without the CA: certificate error logged" grep -qi 'certificate' "$ES_TMP/noca.err"
https none -E output.elasticsearch.ssl.verification_mode=none
check "verification_mode none: 30 stored" eq "$(es_stat docs_stored)" 30
kill "$ES_SERVER_PID"
es_start --tls "$D/wrong.crt" "$D/srv.key"
ES_URL=https://127.0.0.1:$ES_PORT
https wrongname -E xdpbeat.shutdown_timeout=2s -E "output.elasticsearch.ssl.certificate_authorities=[$D/ca.crt]"
check "full, name mismatch: nothing stored" eq "$(es_stat docs_stored)" 0
https certonly -E "output.elasticsearch.ssl.certificate_authorities=[$D/ca.crt]" \
	-E output.elasticsearch.ssl.verification_mode=certificate
check "certificate mode, name mismatch: 30 stored" eq "$(es_stat docs_stored)" 30
es_done
