"""Crash safety of fargate-ecs: up killed with SIGKILL right after each of
its AWS calls in turn, then destroy, or up again then destroy: nothing may be
left. About 2 x (calls of up) runs, several minutes: it runs only when
DEPLOYCTL_TEST_CRASH=1 (make test-crash)."""
import os
import time

from harness import FaultProxy, expect
from stacks import destroy, expect_nothing_left, up
from test_crash import killed_up
from test_stacks_servers import HealthFront

ARCH = "fargate-ecs"


def test_crash_fargate_sigkill_after_every_call_of_up(env):
    if os.environ.get("DEPLOYCTL_TEST_CRASH") != "1":
        print("skipped: test_crash_fargate runs with DEPLOYCTL_TEST_CRASH=1 (make test-crash)")
        return
    proxy = FaultProxy(env.moto.url, rate=0.0)
    front = HealthFront()
    via = ("--param", "health_via=" + front.via)
    t0 = time.time()
    try:
        up(env, ARCH, "crash-count", *via, url=proxy.url)
        calls = proxy.counts()["forwarded"]
        destroy(env, "crash-count", url=proxy.url)
        expect(calls > 30, "calls of a clean up: %d" % calls)
        killed = 0
        for n in range(1, calls + 1):
            for resume in (False, True):
                name = "crash-%d-%s" % (n, "r" if resume else "d")
                rc, err = killed_up(env, proxy, name, n, ARCH, via)
                killed += rc == -9
                if resume:
                    up(env, ARCH, name, *via, url=proxy.url)
                r = destroy(env, name, url=proxy.url, check=False)
                unknown = b"no stack '%s' in state" % name.encode() in r.stderr
                expect(unknown or r.returncode == 0, "destroy after a kill at call %d: %s"
                       % (n, r.stderr.decode()[-1500:]))
                expect_nothing_left(env, name)
    finally:
        proxy.stop()
        front.stop()
    print("crash fargate-ecs: up makes %d AWS calls; %d runs killed at each call in turn, each "
          "then destroyed (half after resuming up): nothing left (%.0f s)"
          % (calls, killed, time.time() - t0))
    expect(killed >= 2 * calls - 4, "only %d of %d runs were killed" % (killed, 2 * calls))
