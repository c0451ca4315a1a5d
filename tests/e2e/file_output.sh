#!/usr/bin/env bash
# File output: NDJSON rotated by size (rotate_every_kb) over at most
# number_of_files files; nothing lost while the file count allows it, every
# line a JSON event, no file past the size limit.
set -uo pipefail
cd "$(dirname "$0")/../.."
: "${XDPBEAT:=$PWD/build/xdpbeat}"
tmp=$(mktemp -d /tmp/xdpbeat-file.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
chk() { if [ "$2" = 0 ]; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
run() { # dir number_of_files
	"$XDPBEAT" -I tests/pcaps/http-wrk.pcap -c tests/golden/http.yml -E output.console.enabled=false \
		-E "output.file.path=$tmp/$1" -E output.file.rotate_every_kb=50 -E "output.file.number_of_files=$2" \
		2>"$tmp/$1.err"
}
want=$("$XDPBEAT" -I tests/pcaps/http-wrk.pcap -c tests/golden/http.yml 2>/dev/null | wc -l)

run many 100
files=$(ls "$tmp/many" | wc -l)
lines=$(cat "$tmp/many"/xdpbeat.ndjson* | wc -l)
big=$(find "$tmp/many" -type f -size +51200c | wc -l)
valid=$(cat "$tmp/many"/xdpbeat.ndjson* | jq -c 'select(.type == "http")' | wc -l)
chk "rotated into $files files" $([ "$files" -gt 2 ]; echo $?)
chk "all $want events kept ($lines lines)" $([ "$lines" -eq "$want" ]; echo $?)
chk "every line is an event ($valid)" $([ "$valid" -eq "$want" ]; echo $?)
chk "no file over 50 KiB" $([ "$big" -eq 0 ]; echo $?)
newest=$(tail -1 "$tmp/many/xdpbeat.ndjson" | jq -r '."@timestamp"')
oldest=$(head -1 "$tmp/many/xdpbeat.ndjson.$((files - 1))" | jq -r '."@timestamp"')
chk "newest events in xdpbeat.ndjson, oldest in .$((files - 1))" $([[ "$oldest" < "$newest" ]]; echo $?)

run few 3
chk "number_of_files=3 keeps 3 files: $(ls "$tmp/few" | tr '\n' ' ')" \
	$([ "$(ls "$tmp/few" | wc -l)" -eq 3 ] && [ -e "$tmp/few/xdpbeat.ndjson.2" ]; echo $?)
exit $fail
