# tcpdump captures for the pcap generators (tests/pcaps/make-*.sh) and the
# benchmarks (bench/lib.sh). Sourced; tcpdump needs root. One capture at a
# time per shell.
#   capture_start IFACE FILE FILTER [TCPDUMP_OPTION...]
#       tcpdump -i IFACE -w FILE FILTER in the background (packet-buffered,
#       immediate mode, whole packets); returns once it listens, 1 when it
#       does not start. Its standard error goes to $CAPTURE_LOG when the
#       caller sets that, else to a temporary file.
#   capture_stop
#       waits $CAPTURE_LINGER seconds (0.5) for the last packets, stops
#       tcpdump (SIGINT, SIGKILL after 5 s) and, with its own log, prints
#       tcpdump's counts ("N packets captured") on standard error. Does
#       nothing when no capture runs, so a cleanup trap may call it.
#   capture_run IFACE FILE FILTER COMMAND...
#       capture_start, COMMAND, capture_stop; COMMAND's exit status.
#   stop_pid PID TENTHS
#       SIGINT, up to TENTHS x 0.1 s, then SIGKILL; PID's exit status.
#   pick_port WHO PORT ALT
#       prints PORT, or ALT when a socket (TCP or UDP) holds PORT; fails,
#       naming WHO, when both are taken (the servers the generators start).

CAPTURE_PID=
capture_log=
capture_log_own=0

stop_pid() {
	kill -INT "$1" 2>/dev/null
	for _ in $(seq "$2"); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

capture_start() {
	local ifc=$1 file=$2 filter=$3
	shift 3
	if [ -n "${CAPTURE_LOG:-}" ]; then
		capture_log=$CAPTURE_LOG capture_log_own=0
	else
		capture_log=$(mktemp /tmp/xdpbeat-tcpdump.XXXXXX) capture_log_own=1
	fi
	: >"$capture_log"
	tcpdump -i "$ifc" -n -s 0 -U --immediate-mode "$@" -w "$file" "$filter" 2>"$capture_log" &
	CAPTURE_PID=$!
	for _ in $(seq 100); do
		if grep -q "listening on" "$capture_log"; then
			sleep 0.2 # a little margin before the first packet
			return 0
		fi
		kill -0 "$CAPTURE_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "tcpdump did not start on $ifc: $(cat "$capture_log")" >&2
	CAPTURE_LINGER=0 capture_stop 2>/dev/null
	return 1
}

capture_stop() {
	[ -n "$CAPTURE_PID" ] || return 0
	sleep "${CAPTURE_LINGER:-0.5}"
	stop_pid "$CAPTURE_PID" 50
	CAPTURE_PID=
	if [ "$capture_log_own" = 1 ]; then
		grep -E "packets (captured|dropped by kernel)" "$capture_log" >&2
		rm -f "$capture_log"
	fi
	return 0
}

capture_run() {
	local rc=0
	capture_start "$1" "$2" "$3" || return 1
	shift 3
	"$@" || rc=$?
	capture_stop
	return $rc
}

port_busy() {
	ss -Hant "sport = :$1" | grep -q . || ss -Hanu "sport = :$1" | grep -q .
}

pick_port() {
	local p
	for p in "$2" "$3"; do
		port_busy "$p" || { echo "$p"; return 0; }
	done
	echo "$1: ports $2 and $3 are both taken" >&2
	return 1
}
