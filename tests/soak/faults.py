"""The fault soak (`make test-faults`): every AWS architecture brought up and
destroyed against moto behind the fault proxy, and deployctl killed at
random points of `up` and of `destroy`; after each run, what is left of the
stack in moto (read with boto3, not from deployctl's state) must be nothing.

    python3 tests/soak/faults.py --binary ./deployctl [--seeds 20]
        [--seed-list 6,7,11] [--rates 0.1,0.3] [--kills 5] [--archs a,b] [--workers 2]

Faults, per call, drawn from a seeded generator: throttling, 500, 503,
connection reset before the call, the answer lost after it, a truncated
body, and a stall longer than deployctl's read timeout (given with
--cli-read-timeout). Each worker has its own moto. Prints one line per run and
a summary: runs, faults by kind, kills, leftovers (must be 0)."""
import argparse
import concurrent.futures
import json
import os
import random
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "app"))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))

from harness import ROOT, Env, FaultProxy, Moto  # noqa: E402
from stacks import stack_env, what_exists  # noqa: E402
import toolchain  # noqa: E402

ARCHS = ["lambda-python-s3", "lambda-python-dynamodb", "lambda-js-dynamodb",
         "lambda-cpp-dynamodb", "lambda-rust-dynamodb", "fastapi-ec2", "fargate-ecs", "k8s"]
SERVERS = ("fastapi-ec2", "fargate-ecs", "k8s")
# Stack names: a short tag per architecture, then the run.
TAGS = {"lambda-python-s3": "lps3", "lambda-python-dynamodb": "lpyd",
        "lambda-js-dynamodb": "ljsd", "lambda-cpp-dynamodb": "lcpp",
        "lambda-rust-dynamodb": "lrst", "fastapi-ec2": "fec2", "fargate-ecs": "fecs",
        "k8s": "k8s"}
FAULTS = "throttle,500,503,reset,lost,truncate,stall"
# Short enough that a stalled call costs seconds, long enough for moto.
READ_TIMEOUT_S = 2
STALL_S = 3
LOG_DIR = None  # --proxy-log: one request log per faulty run


class Worker:
    """One moto, one health front for the server architectures, one home."""

    def __init__(self, binary):
        self.moto = Moto()
        self.env = Env(self.moto, binary)
        # The compiled handlers: the tests' build cache, crates offline.
        self.env.vars.update(toolchain.build_env())
        self.front = None

    def params(self, arch):
        if arch not in SERVERS:
            return []
        if self.front is None:
            from test_stacks_servers import HealthFront
            self.front = HealthFront()
        return ["--param", "health_via=" + self.front.via]

    def run(self, url, *args, pid_file=None):
        e = dict(self.env.vars, **stack_env(self.env, url))
        p = subprocess.Popen([self.env.binary, "-q", "--cli-read-timeout", str(READ_TIMEOUT_S),
                              *args], env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if pid_file:
            with open(pid_file + ".tmp", "w") as f:
                f.write(str(p.pid))
            os.rename(pid_file + ".tmp", pid_file)
        _, err = p.communicate(timeout=900)
        return p.returncode, err.decode(errors="replace").strip()

    def stop(self):
        if self.front:
            self.front.stop()
        self.moto.stop()
        self.env.cleanup()


def faulty_run(w, arch, rate, seed):
    """up then destroy through faults; then destroy without faults if the
    faulty one gave up, as a user would run it again."""
    name = "f%s-%d" % (TAGS[arch], seed)
    log = os.path.join(LOG_DIR, "%s-%s-%d.jsonl" % (arch, rate, seed)) if LOG_DIR else None
    proxy = FaultProxy(w.moto.url, rate=rate, seed=seed, faults=FAULTS,
                       stall_s=STALL_S, log=log)
    try:
        up_rc, up_err = w.run(proxy.url, "up", arch, "--name", name, *w.params(arch))
        rc, err = w.run(proxy.url, "destroy", name)
        counts = proxy.counts()
    finally:
        proxy.stop()
    if rc != 0:
        rc, err = w.run(w.moto.url, "destroy", name)
    left = what_exists(w.env, name)
    return {"kind": "faults", "arch": arch, "rate": rate, "seed": seed, "up_rc": up_rc,
            "up_err": up_err[-300:], "destroy_rc": rc, "destroy_err": err[-300:],
            "counts": counts, "left": left}


def calls_of(w, arch, verb, name):
    """How many calls `verb` makes on a clean run (up first, for destroy)."""
    proxy = FaultProxy(w.moto.url, rate=0.0)
    try:
        if verb == "destroy":
            w.run(proxy.url, "up", arch, "--name", name, *w.params(arch))
            before = proxy.counts().get("forwarded", 0)
            w.run(proxy.url, "destroy", name)
        else:
            before = 0
            w.run(proxy.url, "up", arch, "--name", name, *w.params(arch))
            w.run(w.moto.url, "destroy", name)
        return proxy.counts().get("forwarded", 0) - before
    finally:
        proxy.stop()


def killed_run(w, arch, verb, at, n):
    """deployctl killed with SIGKILL right after call `at` of `verb` reached
    moto; then destroy, as a user would."""
    name = "k%s-%s%d" % (TAGS[arch], verb[0], n)
    pid_file = os.path.join(w.env.home, "pid-" + name)
    proxy = FaultProxy(w.moto.url, rate=0.0)
    try:
        if verb == "destroy":
            w.run(proxy.url, "up", arch, "--name", name, *w.params(arch))
            proxy.arm(at, pid_file)
            kill_rc, _ = w.run(proxy.url, "destroy", name, pid_file=pid_file)
        else:
            proxy.arm(at, pid_file)
            kill_rc, _ = w.run(proxy.url, "up", arch, "--name", name, "--parallel", "1",
                               *w.params(arch), pid_file=pid_file)
    finally:
        proxy.stop()
    rc, err = w.run(w.moto.url, "destroy", name)
    unknown = ("no stack '%s' in state" % name) in err
    left = what_exists(w.env, name)
    return {"kind": "kill", "arch": arch, "verb": verb, "at": at, "killed": kill_rc == -9,
            "destroy_rc": 0 if unknown else rc, "destroy_err": err[-300:], "left": left}


def plan(args):
    jobs = []
    for arch in args.archs:
        for rate in args.rates:
            for seed in args.seed_list or range(1, args.seeds + 1):
                jobs.append(("faults", arch, rate, seed))
        for verb in ("up", "destroy"):
            for n in range(args.kills):
                jobs.append(("kill", arch, verb, n))
    return jobs


def run_jobs(args, jobs):
    local = threading.local()
    workers, lock = [], threading.Lock()
    rng = random.Random(args.seed)
    calls = {}

    def worker():
        if not hasattr(local, "w"):
            local.w = Worker(os.path.abspath(args.binary))
            with lock:
                workers.append(local.w)
        return local.w

    def do(job):
        w = worker()
        if job[0] == "faults":
            return faulty_run(w, job[1], job[2], job[3])
        _, arch, verb, n = job
        key = (arch, verb)
        if key not in calls:
            calls[key] = calls_of(w, arch, verb, "count-%s-%s" % (TAGS[arch], verb))
        with lock:
            at = rng.randint(1, max(1, calls[key]))
        return killed_run(w, arch, verb, at, n)

    try:
        with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
            for res in pool.map(do, jobs):
                yield res
    finally:
        for w in workers:
            w.stop()


def describe(res):
    if res["kind"] == "faults":
        faults = {k: v for k, v in res["counts"].items() if k not in ("requests", "forwarded")}
        return "faults %-22s rate %.1f seed %2d: up rc %d, destroy rc %d, %d calls, faults %s%s" % (
            res["arch"], res["rate"], res["seed"], res["up_rc"], res["destroy_rc"],
            res["counts"]["requests"], json.dumps(faults, sort_keys=True),
            ", LEFT %r" % res["left"] if res["left"] else "")
    return "kill   %-22s %-7s at call %3d: killed %s, destroy rc %d%s" % (
        res["arch"], res["verb"], res["at"], res["killed"], res["destroy_rc"],
        ", LEFT %r" % res["left"] if res["left"] else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--seed-list", default="",
                    help="comma-separated seeds to run instead of 1..--seeds")
    ap.add_argument("--rates", default="0.1,0.3")
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--archs", default=",".join(ARCHS))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1, help="of the kill points")
    ap.add_argument("--proxy-log", default="",
                    help="a folder for each faulty run's request log (ARCH-RATE-SEED.jsonl)")
    args = ap.parse_args()
    global LOG_DIR
    if args.proxy_log:
        LOG_DIR = os.path.abspath(args.proxy_log)
        os.makedirs(LOG_DIR, exist_ok=True)
    args.rates = [float(r) for r in args.rates.split(",")]
    args.archs = args.archs.split(",")
    args.seed_list = [int(s) for s in args.seed_list.split(",") if s]
    started = time.monotonic()
    totals = {"runs": 0, "kills": 0, "leftovers": 0, "failed_destroys": 0, "faults": {}}
    for res in run_jobs(args, plan(args)):
        print(describe(res), flush=True)
        totals["runs"] += 1
        totals["leftovers"] += len(res["left"])
        totals["failed_destroys"] += res["destroy_rc"] != 0
        if res["kind"] == "kill":
            totals["kills"] += res["killed"]
        else:
            for k, v in res["counts"].items():
                if k not in ("requests", "forwarded"):
                    totals["faults"][k] = totals["faults"].get(k, 0) + v
        if res.get("up_rc"):
            print("   up: %s" % res["up_err"], flush=True)
        if res["destroy_rc"] != 0:
            print("   destroy: %s" % res["destroy_err"], flush=True)
    print("soak: %d runs, %d faults injected %s, %d kills, %d failed destroys, %d leftovers, "
          "%.0f s" % (totals["runs"], sum(totals["faults"].values()),
                      json.dumps(totals["faults"], sort_keys=True), totals["kills"],
                      totals["failed_destroys"], totals["leftovers"], time.monotonic() - started))
    return 1 if totals["leftovers"] or totals["failed_destroys"] else 0


if __name__ == "__main__":
    sys.exit(main())
