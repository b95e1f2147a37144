#!/usr/bin/env bash
# The main job: installs what is missing, builds, then runs a clip made on the
# spot (a changing QR code next to the face photo of tests/files) through the
# local barcode and face-detection models with falinfer, draws what they found
# with faloverlay, and writes
#   out/frames/frame-NNNN.png   every annotated frame
#   out/results.jsonl           every result (or error), one JSON object a line
#   out/messages.log            the bus messages (request states and timings)
#   out/main-job.png            one annotated frame showing both models' finds
# then prints a summary. MAIN_JOB_FRAMES sets the clip length (default 40);
# MAIN_JOB_BUILD_DIR=dir uses an existing build instead of building ./build.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${MAIN_JOB_BUILD_DIR:-}
if [ -z "$build" ]; then
  bash scripts/install-deps.sh
  bash scripts/build.sh
  build=build
fi

frames=${MAIN_JOB_FRAMES:-40}
fps=10
out=out
rm -rf "$out/frames" "$out/results.jsonl" "$out/messages.log"
mkdir -p "$out/frames"

export GST_PLUGIN_PATH="$PWD/$build/plugin${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export GST_REGISTRY="$PWD/$build/registry.dat"

# The clip: the photo (when there is one) on the left, a bouncing ball with a
# QR code that changes every frame (it encodes the frame's timestamp) on the
# right. Frames go through both models, in order, then through the overlay.
face=$(ls tests/files/*.jpg 2>/dev/null | head -n 1 || true)
qr_clip="videotestsrc num-buffers=$frames pattern=ball
  ! video/x-raw,width=320,height=360,framerate=$fps/1
  ! debugqroverlay pixel-size=3 x=50 y=40"
sources=""
if [ -n "$face" ]; then
  clip="compositor name=mix background=white sink_1::xpos=560
    ! video/x-raw,width=880,height=360,framerate=$fps/1"
  sources="filesrc location=$face ! jpegdec ! videoconvert
    ! imagefreeze num-buffers=$frames ! video/x-raw,framerate=$fps/1 ! mix.sink_0
    $qr_clip ! mix.sink_1"
else
  clip="$qr_clip"
fi

echo "main job: $frames frames through local/barcode and local/face-detection" >&2
# shellcheck disable=SC2086  # the pipeline description is split on purpose
if ! gst-launch-1.0 -m $clip ! videoconvert \
    ! falinfer name=qr application=local/barcode \
    ! falinfer name=faces application=local/face-detection \
    ! videoconvert ! faloverlay caption-field=symbols.0.data ! videoconvert \
    ! pngenc ! multifilesink location="$out/frames/frame-%04d.png" \
    qr.result ! queue ! funnel name=results ! filesink location="$out/results.jsonl" \
    faces.result ! queue ! results. \
    $sources \
    >"$out/messages.log" 2>&1; then
  echo "main job: the pipeline failed; the end of $out/messages.log:" >&2
  tail -n 20 "$out/messages.log" >&2
  exit 1
fi

/usr/bin/python3 - "$out" "$fps" <<'PY'
import glob, json, os, re, shutil, sys

out, fps = sys.argv[1], int(sys.argv[2])
frames = sorted(glob.glob(os.path.join(out, "frames", "frame-*.png")))
lines = [json.loads(l) for l in open(os.path.join(out, "results.jsonl")) if l.strip()]
ok = [r for r in lines if r.get("error") is None]
errors = [r for r in lines if r.get("error") is not None]

# Latency of each completed request: upload + queue + run + download, from
# the "fal-request" completed messages (ns), or a "timings" object if the
# result lines carry one.
latencies = []
for r in lines:
    t = r.get("timings")
    if isinstance(t, dict):
        latencies.append(sum(v for v in t.values() if isinstance(v, (int, float)) and v >= 0))
if not latencies:
    pattern = re.compile(r"fal-request, .*state=\(string\)completed")
    for line in open(os.path.join(out, "messages.log"), errors="replace"):
        if not pattern.search(line):
            continue
        total = 0
        for name in ("upload-time", "queue-time", "run-time", "download-time"):
            m = re.search(name + r"=\(guint64\)(\d+)", line)
            if m and int(m.group(1)) < 2**63:
                total += int(m.group(1))
        latencies.append(total)

def found(r):
    res = r.get("result") or {}
    return len(res.get("symbols", [])) + len(res.get("faces", []))

by_app = {}
for r in lines:
    app = by_app.setdefault(r.get("application"), [0, 0, 0])
    app[0] += 1
    if r.get("error") is None:
        app[1] += 1
        app[2] += found(r)

# The frame to show: one in the middle of those where every application
# found something.
finds = {}
for r in ok:
    if r.get("pts") is not None and found(r):
        finds.setdefault(r["pts"], set()).add(r.get("application"))
best = sorted(p for p, apps in finds.items() if len(apps) == len(by_app))
best = best or sorted(finds)
if frames:
    index = round(best[len(best) // 2] * fps / 1e9) if best else len(frames) // 2
    chosen = os.path.join(out, "frames", "frame-%04d.png" % index)
    if not os.path.exists(chosen):
        chosen = frames[len(frames) // 2]
    shutil.copyfile(chosen, os.path.join(out, "main-job.png"))
    if not os.path.exists("docs/main-job.png"):
        shutil.copyfile(chosen, "docs/main-job.png")

print("frames:   %d annotated frames in %s/frames/" % (len(frames), out))
print("requests: %d" % len(lines))
for app, (n, good, items) in sorted(by_app.items()):
    print("  %-24s %d requests, %d results, %d found" % (app, n, good, items))
print("results:  %d" % len(ok))
print("errors:   %d" % len(errors))
for r in errors[:3]:
    print("  %s: %s" % (r.get("application"), r.get("error")))
if latencies:
    print("average latency: %.1f ms over %d requests"
          % (sum(latencies) / len(latencies) / 1e6, len(latencies)))
else:
    print("average latency: unknown (no timings)")
print("results in %s/results.jsonl, one frame in %s/main-job.png" % (out, out))
sys.exit(1 if not lines or not frames else 0)
PY
