# Shared by the golden tests (tests/e2e/*_golden.sh), sourced after `cd` to the
# top of the tree. A golden test reads committed pcaps with `xdpbeat -I` and
# compares the events with tests/golden/<name>.ndjson; `--update` rewrites them.
#   golden_init NAME "$@"          temp dir, flags, trap
#   golden_run NAME CONFIG         xdpbeat on tests/pcaps/NAME.pcap -> $tmp/NAME.out/.err/.ndjson,
#                                  with one worker; then with 2 and 4 workers, which must give the
#                                  same events (as a multiset, each flow's in the same order)
#   golden_compare NAME            diff with tests/golden/NAME.ndjson (or rewrite it)
#   check DESCRIPTION RC           record one check (RC 0 = ok)
#   jq_check DESCRIPTION FILE FILTER  FILTER must be true over all events of FILE
#   no_stats NAME REGEX            the final stats line must not match REGEX
#   bytes_balance NAME             no silent loss: in the final stats line, TCP bytes
#                                  delivered = consumed + dropped by reason (golden_run
#                                  checks it for every pcap)
#   golden_exit                    exit status of all checks
: "${XDPBEAT:=$PWD/build/xdpbeat}"
. "$(dirname "${BASH_SOURCE[0]}")/bytes_balance.bash"
fail=0
update=0

golden_init() {
	tmp=$(mktemp -d "/tmp/xdpbeat-$1-golden.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	[ "${2:-}" = "--update" ] && update=1
	return 0
}

# One event per line, keys sorted, host- and version-dependent keys removed.
normalize() {
	jq -c -S 'del(.agent, .host, ."@metadata".version)'
}

check() {
	if [ "$2" = 0 ]; then
		echo "ok: $1"
	else
		echo "FAIL: $1"
		fail=1
	fi
}

golden_run() {
	"$XDPBEAT" -I "tests/pcaps/$1.pcap" -c "$2" -E xdpbeat.workers=1 2>"$tmp/$1.err" >"$tmp/$1.out"
	normalize <"$tmp/$1.out" >"$tmp/$1.ndjson"
	bytes_balance "$1"
	[ $update = 1 ] || workers_same "$1" "$2"
}

# The events of a flow in their order, flows sorted (jq's sort_by is stable).
by_flow() {
	jq -s -c 'sort_by(.client.ip, .client.port, .server.ip, .server.port, .network.transport) | .[]'
}

# Flow-sharded workers give the one-worker events: same multiset, same order within each flow.
workers_same() {
	local w rc
	by_flow <"$tmp/$1.ndjson" >"$tmp/$1.flows"
	for w in 2 4; do
		rc=0
		"$XDPBEAT" -I "tests/pcaps/$1.pcap" -c "$2" -E xdpbeat.workers=$w 2>"$tmp/$1.w$w.err" |
			normalize | by_flow >"$tmp/$1.w$w.flows"
		diff -u "$tmp/$1.flows" "$tmp/$1.w$w.flows" >"$tmp/$1.w$w.diff" || rc=1
		[ $rc = 0 ] || head -40 "$tmp/$1.w$w.diff"
		check "$1: workers $w give the events of one worker" $rc
	done
}

bytes_balance() {
	local line
	line=$(grep 'stats (final)' "$tmp/$1.err" | tail -1)
	if ! bytes_balanced "$line"; then
		echo "$line"
		check "$1: TCP bytes delivered = consumed + dropped" 1
	fi
	return 0
}

golden_compare() {
	local golden="tests/golden/$1.ndjson" rc=0

	if [ $update = 1 ]; then
		cp "$tmp/$1.ndjson" "$golden"
		echo "$golden: $(wc -l <"$golden") events"
		return 0
	fi
	diff -u "$golden" "$tmp/$1.ndjson" >"$tmp/$1.diff" || rc=1
	[ $rc = 0 ] || head -60 "$tmp/$1.diff"
	check "$1: events equal $golden" $rc
}

jq_check() {
	local rc=0
	jq -e -s "$3" "$2" >/dev/null || rc=1
	check "$1" $rc
}

no_stats() {
	if grep -q "$2" "$tmp/$1.err"; then
		grep stats "$tmp/$1.err"
		check "$1: final stats free of $2" 1
	fi
	return 0
}

golden_exit() {
	exit $fail
}
