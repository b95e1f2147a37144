#!/bin/sh
# The main job's average request latency (scripts/main-job.sh) of this tree
# against another build of gst-fal (e.g. the commit before the warm
# runners), in interleaved rounds on the same machine; prints each round,
# the medians and their ratio, and writes them to $BENCH_RESULTS/main-job.json
# when BENCH_RESULTS is set. Never run by meson test. Usage:
#   bench/main-job-ratio.sh BASE_TREE [ROUNDS]
# BASE_TREE is a source tree built in BASE_TREE/build, e.g.
#   git worktree add /tmp/base ae82782 && (cd /tmp/base && meson setup build
#   && meson compile -C build)
set -eu

src_dir=$(cd "$(dirname "$0")/.." && pwd)
base=$(cd "$1" && pwd)
rounds=${2:-3}
ours=""
theirs=""

latency () {
  # the "average latency: X ms" line of one run of the main job
  (cd "$1" && MAIN_JOB_BUILD_DIR=build bash scripts/main-job.sh 2>/dev/null) |
    sed -n 's/^average latency: \([0-9.]*\) ms.*/\1/p'
}

median () {
  printf '%s\n' $1 | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

i=1
while [ "$i" -le "$rounds" ]; do
  # alternating which goes first
  if [ $((i % 2)) -eq 1 ]; then
    a=$(latency "$src_dir"); b=$(latency "$base")
  else
    b=$(latency "$base"); a=$(latency "$src_dir")
  fi
  echo "round $i: this tree $a ms, base $b ms"
  ours="$ours $a"
  theirs="$theirs $b"
  i=$((i + 1))
done
m_ours=$(median "$ours")
m_theirs=$(median "$theirs")
ratio=$(awk -v a="$m_ours" -v b="$m_theirs" 'BEGIN { printf "%.2f", a / b }')
echo "main job average latency, medians of $rounds: this tree $m_ours ms," \
  "base $m_theirs ms, ratio ${ratio}x"
if [ -n "${BENCH_RESULTS:-}" ]; then
  printf '{"rounds": %s, "this_ms": %s, "base_ms": %s, "ratio": %s,\n "base": "%s"}\n' \
    "$rounds" "$m_ours" "$m_theirs" "$ratio" "$base" \
    > "$BENCH_RESULTS/main-job.json"
fi
