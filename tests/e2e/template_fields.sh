#!/usr/bin/env bash
# Every field of every golden event (tests/golden/*.ndjson, and one run of the
# processors config for the agent.* and host.* fields the golden files leave
# out) is mapped by the template `xdpbeat export template` prints, with the type
# tests/template_fields.tsv gives it (Packetbeat's fields.yml type, or the
# reason it differs), and its values fit that type; the source template has no
# key given twice; README's list of fields Packetbeat does not write matches the
# table. Details: tests/template_fields.py. No root needed.
set -u
cd "$(dirname "$0")/../.."
: "${XDPBEAT:=$PWD/build/xdpbeat}"
tmp=$(mktemp -d /tmp/xdpbeat-template-fields.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() {
	if [ "$2" = 0 ]; then echo "ok: $1"; else
		echo "FAIL: $1"
		fail=1
	fi
}

"$XDPBEAT" export template >"$tmp/template.json"
check "xdpbeat export template" $?
"$XDPBEAT" -I tests/pcaps/http-curl.pcap -c tests/golden/processors.yml -E xdpbeat.workers=1 \
	>"$tmp/host.ndjson" 2>"$tmp/host.err"
check "events with agent.* and host.* (processors config)" \
	$(jq -e -s 'length > 0 and all(.host.os.codename != null and .host.containerized != null)' \
		"$tmp/host.ndjson" >/dev/null && echo 0 || echo 1)
/usr/bin/python3 tests/template_fields.py --duplicates config/xdpbeat.template.json
check "config/xdpbeat.template.json: no key given twice" $?
/usr/bin/python3 tests/template_fields.py "$tmp/template.json" tests/template_fields.tsv README.md \
	tests/golden/*.ndjson "$tmp/host.ndjson"
check "every field mapped with its type (tests/template_fields.tsv)" $?
exit $fail
