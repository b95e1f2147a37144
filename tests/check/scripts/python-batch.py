#!/usr/bin/python3
"""Runs examples/python/batch.py (GstFal.Batch through GObject
introspection) against `gst-fal serve --port 0`: every line once and in
order, a bad line as a failed item naming it, failures grouped by cause.

    python-batch.py GST_FAL_TOOL EXAMPLE

The environment must point GI_TYPELIB_PATH and LD_LIBRARY_PATH at the
build of libgstfal.
"""
import importlib.util
import json
import os
import subprocess
import sys

TIMEOUT = 120


def load_helpers():
    path = os.path.join(os.path.dirname(__file__), "python-example.py")
    spec = importlib.util.spec_from_file_location("python_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_example(example, url, app, lines, concurrency="3"):
    env = dict(os.environ)
    env.pop("GST_FAL_URL", None)
    return subprocess.run(["/usr/bin/python3", example, url, app,
                           concurrency], input="".join(lines),
                          capture_output=True, text=True, timeout=TIMEOUT,
                          env=env)


def check_in_order(example, url):
    lines = ['{"i": %d}\n' % i for i in range(30)]
    run = run_example(example, url, "local/echo", lines)
    assert run.returncode == 0, run.stderr
    items = [json.loads(line) for line in run.stdout.splitlines()]
    assert [item["index"] for item in items] == list(range(30)), run.stdout
    assert all(item["result"] == {"i": item["index"]} for item in items)
    assert all(item["request_id"] for item in items)
    assert "Succeeded: 30, Failed: 0" in run.stderr, run.stderr
    assert "30/30 done" in run.stderr, run.stderr


def check_failures(example, url):
    lines = ['{"status": 422}\n', "not json\n", '{"status": 422}\n',
             '{"seconds": 0}\n']
    run = run_example(example, url, "local/fail", lines[:3])
    assert run.returncode == 1, (run.returncode, run.stderr)
    items = [json.loads(line) for line in run.stdout.splitlines()]
    assert [item["index"] for item in items] == [0, 1, 2], run.stdout
    assert items[0]["error"]["status"] == 422, items[0]
    assert items[1]["request_id"] is None, items[1]
    assert items[1]["error"]["detail"].startswith("line 2: "), items[1]
    assert "Succeeded: 0, Failed: 3" in run.stderr, run.stderr
    assert "  HTTP 422 validation: 2" in run.stderr, run.stderr
    assert "  invalid input: 1" in run.stderr, run.stderr


def main(argv):
    return load_helpers().run_checks(argv[1], argv[2],
                                     [check_in_order, check_failures])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
