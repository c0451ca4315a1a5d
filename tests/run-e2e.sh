#!/usr/bin/env bash
# Run every end-to-end script tests/e2e/*.sh; each prints its own checks and
# exits non-zero on failure. Prints "N passed, N failed" at the end.
set -u
cd "$(dirname "$0")/.."
: "${XDPBEAT:=$PWD/build/xdpbeat}"
: "${BUILD:=$PWD/build}"
export XDPBEAT BUILD
pass=0
fail=0
failed=()
for t in tests/e2e/*.sh; do
	[ -e "$t" ] || continue
	[ -n "${E2E_ONLY:-}" ] && [[ "$t" != *"$E2E_ONLY"* ]] && continue
	echo "=== e2e: $t"
	start=$(date +%s)
	if timeout 600 bash "$t"; then
		pass=$((pass + 1))
		echo "=== PASS $t ($(($(date +%s) - start))s)"
	else
		fail=$((fail + 1))
		failed+=("$t")
		echo "=== FAIL $t ($(($(date +%s) - start))s)"
	fi
done
echo "e2e: ${pass} passed, ${fail} failed"
[ ${#failed[@]} -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; exit 1; }
