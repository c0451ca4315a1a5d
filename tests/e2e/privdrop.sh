#!/usr/bin/env bash
# Least privilege in the running daemon (live on lo, root): after start-up
# it runs as nobody with no capabilities, NoNewPrivs, seccomp filter mode,
# not dumpable; SIGHUP still rewrites the ports maps (a new port is
# captured after the reload); the file output is written as nobody; it
# detaches and exits cleanly. With run_as/seccomp disabled it stays root.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/live_lib.bash
need_root
trap live_cleanup EXIT

P1=$(free_ports 2)
P2=$((P1 + 1))
mkdir -p "$LIVE_TMP/www" "$LIVE_TMP/out"
echo hi >"$LIVE_TMP/www/index.html"
for p in "$P1" "$P2"; do
	$PY -m http.server "$p" --bind 127.0.0.1 --directory "$LIVE_TMP/www" >/dev/null 2>&1 &
	LIVE_PIDS+=("$!")
done
wait_for 20 curl -sf -o /dev/null "http://127.0.0.1:$P1/" && wait_for 20 curl -sf -o /dev/null "http://127.0.0.1:$P2/"
check "servers up" $?

conf() { # ports...
	cat <<EOF2
xdpbeat.interfaces: [lo]
xdpbeat.protocols:
  - type: http
    ports: [$1]
output.console.enabled: false
output.file.path: $LIVE_TMP/out
EOF2
}
conf "$P1" >"$LIVE_TMP/xdpbeat.yml"
xb_start "$LIVE_TMP/xdpbeat.yml" "$LIVE_TMP/err"
check "daemon started" $?
wait_for 10 grep -q "running as nobody" "$LIVE_TMP/err"
check "logs the drop" $?
st=/proc/$XB_PID/status
field() { awk -v k="$1:" '$1 == k { print $2 }' "$st"; }
[ "$(field Uid)" = 65534 ] && [ "$(field Gid)" = 65534 ]
check "Uid/Gid nobody ($(field Uid)/$(field Gid))" $?
[ "$(field CapEff)" = 0000000000000000 ] && [ "$(field CapPrm)" = 0000000000000000 ] &&
	[ "$(field CapBnd)" = 0000000000000000 ]
check "no capabilities, empty bounding set" $?
[ "$(field NoNewPrivs)" = 1 ] && [ "$(field Seccomp)" = 2 ]
check "NoNewPrivs 1, Seccomp 2" $?
[ "$(awk '$1 == "Groups:" { print NF - 1 }' "$st")" -le 1 ]
check "no supplementary groups beyond nogroup" $?

for i in $(seq 5); do curl -sf -o /dev/null "http://127.0.0.1:$P1/"; done
conf "$P2" >"$LIVE_TMP/xdpbeat.yml"
kill -HUP "$XB_PID"
wait_for 10 grep -q "configuration reloaded" "$LIVE_TMP/err"
check "SIGHUP reload after the drop" $?
for i in $(seq 5); do curl -sf -o /dev/null "http://127.0.0.1:$P2/"; done
sleep 1.5
xb_stop
check "clean exit" $?
out=$(ls "$LIVE_TMP"/out/xdpbeat* 2>/dev/null | head -1)
[ -n "$out" ] && [ "$(events_on_port "$out" "$P1")" -ge 5 ]
check "events on the first port ($(events_on_port "$out" "$P1"))" $?
[ "$(events_on_port "$out" "$P2")" -ge 5 ]
check "events on the port added by SIGHUP ($(events_on_port "$out" "$P2"))" $?
! grep -qi "operation not permitted\|seccomp\b.*fail" "$LIVE_TMP/err"
check "no EPERM in the log" $?

conf "$P1" >"$LIVE_TMP/xdpbeat.yml"
printf 'xdpbeat.run_as.enabled: false\nseccomp.enabled: false\n' >>"$LIVE_TMP/xdpbeat.yml"
xb_start "$LIVE_TMP/xdpbeat.yml" "$LIVE_TMP/err2"
check "daemon started with the drop disabled" $?
st=/proc/$XB_PID/status
[ "$(field Uid)" = 0 ] && [ "$(field Seccomp)" = 0 ] && [ "$(field NoNewPrivs)" = 1 ]
check "disabled: root, no filter (NoNewPrivs still 1)" $?
xb_stop
check "clean exit" $?
exit $fail
