#!/usr/bin/env bash
# config/xdpbeat.yml documents settings in comments: with every commented
# setting switched on, the file must still be a valid configuration
# (catches documented keys that do not exist or have the wrong type).
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${XDPBEAT:=$PWD/build/xdpbeat}"
tmp=$(mktemp /tmp/xdpbeat-cfgref.XXXXXX.yml)
trap 'rm -f "$tmp"' EXIT
sed -e 's/^#output\.elasticsearch:/output.elasticsearch:/' -e 's/^#  #\([a-z]\)/  \1/' -e 's/^#  \([a-z]\)/  \1/' \
	-e 's/^#\([a-z][a-z_.]*:\)/\1/' -e 's/^    #\([a-z_]*:\)/    \1/' config/xdpbeat.yml > "$tmp"
on=$(grep -c '^[^#]' "$tmp")
"$XDPBEAT" -t -c config/xdpbeat.yml
"$XDPBEAT" -t -c "$tmp"
echo "ok: default config and the reference with every setting on ($on lines) are valid"
