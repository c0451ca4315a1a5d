# Shared helpers for bench/*.sh (sourced).
: "${BUILD:=$PWD/build}"
XDPBEAT=${XDPBEAT:-$BUILD/xdpbeat}
BENCH_CACHE=${BENCH_CACHE:-$BUILD/bench-data}
mkdir -p "$BENCH_CACHE"
. "$(dirname "${BASH_SOURCE[0]}")/../tests/free_port.bash"
. "$(dirname "${BASH_SOURCE[0]}")/../tests/capture_lib.bash" # capture_*, stop_pid

# Median wall time in seconds of N runs of a command (stdout discarded), pinned to one core.
median_time() {
	local n=$1
	shift
	local times=()
	for _ in $(seq "$n"); do
		local s e
		s=$(date +%s%N)
		taskset -c 0 "$@" > /dev/null 2>&1
		e=$(date +%s%N)
		times+=("$(( (e - s) / 1000 ))")
	done
	printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.4f\n", a[int((NR+1)/2)]/1e6}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { if (t > 0) printf "%.0f", n / t; else print "n/a" }'; }

# Start a private nginx on 127.0.0.1:$1 serving a small page; sets NGINX_DIR; stop with stop_nginx.
start_nginx() {
	local port=$1
	NGINX_DIR=$(mktemp -d /tmp/xdpbeat-nginx.XXXXXX)
	mkdir -p "$NGINX_DIR/html" "$NGINX_DIR/logs"
	chmod 755 "$NGINX_DIR" "$NGINX_DIR/html"
	printf 'hello from xdpbeat bench\n' > "$NGINX_DIR/html/index.html"
	head -c 2000 /dev/zero | tr '\0' 'x' > "$NGINX_DIR/html/2k.txt"
	cat > "$NGINX_DIR/nginx.conf" <<CONF
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/logs/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$port;
		root $NGINX_DIR/html;
	}
}
CONF
	nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf"
	for _ in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
		sleep 0.1
	done
	echo "nginx did not start" >&2
	return 1
}

stop_nginx() {
	[ -n "${NGINX_DIR:-}" ] || return 0
	[ -f "$NGINX_DIR/nginx.pid" ] && kill "$(cat "$NGINX_DIR/nginx.pid")" 2>/dev/null
	sleep 0.2
	rm -rf "$NGINX_DIR"
	NGINX_DIR=
}

# Capture loopback traffic on port $2 into $1 while running the rest of the arguments.
capture_lo() {
	local out=$1 port=$2
	shift 2
	capture_start lo "$out" "tcp port $port" -B 131072 || return 1
	"$@"
	CAPTURE_LINGER=1 capture_stop
}

# ---- live capture benches (bench/live_*.sh) ----

# Median of the numbers given as arguments (mean of the middle two for an even count).
bench_median() {
	printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {
		if (NR == 0) exit
		if (NR % 2) print a[(NR + 1) / 2]; else printf "%.6g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# $1 / $2 as a percentage with one decimal ("97.3%"), or n/a.
bench_pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else print "n/a" }'; }

# 1 when $1 >= $2 * $3 (numbers), else 0.
bench_at_least() { awk -v a="$1" -v b="$2" -v f="$3" 'BEGIN { print (a >= b * f) ? 1 : 0 }'; }

# A private /24 for this process: prints "10.X.Y" (host .1, namespace .2).
bench_subnet() { echo "10.$((150 + $$ % 50)).$((($$ / 50) % 250))"; }

# Namespace $1 with veth end $3, host end $2, addresses $4.1 (host) and $4.2 (namespace).
bench_veth_up() {
	local ns=$1 host=$2 peer=$3 net=$4
	ip netns add "$ns" || return 1
	ip link add "$host" type veth peer name "$peer" netns "$ns" || return 1
	ip addr add "$net.1/24" dev "$host"
	ip link set "$host" up
	ip -n "$ns" addr add "$net.2/24" dev "$peer"
	ip -n "$ns" link set "$peer" up
	ip -n "$ns" link set lo up
}

# Kill everything running in namespace $1 and delete it (the veth pair goes with it).
bench_veth_down() {
	ip netns pids "$1" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$1" 2>/dev/null
}

# Poll (0.1 s) until file $2 contains regex $3, for at most $1 seconds.
bench_wait_grep() {
	local n=$(($1 * 10))
	for _ in $(seq "$n"); do
		grep -q "$3" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Start $XDPBEAT -c $1 with stderr to $2, wait until it captures; sets XB_PID.
# Retries for ~20 s while another xdpbeat holds the interface.
bench_xb_start() {
	local cfg=$1 err=$2
	for _ in $(seq 10); do
		"$XDPBEAT" -c "$cfg" 2> "$err" &
		XB_PID=$!
		bench_wait_grep 30 "$err" "capturing on" && return 0
		kill -9 "$XB_PID" 2>/dev/null
		wait "$XB_PID" 2>/dev/null
		XB_PID=
		grep -q "another xdpbeat\|already attached" "$err" || break
		sleep 2
	done
	echo "xdpbeat did not start: $(cat "$err")" >&2
	return 1
}

# SIGINT the daemon started by bench_xb_start and wait for it (30 s, then SIGKILL).
bench_xb_stop() {
	[ -n "${XB_PID:-}" ] || return 0
	stop_pid "$XB_PID" 300
	XB_PID=
}

# Counter $2 (e.g. kernel.ringbuf_full) from the final stats line in stderr file $1; 0 when absent.
bench_xb_stat() {
	grep 'xdpbeat stats (final)' "$1" | tail -n 1 | tr ' ' '\n' |
		awk -F= -v k="$2" '$1 == k {v = $2} END {print v + 0}'
}

# Start `tcpdump -i $1 -w /dev/null FILTER` with stderr (its counts at the end) to $2, wait until it listens.
bench_tcpdump_start() {
	CAPTURE_LOG=$2 capture_start "$1" /dev/null "$3"
}

# Stop the tcpdump started by bench_tcpdump_start.
bench_tcpdump_stop() {
	CAPTURE_LINGER=0 capture_stop
}

# The HTTP bench capture (wrk -t1 -c${2:-8} -d3s against nginx on loopback, port $1), made
# once into the bench cache; prints its path.
bench_http_pcap() {
	local conns=${2:-8} pcap=$BENCH_CACHE/http_wrk.pcap
	[ "$conns" = 8 ] || pcap=$BENCH_CACHE/http_wrk_c$conns.pcap
	if [ ! -s "$pcap" ]; then
		start_nginx "$1" >&2
		capture_lo "$pcap" "$1" wrk -t1 -c"$conns" -d3s "http://127.0.0.1:$1/" > /dev/null
		stop_nginx
	fi
	echo "$pcap"
}

# bpf_stat PID FIELD: run_time_ns or run_cnt summed over the BPF programs daemon PID holds
# (kernel.bpf_stats_enabled=1), each program once, from the fdinfo of its program fds.
bpf_stat() {
	cat /proc/"$1"/fdinfo/* 2>/dev/null | awk -v f="$2:" '
		$1 == "prog_id:" { id = $2 }
		$1 == f && id != "" { t[id] = $2; id = "" }
		END { s = 0; for (i in t) s += t[i]; print s }'
}

# CPU seconds (user + system) process $1 has used so far.
bench_cpu_secs() {
	awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz}' "/proc/$1/stat" 2>/dev/null
}

# The pcap -> NDJSON table of a protocol bench, xdpbeat next to tshark:
#   vs_tshark_table EVENTS REPLIES T_STDOUT T_FILE T_TSHARK "TSHARK COMMAND"
# (times in seconds: xdpbeat to /dev/null, xdpbeat to the file output, tshark).
vs_tshark_table() {
	echo "| reader | median of 3 (s) | transactions/s | vs tshark |"
	echo "|---|---|---|---|"
	echo "| xdpbeat -I, events on stdout > /dev/null (as tshark) | $3 | $(rate "$1" "$3") | $(ratio "$5" "$3")x faster |"
	echo "| xdpbeat -I, events to a file (rotating file output) | $4 | $(rate "$1" "$4") | $(ratio "$5" "$4")x faster |"
	echo "| $6 > /dev/null | $5 | $(rate "$2" "$5") | 1.0 |"
}

# The config of a pcap -> NDJSON protocol bench: PROTO on PORT, events to the
# rotating file output in DIR (large files: no rotation during a run).
#   bench_file_yml PROTO PORT DIR > file.yml
bench_file_yml() {
	cat <<YML
xdpbeat.protocols:
  - type: $1
    ports: [$2]
output.console.enabled: false
output.file:
  path: $3
  rotate_every_kb: 1048576
YML
}
