#!/usr/bin/env python3
"""Run one request per JSON line of standard input through GstFal.Batch
(GObject introspection), a few at a time, and print one JSON line per item
in input order.

    batch.py [SERVER_URL] [APPLICATION] [CONCURRENCY] < inputs.jsonl

SERVER_URL defaults to $GST_FAL_URL (unset or empty: the fal cloud, which
needs FAL_KEY); APPLICATION to local/echo; CONCURRENCY to 4. The lines are
fed one at a time with push_async(), so a long input is never all in
memory. Progress and the summary go to standard error; the exit status is 1
when an item failed.
"""
import json
import os
import sys

import gi

gi.require_version("GLib", "2.0")
gi.require_version("Json", "1.0")
gi.require_version("GstFal", "1.0")
from gi.repository import GLib, GstFal, Json  # noqa: E402


def main(argv):
    url = argv[1] if len(argv) > 1 else os.environ.get("GST_FAL_URL") or None
    application = argv[2] if len(argv) > 2 else "local/echo"
    concurrency = int(argv[3]) if len(argv) > 3 else 4

    client = GstFal.Client.new_for_url(url)
    batch = GstFal.Batch.new(client, application, None)
    batch.props.concurrency = concurrency
    batch.props.ordered = True
    loop = GLib.MainLoop()
    outcome = {}

    def on_item_done(batch, index, request_id, result, error):
        line = {"index": index, "request_id": request_id}
        if error is None:
            line["result"] = json.loads(Json.to_string(result, False))
        else:
            line["error"] = {"status": GstFal.error_get_http_status(error),
                             "detail": GstFal.error_get_summary(error)}
        print(json.dumps(line), flush=True)

    def on_progress(batch, done, succeeded, failed, in_flight, total):
        of = "/%d" % total if total >= 0 else ""
        print("%d%s done, %d failed, %d in flight"
              % (done, of, failed, in_flight), file=sys.stderr)

    def push_next(*unused):
        # called again once the previous line is queued: back-pressure
        if unused:
            batch.push_finish(unused[1])
        for number, line in enumerate(sys.stdin, push_next.lines + 1):
            push_next.lines = number
            if not line.strip():
                continue
            try:
                arguments = Json.from_string(line)
            except GLib.Error as error:
                # an item of its own, failed, naming its line
                batch.add_failed(GLib.Error.new_literal(
                    GstFal.error_quark(), "line %d: %s" % (number,
                                                           error.message),
                    GstFal.Error.INVALID_ARGUMENT))
                continue
            batch.push_async(arguments, None, push_next)
            return
        batch.close()

    push_next.lines = 0

    def on_run_done(batch, result):
        try:
            outcome["ok"] = batch.run_finish(result)
        except GLib.Error as error:
            print("batch: %s" % error.message, file=sys.stderr)
            outcome["ok"] = False
        loop.quit()

    batch.connect("item-done", on_item_done)
    batch.connect("progress", on_progress)
    batch.run_async(None, on_run_done)
    push_next()
    loop.run()

    print("Succeeded: %d, Failed: %d" % (batch.get_succeeded(),
                                         batch.get_failed()), file=sys.stderr)
    for cause in batch.get_failure_causes():
        print("  %s: %d" % (cause, batch.get_failure_count(cause)),
              file=sys.stderr)
    return 0 if outcome["ok"] and batch.get_failed() == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
