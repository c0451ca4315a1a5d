# Helpers for the live-capture end-to-end tests (tests/e2e/live_*.sh), sourced.
# Every wait is bounded; the caller's EXIT trap calls live_cleanup.

: "${XDPBEAT:=$PWD/build/xdpbeat}"
. "$(dirname "${BASH_SOURCE[0]}")/../free_port.bash"
PY=/usr/bin/python3
fail=0
LIVE_PIDS=()
LIVE_NETNS=()
LIVE_TMP=$(mktemp -d /tmp/xdpbeat-live.XXXXXX)
# The daemon re-reads its config on SIGHUP as xdpbeat.run_as.user (nobody).
chmod 755 "$LIVE_TMP"

check() { # description, exit status (0 = ok)
	if [ "$2" = 0 ]; then
		echo "ok: $1"
	else
		echo "FAIL: $1"
		fail=1
		return 1
	fi
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "skip: live capture needs root"
		exit 0
	fi
}

live_cleanup() {
	local p ns
	for p in "${LIVE_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	sleep 0.3
	for p in "${LIVE_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	for ns in "${LIVE_NETNS[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$LIVE_TMP"
}

# veth_netns NS HOST_IF NS_IF NET: namespace NS (added to LIVE_NETNS, deleted by
# live_cleanup) joined to the host by a veth pair, NET.1/24 on HOST_IF, NET.2/24 on NS_IF.
veth_netns() {
	local ns=$1 h=$2 n=$3 net=$4
	LIVE_NETNS+=("$ns")
	ip netns add "$ns" &&
		ip link add "$h" type veth peer name "$n" netns "$ns" &&
		ip addr add "$net.1/24" dev "$h" &&
		ip link set "$h" up &&
		ip -n "$ns" addr add "$net.2/24" dev "$n" &&
		ip -n "$ns" link set "$n" up &&
		ip -n "$ns" link set lo up
}

# wait_for SECONDS COMMAND...: poll every 0.1 s until COMMAND succeeds.
wait_for() {
	local deadline=$(($(date +%s) + $1))
	shift
	while [ "$(date +%s)" -lt "$deadline" ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Start the daemon on config $1 with stderr to $2; sets XB_PID. Waits until it captures.
# Retries while another xdpbeat holds the interface (a concurrent test), 20 s at most.
# XB_WORKERS=N runs it with xdpbeat.workers: N unless the config sets workers
# itself (make test runs the live scripts at the default and again at 1).
xb_start() {
	local cfg=$1 err=$2 try opts=()
	if [ -n "${XB_WORKERS:-}" ] && ! grep -q 'xdpbeat.workers' "$cfg"; then
		opts=(-E "xdpbeat.workers=$XB_WORKERS")
	fi
	for try in $(seq 10); do
		"$XDPBEAT" -c "$cfg" "${opts[@]}" 2>"$err" &
		XB_PID=$!
		LIVE_PIDS+=("$XB_PID")
		if wait_for 30 grep -q "capturing on" "$err"; then
			return 0
		fi
		wait "$XB_PID" 2>/dev/null
		if grep -q "another xdpbeat\|already attached" "$err"; then
			sleep 2
			continue
		fi
		cat "$err" >&2
		return 1
	done
	return 1
}

# Stop the daemon with SIGINT and return its exit status (bounded: 30 s, then SIGKILL).
xb_stop() {
	kill -INT "$XB_PID"
	if ! wait_for 30 bash -c "! kill -0 $XB_PID"; then
		kill -9 "$XB_PID"
	fi
	wait "$XB_PID"
}

# BPF program ids the daemon holds (read from /proc/PID/fdinfo).
xb_prog_ids() {
	grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u
}

# True when none of the given program ids exists any more (nothing attached keeps them).
progs_gone() {
	local id
	for id in "$@"; do
		bpftool prog show id "$id" >/dev/null 2>&1 && return 1
	done
	return 0
}

# kernel.sent from the last periodic stats line of stderr file $1 (0 if none).
periodic_sent() {
	grep 'stats (periodic)' "$1" | tail -1 | grep -o 'kernel\.sent=[0-9]*' | cut -d= -f2 | grep . || echo 0
}

# Events in NDJSON file $1 whose server.port is $2.
# DIR of the file output: one file with every event it wrote there (xdpbeat-<yyyymmdd>[-N].ndjson, oldest first).
events_in() {
	ls "$1"/xdpbeat-*.ndjson 2>/dev/null | sort -V | xargs -r cat >"$1.all"
	echo "$1.all"
}

events_on_port() {
	jq -c "select(.server.port == $2)" "$1" 2>/dev/null | grep -c . || true
}

# Counter $2 from the final stats line in stderr file $1 (0 if absent).
final_stat() {
	grep 'stats (final)' "$1" | tail -1 | grep -o " $2=[0-9]*" | cut -d= -f2 | grep . || echo 0
}

# The daemon's bpf_links, one per line: "<link_type> <attach_type or -> <ifindex>"
# e.g. "xdp - 5", "tcx ingress 5", "tcx egress 5".
xb_links() {
	local f
	for f in /proc/"$1"/fdinfo/*; do
		grep -q '^link_type:' "$f" 2>/dev/null || continue
		awk '/^link_type:/ {t=$2} /^attach_type:/ {a=$3; gsub(/[()]/, "", a)} /^ifindex:/ {i=$2}
			END {print t, (a == "" ? "-" : a), i}' "$f"
	done | sort
}
