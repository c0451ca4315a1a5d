#!/usr/bin/env bash
# Soak: the live sensor on lo under steady HTTP load (wrk, 1 ms between
# requests per connection, against a
# private nginx) for SOAK_SECONDS (`make soak`: 600 s; the smoke in
# `make test`: 15 s). Checks, at the end:
#   - memory settles: the daemon's peak RSS in the last third of the run is
#     at most the first third's peak + 25% + 8 MiB;
#   - nothing lost: 0 ring-buffer drops, 0 TCP gaps, 0 parse errors, and at
#     least as many answered transactions as wrk counted requests;
#   - a clean stop on SIGINT (exit 0).
set -uo pipefail
cd "$(dirname "$0")/.."
: "${XDPBEAT:=$PWD/build/xdpbeat}"
SECS=${SOAK_SECONDS:-15}
. bench/lib.sh
if [ "$(id -u)" -ne 0 ]; then
	echo "soak: skipped (live capture needs root)"
	exit 0
fi
PORT=$(free_ports 1)
work=$(mktemp -d /tmp/xdpbeat-soak.XXXXXX)
xb=
cleanup() {
	[ -n "$xb" ] && kill -9 "$xb" 2>/dev/null
	stop_nginx
	rm -rf "$work"
}
trap cleanup EXIT
start_nginx $PORT || exit 1
mkdir -p "$work/out"
printf '%s\n' "xdpbeat.interfaces: [lo]" "xdpbeat.protocols:" "  - type: http" "    ports: [$PORT]" \
	"output.console.enabled: false" "output.file.path: $work/out" "output.file.rotate_every_kb: 16384" \
	"output.file.number_of_files: 2" >"$work/xdpbeat.yml"
: >"$work/err"
# Under AddressSanitizer freed memory waits in a quarantine (256 MiB by
# default), which would look like growth: keep it small for this run.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1:thread_local_quarantine_size_kb=64" \
	"$XDPBEAT" -c "$work/xdpbeat.yml" 2>"$work/err" &
xb=$!
for _ in $(seq 300); do
	grep -q "capturing on" "$work/err" && break
	sleep 0.1
done
grep -q "capturing on" "$work/err" || { cat "$work/err"; exit 1; }

timeout $((SECS + 30)) wrk -t1 -c4 -d"${SECS}s" -s tests/soak-delay.lua "http://127.0.0.1:$PORT/" >"$work/wrk.txt" 2>&1 &
wrk_pid=$!
: >"$work/rss"
while kill -0 $wrk_pid 2>/dev/null; do
	awk '/VmRSS/ {print $2}' "/proc/$xb/status" >>"$work/rss" 2>/dev/null
	sleep 1
done
wait $wrk_pid
sleep 1
stop_pid "$xb" 300
rc=$?
xb=

stat() { grep 'stats (final)' "$work/err" | grep -o " $1=[0-9]*" | cut -d= -f2; }
requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
answered=$(stat transactions) # request/response pairs (the file output rotates: disk stays bounded)
answered=${answered:-0}
n=$(wc -l <"$work/rss")
third=$((n / 3 > 0 ? n / 3 : 1))
early=$(head -n "$third" "$work/rss" | sort -n | tail -1)
late=$(tail -n "$third" "$work/rss" | sort -n | tail -1)
limit=$((early + early / 4 + 8192))
grep 'stats (final)' "$work/err"
echo "soak: ${SECS}s, wrk ${requests:-0} requests, ${answered} transactions, RSS first third ${early} KiB, last third ${late} KiB"
pass=0
fail=0
chk() { if [ "$2" = 0 ]; then echo "ok: $1"; pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }
chk "SIGINT: exit 0" $([ "$rc" -eq 0 ]; echo $?)
chk "memory settles (${late} <= ${limit} KiB)" $([ "${late:-0}" -le "$limit" ]; echo $?)
chk "no ring-buffer drops" $([ -z "$(stat kernel.ringbuf_full)" ]; echo $?)
chk "no TCP gaps" $([ -z "$(stat tcp.gaps)" ]; echo $?)
chk "no parse errors" $([ -z "$(stat http.parse_errors)" ]; echo $?)
chk "every counted request answered (${answered} >= ${requests:-0})" $([ "$answered" -ge "${requests:-1}" ]; echo $?)
echo "soak: ${pass} passed, ${fail} failed"
[ $fail -eq 0 ]
