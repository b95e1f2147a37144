#!/usr/bin/env bash
# Runs the documented examples against the build, in a scratch directory, and
# fails if any fails, leaves a process running, or a section is missing:
#  - every gst-launch-1.0 line of README.md's examples section (between
#    <!-- examples:begin --> and <!-- examples:end -->), each on its own; when
#    the comment line above it ends with "(prints TEXT)", its standard output
#    must contain TEXT;
#  - README.md's command-line block (<!-- cli:begin --> … <!-- cli:end -->) as
#    one script, with the built gst-fal first on PATH;
#  - the <!-- script:begin --> … <!-- script:end --> blocks of each other
#    Markdown file given, joined into one script, the same way.
# Usage: readme-examples.sh README.md [docs/cli.md …]   (the plugin path comes
# from the GST_PLUGIN_PATH_1_0 the test environment sets)
set -uo pipefail

readme=${1:-${GST_FAL_SOURCE_ROOT:-.}/README.md}
shift || true
per_line_timeout=${README_EXAMPLE_TIMEOUT:-120}
readme=$(realpath "$readme")
others=()
for f in "$@"; do others+=("$(realpath "$f")"); done

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch" || exit 1

failed=0
n=0

report() {                      # report N RC LOG
  if [ "$2" -eq 0 ]; then
    echo "ok $1"
  else
    echo "not ok $1 (exit status $2)"
    sed 's/^/#   /' "$3" | tail -n 20
    failed=$((failed + 1))
  fi
}

# The processes of session $1 still alive (read from /proc: no procps).
session_pids() {
  local f stat fields pid
  for f in /proc/[0-9]*/stat; do
    stat=$(cat "$f" 2>/dev/null) || continue
    # the fields after the command name: state ppid pgrp session …
    read -r -a fields <<<"${stat##*) }"
    if [ "${fields[3]:-}" = "$1" ]; then
      pid=${f#/proc/}
      echo "${pid%/stat}"
    fi
  done
}

# Runs the fenced block between <!-- $2:begin --> and <!-- $2:end --> of $1
# as one bash script in its own session; fails if it fails or if anything it
# started is still running 5 s after it ended (those are killed).
run_block() {
  local file=$1 marker=$2 label=$3 script rc tries leftover sid pid
  n=$((n + 1))
  script="block-$n.sh"
  sed -n "/<!-- $marker:begin -->/,/<!-- $marker:end -->/p" "$file" \
    | sed -e '/^<!--/d' -e '/^```/d' >"$script"
  echo "# example $n: $label"
  if [ ! -s "$script" ]; then
    echo "not ok $n: no block between the $marker markers of $file"
    failed=$((failed + 1))
    return
  fi
  rm -f "sid-$n"
  PATH="$(dirname "${GST_FAL_TOOL:-gst-fal}"):$PATH" timeout "$per_line_timeout" \
    setsid --wait bash -c 'echo $$ >"$0"; exec bash -euo pipefail "$1"' "sid-$n" "$script" \
    >"example-$n.log" 2>&1
  rc=$?
  [ $rc -ne 124 ] || echo "the block did not end within $per_line_timeout s" >>"example-$n.log"
  sid=$(cat "sid-$n" 2>/dev/null || echo none)
  tries=0
  leftover=$(session_pids "$sid")
  while [ -n "$leftover" ] && [ $tries -lt 50 ]; do
    sleep 0.1
    tries=$((tries + 1))
    leftover=$(session_pids "$sid")
  done
  if [ -n "$leftover" ]; then
    for pid in $leftover; do
      echo "left running after the block ended: $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null)" \
        >>"example-$n.log"
      kill "$pid" 2>/dev/null
    done
    [ $rc -ne 0 ] || rc=1
  fi
  report "$n" "$rc" "example-$n.log"
}

# ---- the gst-launch-1.0 lines of the examples section ----
lines=()
expects=()
comment=
while IFS= read -r text; do
  case "$text" in
    "#"*) comment=$text ;;
    gst-launch-1.0\ *)
      lines+=("$text")
      expect=
      if [[ $comment =~ \(prints\ (.*)\)$ ]]; then expect=${BASH_REMATCH[1]}; fi
      expects+=("$expect")
      comment= ;;
    *) comment= ;;
  esac
done < <(sed -n '/<!-- examples:begin -->/,/<!-- examples:end -->/p' "$readme" \
  | sed 's/^[[:space:]]*//')

if [ ${#lines[@]} -eq 0 ]; then
  echo "not ok: no gst-launch-1.0 line between the example markers of $readme"
  failed=$((failed + 1))
fi
for i in "${!lines[@]}"; do
  n=$((n + 1))
  line=${lines[$i]}
  echo "# example $n: $line"
  timeout "$per_line_timeout" bash -c "$line" >"example-$n.out" 2>"example-$n.log"
  rc=$?
  if [ $rc -eq 0 ] && [ -n "${expects[$i]}" ] \
      && ! grep -qF -- "${expects[$i]}" "example-$n.out"; then
    { echo "its output lacks ${expects[$i]}:"; cat "example-$n.out"; } >>"example-$n.log"
    rc=1
  fi
  report "$n" "$rc" "example-$n.log"
done

# ---- README's command-line block, then the script blocks of the others ----
run_block "$readme" cli "the command-line block of README.md"
for f in "${others[@]}"; do
  run_block "$f" script "the script block of ${f##*/}"
done

echo "# $n examples, $failed failed"
[ $failed -eq 0 ]
