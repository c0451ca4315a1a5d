#!/usr/bin/env bash
# What a capture costs traffic it does not watch: iperf3 bulk TCP on a port
# nobody watches, on loopback and on a veth pair (server in a namespace),
# with nothing attached, with xdpbeat attached (watching HTTP on 80 and 8080),
# and with tcpdump -w /dev/null and a filter for the same ports (AF_PACKET +
# classic BPF, how Packetbeat captures). Rounds of none/xdpbeat/tcpdump in
# an order that turns every round, medians. Prints markdown.
# Run by bench/run.sh; alone: BUILD=$PWD/build bench/live_iperf.sh
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
echo "### Unwatched bulk traffic: iperf3 with nothing, xdpbeat or tcpdump attached"
echo
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root (network namespace, veth pair, eBPF, tcpdump)."
	echo
	exit 0
fi
ROUNDS=${LIVE_IPERF_ROUNDS:-7}
SECS=${LIVE_IPERF_SECS:-3}
FILTER='tcp port 80 or tcp port 8080'
LO_PORT=$(free_ports 1) # iperf3 on the host's loopback: a port of our own
NS_PORT=5201 # inside our namespace
NS=xb-lipf-$$
H=xblih$$
N_IF=xblin$$
NET=$(bench_subnet)
WORK=$(mktemp -d /tmp/xdpbeat-live-iperf.XXXXXX)
XB_PID=
TD_PID=
LO_IPERF_PID=
cleanup() {
	bench_xb_stop
	bench_tcpdump_stop
	[ -n "$LO_IPERF_PID" ] && kill "$LO_IPERF_PID" 2>/dev/null && wait "$LO_IPERF_PID" 2>/dev/null
	bench_veth_down "$NS" # its iperf3 server goes with it
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "failed: $*"
	echo
	exit 0
}

port_listening() { # [netns] addr port
	local ns=() out
	[ $# = 3 ] && ns=(ip netns exec "$1") && shift
	for _ in $(seq 50); do
		out=$("${ns[@]}" ss -Hltn "src $1:$2" 2>/dev/null)
		[ -n "$out" ] && return 0
		sleep 0.1
	done
	return 1
}

bench_veth_up "$NS" "$H" "$N_IF" "$NET" || fail "cannot create the veth pair"
ip netns exec "$NS" iperf3 -s -D -B "$NET.2" -p "$NS_PORT" > /dev/null 2>&1
port_listening "$NS" "$NET.2" "$NS_PORT" || fail "iperf3 server in the namespace did not start"
iperf3 -s -B 127.0.0.1 -p "$LO_PORT" > /dev/null 2>&1 &
LO_IPERF_PID=$!
port_listening 127.0.0.1 "$LO_PORT" || fail "iperf3 server on loopback did not start"

write_config() { # interface
	cat > "$WORK/xb-$1.yml" <<CONF
xdpbeat.interfaces: [$1]
xdpbeat.protocols:
  - type: http
    ports: [80, 8080]
output.console.enabled: false
output.file.path: $WORK/out
CONF
}
write_config lo
write_config "$H"

# One iperf3 run: server address, port, [-R]; prints Gbit/s received.
iperf_gbps() {
	timeout $((SECS + 20)) iperf3 -c "$1" -p "$2" -t "$SECS" ${3:+"$3"} -J 2>/dev/null |
		jq -r '.end.sum_received.bits_per_second / 1e9 | . * 100 | round / 100' 2>/dev/null
}

# Test cases: name, interface, server, port, iperf3 flag. Results go to R[case.mode] (space-separated).
CASES=(
	"loopback|lo|127.0.0.1|$LO_PORT|"
	"veth, host -> namespace|$H|$NET.2|$NS_PORT|"
	"veth, namespace -> host (-R)|$H|$NET.2|$NS_PORT|-R"
)
declare -A R
XB_SEEN=0
XB_SENT=0
XB_FULL=0
TD_CAPTURED=0

run_cases() { # mode interface: every case on that interface
	local mode=$1 ifc=$2 c name i srv port flag
	for c in "${!CASES[@]}"; do
		IFS='|' read -r name i srv port flag <<< "${CASES[$c]}"
		[ "$i" = "$ifc" ] || continue
		R[$c.$mode]+="$(iperf_gbps "$srv" "$port" "$flag") "
	done
}

one_mode() { # mode interface
	local mode=$1 ifc=$2 n
	case $mode in
	none)
		run_cases none "$ifc"
		;;
	xdpbeat)
		bench_xb_start "$WORK/xb-$ifc.yml" "$WORK/xb.err" || fail "xdpbeat did not start on $ifc"
		run_cases xdpbeat "$ifc"
		bench_xb_stop
		XB_SEEN=$((XB_SEEN + $(bench_xb_stat "$WORK/xb.err" kernel.seen)))
		XB_SENT=$((XB_SENT + $(bench_xb_stat "$WORK/xb.err" kernel.sent)))
		XB_FULL=$((XB_FULL + $(bench_xb_stat "$WORK/xb.err" kernel.ringbuf_full)))
		;;
	tcpdump)
		bench_tcpdump_start "$ifc" "$WORK/td.err" "$FILTER" || fail "tcpdump did not start on $ifc"
		run_cases tcpdump "$ifc"
		bench_tcpdump_stop
		n=$(awk '/packets captured/ {print $1}' "$WORK/td.err")
		TD_CAPTURED=$((TD_CAPTURED + ${n:-0}))
		;;
	esac
}

# In a trial run the first round came out low for all three modes alike: warm up first, discard.
for ifc in lo "$H"; do
	one_mode none "$ifc"
done
R=()
for ifc in lo "$H"; do
	for r in $(seq 0 $((ROUNDS - 1))); do
		# The order turns every round (none/xdpbeat/tcpdump, xdpbeat/tcpdump/none, ...) so no mode
		# always runs first or right after the daemon or tcpdump stopped.
		modes=(none xdpbeat tcpdump)
		for k in 0 1 2; do
			one_mode "${modes[$(((r + k) % 3))]}" "$ifc"
		done
	done
done

echo "iperf3 (one TCP stream, ${SECS}s per run) to a port nobody watches; one discarded warm-up run per case first,"
echo "then $ROUNDS rounds per case, the order of nothing / xdpbeat / tcpdump turning by one every round. xdpbeat: default hooks (on lo: one hook; on the veth host end:"
echo "TC ingress + TC egress), watching HTTP on ports 80 and 8080. tcpdump: \`tcpdump -i <if> -w /dev/null '$FILTER'\`."
echo "Medians in Gbit/s; the single runs are listed because they vary by ±20% on this machine."
echo
echo "| case | nothing | xdpbeat | tcpdump | xdpbeat vs nothing | tcpdump vs nothing | xdpbeat ahead of tcpdump |"
echo "|---|---:|---:|---:|---:|---:|---|"
VERDICT=()
for c in "${!CASES[@]}"; do
	IFS='|' read -r name _ <<< "${CASES[$c]}"
	# shellcheck disable=SC2086 # word splitting of the run lists is wanted
	m_n=$(bench_median ${R[$c.none]})
	# shellcheck disable=SC2086
	m_x=$(bench_median ${R[$c.xdpbeat]})
	# shellcheck disable=SC2086
	m_t=$(bench_median ${R[$c.tcpdump]})
	ahead=no
	[ "$(bench_at_least "$m_x" "$m_t" 1)" = 1 ] && ahead=yes
	echo "| $name | $m_n | $m_x | $m_t | $(bench_pct "$m_x" "$m_n") | $(bench_pct "$m_t" "$m_n") | $ahead |"
	met=met
	[ "$(bench_at_least "$m_x" "$m_n" 0.98)" = 1 ] || met="not met"
	VERDICT+=("- $name: xdpbeat >= 98% of nothing: **$met** ($(bench_pct "$m_x" "$m_n")); ahead of tcpdump: **$ahead**.")
done
echo
echo "Single runs (Gbit/s, in round order):"
echo
echo "| case | nothing | xdpbeat | tcpdump |"
echo "|---|---|---|---|"
for c in "${!CASES[@]}"; do
	IFS='|' read -r name _ <<< "${CASES[$c]}"
	echo "| $name | ${R[$c.none]}| ${R[$c.xdpbeat]}| ${R[$c.tcpdump]}|"
done
echo
echo "Targets:"
echo
printf '%s\n' "${VERDICT[@]}"
echo
echo "Sanity: over all xdpbeat runs the kernel filter saw $XB_SEEN packets and sent $XB_SENT to userspace"
echo "(ring-buffer drops: $XB_FULL); tcpdump captured $TD_CAPTURED packets. Both should send ~0: the traffic is"
echo "not on a watched port, so what is measured is the per-packet cost of the hook and its filter."
echo
echo "Command: \`make bench\` (bench/live_iperf.sh; \`LIVE_IPERF_ROUNDS\`, \`LIVE_IPERF_SECS\` change the defaults)."
echo
