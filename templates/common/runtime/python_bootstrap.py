"""What the managed Python Lambda runtime does, for deployctl's local target.

    AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT LAMBDA_TASK_ROOT=DIR \\
        python3 python_bootstrap.py MODULE.FUNCTION

Imports the handler once (module scope runs once per execution environment,
as on Lambda), then loops: GET /runtime/invocation/next, call the handler
with the event and a context object, POST its result to .../response, or
the exception to .../error. A handler that cannot be imported is reported
to /runtime/init/error and the process exits, as the managed runtime does.
"""
import http.client
import importlib
import json
import os
import sys
import time
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
BASE = "/2018-06-01/runtime"


class RuntimeAPI:
    """One keep-alive connection to the Runtime API, made again if lost."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.host, self.port = host, int(port)
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port)
            try:
                self.conn.request(method, BASE + path, body=body, headers=headers or {})
                res = self.conn.getresponse()
                return res.status, res.headers, res.read()
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def post_json(self, path, doc, headers=None):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        return self.request("POST", path, json.dumps(doc).encode("utf-8"), h)


class LambdaContext:
    """The attributes and method of the managed runtime's context object."""

    def __init__(self, headers):
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn", "")
        self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms", "0") or 0)
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = "local"
        self.identity = None
        self.client_context = None

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


def error_doc(exc, error_type=None):
    return {"errorMessage": str(exc),
            "errorType": error_type or type(exc).__name__,
            "stackTrace": traceback.format_tb(exc.__traceback__)}


def load_handler(spec):
    module_name, _, func_name = spec.rpartition(".")
    if not module_name:
        raise ValueError("bad handler '%s': expected MODULE.FUNCTION" % spec)
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))
    module = importlib.import_module(module_name.replace("/", "."))
    fn = getattr(module, func_name, None)
    if not callable(fn):
        raise AttributeError("handler '%s' is not a function of module '%s'"
                             % (func_name, module_name))
    return fn


def init_failure(exc):
    """Runtime.ImportModuleError, with the one package to install when the
    missing module is what the managed runtime itself provides."""
    missing = getattr(exc, "name", None)
    if isinstance(exc, ModuleNotFoundError) and missing in ("boto3", "botocore"):
        exc = ModuleNotFoundError("python3 has no %s, which the Python Lambda runtime "
                                  "provides: pip install boto3 (Debian: apt-get install "
                                  "python3-boto3)" % missing)
    return error_doc(exc, "Runtime.ImportModuleError")


def serve(api, handler):
    while True:
        status, headers, body = api.request("GET", "/invocation/next")
        if status != 200:
            # The supervisor is stopping this function.
            sys.exit(0)
        ctx = LambdaContext(headers)
        try:
            result = handler(json.loads(body), ctx)
            payload = json.dumps(result).encode("utf-8")
        except Exception as exc:  # the handler's failure is the invocation's
            traceback.print_exc()
            api.post_json("/invocation/%s/error" % ctx.aws_request_id, error_doc(exc),
                          {"Lambda-Runtime-Function-Error-Type": "Unhandled"})
            continue
        api.request("POST", "/invocation/%s/response" % ctx.aws_request_id, payload,
                    {"Content-Type": "application/json"})


def main():
    api = RuntimeAPI(API)
    spec = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("_HANDLER", "")
    try:
        handler = load_handler(spec)
    except Exception as exc:
        traceback.print_exc()
        api.post_json("/init/error", init_failure(exc),
                      {"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"})
        sys.exit(1)
    serve(api, handler)


if __name__ == "__main__":
    main()
