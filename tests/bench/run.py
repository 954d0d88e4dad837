"""make bench: deployctl measured side by side with its peers, in one run,
on this machine. Prints each figure and its ratio; exits non-zero when a
target is missed."""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests/integration"))
import harness  # noqa: E402

RUNS = 50


def bench_env(moto, home):
    return {"PATH": os.environ["PATH"], "HOME": home, "AWS_ACCESS_KEY_ID": "AKIDBENCH",
            "AWS_SECRET_ACCESS_KEY": "bench-secret", "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": moto.url, "AWS_EC2_METADATA_DISABLED": "true"}


def timed_runs(cmd, env, n):
    start = time.perf_counter()
    for _ in range(n):
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def peak_rss_kib(cmd, env):
    """Measured by a small C parent: a child's peak counts its parent's
    memory until exec, and Python's would swamp the figure."""
    tool = os.path.join(ROOT, "build/rel/tools/maxrss")
    r = subprocess.run([tool, *cmd], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, check=True)
    return int(r.stderr.strip().splitlines()[-1].split()[1])


def tool_latency(binary, results):
    moto = harness.Moto()
    home = harness.tempfile.mkdtemp(prefix="deployctl-bench-")
    try:
        env = bench_env(moto, home)
        ours_cmd = [binary, "whoami"]
        aws_cmd = ["aws", "sts", "get-caller-identity"]
        subprocess.run(ours_cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(aws_cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        ours = timed_runs(ours_cmd, env, RUNS)
        theirs = timed_runs(aws_cmd, env, RUNS)
        rss = max(peak_rss_kib(ours_cmd, env) for _ in range(5))
        floor = max(peak_rss_kib([os.path.join(ROOT, "build/rel/tools/curl_floor")], env)
                    for _ in range(5))
    finally:
        moto.stop()
        harness.shutil.rmtree(home, ignore_errors=True)
    ratio = ours / theirs
    print("whoami x%d: deployctl %.2f s, aws sts get-caller-identity %.2f s: ratio %.3f "
          "(target <= 0.100)" % (RUNS, ours, theirs, ratio))
    print("peak memory of deployctl whoami: %.1f MB (target < 10 MB); libcurl + OpenSSL "
          "initialised and nothing else: %.1f MB" % (rss / 1024.0, floor / 1024.0))
    results.append(ratio <= 0.1)
    results.append(rss < 10 * 1024)


def signing(results):
    driver = os.path.join(ROOT, "build/rel/tools/sigv4_driver")
    script = os.path.join(HERE, "sign_bench.py")
    if not os.path.exists(script):
        print("signing: sign_bench.py missing")
        results.append(False)
        return
    r = subprocess.run([sys.executable, script, "--driver", driver])
    results.append(r.returncode == 0)


def stack_cycle(binary, moto, home, proxy_url, name, parallel):
    """up then destroy of lambda-python-dynamodb: wall time and AWS calls."""
    env = bench_env(moto, home)
    env.update({"AWS_ENDPOINT_URL": proxy_url,
                "DEPLOYCTL_STATE_DIR": os.path.join(home, "state")})
    t0 = time.perf_counter()
    r = subprocess.run([binary, "-o", "json", "up", "lambda-python-dynamodb", "--name", name,
                        "--parallel", str(parallel)], env=env, capture_output=True, check=True)
    t_up = time.perf_counter() - t0
    calls_up = json.loads(r.stdout)["aws_calls"]
    t0 = time.perf_counter()
    subprocess.run([binary, "destroy", name, "--parallel", str(parallel)], env=env,
                   capture_output=True, check=True)
    t_destroy = time.perf_counter() - t0
    return t_up, calls_up, t_destroy


def stack_speed(binary, results):
    moto = harness.Moto()
    home = harness.tempfile.mkdtemp(prefix="deployctl-bench-")
    proxy = harness.FaultProxy(moto.url, rate=0.0, delay_ms=50)
    try:
        seq = stack_cycle(binary, moto, home, proxy.url, "bench-seq", 1)
        par = stack_cycle(binary, moto, home, proxy.url, "bench-par", 4)
    finally:
        proxy.stop()
        moto.stop()
        harness.shutil.rmtree(home, ignore_errors=True)
    for label, (t_up, calls, t_destroy) in (("--parallel 1", seq), ("--parallel 4", par)):
        print("up lambda-python-dynamodb (+50 ms per call) %s: up %.2f s (%d AWS calls), "
              "destroy %.2f s" % (label, t_up, calls, t_destroy))
    ratio_up = par[0] / seq[0]
    ratio_destroy = par[2] / seq[2]
    print("concurrent/sequential: up %.2f, destroy %.2f (target <= 0.60)" % (ratio_up,
                                                                           ratio_destroy))
    results.append(ratio_up <= 0.6)
    results.append(ratio_destroy <= 0.6)


def lambda_latency(binary, results):
    """The four Lambda handlers under one local Runtime API (lambda_latency.py)."""
    r = subprocess.run([sys.executable, os.path.join(HERE, "lambda_latency.py"),
                        "--binary", binary])
    results.append(r.returncode == 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    args = ap.parse_args()
    results = []
    signing(results)
    tool_latency(os.path.abspath(args.binary), results)
    stack_speed(os.path.abspath(args.binary), results)
    lambda_latency(os.path.abspath(args.binary), results)
    ok = all(results)
    print("bench: %s" % ("all targets met" if ok else "a target was missed"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
