#!/usr/bin/env bash
# Builds gst-fal with AddressSanitizer + UndefinedBehaviorSanitizer (gcc) in
# ./build-asan and runs the whole test suite under them (`meson test --setup
# asan`, root meson.build): any report fails its test. Arguments go to
# meson test. See docs/testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build-asan/build.ninja ]; then
  # the GIR scanner does not run under ASan: no introspection (so no
  # python-example and python-gstfal tests in this build)
  meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fno-sanitize-recover=undefined \
    -Dc_link_args=-fno-sanitize-recover=undefined \
    -Dintrospection=disabled >/dev/null
fi
meson compile -C build-asan >/dev/null
# registries written by a run without the setup blacklist the plugin
find build-asan -name '*.registry' -delete
meson test -C build-asan --setup asan --num-processes 2 --print-errorlogs "$@"
