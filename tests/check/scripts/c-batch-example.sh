#!/usr/bin/env bash
# Runs examples/c/batch against `gst-fal serve --port 0`: every argument
# once with its own result, a failure grouped under its cause, exit 1.
# Usage: c-batch-example.sh GST_FAL_TOOL EXAMPLE
set -euo pipefail
tool=$1
example=$2
. "$(dirname "$0")/local-server.sh" "$tool"

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
