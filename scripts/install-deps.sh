#!/usr/bin/env bash
# Install every Debian package xdpbeat needs to build, test and benchmark.
# Idempotent; skips apt when everything is already there.
set -euo pipefail

PACKAGES=(
	gcc make clang llvm clang-format-19 pkg-config bpftool iproute2
	clang-14 libclang-rt-14-dev
	libbpf-dev libelf-dev zlib1g-dev libzstd-dev libyaml-dev libjansson-dev libcurl4-openssl-dev libpcap-dev libcriterion-dev
	tcpdump tshark nginx-light wrk hey curl iperf3 procps psmisc
	dnsmasq dnsutils dnsperf memcached libmemcached-tools redis-server bind9 bind9-utils
	python3-elasticsearch jq openssl time
	mariadb-server mariadb-client libdbd-mariadb-perl
	postgresql postgresql-client postgresql-contrib python3-psycopg2
	python3-thrift thrift-compiler
	python3-pymongo python3-zstandard python3-snappy
)
# Node.js and npm (the MongoDB Node.js driver's tests): Debian's packages only
# when no node/npm is on PATH (a NodeSource nodejs, which bundles npm,
# conflicts with Debian's npm).
command -v node >/dev/null && command -v npm >/dev/null || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all packages present"
	exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
