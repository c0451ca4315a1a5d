#!/usr/bin/env bash
# File output: NDJSON named as Beats 8 (xdpbeat-<yyyymmdd>.ndjson, then -1,
# -2, ... newest last) rotated by size (rotate_every_kb) over at most
# number_of_files files; nothing lost while the file count allows it, every
# line a JSON event, no file past the size limit; a restart starts a new file.
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
day=$(date +%Y%m%d)
lines=$(cat "$tmp/many"/xdpbeat-*.ndjson | wc -l)
big=$(find "$tmp/many" -type f -size +51200c | wc -l)
valid=$(cat "$tmp/many"/xdpbeat-*.ndjson | jq -c 'select(.type == "http")' | wc -l)
chk "rotated into $files files" $([ "$files" -gt 2 ]; echo $?)
chk "all $want events kept ($lines lines)" $([ "$lines" -eq "$want" ]; echo $?)
chk "every line is an event ($valid)" $([ "$valid" -eq "$want" ]; echo $?)
chk "no file over 50 KiB" $([ "$big" -eq 0 ]; echo $?)
names=$(cd "$tmp/many" && for i in $(seq 1 $((files - 1))); do echo "xdpbeat-$day-$i.ndjson"; done)
chk "named xdpbeat-$day.ndjson, then -1 ... -$((files - 1))" \
	$([ "$(ls "$tmp/many" | sort)" = "$(printf '%s\n' "xdpbeat-$day.ndjson" $names | sort)" ]; echo $?)
oldest=$(head -1 "$tmp/many/xdpbeat-$day.ndjson" | jq -r '."@timestamp"')
newest=$(tail -1 "$tmp/many/xdpbeat-$day-$((files - 1)).ndjson" | jq -r '."@timestamp"')
chk "oldest events in xdpbeat-$day.ndjson, newest in -$((files - 1))" $([[ "$oldest" < "$newest" ]]; echo $?)
chk "every line carries @metadata.beat" \
	$([ "$(cat "$tmp/many"/*.ndjson | jq -r '."@metadata".beat' | sort -u)" = packetbeat ]; echo $?)

run few 3
last=$(ls "$tmp/few" | sed -n "s/^xdpbeat-$day-\([0-9]*\)\.ndjson$/\1/p" | sort -n | tail -1)
chk "number_of_files=3 keeps the newest 3 files: $(ls "$tmp/few" | tr '\n' ' ')" \
	$([ "$(ls "$tmp/few" | wc -l)" -eq 3 ] && [ -e "$tmp/few/xdpbeat-$day-$((last - 2)).ndjson" ]; echo $?)
run few 3
again=$(ls "$tmp/few" | sed -n "s/^xdpbeat-$day-\([0-9]*\)\.ndjson$/\1/p" | sort -n | tr '\n' ' ')
chk "a restart (rotate_on_startup) numbers on: $again" \
	$([ "$again" = "$((2 * last - 1)) $((2 * last)) $((2 * last + 1)) " ]; echo $?)
exit $fail
