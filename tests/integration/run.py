"""Integration tests against moto_server: python3 tests/integration/run.py
--binary build/asan/deployctl [name-substring...]"""
import argparse
import glob
import importlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    modules = [importlib.import_module(os.path.basename(p)[:-3])
               for p in sorted(glob.glob(os.path.join(here, "test_*.py")))]
    passed, failed = harness.run_tests(modules, os.path.abspath(args.binary), args.names)
    print("integration: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
