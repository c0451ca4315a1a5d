#!/usr/bin/env bash
# Packetbeat drop-in configuration and command line: tests/packetbeat.yml (every
# section of Packetbeat's reference file) loads with the expected warnings and
# runs a pcap; subcommands version, test config, test output (against
# tests/es_server.py), export config (secrets masked), export template,
# keystore; --strict.perms; packetbeat.* and xdpbeat.* together refused.
set -u
cd "$(dirname "$0")/../.."
source tests/es_lib.sh
T=$ES_TMP
fails=0
ok() { echo "ok: $1"; }
bad() {
	echo "FAIL: $1"
	fails=$((fails + 1))
}
check() { # check NAME COMMAND...: the command must succeed
	local name=$1
	shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}

cp tests/packetbeat.yml "$T/pb.yml"
chmod 644 "$T/pb.yml"
export XB_PB_OUT="$T/out" XB_PB_ES_PASSWORD=hunter2-secret

# 1. loads, with one warning per unused Packetbeat section
"$XDPBEAT" -c "$T/pb.yml" test config >"$T/tc.out" 2>"$T/tc.err"
check "test config: Config OK" grep -qx "Config OK" "$T/tc.out"
check "one warning for the AF_PACKET settings" \
	grep -q 'pb.yml:8: packetbeat.interfaces: AF_PACKET/pcap settings (type, with_vlans, bpf_filter, auto_promisc_mode)' "$T/tc.err"
check "one warning listing the missing protocols" \
	grep -q 'ignored: icmp, amqp, cassandra, dhcpv4, nfs, sip, tls$' "$T/tc.err"
for k in packetbeat.flows packetbeat.procs setup.ilm setup.kibana setup.dashboards monitoring http: cloud output.logstash; do
	check "warning for $k" grep -q "pb.yml:[0-9]*: $k" "$T/tc.err"
done
nw=$(grep -c 'warning:' "$T/tc.err")
check "18 warnings, each once (got $nw)" [ "$nw" = 18 ]

# 2. runs a pcap with it
"$XDPBEAT" -c "$T/pb.yml" -I tests/pcaps/http-curl.pcap >"$T/run.out" 2>"$T/run.err"
n=$(cat "$T"/out/packetbeat* 2>/dev/null | grep -c '"type":"http"')
check "pcap run writes the http events to output.file ($n)" [ "$n" -gt 0 ]

# 3. version, errors
check "version" bash -c "'$XDPBEAT' version | grep -q '^xdpbeat version '"
printf 'xdpbeat.snaplen: 100\npacketbeat.snaplen: 200\n' >"$T/both.yml"
"$XDPBEAT" -c "$T/both.yml" test config 2>"$T/both.err" && bad "both prefixes accepted"
check "packetbeat.* with xdpbeat.* is an error naming both" grep -q 'both.yml:2: packetbeat: packetbeat.\* and xdpbeat.\*' "$T/both.err"
"$XDPBEAT" -c "$T/pb.yml" -E 'name=${XB_PB_UNSET:?name needed}' test config 2>"$T/var.err" && bad "missing var accepted"
check '${VAR:?msg} error names -E and the key' grep -q -- '-E: name: ${XB_PB_UNSET}: name needed' "$T/var.err"

# 4. --strict.perms
chmod 664 "$T/pb.yml"
"$XDPBEAT" -c "$T/pb.yml" test config 2>"$T/perm.err" && bad "group-writable config accepted"
check "strict.perms refuses a group-writable config" grep -q 'must not be writable by group or others' "$T/perm.err"
check "--strict.perms=false skips the check" bash -c "'$XDPBEAT' --strict.perms=false -c '$T/pb.yml' test config 2>/dev/null | grep -q 'Config OK'"
chmod 644 "$T/pb.yml"
check "-c relative to --path.config" bash -c "'$XDPBEAT' --path.config '$T' -c pb.yml test config 2>/dev/null | grep -q 'Config OK'"

# 5. keystore: create, add (stdin), list, shadows the environment, masked on export, remove
D="$T/data"
check "keystore create" bash -c "'$XDPBEAT' --path.data '$D' keystore create >/dev/null"
check "keystore file is 0600" [ "$(stat -c %a "$D/xdpbeat.keystore")" = 600 ]
check "keystore add --stdin" bash -c "printf 'from-keystore\n' | '$XDPBEAT' --path.data '$D' keystore add XB_PB_NAME --stdin"
printf 'x' | "$XDPBEAT" --path.data "$D" keystore add XB_PB_NAME --stdin 2>/dev/null && bad "add over an existing key without --force"
check "keystore add --force" bash -c "printf 'from-keystore\n' | '$XDPBEAT' --path.data '$D' keystore add XB_PB_NAME --stdin --force"
check "keystore list" bash -c "'$XDPBEAT' --path.data '$D' keystore list | grep -qx XB_PB_NAME"
XB_PB_NAME=from-env "$XDPBEAT" --path.data "$D" -c "$T/pb.yml" export config >"$T/export.yml" 2>/dev/null
check "export config masks the keystore value (it wins over the env)" grep -qx 'name: "xxxxx"' "$T/export.yml"
check "export config masks passwords" bash -c "! grep -q hunter2 '$T/export.yml' && grep -q 'password: \"xxxxx\"' '$T/export.yml'"
check "export config is loadable YAML" bash -c "/usr/bin/python3 -c 'import yaml,sys; yaml.safe_load(open(sys.argv[1]))' '$T/export.yml'"
chmod 644 "$D/xdpbeat.keystore"
"$XDPBEAT" --path.data "$D" -c "$T/pb.yml" test config 2>"$T/ks.err" && bad "world-readable keystore accepted"
check "a world-readable keystore is refused" grep -q 'mode 644 lets group or others read it' "$T/ks.err"
chmod 600 "$D/xdpbeat.keystore"
check "keystore remove" bash -c "'$XDPBEAT' --path.data '$D' keystore remove XB_PB_NAME && ! '$XDPBEAT' --path.data '$D' keystore list | grep -q XB_PB_NAME"

# 6. export template: the template the Elasticsearch output installs
"$XDPBEAT" -c "$T/pb.yml" export template >"$T/tpl.json" 2>/dev/null
check "export template is JSON with index_patterns packetbeat-*" \
	/usr/bin/python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); assert "packetbeat-*" in t["index_patterns"], t["index_patterns"]' "$T/tpl.json"

# 7. test output against the test server, then against a closed port
es_start
"$XDPBEAT" -c "$T/pb.yml" -E output.file.enabled=false -E output.elasticsearch.enabled=true \
	-E "output.elasticsearch.hosts=[\"127.0.0.1:$ES_PORT\"]" test output >"$T/to.out" 2>"$T/to.err"
rc=$?
check "test output: exit 0 ($rc)" [ "$rc" = 0 ]
check "test output: talk to server OK and version" bash -c "grep -q 'talk to server... OK' '$T/to.out' && grep -q '  version: ' '$T/to.out'"
source tests/free_port.bash
port=$(free_ports 1)
"$XDPBEAT" -c "$T/pb.yml" -E output.file.enabled=false -E output.elasticsearch.enabled=true \
	-E "output.elasticsearch.hosts=[\"127.0.0.1:$port\"]" -E output.elasticsearch.timeout=2s test output >"$T/to2.out" 2>&1
rc=$?
check "test output: unreachable host fails ($rc)" bash -c "[ $rc = 1 ] && grep -q 'connection... ERROR' '$T/to2.out'"

echo "packetbeat config: $fails failed"
[ "$fails" = 0 ]
