#!/usr/bin/env bash
# Run the end-to-end scripts tests/e2e/*.sh; each prints its own checks and
# exits non-zero on failure. Prints "N passed, N failed" at the end.
#   tests/run-e2e.sh            every script but the golden tests (make e2e)
#   tests/run-e2e.sh --golden   only the golden tests, *_golden.sh (make golden)
# E2E_ONLY=word runs only the scripts whose path contains word.
set -u
cd "$(dirname "$0")/.."
: "${XDPBEAT:=$PWD/build/xdpbeat}"
: "${BUILD:=$PWD/build}"
export XDPBEAT BUILD
kind=e2e
[ "${1:-}" = "--golden" ] && kind=golden
pass=0
fail=0
failed=()
for t in tests/e2e/*.sh; do
	[ -e "$t" ] || continue
	is=e2e
	[[ "$t" == *_golden.sh ]] && is=golden
	[ "$is" = "$kind" ] || continue
	[ -n "${E2E_ONLY:-}" ] && [[ "$t" != *"$E2E_ONLY"* ]] && continue
	echo "=== $kind: $t"
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
echo "$kind: ${pass} passed, ${fail} failed"
[ ${#failed[@]} -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; exit 1; }
