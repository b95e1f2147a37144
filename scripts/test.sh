#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test. Ends with one line
# "tests: N passed, N failed".
# With CI=true (as CI runs it, .ci/run) it then also runs the whole suite
# under ASan + UBSan (scripts/sanitize.sh) and each fuzz target for a short
# fixed number of inputs (scripts/fuzz.sh), one line each, and fails if any
# of them does. See docs/testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
set +e
meson test -C build --print-errorlogs --num-processes 2 "$@"
rc=$?
set -e
summary () {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[2]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): passed += 1
    elif r == "SKIP": skipped += 1
    else: failed += 1
print(f"{sys.argv[1]}: {passed} passed, {failed} failed, {skipped} skipped")
PY
}
summary tests build/meson-logs/testlog.json
if [ "${CI:-}" = "true" ]; then
  set +e
  bash scripts/sanitize.sh
  rc_asan=$?
  bash scripts/fuzz.sh
  rc_fuzz=$?
  set -e
  summary "tests under ASan + UBSan" build-asan/meson-logs/testlog-asan.json
  summary "fuzz targets" build-fuzz/meson-logs/testlog.json
  [ $rc -ne 0 ] || rc=$rc_asan
  [ $rc -ne 0 ] || rc=$rc_fuzz
fi
exit $rc
