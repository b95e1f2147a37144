#!/usr/bin/env bash
# Runs examples/c/subscribe against `gst-fal serve --port 0`: an echo comes
# back unchanged after a QUEUED..COMPLETED status trail, and a failing app
# exits 1 with one line naming the HTTP status.
# Usage: c-example.sh GST_FAL_TOOL EXAMPLE
set -euo pipefail
tool=$1
example=$2
scratch=$(mktemp -d)
"$tool" serve --port 0 >"$scratch/url" 2>"$scratch/serve.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$scratch"' EXIT
until [ -s "$scratch/url" ]; do
  kill -0 $server 2>/dev/null || { cat "$scratch/serve.log"; exit 1; }
  sleep 0.05
done
export GST_FAL_URL=$(head -n 1 "$scratch/url")

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
