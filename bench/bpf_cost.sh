#!/usr/bin/env bash
# Cost per packet of the XDP/TC capture programs vs empty programs
# (BPF_PROG_TEST_RUN, 1e6 packets per case, median of 5). Prints markdown.
# Run by bench/run.sh; alone: BUILD=$PWD/build bench/bpf_cost.sh
set -eu
cd "$(dirname "$0")/.."
: "${BUILD:=$PWD/build}"
echo "### Kernel programs: cost per packet"
echo
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: BPF_PROG_TEST_RUN needs root."
	echo
	exit 0
fi
rc=0
"$BUILD/bench/bpf_cost" "${BPF_COST_PACKETS:-1000000}" || rc=$?
echo
echo "Command: \`make bench\` (bench/bpf_cost.sh -> build/bench/bpf_cost). Target: a packet on an"
echo "unwatched port costs <= 1.5x an empty XDP program. Matching rows include the copy into the"
echo "ring buffer (records consumed between runs, so none are lost)."
echo
exit $rc
