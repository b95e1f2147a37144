#!/bin/sh
# Conformance of the local server with fal's JavaScript client: installs
# @fal-ai/client with npm under the build directory, starts `gst-fal serve`
# and runs conformance.mjs against it. Exit 77 (skip) only when npm is
# missing or cannot reach its registry.
set -u

src_dir=$(cd "$(dirname "$0")" && pwd)
build_root=${GST_FAL_BUILD_ROOT:-$PWD}
work_dir="$build_root/tests/conformance-js"
tool=${GST_FAL_TOOL:-$build_root/tools/gst-fal}
key=conformance-key

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "SKIP: node/npm not installed"
  exit 77
fi
if [ ! -x "$tool" ]; then
  echo "gst-fal not built at $tool" >&2
  exit 1
fi

mkdir -p "$work_dir"
cp "$src_dir/package.json" "$src_dir/conformance.mjs" "$work_dir/"
if [ ! -f "$work_dir/node_modules/@fal-ai/client/package.json" ] ||
    [ ! -f "$work_dir/node_modules/ws/package.json" ]; then
  if ! (cd "$work_dir" && npm install --no-audit --no-fund \
      >"$work_dir/npm-install.log" 2>&1); then
    if ! (cd "$work_dir" && npm ping >/dev/null 2>&1); then
      echo "SKIP: the npm registry cannot be reached; @fal-ai/client not installed"
      exit 77
    fi
    echo "npm install failed although the registry is reachable:" >&2
    cat "$work_dir/npm-install.log" >&2
    exit 1
  fi
fi

storage_dir="$work_dir/storage"
rm -rf "$storage_dir"
server_out="$work_dir/server.out"
: >"$server_out"
# FAL_KEY is given to the tests as ""; the key is passed explicitly
"$tool" serve --port 0 --workers 2 --key "$key" --storage-dir "$storage_dir" \
  >"$server_out" 2>"$work_dir/server.err" &
server_pid=$!
# stop the server, then drop the files it stored (100 MiB and more)
trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; rm -rf "$storage_dir"' EXIT
trap 'exit 1' INT TERM

url=
tries=0
while [ -z "$url" ] && [ $tries -lt 600 ]; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "gst-fal serve exited:" >&2
    cat "$work_dir/server.err" >&2
    exit 1
  fi
  url=$(grep -m1 '^http://' "$server_out" || true)
  [ -n "$url" ] || sleep 0.1
  tries=$((tries + 1))
done
if [ -z "$url" ]; then
  echo "gst-fal serve printed no URL" >&2
  exit 1
fi
echo "server: $url"

# fal.realtime needs a global WebSocket: Node 22 has one, Node 20 behind a
# flag; older Node (Debian 12's 18) takes the `ws` package (conformance.mjs)
node_flags=
if ! node -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' &&
    node --experimental-websocket -e '' 2>/dev/null; then
  node_flags=--experimental-websocket
fi
cd "$work_dir" && node $node_flags conformance.mjs "$url" "$key"
