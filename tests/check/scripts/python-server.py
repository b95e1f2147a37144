#!/usr/bin/python3
"""GstFalServer from Python (PyGObject): the server library embedded through
its typelib, serving a request and a signed webhook that GstFal verifies.

    python-server.py

The environment points GI_TYPELIB_PATH and LD_LIBRARY_PATH at this build.
"""
import http.server
import json
import os
import queue
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

import gi
gi.require_version("GLib", "2.0")
gi.require_version("GstFal", "1.0")
gi.require_version("GstFalServer", "1.0")
from gi.repository import GLib, GstFal, GstFalServer  # noqa: E402

TIMEOUT = 60
KEY = "python-server-key"


def call(method, url, body=None, key=KEY):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", "Key " + key)
    with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
        return answer.status, answer.read()


def main():
    hooks = queue.Queue()

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hooks.put((dict(self.headers.items()), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook_url = "http://127.0.0.1:%d/hook" % receiver.server_port

    # the key from FAL_KEY, as gst-fal serve reads it (PyGObject leaks a
    # string given to a write-only property)
    os.environ["FAL_KEY"] = KEY
    server = GstFalServer.Server.new()
    server.set_property("backends", ["me/model=http://127.0.0.1:9"])
    assert server.start()
    url = server.get_url()
    assert url.startswith("http://127.0.0.1:"), url
    assert server.props.url == url

    names = [line.split("\t")[0] for line in server.list_apps()]
    assert "local/echo" in names and "me/model" in names, names

    try:
        call("POST", url + "/run/local/echo", {}, key=None)
        raise AssertionError("the key was not required")
    except urllib.error.HTTPError as error:
        assert error.code == 401, error.code
    status, body = call("POST", url + "/run/local/echo", {"from": "python"})
    assert status == 200 and json.loads(body) == {"from": "python"}, body

    submit = "%s/queue/local/echo?fal_webhook=%s" % (
        url, urllib.parse.quote(hook_url, safe=""))
    status, body = call("POST", submit, {"hook": 1})
    assert status == 200, body
    request_id = json.loads(body)["request_id"]
    headers, hook_body = hooks.get(timeout=TIMEOUT)
    assert headers["X-Fal-Webhook-Request-Id"] == request_id, headers

    status, jwks = call("GET", url + "/rest/.well-known/jwks.json", key=None)
    assert status == 200
    assert GstFal.webhook_verify(headers, GLib.Bytes.new(hook_body),
                                 jwks.decode(), 0)
    try:
        GstFal.webhook_verify(headers, GLib.Bytes.new(hook_body + b" "),
                              jwks.decode(), 0)
        raise AssertionError("a changed body was verified")
    except GLib.Error as error:
        assert error.matches(GLib.quark_from_string(
            "gst-fal-webhook-error-quark"),
            GstFal.WebhookError.BAD_SIGNATURE), error.message

    server.stop()
    receiver.shutdown()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
