#!/usr/bin/env bash
# Runs examples/c/batch against `gst-fal serve --port 0`: every argument
# once with its own result, a failure grouped under its cause, exit 1.
# Usage: c-batch-example.sh GST_FAL_TOOL EXAMPLE
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

args=()
for i in $(seq 0 9); do args+=("{\"i\": $i}"); done
"$example" local/echo 3 "${args[@]}" >"$scratch/out" 2>"$scratch/err"
for i in $(seq 0 9); do
  [ "$(grep -c "^$i .*: {\"i\":$i}\$" "$scratch/out")" -eq 1 ]
done
grep -q "Succeeded: 10, Failed: 0" "$scratch/err"
grep -q "10/10 done" "$scratch/err"

rc=0
"$example" local/fail 2 '{"status": 422}' '{oops' >"$scratch/out" \
  2>"$scratch/err" || rc=$?
[ $rc -eq 1 ]
grep -q "^0 failed: .*HTTP 422" "$scratch/out"
grep -q "^1 failed: " "$scratch/out"
grep -q "Succeeded: 0, Failed: 2" "$scratch/err"
grep -q "  HTTP 422 validation: 1" "$scratch/err"
echo "ok: the C batch example runs every item and groups the failures"
