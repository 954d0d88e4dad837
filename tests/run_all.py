"""make test: every suite, then one closing line with the totals."""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(name, cmd, cwd, env):
    print("== %s" % name, flush=True)
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, text=True)
    sys.stdout.write(proc.stdout)
    m = re.search(r"(\d+) passed, (\d+) failed", proc.stdout.strip().splitlines()[-1]
                  if proc.stdout.strip() else "")
    if not m:
        print("%s: no result line (exit %d)" % (name, proc.returncode))
        return 0, 1
    passed, failed = int(m.group(1)), int(m.group(2))
    if proc.returncode != 0 and failed == 0:
        failed = 1
    return passed, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", required=True)
    args = ap.parse_args()
    env = dict(os.environ, DC_SHARED_DIR=args.shared)
    suites = [
        ("unit", [os.path.join(ROOT, "build/asan/unit-tests")], os.path.join(ROOT, "tests")),
        ("sigv4-differential", [sys.executable, "tests/sigv4/differential.py", "--driver",
                                "build/asan/tools/sigv4_driver", "--count", "10000",
                                "--seed", "1"], ROOT),
        ("app", [sys.executable, "tests/app/test_handlers.py"], ROOT),
        ("fuzz-regress", ["sh", "tests/fuzz/regress.sh", "--replay"], ROOT),
        ("integration", [sys.executable, "tests/integration/run.py",
                         "--binary", "build/asan/deployctl"], ROOT),
    ]
    passed = failed = 0
    for name, cmd, cwd in suites:
        p, f = run(name, cmd, cwd, env)
        passed += p
        failed += f
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
