# Shared helpers for bench/*.sh (sourced).
: "${BUILD:=$PWD/build}"
XDPBEAT=${XDPBEAT:-$BUILD/xdpbeat}
BENCH_CACHE=${BENCH_CACHE:-$BUILD/bench-data}
mkdir -p "$BENCH_CACHE"

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
	tcpdump -i lo -s 0 -B 131072 -U -w "$out" "tcp port $port" 2> /dev/null &
	local tpid=$!
	sleep 1
	"$@"
	sleep 1
	kill -INT "$tpid"
	wait "$tpid" 2> /dev/null
}
