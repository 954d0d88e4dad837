"""What tests and the bench give `deployctl up` so that it can build the
compiled Lambda architectures here: one build cache for the whole run (so
each handler is compiled once, not once per test), and, where Debian's
librust-*-dev packages are installed, cargo pointed at their registry
(/usr/share/cargo/registry) and kept offline, as CI reaches no crates.io.

The cargo settings live in <cache>/.cargo/config.toml: deployctl runs cargo
in a folder under the cache, and cargo reads the .cargo/config.toml of every
folder above where it runs. Nothing is written to the user's home."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.path.join(ROOT, "build", "lambda-cache")
DEBIAN_REGISTRY = "/usr/share/cargo/registry"

CARGO_CONFIG = """# Written by tests/tools/toolchain.py: Debian's packaged crates, offline.
[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "%s"

[net]
offline = true
"""


def build_env():
    """Variables to add to deployctl's environment (whose HOME is a scratch
    folder in tests): the cache, and rustup's folders when cargo comes from
    rustup, since rustup finds its toolchains through them."""
    os.makedirs(os.path.join(CACHE, ".cargo"), exist_ok=True)
    config = os.path.join(CACHE, ".cargo", "config.toml")
    if os.path.isdir(DEBIAN_REGISTRY):
        text = CARGO_CONFIG % DEBIAN_REGISTRY
        if not os.path.exists(config) or open(config).read() != text:
            with open(config, "w") as f:
                f.write(text)
    env = {"XDG_CACHE_HOME": CACHE}
    home = os.path.expanduser("~")
    for var, default in (("RUSTUP_HOME", ".rustup"), ("CARGO_HOME", ".cargo")):
        path = os.environ.get(var) or os.path.join(home, default)
        if os.path.isdir(path):
            env[var] = path
    return env


def build_dir(code_sha256, kind, arch="x86_64"):
    """Where deployctl keeps a build (cli/resources/lambda_build.h)."""
    return os.path.join(CACHE, "deployctl", "build", "%s-%s-%s" % (code_sha256, kind, arch))


if __name__ == "__main__":
    # `eval "$(python3 tests/tools/toolchain.py)"`: the same settings for a
    # shell (make demo).
    import shlex
    for k, v in sorted(build_env().items()):
        print("export %s=%s" % (k, shlex.quote(v)))
