"""Runs a Python Lambda handler the way the runtime does, for tests/app.

    python3 drive_py.py APP_DIR MODULE.FUNCTION

The handler module is imported once (module scope runs once, as in one
execution environment). Each stdin line is a JSON list of events, invoked all
at once, one thread each; the matching stdout line is the JSON list of the
results ({"error": "..."} when the handler raised)."""
import importlib
import json
import sys
import threading
import time
import traceback
import uuid


class Context:
    """The parts of the Lambda context object a handler may use."""

    def __init__(self, timeout_s=10):
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = "test-fn"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def invoke_all(fn, events):
    results = [None] * len(events)
    start = threading.Barrier(len(events))

    def one(i):
        start.wait()
        try:
            results[i] = fn(events[i], Context())
        except Exception:
            results[i] = {"error": traceback.format_exc()}

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(events))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def main():
    app_dir, handler = sys.argv[1], sys.argv[2]
    module_name, func_name = handler.rsplit(".", 1)
    sys.path.insert(0, app_dir)
    fn = getattr(importlib.import_module(module_name), func_name)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(invoke_all(fn, json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
