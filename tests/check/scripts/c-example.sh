#!/usr/bin/env bash
# Runs examples/c/subscribe against `gst-fal serve --port 0`: an echo comes
# back unchanged after a QUEUED..COMPLETED status trail, and a failing app
# exits 1 with one line naming the HTTP status.
# Usage: c-example.sh GST_FAL_TOOL EXAMPLE
set -euo pipefail
tool=$1
example=$2
. "$(dirname "$0")/local-server.sh" "$tool"

"$example" local/echo '{"frame": 7}' >"$scratch/out" 2>"$scratch/err"
grep -q '"frame" : 7' "$scratch/out"
grep -q "IN_QUEUE\|IN_PROGRESS" "$scratch/err"
grep -q "COMPLETED" "$scratch/err"

rc=0
"$example" local/fail '{"status": 503, "detail": "no GPU", "error_type": "runner_scheduling_failure"}' \
  >"$scratch/out" 2>"$scratch/err" || rc=$?
[ $rc -eq 1 ]
grep -q "HTTP 503" "$scratch/err"
grep -q "no GPU" "$scratch/err"
echo "ok: the C example subscribes and reports failures"
