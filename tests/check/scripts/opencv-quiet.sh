#!/usr/bin/env bash
# The local OpenCV models print no noise: facedetect and faceblur make
# OpenCV log "Can't open file ...haarcascade_mcs_*.xml" (cascades Debian does
# not ship) unless the server sets OPENCV_LOG_LEVEL; a user's own
# OPENCV_LOG_LEVEL wins. Checks `gst-fal serve` + `gst-fal run
# local/face-detection` and an in-process server under gst-launch-1.0.
# Usage: opencv-quiet.sh GST_FAL_TOOL FACE_IMAGE
set -uo pipefail
tool=$1
image=$2
scratch=$(mktemp -d)
server=
stop_server() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
    server=
  fi
}
trap 'stop_server; rm -rf "$scratch"' EXIT
failed=0
fail() { echo "not ok: $*"; failed=1; }

# Runs serve (with the environment given as arguments), one face detection
# through it, and stops it; serve's standard error is left in serve.err.
serve_and_detect() {
  local tries=0 url=
  : >"$scratch/url"
  env "$@" "$tool" serve --port 0 >"$scratch/url" 2>"$scratch/serve.err" &
  server=$!
  while [ ! -s "$scratch/url" ] && [ $tries -lt 300 ]; do
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
    tries=$((tries + 1))
  done
  url=$(head -n 1 "$scratch/url")
  if [ -z "$url" ]; then
    fail "gst-fal serve printed no URL within 30 s:"
    cat "$scratch/serve.err"
    stop_server
    return 1
  fi
  printf '{"image_url": "data:image/jpeg;base64,%s"}' "$(base64 -w0 "$image")" \
    >"$scratch/args.json"
  if ! GST_FAL_URL=$url timeout 60 "$tool" run --timeout 50 \
      local/face-detection @"$scratch/args.json" >"$scratch/out" 2>"$scratch/run.err"; then
    fail "gst-fal run local/face-detection failed:"
    cat "$scratch/run.err"
  elif ! grep -q '"box"' "$scratch/out"; then
    fail "local/face-detection found no face in $image:"
    cat "$scratch/out"
  fi
  stop_server
}

# 1. OPENCV_LOG_LEVEL unset: not one line about the cascades.
serve_and_detect -u OPENCV_LOG_LEVEL
if grep -q haarcascade "$scratch/serve.err" "$scratch/run.err"; then
  fail "OpenCV noise with OPENCV_LOG_LEVEL unset:"
  grep -h haarcascade "$scratch/serve.err" | head -n 3
else
  echo "ok: gst-fal serve and run print nothing about haarcascade files"
fi

# 2. The same from an in-process server (falinfer, no server configured).
GST_FAL_URL= timeout 120 env -u OPENCV_LOG_LEVEL gst-launch-1.0 -q \
  filesrc location="$image" ! jpegdec ! videoconvert ! imagefreeze num-buffers=2 \
  ! falinfer application=local/face-detection ! fakesink \
  >"$scratch/launch.out" 2>"$scratch/launch.err"
rc=$?
if [ $rc -ne 0 ]; then
  fail "gst-launch-1.0 with falinfer local/face-detection exited $rc:"
  tail -n 20 "$scratch/launch.err"
elif grep -q haarcascade "$scratch/launch.out" "$scratch/launch.err"; then
  fail "OpenCV noise from the in-process server:"
  grep -h haarcascade "$scratch/launch.err" | head -n 3
else
  echo "ok: an in-process server prints nothing about haarcascade files"
fi

# 3. A user's OPENCV_LOG_LEVEL is kept: with ERROR the missing cascades are
# reported again (only where they are missing, as on Debian 12).
if ls /usr/share/opencv4/haarcascades/haarcascade_mcs_*.xml >/dev/null 2>&1; then
  echo "ok: skipped the OPENCV_LOG_LEVEL=ERROR check: the mcs cascades are installed"
else
  serve_and_detect OPENCV_LOG_LEVEL=ERROR
  if grep -q "haarcascade_mcs_.*\.xml" "$scratch/serve.err"; then
    echo "ok: OPENCV_LOG_LEVEL=ERROR set by the user is respected"
  else
    fail "OPENCV_LOG_LEVEL=ERROR was overridden: no line about the missing cascades"
    head -n 5 "$scratch/serve.err"
  fi
fi

exit $failed
