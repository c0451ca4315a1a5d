# Shared steps of the live heads-only tests (live_heads*.sh): each runs its
# traffic twice, skip_body_bytes at its default with the default workers and
# 0 with one worker, and the two runs must give the same events.
# Loopback moves gigabytes a second: the rings are large (and the clients
# pace themselves), so a busy machine that leaves the daemon unscheduled for
# a while does not overflow them (a counted gap; not these tests' topic).
# Needs live_lib.bash.

# heads_start SKIP WORKERS TYPE PORT: a daemon watching TYPE on PORT, events into $LIVE_TMP/out.
heads_start() {
	echo "--- xdpbeat.tcp.skip_body_bytes: $1, xdpbeat.workers: $2"
	mkdir -p "$LIVE_TMP/out"
	rm -f "$LIVE_TMP/out"/*
	cat >"$LIVE_TMP/xdpbeat.yml" <<YML
xdpbeat.interfaces: [lo]
xdpbeat.tcp.skip_body_bytes: $1
xdpbeat.tcp.max_ooo_segments: 4096
xdpbeat.ring_size: 64MiB
xdpbeat.workers: $2
xdpbeat.protocols:
  - type: $3
    ports: [$4]
output.console.enabled: false
output.file.path: $LIVE_TMP/out
YML
	xb_start "$LIVE_TMP/xdpbeat.yml" "$LIVE_TMP/err"
	check "daemon attached to lo" $?
}

# heads_stop: SIGINT, the final counters shown; HEADS_EV names the file of the run's events.
heads_stop() {
	sleep 0.5
	xb_stop
	check "SIGINT: exit status 0" $?
	grep 'stats (final)' "$LIVE_TMP/err" | sed 's/^/  /'
	HEADS_EV=$(events_in "$LIVE_TMP/out")
}

# heads_counts SKIP EVENTS MIN_SKIPPED WHAT: no note, no gap, and at least MIN_SKIPPED
# bytes (WHAT says of what) left in the kernel, or none when SKIP is 0.
heads_counts() {
	local skipped
	check "no notes" $([ "$(jq -c 'select(.error != null)' "$2" | grep -c .)" -eq 0 ]; echo $?)
	check "no TCP gaps" $([ "$(final_stat "$LIVE_TMP/err" tcp.gaps)" -eq 0 ]; echo $?)
	skipped=$(final_stat "$LIVE_TMP/err" kernel.skipped_bytes)
	if [ "$1" = 0 ]; then
		check "nothing skipped ($skipped)" $([ "$skipped" -eq 0 ]; echo $?)
	else
		check "most of $4 stayed in the kernel ($skipped bytes)" $([ "$skipped" -gt "$3" ]; echo $?)
	fi
}

# heads_same: the events (one summary line each, in $LIVE_TMP/events-SKIP) of both runs are the same.
heads_same() {
	diff <(sort "$LIVE_TMP/events-64KiB") <(sort "$LIVE_TMP/events-0")
	check "heads-only and full capture give the same events" $?
}
