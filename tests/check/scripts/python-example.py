#!/usr/bin/python3
"""Runs examples/python/subscribe.py (GstFal through GObject introspection)
against a local server started with `gst-fal serve --port 0`.

    python-example.py GST_FAL_TOOL EXAMPLE

The environment must point GI_TYPELIB_PATH and LD_LIBRARY_PATH at the
build of libgstfal.
"""
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading

TIMEOUT = 120


def start_server(tool):
    log = tempfile.TemporaryFile(mode="w+")
    server = subprocess.Popen([tool, "serve", "--port", "0"],
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


def run_example(example, *args):
    env = dict(os.environ)
    env.pop("GST_FAL_URL", None)
    return subprocess.run(["/usr/bin/python3", example] + list(args),
                          capture_output=True, text=True, timeout=TIMEOUT,
                          env=env)


def check_echo(example, url):
    arguments = {"message": "héllo", "nested": {"n": [1, 2.5, None, True]}}
    run = run_example(example, url, "local/echo", json.dumps(arguments))
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == arguments, run.stdout
    assert "request id: " in run.stderr, run.stderr
    statuses = [line for line in run.stderr.splitlines()
                if line.startswith("status: ")]
    assert statuses and statuses[-1].startswith("status: COMPLETED"), \
        run.stderr


def check_default_request_and_env_url(example, url):
    env_run = subprocess.run(["/usr/bin/python3", example],
                             capture_output=True, text=True, timeout=TIMEOUT,
                             env=dict(os.environ, GST_FAL_URL=url))
    assert env_run.returncode == 0, env_run.stderr
    assert json.loads(env_run.stdout)["message"] == "hello from Python"


def check_status_updates(example, url):
    run = run_example(example, url, "local/sleep",
                      json.dumps({"seconds": 0.5, "logs": 3}))
    assert run.returncode == 0, run.stderr
    statuses = [line for line in run.stderr.splitlines()
                if line.startswith("status: ")]
    # on-enqueue first, then the updates of the status stream
    assert statuses[0].startswith("status: IN_QUEUE (position "), run.stderr
    assert any(s.startswith("status: IN_PROGRESS") for s in statuses), \
        run.stderr
    assert statuses[-1].startswith("status: COMPLETED"), run.stderr
    assert "slept" in json.loads(run.stdout), run.stdout


def check_failure(example, url):
    run = run_example(example, url, "local/fail",
                      json.dumps({"status": 422, "detail": "bad input"}))
    assert run.returncode == 1, (run.returncode, run.stderr)
    assert run.stdout == "", run.stdout
    assert "error: " in run.stderr and "bad input" in run.stderr, run.stderr


def run_checks(tool, example, checks):
    """Runs each check(example, url) against one `gst-fal serve`; the exit
    status: 1 if any failed."""
    server, url = start_server(tool)
    failed = 0
    try:
        for check in checks:
            try:
                check(example, url)
                print("ok: %s" % check.__name__)
            except AssertionError as error:
                failed += 1
                print("FAIL: %s: %s" % (check.__name__, error))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    print("%d passed, %d failed" % (len(checks) - failed, failed))
    return 1 if failed else 0


def main(argv):
    return run_checks(argv[1], argv[2],
                      [check_echo, check_default_request_and_env_url,
                       check_status_updates, check_failure])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
