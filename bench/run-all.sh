#!/bin/sh
# Runs the side-by-side benchmarks (gst-fal vs @fal-ai/client 1.10.1) and
# writes their JSON, SVG and Markdown to bench/results/. Installs
# @fal-ai/client with npm under the build directory, as the conformance test
# does. Usage, from the source tree, after `meson compile -C build`:
#   bench/run-all.sh [BUILD_DIR] [PROGRAM...] [--FLAG VALUE...]
# (default: build, all of p1-cpu p3-connections p5-memory p6-upload
# p7-scale p8-realtime; flags go to every program named). QUICK=1 runs small N (a few
# minutes in all) instead of the full figures.
set -eu

src_dir=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src_dir/build}" && pwd)
[ $# -gt 0 ] && shift
programs=
while [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; do
  programs="$programs $1"
  shift
done
programs=${programs:-p1-cpu p3-connections p5-memory p6-upload p7-scale p8-realtime}
js_dir="$build/bench/js"

command -v node >/dev/null && command -v npm >/dev/null || {
  echo "run-all.sh: node and npm are needed" >&2; exit 1; }
mkdir -p "$js_dir"
cp "$src_dir"/bench/js/*.mjs "$src_dir/bench/js/package.json" "$js_dir/"
if [ ! -f "$js_dir/node_modules/@fal-ai/client/package.json" ]; then
  (cd "$js_dir" && npm install --no-audit --no-fund >npm-install.log 2>&1) || {
    echo "run-all.sh: npm install failed, see $js_dir/npm-install.log" >&2; exit 1; }
fi

export BENCH_BUILD="$build" BENCH_RESULTS="${BENCH_RESULTS:-$src_dir/bench/results}"
export BENCH_SRC="$src_dir"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY FAL_KEY GST_FAL_URL
for p in $programs; do
  quick=
  if [ "${QUICK:-0}" = 1 ]; then
    case $p in
      p1-cpu) quick="--n 300 --rounds 2" ;;
      p3-connections) quick="--n 200" ;;
      p5-memory) quick="--n 2000" ;;
      p6-upload) quick="--rounds 1" ;;
      p7-scale) quick="--seconds 5" ;;
      p8-realtime) quick="--n 300 --rounds 2" ;;
    esac
  fi
  echo "== $p $quick" >&2
  start=$(date +%s)
  # shellcheck disable=SC2086
  node "$js_dir/$p.mjs" $quick "$@"
  echo "== $p: $(( $(date +%s) - start )) s" >&2
done
rm -rf "$build/bench/tmp"
