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


def k8s_speed(binary, results):
    """up and destroy of k8s with two agents behind the same 50 ms proxy:
    calls and wall time. moto runs no instance, so the readiness wait goes
    to a local copy of the app (health_via), as in test_stacks_servers."""
    import boto3
    from test_stacks_servers import AMI_PARAM, HealthFront
    moto = harness.Moto()
    home = harness.tempfile.mkdtemp(prefix="deployctl-bench-")
    proxy = harness.FaultProxy(moto.url, rate=0.0, delay_ms=50)
    front = HealthFront()
    try:
        env = bench_env(moto, home)
        env.update({"AWS_ENDPOINT_URL": proxy.url,
                    "DEPLOYCTL_STATE_DIR": os.path.join(home, "state")})
        # moto builds its EC2 and SSM backends on first use: not deployctl's time.
        kw = dict(endpoint_url=moto.url, region_name="us-east-1", aws_access_key_id="AKIDBENCH",
                  aws_secret_access_key="bench-secret")
        boto3.client("ec2", **kw).describe_instances()
        boto3.client("ssm", **kw).get_parameter(Name=AMI_PARAM)
        t0 = time.perf_counter()
        r = subprocess.run([binary, "-o", "json", "up", "k8s", "--name", "bench-k8s", "--param",
                            "nodes=2", "--param", "health_via=" + front.via], env=env,
                           capture_output=True)
        t_up = time.perf_counter() - t0
        ok = r.returncode == 0
        calls_up = json.loads(r.stdout)["aws_calls"] if ok else 0
        before = proxy.counts()["forwarded"]
        t0 = time.perf_counter()
        d = subprocess.run([binary, "destroy", "bench-k8s"], env=env, capture_output=True)
        t_destroy = time.perf_counter() - t0
        calls_destroy = proxy.counts()["forwarded"] - before
        ok = ok and d.returncode == 0
    finally:
        front.stop()
        proxy.stop()
        moto.stop()
        harness.shutil.rmtree(home, ignore_errors=True)
    print("up k8s --param nodes=2 (+50 ms per call): up %.2f s (%d AWS calls), destroy %.2f s "
          "(%d AWS calls)%s" % (t_up, calls_up, t_destroy, calls_destroy,
                                "" if ok else ": FAILED " + (r.stderr or d.stderr).decode()[-300:]))
    results.append(ok)


# ---- deployctl bench beside wrk ----

def http_server(delay_ms):
    """A loopback HTTP/1.1 server in a process of its own (asyncio, one write
    per answer), answering every GET after delay_ms."""
    code = r'''
import asyncio, sys
delay = float(sys.argv[1]) / 1000
async def serve(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if delay:
                await asyncio.sleep(delay)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n42")
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    writer.close()
async def main():
    srv = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=512)
    print(srv.sockets[0].getsockname()[1], flush=True)
    await srv.serve_forever()
asyncio.run(main())
'''
    p = subprocess.Popen([sys.executable, "-c", code, str(delay_ms)], stdout=subprocess.PIPE,
                         text=True)
    port = int(p.stdout.readline())
    return p, "http://127.0.0.1:%d/hits" % port


def tiny_http_server():
    """tests/tools/tiny_httpd.c: the same answer as http_server(0) for a few
    microseconds of CPU. The asyncio server spends tens of microseconds a
    request and, on two cores, sets the pace itself; with this one the
    throughput ratio compares the two clients."""
    tool = os.path.join(ROOT, "build/rel/tools/tiny_httpd")
    p = subprocess.Popen([tool], stdout=subprocess.PIPE, text=True)
    port = int(p.stdout.readline())
    return p, "http://127.0.0.1:%d/hits" % port


def wrk(url, conns, seconds):
    r = subprocess.run(["wrk", "-t", "1" if conns == 1 else "2", "-c", str(conns), "-d",
                        "%ds" % seconds, url], capture_output=True, text=True, check=True)
    unit = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    lat = rps = None
    for line in r.stdout.splitlines():
        f = line.split()
        if f and f[0] == "Latency":
            num = f[1].rstrip("usm")
            lat = float(num) * unit[f[1][len(num):]]
        if f and f[0] == "Requests/sec:":
            rps = float(f[1])
    return lat, rps


def ours(binary, url, *args):
    r = subprocess.run([binary, "bench", "--url", url, "-o", "json", *args],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout)["rows"][0]["latency"]


def bench_vs_wrk(binary, results):
    """Each tool three times, taking turns, against one server; the best run
    of each counts, as other work on the machine only ever slows a run."""
    import shutil
    if not shutil.which("wrk"):
        print("bench vs wrk: wrk not installed (apt-get install wrk)")
        results.append(False)
        return
    srv, url = http_server(10)
    try:
        w_lat, o_lat = [], []
        for _ in range(5):
            w_lat.append(wrk(url, 1, 3)[0])
            o_lat.append(ours(binary, url, "-n", "300")["avg_ms"])
    finally:
        srv.terminate()
        srv.wait()
    ratio = min(o_lat) / min(w_lat)
    print("bench, 10 ms server, sequential: deployctl avg %.3f ms, wrk avg %.3f ms: ratio %.3f "
          "(target within 3%%)" % (min(o_lat), min(w_lat), ratio))
    results.append(abs(ratio - 1) <= 0.03)
    srv, url = tiny_http_server()
    try:
        w_rps, o_rps = [], []
        for _ in range(3):
            w_rps.append(wrk(url, 50, 5)[1])
            o_rps.append(ours(binary, url, "-c", "50", "--duration", "5",
                              "--warmup", "100")["throughput_rps"])
    finally:
        srv.terminate()
        srv.wait()
    ratio = max(o_rps) / max(w_rps)
    print("bench, no-delay server (tiny_httpd), -c 50: deployctl %.0f requests/s, wrk %.0f: "
          "ratio %.3f (target >= 0.90)" % (max(o_rps), max(w_rps), ratio))
    results.append(ratio >= 0.9)
    srv, url = http_server(0)
    try:
        rss = peak_rss_kib([binary, "bench", "--url", url, "-n", "100000", "-q"], os.environ)
    finally:
        srv.terminate()
        srv.wait()
    print("peak memory of deployctl bench -n 100000: %.1f MB (target < 20 MB)" % (rss / 1024.0))
    results.append(rss < 20 * 1024)

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
    k8s_speed(os.path.abspath(args.binary), results)
    bench_vs_wrk(os.path.abspath(args.binary), results)
    lambda_latency(os.path.abspath(args.binary), results)
    ok = all(results)
    print("bench: %s" % ("all targets met" if ok else "a target was missed"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
