#!/usr/bin/env python3
"""A Python runtime for tests/tools/runtime_api.py: what Lambda's managed
python3.x runtime does, in short. Imports $_HANDLER (module.function) from
$LAMBDA_TASK_ROOT once, then loops on the Runtime API at
$AWS_LAMBDA_RUNTIME_API over one kept-open connection: invocation/next, call
the handler, post the result to /response, or the exception to /error; an
import failure goes to init/error."""
import http.client
import importlib
import json
import os
import socket
import sys
import time
import traceback
import uuid

BASE = "/2018-06-01/runtime/"


class Context:
    """The parts of the Lambda context object a handler may use."""

    def __init__(self, request_id, deadline_ms):
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "test-fn")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


class Api:
    def __init__(self, address):
        self.conn = http.client.HTTPConnection(address)
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def call(self, method, path, body=None, headers=None):
        self.conn.request(method, BASE + path, body=body, headers=headers or {})
        resp = self.conn.getresponse()
        return resp, resp.read()

    def error(self, path, exc):
        body = json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__,
                           "stackTrace": traceback.format_tb(exc.__traceback__)})
        self.call("POST", path, body.encode(), {"Content-Type": "application/json",
                                                "Lambda-Runtime-Function-Error-Type":
                                                "Runtime." + type(exc).__name__})


def main():
    api = Api(os.environ["AWS_LAMBDA_RUNTIME_API"])
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))
    try:
        module, name = os.environ["_HANDLER"].rsplit(".", 1)
        handler = getattr(importlib.import_module(module), name)
    except Exception as e:  # noqa: BLE001 - any import failure is an init error
        traceback.print_exc()
        api.error("init/error", e)
        return 1
    while True:
        resp, payload = api.call("GET", "invocation/next")
        rid = resp.getheader("Lambda-Runtime-Aws-Request-Id")
        deadline = int(resp.getheader("Lambda-Runtime-Deadline-Ms") or 0)
        try:
            result = handler(json.loads(payload), Context(rid, deadline))
            api.call("POST", "invocation/%s/response" % rid, json.dumps(result).encode(),
                     {"Content-Type": "application/json"})
        except Exception as e:  # noqa: BLE001 - reported to Lambda as the invocation's error
            traceback.print_exc()
            api.error("invocation/%s/error" % rid, e)


if __name__ == "__main__":
    sys.exit(main())
