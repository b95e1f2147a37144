#!/usr/bin/env python3
"""Submit a request through GstFal (GObject introspection), follow its
status updates and print the result.

    subscribe.py [SERVER_URL] [APPLICATION] [ARGUMENTS_JSON]

SERVER_URL defaults to $GST_FAL_URL (unset or empty: the fal cloud, which
needs FAL_KEY); APPLICATION to local/echo; ARGUMENTS_JSON to a greeting.
Status updates go to standard error, the result (JSON) to standard output.
"""
import json
import os
import sys

import gi

gi.require_version("GLib", "2.0")
gi.require_version("Json", "1.0")
gi.require_version("GstFal", "1.0")
from gi.repository import GLib, GstFal, Json  # noqa: E402


def describe(status):
    """One line for a status update: kind, queue position, new logs."""
    kind = status.get_kind()
    line = GstFal.status_kind_to_string(kind)
    if kind == GstFal.StatusKind.QUEUED:
        line += " (position %d)" % status.get_queue_position()
    elif kind == GstFal.StatusKind.COMPLETED:
        if status.get_error():
            line += " with error: %s" % status.get_error()
        if status.get_inference_time() >= 0:
            line += " in %.3f s" % status.get_inference_time()
    return line


def main(argv):
    url = argv[1] if len(argv) > 1 else os.environ.get("GST_FAL_URL") or None
    application = argv[2] if len(argv) > 2 else "local/echo"
    arguments = argv[3] if len(argv) > 3 else json.dumps(
        {"message": "hello from Python", "numbers": [1, 2, 3]})

    client = GstFal.Client.new_for_url(url)
    options = GstFal.Options.new()
    options.set_with_logs(True)

    seen = set()

    def on_status(request, status, *user_data):
        if request.get_request_id() not in seen:
            seen.add(request.get_request_id())
            print("request id: %s" % request.get_request_id(),
                  file=sys.stderr)
        print("status: " + describe(status), file=sys.stderr, flush=True)

    try:
        # submit, follow the status stream until COMPLETED, fetch the result
        result = client.subscribe(application, Json.from_string(arguments),
                                  options, on_status, None, None)
    except GLib.Error as error:
        print("error: %s" % error.message, file=sys.stderr)
        return 1

    print(Json.to_string(result, True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
