#!/usr/bin/env bash
# Regenerate the HTTP pcaps on loopback: a private nginx on 127.0.0.1:8080,
# tcpdump on lo, curl requests and a short throttled wrk run.
#   http-curl.pcap  GET, HEAD, POST with a body, 404, gzip (chunked),
#                   keep-alive with several URLs, 304, Expect: 100-continue
#   http-wrk.pcap   wrk -c4 -d1s (requests paced so the file stays small)
# Needs root (tcpdump), nginx, curl, wrk. Usage: tests/pcaps/make-http.sh [outdir]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)
. "$here/../capture_lib.bash"
port=8080
tmp=$(mktemp -d /tmp/xdpbeat-http-pcap.XXXXXX)
nginx_pid=""

cleanup() {
	CAPTURE_LINGER=0 capture_stop
	[ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
	sleep 0.2
	rm -rf "$tmp"
}
trap cleanup EXIT

chmod 755 "$tmp"
mkdir -p "$tmp/html" "$tmp/logs"
printf '<html><body><p>hello from nginx</p></body></html>\n' >"$tmp/html/index.html"
for i in $(seq 1 120); do echo "line $i of a text file that nginx compresses on the fly"; done >"$tmp/html/big.txt"
echo '{"ok":true}' >"$tmp/html/data.json"

cat >"$tmp/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/logs/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $tmp/body;
	proxy_temp_path $tmp/proxy;
	fastcgi_temp_path $tmp/fastcgi;
	uwsgi_temp_path $tmp/uwsgi;
	scgi_temp_path $tmp/scgi;
	types { text/html html; text/plain txt; application/json json; }
	server_tokens off;
	server {
		listen 127.0.0.1:$port;
		root $tmp/html;
		gzip on;
		gzip_types text/plain;
		gzip_min_length 1;
		location = /post { return 200 "posted\n"; }
	}
}
EOF

nginx -p "$tmp" -c "$tmp/nginx.conf" &
nginx_pid=$!
for _ in $(seq 50); do
	curl -s -o /dev/null "http://127.0.0.1:$port/" && break
	sleep 0.1
done

capture() { # name, command...
	local name=$1 rc=0
	shift
	capture_run lo "$tmp/$name.pcap" "tcp port $port" "$@" || rc=$?
	cp "$tmp/$name.pcap" "$out/$name.pcap"
	echo "$out/$name.pcap: $(stat -c %s "$out/$name.pcap") bytes"
	return $rc
}

curl_session() {
	local u="http://127.0.0.1:$port"
	curl -s -o /dev/null -A "xdpbeat-test/1.0" "$u/"
	lm=$(curl -s -I "$u/index.html" | tr -d '\r' | sed -n 's/^Last-Modified: //ip')
	curl -s -o /dev/null -d 'user=bob&password=hunter2' "$u/post"
	curl -s -o /dev/null "$u/missing?x=1"
	curl -s -o /dev/null -H 'Accept-Encoding: gzip' "$u/big.txt"
	curl -s -o /dev/null -o /dev/null -o /dev/null "$u/" "$u/data.json" "$u/big.txt"
	curl -s -o /dev/null -H "If-Modified-Since: $lm" "$u/index.html"
	curl -s -o /dev/null -H 'Expect: 100-continue' -H 'Content-Type: text/plain' --data-binary @"$tmp/html/big.txt" "$u/post"
}

wrk_session() {
	cat >"$tmp/pace.lua" <<'EOF'
function delay()
	return 20
end
EOF
	wrk -t1 -c4 -d1s -s "$tmp/pace.lua" "http://127.0.0.1:$port/" >/dev/null
}

capture http-curl curl_session || echo "curl session failed: $?"
capture http-wrk wrk_session
