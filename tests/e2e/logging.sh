#!/usr/bin/env bash
# logging.level, logging.selectors and -d on a pcap run: warning hides the info
# lines (the stats line too) but not the errors, -d "*" shows every module's
# debug lines, -d and logging.selectors pick the modules, logging.level: debug
# alone shows all, and the lines reach logging.to_files. The Elasticsearch
# output runs against tests/es_server.py for its _bulk debug line.
set -u
cd "$(dirname "$0")/../.."
source tests/es_lib.sh
PCAP=tests/pcaps/http-curl.pcap
DROP='processors=[{drop_event.when.equals.http.response.status_code: 404}]'

es_start
# run LOG [args...]: xb_run with the pcap (events to the test server)
run() {
	local log=$1
	shift
	xb_run "$log" "$PCAP" "$@"
}
has() { grep -q -- "$2" "$ES_TMP/$1.err"; }
hasnt() { ! grep -q -- "$2" "$ES_TMP/$1.err"; }
# sels LOG: the debug selectors seen, sorted, space-separated
sels() { grep -o '^xdpbeat: debug \[[a-z*]*\]' "$ES_TMP/$1.err" | sed 's/.*\[\(.*\)\]/\1/' | sort -u | tr '\n' ' '; }

echo "logging:"
run default
check "default: the stats line (info)" has default 'stats (final): packets=88'
check "default: no debug line" hasnt default 'debug \['

run warn -E logging.level=warning
check "warning: exit 0" eq "$?" 0
check "warning: no stats line" hasnt warn 'stats (final)'
check "warning: nothing at all on a clean run" eq "$(wc -c <"$ES_TMP/warn.err")" 0

"$XDPBEAT" -E logging.level=warning -I "$ES_TMP/nosuch.pcap" >/dev/null 2>"$ES_TMP/warnerr.err"
check "warning: errors still shown" has warnerr "^xdpbeat: $ES_TMP/nosuch.pcap: "
"$XDPBEAT" -E logging.level=critical -I "$ES_TMP/nosuch.pcap" >/dev/null 2>"$ES_TMP/crit.err"
check "critical: the error hidden" eq "$(wc -c <"$ES_TMP/crit.err")" 0

run all -d '*' -E "$DROP"
check "-d *: debug lines of config, elasticsearch, processors, publisher" \
	eq "$(sels all)" "config elasticsearch processors publisher "
check "-d *: the config line names http's ports" has all '^xdpbeat: debug \[config\]: http: ports 80,'
check "-d *: the _bulk request" has all '^xdpbeat: debug \[elasticsearch\]: _bulk to http://127.0.0.1:[0-9]*: 9 events, [0-9]* bytes, HTTP 200 in'
check "-d *: the dropped event" has all '^xdpbeat: debug \[processors\]: http event dropped by a processor'
check "-d *: info lines too" has all 'stats (final)'

run two -E logging.level=error -d publisher -d config -E "$DROP"
check "-d publisher -d config: those two" eq "$(sels two)" "config publisher "
check "-d: level debug, so info lines are back" has two 'stats (final)'

run alone -d -E "$DROP"
check "-d alone: every selector" eq "$(sels alone)" "config elasticsearch processors publisher "

run cfgsel -E logging.level=debug -E 'logging.selectors=[processors]' -E "$DROP"
check "logging.selectors [processors]: only those" eq "$(sels cfgsel)" "processors "

run cfgnodebug -E 'logging.selectors=["*"]'
check "logging.selectors at info level: no debug line" hasnt cfgnodebug 'debug \['

run cfgall -E logging.level=debug
check "logging.level debug alone: every selector" eq "$(sels cfgall)" "config elasticsearch publisher "

run tofile -E logging.to_files=true -E "logging.files.path=$ES_TMP/logs" -E logging.level=debug \
	-E 'logging.selectors=[elasticsearch]'
check "to_files: the debug line in the file" grep -q '^xdpbeat: debug \[elasticsearch\]: _bulk to' "$ES_TMP/logs/xdpbeat"
check "to_files: nothing on stderr" eq "$(wc -c <"$ES_TMP/tofile.err")" 0

es_done
