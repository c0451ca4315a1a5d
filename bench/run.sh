#!/usr/bin/env bash
# `make bench`: run every bench/*.sh (except lib.sh) and rewrite BENCHMARKS.md.
set -u
cd "$(dirname "$0")/.."
: "${BUILD:=$PWD/build}"
export BUILD
out=BENCHMARKS.md.tmp
{
	echo "# xdpbeat benchmarks"
	echo
	echo "Written by \`make bench\` on $(date -u +%Y-%m-%d). Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')."
	echo "Figures are ratios measured side by side in one run; absolute times on shared machines are noise."
	echo
} > "$out"
for b in bench/*.sh; do
	case "$b" in bench/lib.sh | bench/run.sh) continue ;; esac
	[ -n "${BENCH_ONLY:-}" ] && [[ "$b" != *"$BENCH_ONLY"* ]] && continue
	echo "bench: $b" >&2
	if ! timeout 1200 bash "$b" >> "$out"; then
		echo "(bench $b failed)" >> "$out"
		echo >> "$out"
	fi
done
mv "$out" BENCHMARKS.md
cat BENCHMARKS.md
