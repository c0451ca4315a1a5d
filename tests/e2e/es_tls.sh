#!/usr/bin/env bash
# HTTPS to Elasticsearch: ssl.certificate_authorities and the three
# ssl.verification_mode values against a test server with a test CA; several
# CA files (all trusted, none written anywhere); missing or bad CA files are
# configuration errors.
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
# a second CA, and the same server key certified by it
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=xdpbeat second test CA" \
	-keyout "$D/ca2.key" -out "$D/ca2.crt" 2>/dev/null
openssl x509 -req -in "$D/srv.csr" -CA "$D/ca2.crt" -CAkey "$D/ca2.key" -CAcreateserial -days 2 \
	-extfile "$D/ext" -out "$D/srv2.crt" 2>/dev/null
printf -- '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n' >"$D/garbage.crt"

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

# several CA files: the server's certificate is signed by the second one
kill "$ES_SERVER_PID"
es_start --tls "$D/srv2.crt" "$D/srv.key"
ES_URL=https://127.0.0.1:$ES_PORT
mkdir -p "$ES_TMP/tmpdir"
TMPDIR=$ES_TMP/tmpdir https twocas -E "output.elasticsearch.ssl.certificate_authorities=[$D/ca.crt, $D/ca2.crt]"
check "two CA files, server signed by the second: 30 stored" eq "$(es_stat docs_stored)" 30
check "two CA files: no temporary file left" eq "$(ls -A "$ES_TMP/tmpdir" | wc -l)" 0
check "two CA files: no CA warning" eq "$(grep -ci 'certificate_authorities' "$ES_TMP/twocas.err")" 0
https firstonly -E xdpbeat.shutdown_timeout=2s -E "output.elasticsearch.ssl.certificate_authorities=[$D/ca.crt]"
check "only the first CA file: nothing stored" eq "$(es_stat docs_stored)" 0
https secondonly -E "output.elasticsearch.ssl.certificate_authorities=$D/ca2.crt"
check "the second CA alone (a single string): 30 stored" eq "$(es_stat docs_stored)" 30

# CA files that cannot be used are configuration errors at start, before any event
https missing -E "output.elasticsearch.ssl.certificate_authorities=[$D/ca2.crt, $D/nope.crt]"
check "missing CA file: exit 2" eq $? 2
check "missing CA file: message names the key and the file" \
	grep -q "output.elasticsearch.ssl.certificate_authorities: cannot open $D/nope.crt: No such file" \
	"$ES_TMP/missing.err"
chmod 000 "$D/ca.crt"
if ! cat "$D/ca.crt" >/dev/null 2>&1; then # not as root
	https unreadable -E "output.elasticsearch.ssl.certificate_authorities=[$D/ca.crt, $D/ca2.crt]"
	check "unreadable CA file: exit 2" eq $? 2
	check "unreadable CA file: Permission denied" grep -q "$D/ca.crt: Permission denied" "$ES_TMP/unreadable.err"
fi
chmod 644 "$D/ca.crt"
https notpem -E "output.elasticsearch.ssl.certificate_authorities=[$D/srv.key, $D/ca2.crt]"
check "a key instead of a certificate: exit 2" eq $? 2
check "a key instead of a certificate: said so" grep -q "srv.key holds no PEM certificate" "$ES_TMP/notpem.err"
check "-t sees a missing CA file too" eq "$("$XDPBEAT" -t -E output.elasticsearch.hosts=[x] \
	-E "output.elasticsearch.ssl.certificate_authorities=[$D/nope.crt]" >/dev/null 2>&1; echo $?)" 2
https garbage -E "output.elasticsearch.ssl.certificate_authorities=[$D/ca2.crt, $D/garbage.crt]"
check "a broken certificate next to a good one: exit 2" eq $? 2
check "a broken certificate: said which" grep -q "garbage.crt: certificate 1 is not base64 of a DER certificate" \
	"$ES_TMP/garbage.err"
check "nothing sent by the refused configurations" eq "$(es_stat bulk_requests)" 0
es_done
