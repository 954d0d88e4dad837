"""Secrets and file modes across a full run with --debug: up, status,
history, cost, bench with a report, destroy. Neither the secret key nor the
session token appears in anything deployctl printed or wrote (the harness
checks that after every test; here the run is the widest one, with the
wire log on), the wire log still shows the requests (so the check is not
vacuous), and every file deployctl created is for its user alone."""
import os
import stat

from harness import SECRET_KEY, SESSION_TOKEN, expect, expect_ok
from stacks import stack_env
from test_bench import Server, delayed

ARCH = "lambda-python-dynamodb"


def debug_run(env, *args):
    r = env.run("--debug", *args, env=stack_env(env), timeout=300)
    expect_ok(r, " ".join(args))
    return r


def loose_modes(root):
    """Files and folders under root that someone but their owner may read."""
    found = []
    for here, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(here, name)
            mode = os.lstat(path).st_mode
            if not stat.S_ISLNK(mode) and mode & 0o077:
                found.append("%s %o" % (os.path.relpath(path, root), mode & 0o777))
    return found


def test_secrets_full_run_with_debug(env):
    server = Server(delayed(0))
    report = os.path.join(env.home, "report.html")
    try:
        up = debug_run(env, "up", ARCH, "--name", "sec")
        debug_run(env, "status", "sec")
        debug_run(env, "history", "sec")
        debug_run(env, "cost", ARCH, "--explain")
        debug_run(env, "bench", "--url", server.url, "-n", "20", "--report", report)
        down = debug_run(env, "destroy", "sec")
    finally:
        server.stop()
    wire = up.stderr.decode(errors="replace") + down.stderr.decode(errors="replace")
    for shown in ("Authorization: AWS4-HMAC-SHA256 [redacted]",
                  "X-Amz-Security-Token: [redacted]", "DynamoDB_20120810.CreateTable"):
        expect(shown in wire, "the --debug wire log does not show %r" % shown)
    expect(SECRET_KEY not in wire and SESSION_TOKEN not in wire, "secret in the wire log")
    env.expect_no_secret()
    state = os.path.join(env.home, "state")
    expect(not loose_modes(state), "state files readable by others: %r" % loose_modes(state)[:10])
    mode = os.stat(report).st_mode & 0o777
    expect(mode == 0o600, "report mode %o, want 600" % mode)
