"""Crash safety: deployctl up killed with SIGKILL right after each of its
AWS calls in turn (the call's effect made, its answer never read), then
destroy, or up again then destroy: nothing may be left behind."""
import os
import subprocess

from harness import FaultProxy, expect, expect_eq, expect_ok
from stacks import destroy, expect_nothing_left, stack_env, up

ARCH = "lambda-python-dynamodb"


def killed_up(env, proxy, name, n, arch=ARCH, extra=()):
    pid_file = os.path.join(env.home, "pid")
    proxy.arm(n, pid_file)
    e = dict(env.vars, **stack_env(env, proxy.url))
    p = subprocess.Popen([env.binary, "-q", "up", arch, "--name", name, "--parallel", "1", *extra],
                         env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with open(pid_file + ".tmp", "w") as f:
        f.write(str(p.pid))
    os.rename(pid_file + ".tmp", pid_file)
    _, err = p.communicate(timeout=300)
    return p.returncode, err.decode()


def test_sigkill_after_every_call_of_up(env):
    proxy = FaultProxy(env.moto.url, rate=0.0)
    try:
        up(env, ARCH, "crash-count", url=proxy.url)
        calls = proxy.counts()["forwarded"]
        destroy(env, "crash-count", url=proxy.url)
        expect(calls > 10, "calls of a clean up: %d" % calls)
        killed = 0
        for n in range(1, calls + 1):
            # Each kill point once, followed in turn by destroy at once or by
            # up (resume) then destroy (make test-faults kills at random
            # points of up and destroy, many more times).
            resume = n % 2 == 0
            name = "crash-%d-%s" % (n, "r" if resume else "d")
            rc, err = killed_up(env, proxy, name, n)
            killed += rc == -9
            if resume:
                up(env, ARCH, name, url=proxy.url)
            r = destroy(env, name, url=proxy.url, check=False)
            # Killed before the stack was first recorded: nothing was made.
            unknown = b"no stack '%s' in state" % name.encode() in r.stderr
            if not unknown:
                expect_ok(r, "destroy after a kill at call %d" % n)
            expect_nothing_left(env, name)
    finally:
        proxy.stop()
    print("crash: up makes %d AWS calls; %d runs killed at each call in turn, "
          "each then destroyed (every other one after resuming up): nothing left"
          % (calls, killed))
    expect(killed >= calls - 2, "only %d of %d runs were killed" % (killed, calls))
