#!/usr/bin/env bash
# Runs the live examples (examples/c/live.c, examples/python/live.py): a
# live source through falinfer ENDPOINT on the in-process local server.
# Each result line (local/barcode) names the QR code, each of another
# frame; a failing app exits 1 with one line naming the failure.
# Usage: live-example.sh ENDPOINT COMMAND...
set -euo pipefail
endpoint=$1
shift
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
unset GST_FAL_URL

"$@" local/barcode 20 "$endpoint" >"$scratch/out" 2>"$scratch/err" || {
  cat "$scratch/err"; exit 1; }
lines=$(wc -l <"$scratch/out")
[ "$lines" -ge 5 ] || { echo "only $lines results"; cat "$scratch/err"; exit 1; }
[ "$(grep -c '"data":"GST-FAL"' "$scratch/out")" -eq "$lines" ] || {
  echo "a result without the code:"; cat "$scratch/out"; exit 1; }
/usr/bin/python3 - "$scratch/out" <<'PY'
import json, sys
pts = [json.loads(line)["pts"] for line in open(sys.argv[1])]
assert len(set(pts)) == len(pts), pts
PY
grep -q "results from 20 frames through endpoint=$endpoint" "$scratch/err"

rc=0
"$@" local/fail 5 "$endpoint" >"$scratch/out" 2>"$scratch/err" || rc=$?
[ $rc -eq 1 ] || { echo "local/fail exited $rc"; cat "$scratch/err"; exit 1; }
# the HTTP status, or the realtime session's INTERNAL_ERROR
grep -Eq "HTTP 500|INTERNAL_ERROR" "$scratch/err"
echo "ok: $1 runs a live source through endpoint=$endpoint"
