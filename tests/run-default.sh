#!/usr/bin/env bash
# `make run`: the live sensor on loopback with the built-in default config
# (events on the console and in ./data/xdpbeat-<yyyymmdd>.ndjson). Stop with Ctrl-C.
# Without root or BTF it says why and replays a bundled sample pcap instead.
set -u
XDPBEAT=${1:-build/xdpbeat}
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ] && [ -e /sys/kernel/btf/vmlinux ]; then
	echo "xdpbeat: live on lo with the default config (config/xdpbeat.yml); try: curl http://127.0.0.1:8080/ ; Ctrl-C stops" >&2
	exec "$XDPBEAT" "${@:2}"
fi
echo "xdpbeat: live capture needs root and a kernel with BTF; replaying tests/pcaps/http-curl.pcap instead" >&2
exec "$XDPBEAT" -I tests/pcaps/http-curl.pcap -E 'xdpbeat.protocols.0.ports=[80,8080,8000,5000,8002,18080]' "${@:2}"
