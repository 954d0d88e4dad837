#!/usr/bin/env python3
"""Signing throughput: deployctl's SigV4 signer against botocore's.

    python3 tests/bench/sign_bench.py --driver build/rel/tools/sigv4_driver [--count 20000]

Both sides sign the same generated requests (tests/sigv4/differential.py's
generator: random paths, queries, headers and bodies; S3 and other services;
a quarter of them presigned URLs). Only the signing is timed:
- botocore: add_auth() on AWSRequest objects built beforehand, signer objects
  made beforehand, clock pinned;
- deployctl: sigv4-driver --bench, which parses the set once, then times
  dc_sigv4_sign / dc_sigv4_presign over it (--rounds times).
Each side's fastest pass over the set counts (the machine may be shared).

Two sets are measured:
- "session": one set of credentials, one region, one signing time, as in a
  deployctl run (the signing-key cache then derives each service's key once);
- "worst case": a new secret and day on every request, so that every
  signature derives its key (botocore derives it every time anyway).
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sigv4"))
import differential  # noqa: E402  (the generator and botocore setup)

import botocore.auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402


def make_cases(count, seed, session):
    gen = differential.Gen(seed)
    cases = [gen.request() for _ in range(count)]
    if session:
        for c in cases:
            c.update(access_key="AKIDEXAMPLE", secret_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                     time=1440938160, region="us-east-1")
    return cases


def prepare_botocore(case):
    creds = Credentials(case["access_key"], case["secret_key"], case["token"])
    if case["presign"]:
        cls = botocore.auth.S3SigV4QueryAuth if case["s3"] else botocore.auth.SigV4QueryAuth
        signer = cls(creds, case["service"], case["region"], expires=case["expires"])
        params = dict(case["_params"])
    else:
        cls = botocore.auth.S3SigV4Auth if case["s3"] else botocore.auth.SigV4Auth
        signer = cls(creds, case["service"], case["region"])
        params = list(case["_params"])
    req = AWSRequest(method=case["method"], url=case["_base_url"],
                     data=case["body"].encode("utf-8"), params=params)
    for name, value in case["headers"]:
        req.headers[name] = value
    signing = not case["unsigned_payload"]
    req.context["payload_signing_enabled"] = signing
    if case["s3"]:
        req.context["client_config"] = Config(s3={"payload_signing_enabled": signing})
    when = datetime.datetime.fromtimestamp(case["time"], datetime.timezone.utc).replace(tzinfo=None)
    return signer, req, when


def bench_botocore(cases, passes):
    """Signatures per second of the fastest pass (requests rebuilt for each
    pass: presigning rewrites the URL, so a signed request cannot be reused)."""
    fixed = differential.FIXED_TIME
    best = None
    for _ in range(passes):
        jobs = [prepare_botocore(c) for c in cases]
        start = time.perf_counter()
        for signer, req, when in jobs:
            fixed[0] = when
            signer.add_auth(req)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return len(cases) / best


def bench_driver(driver, cases, rounds):
    lines = "".join(json.dumps({k: v for k, v in c.items() if not k.startswith("_")}) + "\n"
                    for c in cases)
    proc = subprocess.run([driver, "--bench", "--rounds", str(rounds)], input=lines.encode("utf-8"),
                          stdout=subprocess.PIPE, check=True)
    result = json.loads(proc.stdout)
    if result["requests"] != len(cases) or result["failures"]:
        raise SystemExit("sign-bench: driver signed %d of %d requests, %d failures"
                         % (result["requests"], len(cases), result["failures"]))
    return result["best_per_second"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--driver", default="build/rel/tools/sigv4_driver")
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=10, help="passes of the driver over the set")
    ap.add_argument("--passes", type=int, default=3, help="passes of botocore over the set")
    args = ap.parse_args()

    worst = None
    for label, session in (("session", True), ("worst case", False)):
        cases = make_cases(args.count, args.seed, session)
        bot = bench_botocore(cases, args.passes)
        ours = bench_driver(args.driver, cases, args.rounds)
        ratio = ours / bot
        worst = ratio if worst is None else min(worst, ratio)
        print("sign-bench %-10s: %d requests: botocore %.0f signatures/s, deployctl %.0f signatures/s, "
              "ratio %.1fx" % (label, len(cases), bot, ours, ratio))
    print("sign-bench: deployctl/botocore ratio %.1fx (lowest of the two sets; target 25x)" % worst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
