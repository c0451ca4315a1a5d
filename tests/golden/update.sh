#!/usr/bin/env bash
# Regenerate the golden event files from the committed pcaps after a
# deliberate change; review the diff (git diff tests/golden) before committing.
#   tests/golden/update.sh            (uses build/xdpbeat, or $XDPBEAT)
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${XDPBEAT:=$PWD/build/xdpbeat}"

# One event per line, keys sorted, host-dependent keys removed.
normalize() {
	jq -c -S 'del(.agent, .host)'
}

for name in http-curl; do
	"$XDPBEAT" -I "tests/pcaps/$name.pcap" -c tests/golden/http.yml 2>/dev/null | normalize >"tests/golden/$name.ndjson"
	echo "tests/golden/$name.ndjson: $(wc -l <"tests/golden/$name.ndjson") events"
done
