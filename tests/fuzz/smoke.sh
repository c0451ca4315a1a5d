#!/usr/bin/env bash
# Fuzz smoke (part of `make test`): the pipeline fuzzer for a bounded number
# of iterations with three seeds, and every committed pcap cut at random
# offsets through the xdpbeat binary. `make fuzz` runs the fuzzer for
# FUZZ_SECONDS instead.
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=$PWD/build}"
: "${XDPBEAT:=$BUILD/xdpbeat}"
pass=0
fail=0
check() { if "$@" > /tmp/xdpbeat-fuzz.$$ 2>&1; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $*"; tail -20 /tmp/xdpbeat-fuzz.$$; fi; }

if [ -n "${FUZZ_SECONDS:-}" ]; then
	check timeout $((FUZZ_SECONDS + 60)) "$BUILD/fuzz/fuzz_pipeline" -n 0 -t "$FUZZ_SECONDS"
else
	for seed in 1 2 3; do
		check timeout 300 "$BUILD/fuzz/fuzz_pipeline" -n 3000 -s "$seed"
	done
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp" /tmp/xdpbeat-fuzz.$$' EXIT
	for p in tests/pcaps/*.pcap; do
		[ -e "$p" ] || continue
		size=$(stat -c %s "$p")
		for i in 1 2 3; do
			cut=$(( (RANDOM * 32768 + RANDOM) % size ))
			head -c "$cut" "$p" > "$tmp/cut.pcap"
			# a cut file is an error (exit 1) or fine (0); a crash/sanitizer abort is >1
			check bash -c "timeout 60 '$XDPBEAT' -I '$tmp/cut.pcap' -E output.file.enabled=false >/dev/null; rc=\$?; [ \$rc -le 1 ]"
		done
	done
fi
echo "fuzz: ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ]
