#!/usr/bin/env bash
# Regenerate every golden event file from the committed pcaps after a
# deliberate change; review the diff (git diff tests/golden) before committing.
#   tests/golden/update.sh            (uses build/xdpbeat, or $XDPBEAT)
set -euo pipefail
cd "$(dirname "$0")/../.."
for t in tests/e2e/*_golden.sh; do
	bash "$t" --update
done
