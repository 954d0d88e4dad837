"""Integration test support: a moto server on a free loopback port, a clean
environment for deployctl (no user config, test credentials), and a tiny
runner that prints 'N passed, N failed'."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Moto:
    """moto_server on 127.0.0.1, started once for the run."""

    def __init__(self):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [shutil.which("moto_server") or "moto_server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1)
                return
            except Exception:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.2)
        raise RuntimeError("moto_server did not start; see %s" % self.log.name)

    def reset(self):
        req = urllib.request.Request(self.url + "/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=10)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.unlink(self.log.name)


# The credentials every test runs deployctl with: distinctive, so that
# expect_no_secret can find them anywhere deployctl writes.
SECRET_KEY = "testing-secret-key-never-printed"
SESSION_TOKEN = "IQoJtesting-session-token-never-printed"


class Env:
    """What one test runs deployctl with: a home of its own, so no user file
    leaks in, and moto as every endpoint."""

    def __init__(self, moto, binary):
        self.moto = moto
        self.binary = binary
        self.home = tempfile.mkdtemp(prefix="deployctl-it-")
        self.vars = {
            "PATH": os.environ["PATH"],
            "HOME": self.home,
            "AWS_ACCESS_KEY_ID": "AKIDTESTINGTESTING00",
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_SESSION_TOKEN": SESSION_TOKEN,
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": moto.url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "ASAN_OPTIONS": "detect_leaks=1",
        }
        self.outputs = []  # every stdout and stderr of deployctl in this test

    def run(self, *args, env=None, input=None, timeout=60, **popen):
        """deployctl with args; popen: more subprocess.run arguments
        (preexec_fn, start_new_session, stdout)."""
        e = dict(self.vars)
        for k, v in (env or {}).items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        if "stdout" not in popen:
            popen["stdout"] = subprocess.PIPE
        r = subprocess.run([self.binary, *args], env=e, input=input, stderr=subprocess.PIPE,
                           timeout=timeout, **popen)
        self.outputs += [r.stdout or b"", r.stderr or b""]
        return r

    def boto(self, service):
        import boto3
        return boto3.client(service, endpoint_url=self.moto.url, region_name="us-east-1",
                            aws_access_key_id="AKIDTESTINGTESTING00",
                            aws_secret_access_key=SECRET_KEY)

    def expect_no_secret(self):
        """Neither the secret key nor the session token in anything deployctl
        wrote: its output, and every file under the test's home but the
        credentials files the test itself wrote (.aws/), git objects of the
        state repository included (they are compressed on disk)."""
        found = []
        for i, out in enumerate(self.outputs):
            found += ["output %d" % i for s in (SECRET_KEY, SESSION_TOKEN) if s.encode() in out]
        for root, dirs, files in os.walk(self.home):
            dirs[:] = [d for d in dirs if d != ".aws"]
            if ".git" in dirs:
                found += self._git_objects_with_secret(root)
            for f in files:
                path = os.path.join(root, f)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                with open(path, "rb") as fh:
                    data = fh.read()
                found += [path for s in (SECRET_KEY, SESSION_TOKEN) if s.encode() in data]
        expect(not found, "a secret was written: %r" % sorted(set(found)))

    @staticmethod
    def _git_objects_with_secret(repo):
        r = subprocess.run(["git", "-C", repo, "cat-file", "--batch-all-objects", "--batch"],
                           capture_output=True)
        return [repo + "/.git objects" for s in (SECRET_KEY, SESSION_TOKEN)
                if s.encode() in r.stdout]

    def cleanup(self):
        # A local stack a failed test left running: its supervisor and
        # children outlive the test otherwise.
        state = os.path.join(self.home, "state")
        if os.path.isdir(os.path.join(state, "local")) and os.listdir(os.path.join(state, "local")):
            subprocess.run([self.binary, "-q", "destroy", "--all"], capture_output=True,
                           env=dict(self.vars, DEPLOYCTL_STATE_DIR=state, AWS_ENDPOINT_URL=""),
                           timeout=120)
        shutil.rmtree(self.home, ignore_errors=True)


def path_without(env, *names, wrap=None):
    """A PATH of one folder holding every program of ours but `names`; wrap
    maps a program to a shell script standing in for it."""
    d = tempfile.mkdtemp(prefix="path-", dir=env.home)
    for folder in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(folder):
            continue
        for prog in os.listdir(folder):
            src, dst = os.path.join(folder, prog), os.path.join(d, prog)
            if prog in names or os.path.lexists(dst) or not os.access(src, os.X_OK):
                continue
            os.symlink(src, dst)
    for prog, script in (wrap or {}).items():
        real = os.path.realpath(os.path.join(d, prog))
        os.unlink(os.path.join(d, prog))
        with open(os.path.join(d, prog), "w") as f:
            f.write(script.replace("REAL", real))
        os.chmod(os.path.join(d, prog), 0o755)
    return d


def expect(cond, msg="expectation failed"):
    if not cond:
        raise AssertionError(msg)


def expect_eq(got, want, what=""):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def expect_ok(r, what=""):
    if r.returncode != 0:
        raise AssertionError("%s: exit %d\nstdout: %s\nstderr: %s" % (
            what, r.returncode, r.stdout.decode(errors="replace")[:2000],
            r.stderr.decode(errors="replace")[:2000]))


def expect_sanitizer_clean(r):
    err = r.stderr.decode(errors="replace")
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        if marker in err:
            raise AssertionError("sanitizer report:\n" + err[:4000])


def run_tests(modules, binary, selected):
    moto = Moto()
    passed = failed = 0
    try:
        for mod in modules:
            for name in sorted(n for n in dir(mod) if n.startswith("test_")):
                if selected and not any(s in name for s in selected):
                    continue
                moto.reset()
                env = Env(moto, binary)
                started = time.monotonic()
                try:
                    getattr(mod, name)(env)
                    env.expect_no_secret()
                    passed += 1
                    print("ok   %s (%.1f s)" % (name, time.monotonic() - started), flush=True)
                except Exception:
                    failed += 1
                    print("FAIL %s" % name, flush=True)
                    traceback.print_exc(file=sys.stdout)
                finally:
                    env.cleanup()
    finally:
        moto.stop()
    return passed, failed


class FaultProxy:
    """tests/tools/faultproxy.py in front of moto, for one test."""

    def __init__(self, upstream, rate, seed=1, faults="throttle,503,reset", delay_ms=0,
                 log=None, kill_after=0, kill_pid_file=None, stall_s=3.0, lose=""):
        port_file = tempfile.mktemp(prefix="faultproxy-")
        extra = []
        if log:
            extra += ["--log", log]
        if lose:
            extra += ["--lose", lose]
        if kill_after:
            extra += ["--kill-after", str(kill_after), "--kill-pid-file", kill_pid_file]
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tests/tools/faultproxy.py"),
             "--upstream", upstream, "--rate", str(rate), "--seed", str(seed),
             "--faults", faults, "--delay-ms", str(delay_ms), "--stall-s", str(stall_s),
             "--port-file", port_file,
             *extra])
        deadline = time.time() + 20
        while not os.path.exists(port_file):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("fault proxy did not start")
            time.sleep(0.05)
        with open(port_file) as f:
            self.url = "http://127.0.0.1:%s" % f.read().strip()
        os.unlink(port_file)

    def counts(self):
        import json
        with urllib.request.urlopen(self.url + "/__faultproxy__", timeout=5) as r:
            return json.loads(r.read())

    def arm(self, kill_after, pid_file):
        q = urllib.parse.urlencode({"kill_after": kill_after, "pid_file": pid_file})
        urllib.request.urlopen(self.url + "/__faultproxy__/arm?" + q, timeout=5).read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
