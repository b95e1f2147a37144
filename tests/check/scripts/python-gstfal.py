#!/usr/bin/python3
"""GstFal from Python (PyGObject): failure details, every result meta of a
buffer, the region finder, local/... without a server, and realtime
messages with binary values.

    python-gstfal.py GST_FAL_TOOL

Starts `gst-fal serve --port 0` twice (one open, one with a key). The
environment points GI_TYPELIB_PATH, LD_LIBRARY_PATH, GST_PLUGIN_PATH_1_0 and
GST_FAL_SERVER_LIBRARY at this build.
"""
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading

import gi
gi.require_version("GLib", "2.0")
gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
gi.require_version("Json", "1.0")
gi.require_version("GstFal", "1.0")
from gi.repository import GLib, Gst, GstApp, Json, GstFal  # noqa: E402

TIMEOUT = 120


def start_server(tool, key=None):
    log = tempfile.TemporaryFile(mode="w+")
    env = dict(os.environ, FAL_KEY=key or "")
    server = subprocess.Popen([tool, "serve", "--port", "0"], env=env,
                              stdout=subprocess.PIPE, stderr=log, text=True)
    lines = queue.Queue()
    threading.Thread(target=lambda: lines.put(server.stdout.readline()),
                     daemon=True).start()
    try:
        url = lines.get(timeout=TIMEOUT).strip()
    except queue.Empty:
        url = ""
    if not url.startswith("http://"):
        server.kill()
        server.wait()
        log.seek(0)
        raise SystemExit("gst-fal serve printed no URL: %r %s"
                         % (url, log.read()))
    return server, url


def stop_server(server):
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def node(value):
    return Json.from_string(json.dumps(value))


def client_for(url, key=None):
    client = GstFal.Client.new_for_url(url)
    client.props.max_retries = 0
    if key:
        client.props.key = key
    return client


def failure(call, *args):
    """The GLib.Error a call raises, with its details read back in C."""
    try:
        call(*args)
    except GLib.Error as error:
        return (error, GstFal.error_get_http_status(error),
                GstFal.error_get_error_type(error),
                GstFal.error_get_detail(error),
                GstFal.error_get_request_id(error))
    raise AssertionError("%r did not fail" % (call,))


def fail_args(status, detail, error_type=None):
    args = {"status": status, "detail": detail}
    if error_type:
        args["error_type"] = error_type
    return node(args)


def check_error_details_sync(ctx):
    client = client_for(ctx["url"])
    # run
    error, status, etype, detail, _ = failure(
        client.run, "local/fail", fail_args(422, "bad input", "value_error"),
        None, None)
    assert error.matches(GstFal.error_quark(), GstFal.Error.VALIDATION), error
    assert (status, etype, detail) == (422, "value_error", "bad input"), \
        (status, etype, detail)
    assert "fal-error:" not in GstFal.error_get_summary(error)
    # subscribe: the queue, with a request id
    _, status, _, detail, rid = failure(
        client.subscribe, "local/fail", fail_args(500, "model exploded"),
        None, None, None, None)
    assert (status, detail) == (500, "model exploded"), (status, detail)
    assert rid, rid
    # submit, then status and result of that request
    request = client.submit("local/fail", fail_args(503, "down"), None, None)
    rid = request.get_request_id()
    _, status, _, detail, got_rid = failure(request.get, None, None)
    assert (status, detail, got_rid) == (503, "down", rid), \
        (status, detail, got_rid)
    _, status, _, _, got_rid = failure(client.result, "local/fail", rid, None)
    assert (status, got_rid) == (503, rid), (status, got_rid)
    _, status, _, _, got_rid = failure(client.status, "local/fail",
                                       "no-such-request", False, None)
    assert status == 404 and got_rid == "no-such-request", (status, got_rid)


def check_error_details_key(ctx):
    """401 from a server with a key, for run, submit and upload."""
    client = client_for(ctx["keyed_url"], key="wrong")
    for call, args in [
            (client.run, ("local/echo", None, None, None)),
            (client.submit, ("local/echo", None, None, None)),
            (client.upload_bytes, (GLib.Bytes.new(b"hello"), "text/plain",
                                   "hello.txt", None))]:
        error, status, _, _, _ = failure(call, *args)
        assert error.matches(GstFal.error_quark(),
                             GstFal.Error.UNAUTHORIZED), error
        assert status == 401, (call, status)


def check_error_details_concurrent(ctx):
    """Failures in flight at once each keep their own details."""
    client = client_for(ctx["url"])
    loop = GLib.MainLoop()
    statuses = [400, 404, 413, 422, 429, 500, 502, 504]
    got = {}

    def done(source, result, status):
        try:
            source.run_finish(result)
        except GLib.Error as error:
            got[status] = (GstFal.error_get_http_status(error),
                           GstFal.error_get_detail(error))
        if len(got) == len(statuses):
            loop.quit()

    for status in statuses:
        client.run_async("local/fail", fail_args(status, "d%d" % status),
                         None, None, done, status)
    GLib.timeout_add_seconds(TIMEOUT, loop.quit)
    loop.run()
    assert got == {s: (s, "d%d" % s) for s in statuses}, got


def check_result_metas(ctx):
    """Two falinfer in a row: both results reach Python."""
    pipeline = Gst.parse_launch(
        "videotestsrc num-buffers=1 ! video/x-raw,width=64,height=48 ! "
        "falinfer application=local/echo server-url=%(url)s "
        "arguments={\\\"model\\\":\\\"first\\\"} ! "
        "falinfer application=local/echo server-url=%(url)s "
        "arguments={\\\"model\\\":\\\"second\\\"} ! "
        "appsink name=sink sync=false" % ctx)
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(Gst.State.PLAYING)
    sample = sink.try_pull_sample(TIMEOUT * Gst.SECOND)
    pipeline.set_state(Gst.State.NULL)
    assert sample is not None, "no frame"
    buffer = sample.get_buffer()
    metas = GstFal.buffer_get_result_metas(buffer)
    assert GstFal.buffer_get_n_result_metas(buffer) == 2, len(metas)
    models = [json.loads(m.result_json)["model"] for m in metas]
    assert models == ["first", "second"], models
    assert all(m.application == "local/echo" and m.request_id
               for m in metas)


def check_regions(ctx):
    """Regions of a barcode and a face result, as the local apps give them."""
    barcode = json.dumps({"symbols": [
        {"type": "QR-Code", "data": "hello",
         "box": {"x": 10, "y": 20, "w": 30, "h": 40}}],
        "width": 64, "height": 48})
    regions = GstFal.result_find_regions(barcode, 2.0, 1.0)
    assert [(r.label, r.data, r.x, r.y, r.w, r.h) for r in regions] == \
        [("QR-Code: hello", "hello", 20, 20, 60, 40)], regions
    faces = json.dumps({"faces": [{"x": 1, "y": 2, "width": 3, "height": 4,
                                   "score": 0.5}, {"bbox": [5, 6, 7, 8]}]})
    regions = GstFal.result_find_regions(faces, 1.0, 1.0)
    assert [(r.label, r.x, r.y, r.w, r.h, r.score) for r in regions] == \
        [("face", 1, 2, 3, 4, 0.5), ("face", 5, 6, 7, 8, -1.0)], regions
    buffer = Gst.Buffer.new_allocate(None, 16, None)
    assert GstFal.buffer_add_regions(buffer, regions) == 2


def check_local_without_server(ctx):
    """GstFal.Client.new() with no GST_FAL_URL: local/ goes in-process."""
    os.environ.pop("GST_FAL_URL", None)
    client = GstFal.Client.new()
    assert client.get_server_url() is None
    result = client.run("local/echo", node({"a": 1}), None, None)
    assert json.loads(Json.to_string(result, False)) == {"a": 1}
    request = client.submit("local/echo", node({"b": 2}), None, None)
    assert request.get_client().get_server_url().startswith("http://127.")
    result = request.get(None, None)
    assert json.loads(Json.to_string(result, False)) == {"b": 2}


def realtime_round_trip(client, app, messages):
    """Sends @messages over a GstFal.Realtime; returns (results, errors)."""
    rt = GstFal.Realtime.new(client, app)
    loop = GLib.MainLoop()
    results, errors = [], []

    def on_result(_rt, message_id, result):
        results.append((message_id, result))
        if len(results) == len(messages):
            loop.quit()

    def on_error(_rt, message_id, error):
        errors.append((message_id, error))
        loop.quit()

    rt.connect("result", on_result)
    rt.connect("error", on_error)
    ids = [rt.send(message) for message in messages]
    GLib.timeout_add_seconds(TIMEOUT, loop.quit)
    loop.run()
    connections = rt.get_n_connections()
    rt.close()
    return ids, results, errors, connections


def check_realtime(ctx):
    """GstFal.Realtime: a{sv} messages, bytes as ay, results in order."""
    client = client_for(ctx["url"])
    frame = bytes([0xff, 0xd8, 0xff, 0x00, 0x01])
    messages = [GLib.Variant("a{sv}", {
        "index": GLib.Variant("x", i),
        "frame": GLib.Variant("ay", frame),
        "prompt": GLib.Variant("s", "a cat"),
    }) for i in range(3)]
    ids, results, errors, connections = realtime_round_trip(
        client, "local/echo", messages)
    assert not errors, errors
    assert [message_id for message_id, _ in results] == ids == [1, 2, 3]
    for i, (_, result) in enumerate(results):
        # PyGObject unpacks ay as a list of ints
        assert result.unpack() == {"index": i, "frame": list(frame),
                                   "prompt": "a cat"}, result
        value = result.lookup_value("frame", GLib.VariantType("ay"))
        assert value.get_data_as_bytes().get_data() == frame
    assert connections == 1


def check_realtime_errors(ctx):
    """The app's INTERNAL_ERROR and a refused key reach Python as GErrors."""
    failing = GLib.Variant("a{sv}", {
        "status": GLib.Variant("x", 500),
        "detail": GLib.Variant("s", "broke on purpose")})
    _, results, errors, _ = realtime_round_trip(
        client_for(ctx["url"]), "local/fail", [failing])
    assert not results and len(errors) == 1
    assert errors[0][1].matches(GstFal.error_quark(), GstFal.Error.SERVER)
    assert GstFal.error_get_detail(errors[0][1]) == "broke on purpose"

    empty = GLib.Variant("a{sv}", {})
    _, results, errors, _ = realtime_round_trip(
        client_for(ctx["keyed_url"], key="wrong"), "local/echo", [empty])
    assert not results and len(errors) == 1
    assert errors[0][1].matches(GstFal.error_quark(),
                                GstFal.Error.UNAUTHORIZED), errors[0][1]
    _, results, errors, _ = realtime_round_trip(
        client_for(ctx["keyed_url"], key="secret"), "local/echo", [empty])
    assert not errors and results[0][1].unpack() == {}


def main(argv):
    tool = argv[1]
    Gst.init(None)
    checks = [check_error_details_sync, check_error_details_key,
              check_error_details_concurrent, check_result_metas,
              check_regions, check_local_without_server, check_realtime,
              check_realtime_errors]
    server, url = start_server(tool)
    keyed, keyed_url = start_server(tool, key="secret")
    ctx = {"url": url, "keyed_url": keyed_url}
    failed = 0
    try:
        for check in checks:
            try:
                check(ctx)
                print("ok: %s" % check.__name__)
            except (AssertionError, GLib.Error) as error:
                failed += 1
                print("FAIL: %s: %s" % (check.__name__, error))
    finally:
        stop_server(server)
        stop_server(keyed)
    print("%d passed, %d failed" % (len(checks) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
