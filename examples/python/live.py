#!/usr/bin/env python3
"""A camera-like live source through falinfer, printing each result as it
comes.

    live.py [APPLICATION [FRAMES [ENDPOINT]]]

A live videotestsrc (as a camera: 30 frames per second whether or not
anyone keeps up) draws a QR code on each frame; falinfer sends the frames to
APPLICATION (default local/barcode, which reads the code) through ENDPOINT
(default realtime) with ordering=live, so the video is never held back. Each
result line of its `result` pad is printed on standard output as it
arrives. After FRAMES frames (default 60) the source ends the stream.
Exits 1 with the error on standard error when the pipeline fails. An
application starting with local/ runs on the local server in the process
unless GST_FAL_URL names another server.
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
from gi.repository import Gst, GstApp  # noqa: E402,F401


def main(argv):
    application = argv[1] if len(argv) > 1 else "local/barcode"
    frames = int(argv[2]) if len(argv) > 2 else 60
    endpoint = argv[3] if len(argv) > 3 else "realtime"

    Gst.init(None)
    pipeline = Gst.parse_launch(
        "videotestsrc is-live=true num-buffers=%d ! "
        "video/x-raw,width=320,height=240,framerate=30/1 ! "
        "qroverlay data=gst-fal ! "
        "falinfer name=infer application=%s endpoint=%s ordering=live ! "
        "fakesink infer.result ! appsink name=results sync=false"
        % (frames, application, endpoint))
    results = pipeline.get_by_name("results")
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)

    count = 0
    error = None
    while error is None:
        sample = results.try_pull_sample(100 * Gst.MSECOND)
        if sample is None:
            if results.is_eos():
                break
            error = bus.pop_filtered(Gst.MessageType.ERROR)
            continue
        buffer = sample.get_buffer()
        # one JSON object per line, the newline included
        sys.stdout.write(buffer.extract_dup(0, buffer.get_size()).decode())
        sys.stdout.flush()
        count += 1
    # an error, also one that came with the end of the stream
    if error is None:
        error = bus.pop_filtered(Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)

    if error is not None:
        print("live.py: %s" % error.parse_error()[0].message, file=sys.stderr)
        return 1
    print("live.py: %d results from %d frames through endpoint=%s"
          % (count, frames, endpoint), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
