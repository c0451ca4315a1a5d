#!/usr/bin/env bash
# The live sensor's start-up errors are clear and stop it with status 1
# before anything is attached: a missing interface, and no privileges
# (the daemon run as nobody). The capture is checked before the outputs
# open, so a failed start leaves no output file behind.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/live_lib.bash
need_root
trap live_cleanup EXIT

mkdir -p "$LIVE_TMP/out"
chmod 755 "$LIVE_TMP"
chmod 777 "$LIVE_TMP/out"
cfg() { printf '%s\n' "xdpbeat.interfaces: [$1]" "output.console.enabled: false" "output.file.path: $LIVE_TMP/out" >"$LIVE_TMP/$1.yml"; }

cfg xbnosuch0
timeout 30 "$XDPBEAT" -c "$LIVE_TMP/xbnosuch0.yml" 2>"$LIVE_TMP/err1"
rc=$?
check "missing interface: exit status 1 (got $rc)" $([ $rc -eq 1 ]; echo $?)
check "missing interface: $(head -1 "$LIVE_TMP/err1")" $(grep -q "interface 'xbnosuch0' not found" "$LIVE_TMP/err1"; echo $?)
check "missing interface: no output file made" $([ -z "$(ls -A "$LIVE_TMP/out")" ]; echo $?)

cfg lo
cp "$XDPBEAT" "$LIVE_TMP/xdpbeat"
chmod 755 "$LIVE_TMP/xdpbeat"
timeout 30 setpriv --reuid=65534 --regid=65534 --clear-groups "$LIVE_TMP/xdpbeat" -c "$LIVE_TMP/lo.yml" 2>"$LIVE_TMP/err2"
rc=$?
check "not root: exit status 1 (got $rc)" $([ $rc -eq 1 ]; echo $?)
check "not root: $(grep -m1 root "$LIVE_TMP/err2")" $(grep -q "live capture needs root" "$LIVE_TMP/err2"; echo $?)
check "not root: nothing attached to lo" $([ -z "$(bpftool net show dev lo 2>/dev/null | grep -i xdpbeat)" ]; echo $?)
[ $fail = 0 ] && echo "live_errors: all checks passed"
exit $fail
