#!/bin/bash
# Run libFuzzer targets: run-libfuzzer.sh SECONDS TARGET...
# Each target starts from its committed corpus (tests/fuzz/corpus/<t>/, read only)
# plus a work corpus in build-fuzz/corpus/<t>/ where new inputs go, with its
# dictionary (tests/fuzz/dict/<t>.dict) when there is one. A crash, leak or
# timeout leaves its reproducer in build-fuzz/artifacts/ and fails the run.
set -u
cd "$(dirname "$0")/../.."
secs=$1
shift
rc=0
for t in "$@"; do
	bin=build-fuzz/lf/$t
	[ -x "$bin" ] || { echo "run-libfuzzer: no target $t ($bin)" >&2; exit 2; }
	mkdir -p "build-fuzz/corpus/$t" build-fuzz/artifacts "tests/fuzz/corpus/$t"
	args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192
		-artifact_prefix="build-fuzz/artifacts/$t-" -print_final_stats=1)
	[ -f "tests/fuzz/dict/$t.dict" ] && args+=(-dict="tests/fuzz/dict/$t.dict")
	echo "== lf_$t: ${secs}s"
	if ! "$bin" "${args[@]}" "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" \
		>"build-fuzz/$t.log" 2>&1; then
		echo "run-libfuzzer: $t FAILED (build-fuzz/$t.log):" >&2
		grep -A30 -m1 'ERROR\|==ERROR\|runtime error\|deadly signal' "build-fuzz/$t.log" >&2
		rc=1
	fi
	grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "build-fuzz/$t.log" | tail -2
done
exit $rc
