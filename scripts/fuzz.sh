#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz in ./build-fuzz (clang, ASan +
# UBSan) and runs each over its seed corpus plus a short fixed number of
# mutated inputs (the meson test suite "fuzz"). Arguments go to meson test,
# e.g. a target's name; --build-only stops after the build. Longer runs:
# bench/fuzz-all.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build-fuzz/build.ninja ]; then
  # only the libraries the targets need: no plugin, tests or introspection
  CC=clang meson setup build-fuzz -Dfuzzing=enabled \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dplugin=disabled -Dtests=disabled -Dintrospection=disabled >/dev/null
fi
meson compile -C build-fuzz fuzz >/dev/null
[ "${1:-}" = "--build-only" ] && exit 0
meson test -C build-fuzz --suite fuzz --num-processes 2 --print-errorlogs "$@"
