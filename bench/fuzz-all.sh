#!/usr/bin/env bash
# Runs each libFuzzer target of tests/fuzz (ASan + UBSan, ./build-fuzz) for a
# fixed time, one after the other, and writes a table of executions per
# second, coverage (libFuzzer's cov: edges and ft: features at the end),
# corpus size and crashes to bench/results/fuzz.md.
#   bench/fuzz-all.sh [--time SECONDS] [TARGET...]   (default: 600 s, all)
# A crash leaves its input in build-fuzz/<target>-crash-*: add it to
# tests/fuzz/corpus/<name>/ once fixed. Run it niced on a shared machine:
#   nice -n 15 bench/fuzz-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=600
if [ "${1:-}" = "--time" ]; then
  seconds=$2
  shift 2
fi
bash scripts/fuzz.sh --build-only
if [ $# -eq 0 ]; then
  set -- $(cd tests/fuzz && ls fuzz-*.c | sed 's/\.c$//')
fi
out=bench/results/fuzz.md
logs=build-fuzz/fuzz-logs
mkdir -p "$logs" bench/results
rows=()
ran=" "
for target in "$@"; do
  target=fuzz-${target#fuzz-}
  name=${target#fuzz-}
  ran+="$name "
  log=$logs/$target.log
  start=$(date +%s)
  set +e
  (cd build-fuzz && ../tests/fuzz/run-target.sh "tests/fuzz/$target" \
    "../tests/fuzz/corpus/$name" -max_total_time="$seconds") >"$log" 2>&1
  rc=$?
  set -e
  elapsed=$(( $(date +%s) - start ))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
  crashes=$(find build-fuzz -maxdepth 1 \( -name "$target-crash-*" -o \
    -name "$target-leak-*" -o -name "$target-timeout-*" -o \
    -name "$target-oom-*" \) | wc -l)
  reports=$(grep -cE '^(==[0-9]+==ERROR|SUMMARY: (Address|Undefined|Leak)Sanitizer|.*runtime error:)' "$log" || true)
  row="| $name | ${elapsed} s | ${runs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | ${rss:-?} MB | $crashes | $reports | $rc |"
  rows+=("$row")
  echo "$row"
done
# the rows of the targets not run this time stay as they were
if [ -f "$out" ]; then
  while IFS= read -r line; do
    name=$(sed -n 's/^| \([a-z]*\) | [0-9].*/\1/p' <<<"$line")
    [ -n "$name" ] && [[ "$ran" != *" $name "* ]] && rows+=("$line")
  done <"$out"
fi
{
  echo "# Fuzzing: each target for a fixed time"
  echo
  echo "\`bench/fuzz-all.sh --time SECONDS [TARGET...]\`, last on $(date -u +%Y-%m-%d),"
  echo "$(nproc) cores (shared), clang $(clang -dumpversion), ASan + UBSan, one target at"
  echo "a time. run: how long it ran; cov: edges covered, ft: libFuzzer's features,"
  echo "corpus: inputs kept (seeds included), at the end of the run. crashes: inputs"
  echo "saved by libFuzzer; reports: sanitizer reports in the log; rc: the run's"
  echo "exit status."
  echo
  echo "| target | run | executions | exec/s | cov | ft | corpus | peak RSS | crashes | reports | rc |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}" | sort
} >"$out"
echo "written: $out"
