#!/usr/bin/env bash
# Live capture on loopback of the protocols that run over UDP and TCP:
# a private dnsmasq queried by dig over UDP and +tcp, and a private memcached
# spoken to over TCP (text) and UDP (memcached's 8-byte frame header). The
# kernel filter must hand over both transports, and every exchange must come
# out as one transaction with its response. memcache is added by a SIGHUP
# reload (a protocol that was not configured at start).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/live_lib.bash
need_root
trap live_cleanup EXIT

DNS_PORT=$(free_ports 3)
MC_PORT=$((DNS_PORT + 1))
BIG_PORT=$((DNS_PORT + 2))

dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll --bind-interfaces \
	--listen-address=127.0.0.1 --port="$DNS_PORT" --user=root --group=root \
	--pid-file="$LIVE_TMP/dnsmasq.pid" --log-facility="$LIVE_TMP/dnsmasq.log" \
	--local=/example.com/ --address=/www.example.com/192.0.2.10 \
	--txt-record=txt.example.com,"live test" &
LIVE_PIDS+=("$!")
memcached -l 127.0.0.1 -p "$MC_PORT" -U "$MC_PORT" -u root -m 16 &
LIVE_PIDS+=("$!")
wait_for 20 dig @127.0.0.1 -p "$DNS_PORT" +tries=1 +time=1 +short www.example.com
check "dnsmasq up on 127.0.0.1:$DNS_PORT" $? || cat "$LIVE_TMP/dnsmasq.log" >&2
wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MC_PORT"
check "memcached up on 127.0.0.1:$MC_PORT" $?

mkdir -p "$LIVE_TMP/out"
printf '%s\n' "xdpbeat.interfaces: [lo]" "xdpbeat.protocols:" "  - type: dns" "    ports: [$DNS_PORT, $BIG_PORT]" \
	"output.console.enabled: false" "output.file.path: $LIVE_TMP/out" >"$LIVE_TMP/xdpbeat.yml"
xb_start "$LIVE_TMP/xdpbeat.yml" "$LIVE_TMP/err"
check "daemon attached to lo" $?

# DNS: 3 queries over UDP and 2 over TCP, one NXDOMAIN each way.
dig @127.0.0.1 -p "$DNS_PORT" +tries=1 +time=2 www.example.com A >/dev/null
dig @127.0.0.1 -p "$DNS_PORT" +tries=1 +time=2 txt.example.com TXT >/dev/null
dig @127.0.0.1 -p "$DNS_PORT" +tries=1 +time=2 missing.example.com A >/dev/null
# an answer of about 6 KiB in one datagram: more than one ring-buffer record
$PY tests/e2e/live_dns_big.py "$BIG_PORT" &
LIVE_PIDS+=("$!")
sleep 0.5
dig @127.0.0.1 -p "$BIG_PORT" +tries=1 +time=3 +bufsize=16384 +ignore big.example.com TXT >"$LIVE_TMP/big.txt"
size=$(grep -o 'MSG SIZE  rcvd: [0-9]*' "$LIVE_TMP/big.txt" | grep -o '[0-9]*$')
check "big TXT answer over udp: ${size:-?} bytes > 4096" $([ "${size:-0}" -gt 4096 ]; echo $?)
dig @127.0.0.1 -p "$DNS_PORT" +tcp +tries=1 +time=2 www.example.com A >/dev/null
dig @127.0.0.1 -p "$DNS_PORT" +tcp +tries=1 +time=2 nothere.example.com A >/dev/null

# Reload with memcache added.
printf '%s\n' "  - type: memcache" "    ports: [$MC_PORT]" >>"$LIVE_TMP/xdpbeat.yml"
$PY - "$LIVE_TMP/xdpbeat.yml" <<'PYEOF'
import sys
path = sys.argv[1]
lines = open(path).read().splitlines()
proto = [l for l in lines if l.startswith("  ")]
rest = [l for l in lines if not l.startswith("  ") and l != "xdpbeat.protocols:"]
open(path, "w").write("\n".join(rest[:1] + ["xdpbeat.protocols:"] + proto + rest[1:]) + "\n")
PYEOF
kill -HUP "$XB_PID"
wait_for 10 grep -q "configuration reloaded" "$LIVE_TMP/err"
check "SIGHUP: configuration reloaded with memcache added" $?

# memcache: text over TCP (set, get, delete), then set and get over UDP.
timeout 10 $PY tests/e2e/live_memcache_client.py "$MC_PORT"
check "memcache client exchanges" $?
sleep 0.5
xb_stop
check "SIGINT: exit status 0" $?

ev=$(events_in "$LIVE_TMP/out")
cnt() { jq -c "select($1)" "$ev" 2>/dev/null | grep -c .; }
n=$(cnt '.type == "dns" and .network.transport == "udp" and .dns.response_code != null')
check "dns over udp: $n of 4 transactions" $([ "$n" -eq 4 ]; echo $?)
n=$(cnt '.dns.question.name == "big.example.com" and .dns.answers_count == 1 and .destination.bytes > 4096')
check "dns: the big answer rebuilt from its chunks" $([ "$n" -eq 1 ]; echo $?)
n=$(cnt '.type == "dns" and .network.transport == "tcp" and .dns.response_code != null')
check "dns over tcp: $n of 2 transactions" $([ "$n" -eq 2 ]; echo $?)
n=$(cnt '.type == "dns" and .dns.response_code == "NXDOMAIN" and .status == "Error"')
check "dns NXDOMAIN: $n of 2 with status Error" $([ "$n" -eq 2 ]; echo $?)
n=$(cnt '.type == "memcache" and .network.transport == "tcp" and .memcache.response != null')
check "memcache over tcp: $n of 3 transactions" $([ "$n" -eq 3 ]; echo $?)
n=$(cnt '.type == "memcache" and .network.transport == "udp" and .memcache.response != null')
check "memcache over udp: $n of 2 transactions" $([ "$n" -eq 2 ]; echo $?)
total=$(grep -c . "$ev")
check "no other events: $total == 11" $([ "$total" -eq 11 ]; echo $?)
grep 'stats (final)' "$LIVE_TMP/err"
exit $fail
