# No silent loss, sourced by the golden, attack and live tests.
# bytes_balanced LINE: true when the stats line LINE ("... key=value ...")
# says TCP bytes delivered = consumed + dropped by reason and no stream was
# unbalanced; else prints the sums and is false.
bytes_balanced() {
	awk -v line="$1" 'BEGIN {
		n = split(line, kv, " ")
		for (i = 1; i <= n; i++) {
			split(kv[i], p, "=")
			v[p[1]] = p[2]
		}
		out = v["tcp.bytes.consumed"] + v["tcp.bytes.dropped_gap"] + v["tcp.bytes.dropped_parse_error"] + \
			v["tcp.bytes.dropped_cap"] + v["tcp.bytes.unparsed_at_close"]
		if (v["tcp.bytes.delivered"] + 0 != out || v["tcp.bytes.unbalanced_streams"] + 0 != 0) {
			printf "delivered %d != consumed + dropped %d (unbalanced streams %d)\n", \
				v["tcp.bytes.delivered"], out, v["tcp.bytes.unbalanced_streams"]
			exit 1
		}
	}'
}
