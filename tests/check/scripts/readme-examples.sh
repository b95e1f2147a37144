#!/usr/bin/env bash
# Runs every gst-launch-1.0 line of the examples section of README.md (between
# <!-- examples:begin --> and <!-- examples:end -->) against the build, each
# in a scratch directory, and fails if any fails or the section has none.
# Usage: readme-examples.sh README.md   (the plugin path comes from the
# GST_PLUGIN_PATH_1_0 the test environment sets)
set -uo pipefail

readme=${1:-${GST_FAL_SOURCE_ROOT:-.}/README.md}
per_line_timeout=${README_EXAMPLE_TIMEOUT:-120}

mapfile -t lines < <(sed -n '/<!-- examples:begin -->/,/<!-- examples:end -->/p' "$readme" \
  | sed -n 's/^[[:space:]]*\(gst-launch-1.0 .*\)$/\1/p')

if [ ${#lines[@]} -eq 0 ]; then
  echo "no gst-launch-1.0 line between the example markers of $readme" >&2
  exit 1
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch" || exit 1

failed=0
n=0
for line in "${lines[@]}"; do
  n=$((n + 1))
  echo "# example $n: $line"
  timeout "$per_line_timeout" bash -c "$line" >"example-$n.log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    echo "ok $n"
  else
    echo "not ok $n (exit status $rc)"
    sed 's/^/#   /' "example-$n.log" | tail -n 20
    failed=$((failed + 1))
  fi
done

# The command-line block runs as one script, with the built gst-fal first on
# PATH; it starts its own server.
sed -n '/<!-- cli:begin -->/,/<!-- cli:end -->/p' "$readme" \
  | sed -e '/^<!--/d' -e '/^```/d' >cli-example.sh
if [ ! -s cli-example.sh ]; then
  echo "not ok: no command-line block between the cli markers of $readme"
  failed=$((failed + 1))
else
  n=$((n + 1))
  echo "# example $n: the command-line block"
  PATH="$(dirname "${GST_FAL_TOOL:-gst-fal}"):$PATH" timeout "$per_line_timeout" \
    bash -euo pipefail cli-example.sh >"example-$n.log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    echo "ok $n"
  else
    echo "not ok $n (exit status $rc)"
    sed 's/^/#   /' "example-$n.log" | tail -n 20
    failed=$((failed + 1))
  fi
fi

echo "# $n examples, $failed failed"
[ $failed -eq 0 ]
