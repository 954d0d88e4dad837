"""Per-invocation latency of deployctl's four Lambda handlers (Python,
JavaScript, C++, Rust), each as a runtime process under the same local Lambda
Runtime API (tests/tools/runtime_api.py), with the same moto as DynamoDB and
S3, answering the same event (GET /hits: one DynamoDB UpdateItem).

    python3 tests/bench/lambda_latency.py [--binary ./deployctl] [--runs 500]

For each: the median and p99 of warm invocations (one at a time, after a
warm-up), and the time from process start to the first response (the local
analogue of a cold start; median of a few starts). The compiled handlers are
built as `deployctl up` builds them and run from their unzipped package.
Exits non-zero unless C++ and Rust are the fastest two."""
import argparse
import os
import shutil
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
for sub in ("tests/tools", "tests/integration", "tests/app"):
    sys.path.insert(0, os.path.join(ROOT, sub))
import harness  # noqa: E402
import test_compiled  # noqa: E402
from runtime_api import RuntimeAPI, percentile  # noqa: E402
from test_handlers import Deployed, event  # noqa: E402

HANDLERS = [("Python", "lambda-python-dynamodb"), ("JavaScript", "lambda-js-dynamodb"),
            ("C++", "lambda-cpp-dynamodb"), ("Rust", "lambda-rust-dynamodb")]
WARMUP = 20
COLD_STARTS = 5


def command(moto, arch, binary):
    """(argv, extra environment, task root) of one handler's runtime."""
    if arch in test_compiled.ARCHS:
        task, _ = test_compiled.build_package(moto, arch, binary)
        return [os.path.join(task, "bootstrap")], {}, task
    cmd, extra = test_compiled.interpreted_cmd(arch)
    return cmd, extra, os.path.join(ROOT, "templates", arch, "app")


def cold_start(api, cmd, env, task):
    """Seconds from starting the process to its first response."""
    inv = api.submit(event("GET", "/hits"))
    t0 = time.perf_counter()
    proc = api.start(cmd, env, task_root=task, handler=env.get("_HANDLER", "bootstrap"))
    inv.wait(60)
    took = inv.answered - t0
    if inv.kind != "response":
        raise AssertionError("cold start answered %s: %s" % (inv.kind, inv.body))
    proc.terminate()
    proc.wait(10)
    return took


def measure(moto, label, arch, binary, runs):
    cmd, extra, task = command(moto, arch, binary)
    dep = Deployed(moto, arch)
    env = test_compiled.function_env(dep, moto, extra)
    api = RuntimeAPI()
    try:
        colds = [cold_start(api, cmd, env, task) for _ in range(COLD_STARTS)]
        proc = api.start(cmd, env, task_root=task, handler=env.get("_HANDLER", "bootstrap"))
        ev = event("GET", "/hits")
        for _ in range(WARMUP):
            api.invoke(ev, timeout=60)
        warm = []
        for _ in range(runs):
            inv = api.invoke(ev, timeout=60)
            if inv.kind != "response" or inv.json()["statusCode"] != 200:
                raise AssertionError("%s answered %s: %s\n%s" % (
                    label, inv.kind, inv.body, RuntimeAPI.output(proc)[-2000:]))
            warm.append(inv.latency * 1000)
    finally:
        api.close()
        if arch in test_compiled.ARCHS:
            shutil.rmtree(os.path.dirname(os.path.dirname(task)), ignore_errors=True)
    return {"label": label, "median": statistics.median(warm), "p99": percentile(warm, 99),
            "cold": statistics.median(colds) * 1000}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", help="deployctl that builds the compiled handlers")
    ap.add_argument("--runs", type=int, default=500)
    args = ap.parse_args()
    binary = os.path.abspath(args.binary) if args.binary else None
    moto = harness.Moto()
    rows = []
    try:
        for label, arch in HANDLERS:
            rows.append(measure(moto, label, arch, binary, args.runs))
    finally:
        moto.stop()
    print("Lambda handlers, GET /hits under a local Runtime API with moto DynamoDB "
          "(%d warm invocations each):" % args.runs)
    print("  %-11s %12s %12s %22s" % ("handler", "median (ms)", "p99 (ms)",
                                     "start to 1st resp (ms)"))
    for r in rows:
        print("  %-11s %12.2f %12.2f %22.1f" % (r["label"], r["median"], r["p99"], r["cold"]))
    fastest = sorted(rows, key=lambda r: r["median"])[:2]
    ok = sorted(r["label"] for r in fastest) == ["C++", "Rust"]
    print("fastest two by median: %s (target: C++ and Rust)" % ", ".join(
        r["label"] for r in fastest))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
