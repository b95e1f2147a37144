# Sourced by the example scripts: starts `gst-fal serve --port 0` with the
# tool $1, waits for its URL and exports it as GST_FAL_URL; $scratch is a
# scratch directory; the server stops and $scratch goes on exit.
scratch=$(mktemp -d)
"$1" serve --port 0 >"$scratch/url" 2>"$scratch/serve.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$scratch"' EXIT
until [ -s "$scratch/url" ]; do
  kill -0 $server 2>/dev/null || { cat "$scratch/serve.log"; exit 1; }
  sleep 0.05
done
export GST_FAL_URL=$(head -n 1 "$scratch/url")
