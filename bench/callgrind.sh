#!/usr/bin/env bash
# Instruction counts (callgrind Ir) of xdpbeat -I on the first $SLICE packets of
# the HTTP and DNS bench pcaps, with the settings of the like-for-like rows of
# bench/http.sh and bench/dns.sh (events on stdout > /dev/null; OUTPUT=file for
# their file rows). Ir does not depend on the machine's load: compare two builds
# on the same $PCAPS. Prints markdown; callgrind files stay in $OUT.
#   BUILD=/tmp/base/build bench/callgrind.sh
#   PCAPS=/tmp/bench-pcaps  the full pcaps, recorded once as the benches do, and the slices
#   SLICE=20000  packets per slice: http-slice.pcap, dns-slice.pcap (other lengths: *-slice-N.pcap)
#   RUNS=3 (median)  OUTPUT=console|file  OUT=$BUILD/callgrind
# Recording the pcaps needs what http.sh and dns.sh need (root, nginx, wrk, dnsmasq, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
PCAPS=${PCAPS:-/tmp/bench-pcaps}
SLICE=${SLICE:-20000}
OUTPUT=${OUTPUT:-console}
RUNS=${RUNS:-3}
BENCH_CACHE=$PCAPS
. bench/lib.sh
OUT=${OUT:-$BUILD/callgrind}
mkdir -p "$OUT"
HTTP_PORT=18081 # as bench/http.sh

# HTTP: recorded as bench/http.sh does; DNS: bench/dns.sh records it (and runs its bench once).
if [ ! -s "$PCAPS/http_wrk.pcap" ]; then
	trap stop_nginx EXIT
	start_nginx $HTTP_PORT
	capture_lo "$PCAPS/http_wrk.pcap" $HTTP_PORT wrk -t1 -c8 -d3s "http://127.0.0.1:$HTTP_PORT/" > /dev/null
	stop_nginx
fi
[ -s "$PCAPS/dns_perf.pcap" ] && [ -s "$PCAPS/dns_perf.port" ] || BUILD=$BUILD BENCH_CACHE=$PCAPS bash bench/dns.sh > /dev/null
DNS_PORT=$(cat "$PCAPS/dns_perf.port")

# slice FULL N OUT: the first N packets of FULL, cut once and kept, so every measurement reads the same file.
slice() { [ -s "$3" ] || tcpdump -r "$1" -w "$3" -c "$2" 2> /dev/null; }
sfx=
[ "$SLICE" = 20000 ] || sfx=-$SLICE
for p in http:http_wrk dns:dns_perf; do
	slice "$PCAPS/${p#*:}.pcap" "$SLICE" "$PCAPS/${p%:*}-slice$sfx.pcap"
	slice "$PCAPS/${p#*:}.pcap" 1 "$PCAPS/${p%:*}-slice-1.pcap" # startup and exit alone
done

# callgrind NAME PCAP PROTOCOL PORT: run xdpbeat under callgrind into $OUT/NAME-$OUTPUT.*, print its Ir.
callgrind() {
	local name=$1-$OUTPUT pcap=$2
	local args=(-I "$pcap" -E seccomp.enabled=false -E xdpbeat.workers=1 -E "xdpbeat.protocols=[{type: $3, ports: [$4]}]")
	case $OUTPUT in
	console) args+=(-E output.file.enabled=false) ;;
	file) args+=(-E output.console.enabled=false -E "output.file.path=$OUT/$name-events" -E output.file.rotate_every_kb=1048576) ;;
	*) echo "OUTPUT must be console or file" >&2 && return 1 ;;
	esac
	rm -rf "$OUT/$name-events"
	valgrind --tool=callgrind --fair-sched=yes --callgrind-out-file="$OUT/$name.callgrind" \
		"$XDPBEAT" "${args[@]}" > /dev/null 2> "$OUT/$name.stderr"
	awk '$1 == "summary:" || $1 == "totals:" {print $2; exit}' "$OUT/$name.callgrind"
}

per() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f", a / b; else print "n/a" }'; }

# measure NAME PROTOCOL PORT: one table row, the median of $RUNS runs (how the pipeline and
# publisher threads interleave changes batches, wakeups and malloc: ~0.1-0.3% run to run).
measure() {
	local pcap=$PCAPS/$1-slice$sfx.pcap ir0 irs=() ir spread txns
	ir0=$(callgrind "$1-startup" "$PCAPS/$1-slice-1.pcap" "$2" "$3")
	for _ in $(seq "$RUNS"); do irs+=("$(callgrind "$1" "$pcap" "$2" "$3")"); done
	read -r ir spread < <(printf '%s\n' "${irs[@]}" | sort -n |
		awk '{a[NR] = $1} END {m = a[int((NR + 1) / 2)]; printf "%.0f %.2f%%\n", m, 100 * (a[NR] - a[1]) / m}')
	txns=$(bench_xb_stat "$OUT/$1-$OUTPUT.stderr" transactions)
	[ "${txns:-0}" -gt 0 ] || { echo "$1: no transactions under callgrind, see $OUT/$1-$OUTPUT.stderr" >&2 && return 1; }
	echo "| $1 | $(tcpdump -nr "$pcap" 2> /dev/null | wc -l) | $txns | $ir | $spread | $(per "$ir" "$txns") | $ir0 |" \
		"$(per $((ir - ir0)) "$txns") | $(sha256sum < "$pcap" | cut -c1-12) |"
	echo "$1 Ir of each run: ${irs[*]}" >&2
}

echo "### Instructions (callgrind Ir), xdpbeat -I, first $SLICE packets, output: $OUTPUT, median of $RUNS runs"
echo
echo "| pcap | packets | transactions | Ir | max - min | Ir/transaction | Ir, 1 packet (startup) | (Ir - startup)/transaction | slice sha256 |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
measure http http $HTTP_PORT
measure dns dns "$DNS_PORT"
echo
echo "Command: \`BUILD=$BUILD bench/callgrind.sh\` (valgrind $(valgrind --version | sed 's/^valgrind-//'))."
