#!/usr/bin/env bash
# Runs a libFuzzer target over its seed corpus, then on mutated inputs:
#   run-target.sh TARGET CORPUS_DIR [libFuzzer options...]
# The seeds are only read: what the run adds goes to a temporary directory.
# Exits non-zero on a crash or any sanitizer report, and the failing input is
# left in the build dir (crash-*, leak-*, ...) for the corpus.
set -euo pipefail
target=$1 corpus=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dict=$(dirname "$corpus")/../dict/$(basename "$corpus").dict
options=$(dirname "$corpus")/../options/$(basename "$corpus").options
args=()
[ -f "$dict" ] && args+=("-dict=$dict")
# a target's own libFuzzer options, one a line
[ -f "$options" ] && mapfile -t -O ${#args[@]} args < <(grep -v '^#' "$options")
# libFuzzer checks each input for leaks; not at exit, where GLib's one-time
# allocations (its quark table's first block) are all that is left
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:leak_check_at_exit=0:abort_on_error=1:print_stacktrace=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# (not exec: the trap removes the temporary directory)
"$target" -artifact_prefix="$PWD/$(basename "$target")-" \
  -error_exitcode=1 -timeout_exitcode=1 -max_len=65536 -timeout=30 \
  -rss_limit_mb=2048 -print_final_stats=1 "${args[@]}" "$@" "$work" "$corpus"
