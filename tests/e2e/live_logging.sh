#!/usr/bin/env bash
# Debug selectors on a live capture on loopback: "capture" shows the BPF load
# and the hook on lo, "bpf" adds libbpf's own messages; without "bpf" there
# are none of those.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/live_lib.bash
need_root
trap live_cleanup EXIT

PORT=$(free_ports 1)
# run SELECTORS: start on lo with those debug selectors, then stop; stderr in $LIVE_TMP/err
run() {
	cat >"$LIVE_TMP/xdpbeat.yml" <<EOF
xdpbeat.interfaces: [lo]
xdpbeat.protocols:
  - type: http
    ports: [$PORT]
output.console.enabled: false
output.file.path: $LIVE_TMP/out
logging.level: debug
logging.selectors: [$1]
EOF
	xb_start "$LIVE_TMP/xdpbeat.yml" "$LIVE_TMP/err"
	check "[$1]: daemon attached to lo" $?
	xb_stop
	check "[$1]: clean exit" $?
}

run capture,bpf
grep -q '^xdpbeat: debug \[capture\]: BPF programs loaded: [0-9]* ring buffer(s)' "$LIVE_TMP/err"
check "capture: the load line" $?
grep -q '^xdpbeat: debug \[capture\]: lo (ifindex 1): \(tc\|XDP\) ingress$' "$LIVE_TMP/err"
check "capture: lo's hook: $(grep -o 'debug \[capture\]: lo .*' "$LIVE_TMP/err")" $?
grep -q '^libbpf: ' "$LIVE_TMP/err"
check "bpf: libbpf's messages ($(grep -c '^libbpf: ' "$LIVE_TMP/err") lines)" $?

run capture
grep -q '^xdpbeat: debug \[capture\]: lo (ifindex 1)' "$LIVE_TMP/err"
check "capture alone: lo's hook" $?
! grep -q '^libbpf: ' "$LIVE_TMP/err"
check "capture alone: no libbpf message" $?
exit $fail
