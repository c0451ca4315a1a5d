#!/usr/bin/env bash
# Coverage-guided fuzzing: every libFuzzer target (tests/fuzz/lf_*.c, built
# into build-fuzz/ by `make fuzz-build`) for FUZZ_BENCH_SECONDS (default 600)
# each, all at once under nice, from the committed seeds and dictionaries,
# into a scratch corpus. Prints markdown: execs, exec/s, edge coverage,
# features, corpus size and whether anything was found (a crash, leak,
# timeout or sanitizer report fails the run and leaves its input in
# build-fuzz/artifacts/).
set -eu
cd "$(dirname "$0")/.."
secs=${FUZZ_BENCH_SECONDS:-600}
make -s fuzz-build >/dev/null
tmp=$(mktemp -d /tmp/xdpbeat-fuzz-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
targets=$(ls tests/fuzz/lf_*.c | sed 's|tests/fuzz/lf_||; s|\.c$||')
mkdir -p build-fuzz/artifacts
pids=()
for t in $targets; do
	mkdir -p "$tmp/$t"
	dict=()
	[ -f "tests/fuzz/dict/$t.dict" ] && dict=(-dict="tests/fuzz/dict/$t.dict")
	nice -n 10 "build-fuzz/lf/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
		"${dict[@]}" -artifact_prefix="build-fuzz/artifacts/$t-" -print_final_stats=1 \
		"$tmp/$t" "tests/fuzz/corpus/$t" >"$tmp/$t.log" 2>&1 &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
echo
echo "### Coverage-guided fuzzing (libFuzzer + ASan + UBSan, clang-14, build-fuzz/)"
echo
echo "Every target for $secs s, all at once under nice on this machine (exec/s compare only within the table),"
echo "from the committed seeds (tests/fuzz/corpus/, pipeline and decode from the pcaps by tests/fuzz/make-corpus.py)"
echo "and dictionaries (tests/fuzz/dict/). cov: libFuzzer edges of our instrumented code (libyaml, jansson, libbpf are not)."
echo "Command per target: \`build-fuzz/lf/T -max_total_time=$secs -timeout=10 -rss_limit_mb=2048 -max_len=8192 [-dict=tests/fuzz/dict/T.dict] CORPUS tests/fuzz/corpus/T\`."
echo
echo "| target | execs | exec/s | cov (edges) | features | corpus | findings |"
echo "|---|---:|---:|---:|---:|---:|---|"
for t in $targets; do
	log=$tmp/$t.log
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's|.* corp: \([0-9]*\)/.*|\1|p' <<<"$last")
	found=none
	if grep -q -E '^==[0-9]+==ERROR|runtime error|deadly signal|Test unit written' "$log"; then
		found="see build-fuzz/artifacts/$t-*: $(grep -m1 -E 'ERROR|runtime error|deadly signal' "$log" | cut -c1-100)"
	fi
	echo "| $t | ${execs:-?} | $(awk -v n="${execs:-0}" -v s="$secs" 'BEGIN {printf "%.0f", n / s}') | ${cov:-?} | ${ft:-?} | ${corp:-?} | $found |"
done
exit $rc
