"""make deps, Python side: the integration tests need moto's server, boto3
(the independent check) and botocore (SigV4 oracle, API models). Debian does
not package moto; pip installs what is missing where PyPI is reachable."""
import importlib.util
import shutil
import subprocess
import sys

NEEDED = {"boto3": "boto3", "botocore": "botocore", "moto": "moto[server]",
          "flask": "moto[server]", "awscli": "awscli"}


def missing():
    return sorted({pkg for mod, pkg in NEEDED.items()
                   if importlib.util.find_spec(mod) is None})


def main():
    todo = missing()
    if not todo:
        return 0
    print("installing Python packages:", " ".join(todo))
    rc = subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", *todo])
    if rc != 0 or missing():
        print("deployctl: cannot install %s for %s; install them with pip"
              % (" ".join(missing()), sys.executable), file=sys.stderr)
        return 1
    if not shutil.which("moto_server"):
        print("deployctl: moto_server is not on PATH after installing moto[server]",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
