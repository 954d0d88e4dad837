"""The local target: `up --target local` of each architecture runs on this
machine with no AWS account (a supervisor, moto as the emulator, the
functions as real Python and Node processes, or C++ and Rust handlers
compiled here, under a Lambda Runtime API, a local gateway; the server
architectures (fastapi-ec2, k8s, fargate-ecs) run the template's FastAPI app
under uvicorn on sockets the supervisor holds), answers over HTTP, survives
a killed process, and `destroy` leaves no process, port or file behind, even
when the supervisor itself was killed. Checked from outside: HTTP, /proc,
sockets.

These tests need no moto from the harness (the supervisor starts its own)."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

from harness import ROOT, expect, expect_eq, expect_ok, path_without
from stacks import ARCHS, copy_templates

sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
sys.path.insert(0, os.path.join(ROOT, "tests", "app"))
import toolchain  # noqa: E402

PAGE = os.path.join(ROOT, "templates", "common", "index.html")
# The AWS SDK for JavaScript v3 the local Node.js runtime fetches once.
CACHE = os.path.join(ROOT, "build", "cache")


def local_env(env, path=None, extra=None):
    e = {"DEPLOYCTL_STATE_DIR": os.path.join(env.home, "state"), "DEPLOYCTL_CACHE_DIR": CACHE,
         # The user's AWS settings must not matter to a local stack.
         "AWS_ENDPOINT_URL": None, "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None,
         "AWS_SESSION_TOKEN": None,
         "AWS_REGION": None,
         # The supervisor runs on in the background: sanitizer reports of
         # every deployctl process go to files, checked by expect_clean.
         "ASAN_OPTIONS": "detect_leaks=1:log_path=" + os.path.join(env.home, "sanitizer"),
         "DEPLOYCTL_PROGRESS": "1"}
    # The compiled handlers: one build cache for the run, crates offline.
    e.update(toolchain.build_env())
    e.update(extra or {})
    if path is not None:
        e["PATH"] = path
    return e


def local_up(env, arch, name, path=None, check=True, timeout=300, extra=None, params=()):
    started = time.monotonic()
    r = env.run("-o", "json", "up", arch, "--name", name, "--target", "local",
                *[a for p in params for a in ("--param", p)],
                env=local_env(env, path, extra), timeout=timeout)
    took = time.monotonic() - started
    env.last_stderr = r.stderr.decode()
    if not check:
        return r
    expect_ok(r, "up --target local %s" % arch)
    return json.loads(r.stdout), took


def local_destroy(env, name, check=True):
    r = env.run("destroy", name, env=local_env(env), timeout=120)
    if check:
        expect_ok(r, "destroy %s" % name)
    return r


def status(env, name):
    r = env.run("-o", "json", "status", name, env=local_env(env))
    expect_ok(r, "status %s" % name)
    return json.loads(r.stdout)[0]


def get(url, timeout=20):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8")


def ports_of(local):
    ports = [local["control_port"], local["emulator"]["port"]]
    ports += [a["port"] for a in local["apis"]]
    ports += [f["runtime_port"] for f in local["functions"]]
    ports += [s["port"] for s in local.get("sockets") or []]
    return ports


def pids_of(local):
    return [local["pid"]] + [p["pid"] for p in local["processes"] if p["pid"]]


def alive(pid):
    """Running and not a zombie (a dead child not yet reaped by init)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def listening_ports():
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if cols[3] == "0A":  # LISTEN
                    found.add(int(cols[1].rsplit(":", 1)[1], 16))
    return found


def read_proc(pid, what):
    try:
        if what == "cwd":
            return os.readlink("/proc/%s/cwd" % pid)
        with open("/proc/%s/%s" % (pid, what), "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def processes_of(state_dir):
    """Every live process whose command line, environment or working
    directory names the state directory: what a stack left running."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid() or not alive(int(pid)):
            continue
        if any(state_dir in read_proc(pid, w) for w in ("cmdline", "environ", "cwd")):
            found.append((int(pid), read_proc(pid, "cmdline").replace("\0", " ")[:200]))
    return found


def wait_until(cond, limit=10.0, what="condition"):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for %s" % what)


def expect_gone(env, name, pids, ports):
    state_dir = os.path.realpath(os.path.join(env.home, "state"))
    wait_until(lambda: not any(alive(p) for p in pids), 10, "the stack's processes to end")
    expect_eq(processes_of(state_dir), [], "processes of the stack's state directory")
    expect_eq(sorted(set(ports) & listening_ports()), [], "ports still listening")
    for port in ports:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
    expect(not os.path.exists(os.path.join(state_dir, "local", name)), "local folder left")
    r = env.run("list", env=local_env(env))
    expect(name.encode() not in r.stdout, "stack still in state:\n%s" % r.stdout.decode())
    expect_clean(env)


def expect_clean(env):
    reports = [f for f in os.listdir(env.home) if f.startswith("sanitizer")]
    text = ""
    for f in reports:
        with open(os.path.join(env.home, f), errors="replace") as fh:
            text += fh.read()[:3000]
    expect_eq(reports, [], "sanitizer reports\n" + text)


def supervisor_peak_kb(pid):
    for line in read_proc(pid, "status").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def function_pid(local):
    fns = [p for p in local["processes"] if p["name"].startswith("fn:")]
    expect_eq(len(fns), 1, "function processes")
    return fns[0]["pid"]


def expect_user_view(env, name, url):
    """What a user of the stack sees: the page in headless Chromium counts up
    when its button is clicked, and `bench -n 200` of the stack (from state,
    as `deployctl bench` finds it) has no error."""
    import test_page
    count = int(get(url + "hits")[1])
    dom = test_page.dump_dom(url + "?autoclick=3")
    expect('data-autoclick-done="3"' in dom, "the page's clicks did not finish:\n" + dom[:2000])
    expect_eq(test_page.element_text(dom, "count"), str(count + 3), "count shown after 3 clicks")
    expect_eq(test_page.element_text(dom, "error"), "", "error shown")
    r = env.run("-o", "json", "bench", name, "-n", "200", env=local_env(env), timeout=300)
    expect_ok(r, "bench %s" % name)
    rows = json.loads(r.stdout)["rows"]
    expect_eq([row["name"] for row in rows], [name], "benched stacks")
    lat = rows[0]["latency"]
    expect_eq((lat["requests"], lat["ok"], sum(lat["errors"].values())), (200, 200, 0),
              "bench -n 200: requests, ok, errors")


def expect_fresh_stack(env, name, doc):
    """A new local stack answers /hits 1 then 2, serves the template's page
    and 404 elsewhere; its supervisor runs and state records the target.
    Returns its URL and the supervisor's status."""
    url = doc["url"]
    expect(url.startswith("http://127.0.0.1:"), "url %r" % url)
    expect_eq(get(url + "hits"), (200, "1"), "first /hits")
    expect_eq(get(url + "hits"), (200, "2"), "second /hits")
    with open(PAGE, encoding="utf-8") as f:
        expect_eq(get(url), (200, f.read()), "the page")
    expect_eq(get(url + "nowhere")[0], 404, "unknown route")
    st = status(env, name)
    expect(st["local"]["running"], "supervisor running %r" % st["local"])
    expect_eq((st["target"], st["region"]), ("local", "local"), "target and region in state")
    return url, st["local"]


def lifecycle(env, arch, timeout=300):
    name = "loc-" + arch.replace("lambda-", "")[:16]
    doc, took = local_up(env, arch, name, timeout=timeout)
    url, local = expect_fresh_stack(env, name, doc)
    pids, ports = pids_of(local), ports_of(local)

    # A crashed function is started again and the counter carries on.
    victim = function_pid(local)
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: function_pid(status(env, name)["local"]) not in (0, victim), 10,
               "the function to be restarted")
    expect_eq(get(url + "hits"), (200, "3"), "/hits after the function was killed")
    local = status(env, name)["local"]
    restarted = [p for p in local["processes"] if p["name"].startswith("fn:")][0]
    expect(restarted["restarts"] >= 1 and restarted["alive"], "restart %r" % restarted)
    pids += pids_of(local)
    expect_user_view(env, name, url)
    peak = supervisor_peak_kb(local["pid"])

    local_destroy(env, name)
    expect_gone(env, name, pids, ports)
    print("     %s: up --target local %.1f s; supervisor peak RSS %d kB" % (arch, took, peak))
    return name, took


def test_local_lambda_python_s3(env):
    lifecycle(env, "lambda-python-s3")


def test_local_lambda_python_dynamodb(env):
    lifecycle(env, "lambda-python-dynamodb")


def test_local_lambda_js_dynamodb(env):
    lifecycle(env, "lambda-js-dynamodb")


def compiled_lifecycle(env, arch, kind):
    """The handler is built as for AWS (lambda_build, the same cache), and
    runs as this machine's process: a second stack of unchanged sources is
    not built again."""
    name, took = lifecycle(env, arch, timeout=900)
    built = "fn: building the %s handler for " % kind
    first = env.last_stderr
    doc, again = local_up(env, arch, name)
    expect(built not in env.last_stderr, "unchanged sources built again:\n" + env.last_stderr)
    expect_eq(get(doc["url"] + "hits"), (200, "1"), "/hits of the second stack")
    local = status(env, name)["local"]
    # What runs is the package's copy in the stack's folder, gone with it.
    code = os.path.realpath(os.path.join(env.home, "state", "local", name, "code"))
    exe = os.path.realpath("/proc/%d/exe" % function_pid(local))
    expect(exe.startswith(code + "/"), "the function runs %s, not from %s" % (exe, code))
    local_destroy(env, name)
    expect_gone(env, name, pids_of(local), ports_of(local))
    print("     %s: first up %s; a second stack's up %.1f s (build cached)" % (
        arch, "built the handler" if built in first else "found the build cached", again))


def test_local_lambda_cpp_dynamodb(env):
    compiled_lifecycle(env, "lambda-cpp-dynamodb", "cpp")


def test_local_lambda_rust_dynamodb(env):
    compiled_lifecycle(env, "lambda-rust-dynamodb", "rust")


def test_local_compiled_handler_edit(env):
    """An edited handler is built again, and its new process answers; the
    stack's data carries on and the old code's copy is dropped."""
    name = "loc-edit"
    templates = copy_templates(env)
    env.vars["DEPLOYCTL_TEMPLATES"] = templates
    doc, _ = local_up(env, "lambda-cpp-dynamodb", name, timeout=900)
    url = doc["url"]
    expect_eq(get(url + "healthz"), (200, "ok"), "/healthz")
    expect_eq(get(url + "hits"), (200, "1"), "/hits")
    main = os.path.join(templates, "lambda-cpp-dynamodb", "app", "main.cpp")
    with open(main) as f:
        text = f.read()
    expect('response(200, "ok")' in text, "main.cpp no longer answers /healthz with ok")
    # New each run: a build of the edit is not in the shared cache already.
    edited = "edited-" + uuid.uuid4().hex[:12]
    with open(main, "w") as f:
        f.write(text.replace('response(200, "ok")', 'response(200, "%s")' % edited))
    local_up(env, "lambda-cpp-dynamodb", name, timeout=900)
    expect("fn: building the cpp handler for " in env.last_stderr,
           "the edited handler was not built:\n" + env.last_stderr)
    expect_eq(get(url + "healthz"), (200, edited), "/healthz of the edited handler")
    expect_eq(get(url + "hits"), (200, "2"), "/hits after the edit")
    code = os.path.join(env.home, "state", "local", name, "code")
    expect_eq(len(os.listdir(code)), 1, "code copies %r" % os.listdir(code))
    local = status(env, name)["local"]
    local_destroy(env, name)
    expect_gone(env, name, pids_of(local), ports_of(local))


APP = os.path.join(ROOT, "templates", "common", "fastapi", "app.py")


def servers(local):
    return sorted((p for p in local["processes"] if p["name"].startswith("proc:")),
                  key=lambda p: p["name"])


def expect_template_app(env, name, procs):
    """Each server runs the template's own app.py, from the stack's local
    folder, under uvicorn."""
    stack_dir = os.path.realpath(os.path.join(env.home, "state", "local", name))
    with open(APP, "rb") as f:
        app = f.read()
    for p in procs:
        cwd = read_proc(p["pid"], "cwd")
        expect(cwd.startswith(stack_dir + "/"), "%s runs in %r" % (p["name"], cwd))
        with open(os.path.join(cwd, "app.py"), "rb") as f:
            expect_eq(f.read(), app, "app.py of %s" % p["name"])
        argv = read_proc(p["pid"], "cmdline").split("\0")
        expect(argv[1].endswith("/uvicorn_socket.py") and argv[2] == "app:app",
               "%s argv %r" % (p["name"], argv))


def server_lifecycle(env, arch, tasks=1, counter_kept=False, params=()):
    """up -> /hits 1, 2 and the page -> a killed server process is started
    again (the counter kept only where it lives in a file) -> destroy leaves
    nothing behind."""
    name = "loc-" + arch[:12]
    doc, took = local_up(env, arch, name, params=params)
    url, local = expect_fresh_stack(env, name, doc)
    procs = servers(local)
    expect_eq(len(procs), tasks, "server processes %r" % procs)
    expect_template_app(env, name, procs)
    pids, ports = pids_of(local), ports_of(local)
    again, _ = local_up(env, arch, name, params=params)
    expect_eq((again["url"], again["aws_calls"]), (url, 0), "a second up")

    victim = procs[0]
    os.kill(victim["pid"], signal.SIGKILL)

    def restarted():
        now = [p for p in servers(status(env, name)["local"]) if p["name"] == victim["name"]]
        return now and now[0]["pid"] not in (0, victim["pid"]) and now[0]["restarts"] >= 1
    wait_until(restarted, 10, "the killed server process to be started again")
    # The socket outlives the process: this waits in its backlog, if need be.
    expect_eq(get(url + "hits"), (200, "3" if counter_kept else "1"),
              "/hits after a server process was killed")
    local = status(env, name)["local"]
    pids += pids_of(local)
    return name, url, local, pids, ports, took


def finish(env, arch, name, url, pids, ports, took):
    expect_user_view(env, name, url)
    local_destroy(env, name)
    expect_gone(env, name, pids, ports)
    print("     %s: up --target local %.1f s" % (arch, took))


def test_local_fastapi_ec2(env):
    name, url, _, pids, ports, took = server_lifecycle(env, "fastapi-ec2")
    finish(env, "fastapi-ec2", name, url, pids, ports, took)


def test_local_k8s(env):
    name, url, _, pids, ports, took = server_lifecycle(env, "k8s")
    finish(env, "k8s", name, url, pids, ports, took)


def test_local_fargate_ecs(env):
    """Two tasks behind the load balancer's socket, the counter in a file in
    the folder standing for the EFS access point: it survives a killed task,
    and 50 concurrent /hits spread over both tasks lose no increment."""
    import concurrent.futures
    name, url, local, pids, ports, took = server_lifecycle(
        env, "fargate-ecs", tasks=2, counter_kept=True, params=["desired_count=2"])
    expect_eq(len(local["sockets"]), 1, "one load balancer socket %r" % local["sockets"])
    expect_eq(url, "http://127.0.0.1:%d/" % local["sockets"][0]["port"], "the url")

    def hit(_):
        return int(get(url + "hits", timeout=60)[1])
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        got = sorted(pool.map(hit, range(50)))
    expect_eq(got, list(range(4, 54)), "50 concurrent /hits")
    efs = os.path.join(env.home, "state", "local", name, "efs")
    counts = [os.path.join(d, "count") for d, _, files in os.walk(efs) if "count" in files]
    expect_eq(len(counts), 1, "one count file under %s" % efs)
    with open(counts[0]) as f:
        expect_eq(f.read().strip(), "53", "the count on the 'EFS' folder")
    finish(env, "fargate-ecs", name, url, pids, ports, took)


def test_local_without_fastapi(env):
    # The only python3 on PATH runs without its site-packages.
    name = "loc-nofastapi"
    path = path_without(env, wrap={"python3": "#!/bin/sh\nexec REAL -S \"$@\"\n"})
    r = local_up(env, "fastapi-ec2", name, path=path, check=False)
    expect_one_line_failure(r, "apt-get install python3-fastapi python3-uvicorn")
    local = status(env, name)["local"]
    expect_eq(servers(local), [], "server processes")
    local_destroy(env, name)
    expect_gone(env, name, pids_of(local), ports_of(local))


def test_local_prop_changes_nothing_on_aws(env):
    """The AWS types drop the `local` prop before props are compared, so
    adding it to a template leaves a stack already on AWS as it is."""
    from resource_driver import drive
    for arch, rid in (("fastapi-ec2", "server"), ("k8s", "server"), ("fargate-ecs", "task")):
        tdir = os.path.join(ROOT, "templates", arch)
        with open(os.path.join(tdir, "stack.json")) as f:
            res = json.load(f)["resources"][rid]
        expect("local" in res["props"], "%s %s has a local prop" % (arch, rid))
        bare = {k: v for k, v in res["props"].items() if k != "local"}
        with_local = drive(env, "prepare", res["type"], res["props"], template_dir=tdir)
        without = drive(env, "prepare", res["type"], bare, template_dir=tdir)
        expect_eq(with_local.ok(arch).value(), without.ok(arch).value(),
                  "%s %s prepared on AWS" % (arch, rid))


def test_local_supervisor_killed_then_destroy(env):
    name = "loc-killed"
    doc, _ = local_up(env, "lambda-python-dynamodb", name)
    expect_eq(get(doc["url"] + "hits"), (200, "1"), "/hits")
    local = status(env, name)["local"]
    pids, ports = pids_of(local), ports_of(local)
    os.kill(local["pid"], signal.SIGKILL)
    wait_until(lambda: not alive(local["pid"]), 5, "the supervisor to die")
    r = local_destroy(env, name)
    expect(b"destroyed stack" in r.stderr, r.stderr.decode())
    expect_gone(env, name, pids, ports)


def test_local_up_again_after_supervisor_killed(env):
    """A new supervisor starts with an empty emulator: up makes it all again."""
    name = "loc-again"
    doc, _ = local_up(env, "lambda-python-dynamodb", name)
    expect_eq(get(doc["url"] + "hits"), (200, "1"), "/hits")
    again, _ = local_up(env, "lambda-python-dynamodb", name)
    expect_eq(again["url"], doc["url"], "url of a second up with the supervisor alive")
    expect_eq(get(again["url"] + "hits"), (200, "2"), "/hits after a second up")
    r = env.run("up", "lambda-python-dynamodb", "--name", name, "--target", "aws",
                env=local_env(env))
    expect(r.returncode != 0 and b"was made for the local target, not aws" in r.stderr,
           "up --target aws of a local stack: %r" % r.stderr)
    os.kill(status(env, name)["local"]["pid"], signal.SIGKILL)
    third, _ = local_up(env, "lambda-python-dynamodb", name)
    expect_eq(get(third["url"] + "hits"), (200, "1"), "/hits in a fresh emulator")
    local = status(env, name)["local"]
    local_destroy(env, name)
    expect_gone(env, name, pids_of(local), ports_of(local))


def test_local_two_stacks_side_by_side(env):
    a, _ = local_up(env, "lambda-python-dynamodb", "loc-a")
    b, _ = local_up(env, "lambda-python-dynamodb", "loc-b")
    expect(a["url"] != b["url"], "two stacks share %s" % a["url"])
    expect_eq(get(a["url"] + "hits"), (200, "1"), "a /hits")
    expect_eq(get(a["url"] + "hits"), (200, "2"), "a /hits again")
    expect_eq(get(b["url"] + "hits"), (200, "1"), "b counts on its own")
    la, lb = status(env, "loc-a")["local"], status(env, "loc-b")["local"]
    local_destroy(env, "loc-a")
    expect_eq(get(b["url"] + "hits"), (200, "2"), "b after a is destroyed")
    local_destroy(env, "loc-b")
    expect_gone(env, "loc-a", pids_of(la), ports_of(la))
    expect_gone(env, "loc-b", pids_of(lb), ports_of(lb))


def expect_one_line_failure(r, text):
    expect(r.returncode != 0, "up succeeded without what it needs")
    err = r.stderr.decode()
    lines = [l for l in err.splitlines() if l.startswith("deployctl:")]
    expect(len(lines) == 1 and text in lines[0], "want one line naming %r, got:\n%s"
           % (text, err))


def test_local_without_moto(env):
    r = local_up(env, "lambda-python-dynamodb", "loc-nomoto",
                 path=path_without(env, "moto_server"), check=False)
    expect_one_line_failure(r, "the local target needs moto: pip install 'moto[server]'")
    expect_eq(processes_of(os.path.realpath(os.path.join(env.home, "state"))), [],
              "processes left")
    expect(b"loc-nomoto" not in env.run("list", env=local_env(env)).stdout, "stack in state")


def test_local_without_node(env):
    name = "loc-nonode"
    r = local_up(env, "lambda-js-dynamodb", name, path=path_without(env, "node"), check=False)
    expect_one_line_failure(r, "apt-get install nodejs")
    local = status(env, name)["local"]
    local_destroy(env, name)
    expect_gone(env, name, pids_of(local), ports_of(local))


def test_local_without_boto3(env):
    # python3 without its site-packages: the standard library only.
    name = "loc-noboto"
    path = path_without(env, wrap={"python3": "#!/bin/sh\nexec REAL -S \"$@\"\n"})
    r = local_up(env, "lambda-python-dynamodb", name, path=path, check=False)
    expect_one_line_failure(r, "pip install boto3")
    local = status(env, name)["local"]
    local_destroy(env, name)
    expect_gone(env, name, pids_of(local), ports_of(local))


def compiled_failure(env, arch, name, text, path=None, cargo_registry=None):
    """up of a compiled architecture with an empty build cache (a build made
    earlier would need no toolchain) fails in one line saying what to
    install, and destroy still leaves nothing."""
    cache = tempfile.mkdtemp(prefix="cache-", dir=env.home)
    if cargo_registry:
        os.makedirs(os.path.join(cache, ".cargo"))
        with open(os.path.join(cache, ".cargo", "config.toml"), "w") as f:
            f.write(toolchain.CARGO_CONFIG % cargo_registry)
    r = local_up(env, arch, name, path=path, check=False, extra={"XDG_CACHE_HOME": cache})
    expect_one_line_failure(r, text)
    local = status(env, name)["local"]
    local_destroy(env, name)
    expect_gone(env, name, pids_of(local), ports_of(local))


def gxx_without_curl_headers(env):
    """A PATH whose g++ searches the usual include folders, but none holds
    curl/: the machine of a user without libcurl4-openssl-dev."""
    out = subprocess.run(["g++", "-xc++", "-E", "-v", "/dev/null"], capture_output=True,
                         text=True).stderr
    dirs = out.split("#include <...> search starts here:\n")[1].split("End of search list.")[0]
    farm = tempfile.mkdtemp(prefix="include-", dir=env.home)
    flags = []
    for d in dirs.split():
        if os.path.isdir(os.path.join(d, "curl")):
            link = os.path.join(farm, str(len(flags)))
            os.makedirs(link)
            for entry in os.listdir(d):
                if entry != "curl":
                    os.symlink(os.path.join(d, entry), os.path.join(link, entry))
            d = link
        flags.append("-isystem %s" % d)
    return path_without(env, wrap={
        "g++": "#!/bin/sh\nexec REAL -nostdinc %s \"$@\"\n" % " ".join(flags)})


def test_local_compiled_without_toolchain(env):
    compiled_failure(env, "lambda-cpp-dynamodb", "loc-nogxx",
                     "lambda-cpp-dynamodb needs g++: install it with 'apt-get install g++",
                     path=path_without(env, "g++"))
    compiled_failure(env, "lambda-cpp-dynamodb", "loc-nocurl",
                     "lambda-cpp-dynamodb needs the libcurl development files: install them "
                     "with 'apt-get install libcurl4-openssl-dev'",
                     path=gxx_without_curl_headers(env))
    compiled_failure(env, "lambda-rust-dynamodb", "loc-nocargo",
                     "lambda-rust-dynamodb needs cargo: install it with 'apt-get install cargo'",
                     path=path_without(env, "cargo"))
    empty = tempfile.mkdtemp(prefix="registry-", dir=env.home)
    compiled_failure(env, "lambda-rust-dynamodb", "loc-nocrates",
                     "lambda-rust-dynamodb needs the crate '", cargo_registry=empty)
    r = env.last_stderr
    expect("'apt-get install librust-" in r, r)


ECHO_HANDLER = r'''
import base64, json, time

def handler(event, context):
    q = event.get("queryStringParameters") or {}
    if "sleep" in q:
        time.sleep(float(q["sleep"]))
    if q.get("shape") == "plain":
        return {"plain": True, "route": event["routeKey"]}
    if q.get("shape") == "binary":
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "isBase64Encoded": True, "body": base64.b64encode(bytes(range(256))).decode()}
    if q.get("shape") == "raise":
        raise RuntimeError("asked to fail")
    return {"statusCode": 201, "headers": {"content-type": "application/json", "x-echo": "yes"},
            "cookies": ["a=1; Path=/", "b=2"], "body": json.dumps(
                {"event": event, "remaining_ms": context.get_remaining_time_in_millis(),
                 "request_id": context.aws_request_id})}
'''

ECHO_STACK = {
    "arch": "local-echo",
    "summary": "an echo function behind the gateway, for the local target's tests",
    "params": {},
    "resources": {
        "fn": {"type": "lambda.function", "props": {
            "code": "app/", "handler": "handler.handler", "runtime": "python3.12",
            "timeout_s": 2, "role": "arn:aws:iam::000000000000:role/none",
            "env": {"GREETING": "hello"}}},
        "api": {"type": "apigatewayv2.api", "props": {"protocol": "HTTP"}},
        "integration": {"type": "apigatewayv2.integration", "props": {
            "api": "${api.id}", "type": "AWS_PROXY", "uri": "${fn.arn}",
            "payload_format": "2.0"}},
        "route_item": {"type": "apigatewayv2.route", "props": {
            "api": "${api.id}", "route_key": "GET /items/{id}",
            "target": "integrations/${integration.id}"}},
        "route_greedy": {"type": "apigatewayv2.route", "props": {
            "api": "${api.id}", "route_key": "ANY /files/{path+}",
            "target": "integrations/${integration.id}"}},
        "route_default": {"type": "apigatewayv2.route", "props": {
            "api": "${api.id}", "route_key": "$default",
            "target": "integrations/${integration.id}"}},
        "stage": {"type": "apigatewayv2.stage", "props": {
            "api": "${api.id}", "name": "$default", "auto_deploy": True}},
    },
    "outputs": {"url": "${api.endpoint}/"},
}


def echo_templates(env):
    root = os.path.join(env.home, "templates")
    os.makedirs(os.path.join(root, "local-echo", "app"))
    import shutil
    shutil.copytree(os.path.join(ROOT, "templates", "common"), os.path.join(root, "common"))
    with open(os.path.join(root, "local-echo", "stack.json"), "w") as f:
        json.dump(ECHO_STACK, f)
    with open(os.path.join(root, "local-echo", "app", "handler.py"), "w") as f:
        f.write(ECHO_HANDLER)
    return root


def request(url, method="GET", body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_local_gateway_payload_v2(env):
    """The event and the answer as API Gateway's payload format 2.0 has
    them (docs.aws.amazon.com/apigateway/latest/developerguide/
    http-api-develop-integrations-lambda.html)."""
    name = "loc-echo"
    env.vars["DEPLOYCTL_TEMPLATES"] = echo_templates(env)
    doc, _ = local_up(env, "local-echo", name)
    base = doc["url"].rstrip("/")
    port = int(base.rsplit(":", 1)[1])

    status_, headers, body = request(base + "/items/42?x=1&x=2&y=a%20b", headers={
        "Cookie": "c1=v1; c2=v2", "X-Custom": "Mixed-Case", "User-Agent": "local-test"})
    expect_eq(status_, 201, "statusCode")
    expect_eq(headers["x-echo"], "yes", "header from the function")
    expect_eq(headers.get_all("Set-Cookie"), ["a=1; Path=/", "b=2"], "cookies")
    out = json.loads(body)
    ev = out["event"]
    expect_eq(ev["version"], "2.0", "version")
    expect_eq(ev["routeKey"], "GET /items/{id}", "routeKey")
    expect_eq(ev["rawPath"], "/items/42", "rawPath")
    expect_eq(ev["rawQueryString"], "x=1&x=2&y=a%20b", "rawQueryString")
    expect_eq(ev["queryStringParameters"], {"x": "1,2", "y": "a b"}, "queryStringParameters")
    expect_eq(ev["pathParameters"], {"id": "42"}, "pathParameters")
    expect_eq(ev["cookies"], ["c1=v1", "c2=v2"], "cookies")
    expect_eq(ev["headers"]["x-custom"], "Mixed-Case", "headers are lower-cased")
    expect("cookie" not in ev["headers"], "cookie header moved to cookies")
    rc = ev["requestContext"]
    expect_eq(rc["http"], {"method": "GET", "path": "/items/42", "protocol": "HTTP/1.1",
                           "sourceIp": "127.0.0.1", "userAgent": "local-test"}, "http")
    expect_eq((rc["stage"], rc["routeKey"], rc["domainName"]),
              ("$default", "GET /items/{id}", "127.0.0.1:%d" % port), "requestContext")
    api_id = [r["physical_id"] for r in status(env, name)["resources"] if r["id"] == "api"]
    expect_eq([rc["apiId"]], api_id, "apiId")
    expect(abs(rc["timeEpoch"] / 1000 - time.time()) < 60, "timeEpoch %r" % rc["timeEpoch"])
    expect_eq(ev["isBase64Encoded"], False, "no body")
    expect(0 < out["remaining_ms"] <= 2000, "remaining time %r" % out["remaining_ms"])
    expect_eq(len(out["request_id"]), 36, "request id")

    # Greedy variable, ANY, and bodies: text as is, binary as base64.
    _, _, body = request(base + "/files/a/b/c.txt", method="POST", body=b'{"k": 1}',
                         headers={"Content-Type": "application/json"})
    ev = json.loads(body)["event"]
    expect_eq((ev["routeKey"], ev["pathParameters"]), ("ANY /files/{path+}", {"path": "a/b/c.txt"}),
              "greedy route")
    expect_eq((ev["body"], ev["isBase64Encoded"]), ('{"k": 1}', False), "text body")
    _, _, body = request(base + "/files/x", method="PUT", body=bytes(range(256)),
                         headers={"Content-Type": "application/octet-stream"})
    ev = json.loads(body)["event"]
    import base64
    expect_eq((base64.b64decode(ev["body"]), ev["isBase64Encoded"]), (bytes(range(256)), True),
              "binary body")
    _, _, body = request(base + "/anything/else")
    expect_eq(json.loads(body)["event"]["routeKey"], "$default", "$default route")
    # A path byte that is not UTF-8 makes no event: 400, and the supervisor
    # lives on (it crashed before; found by tests/fuzz/fuzz_gateway.c).
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(b"GET /\xa0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head = s.recv(4096)
    expect(head.startswith(b"HTTP/1.1 400 "), "a path that is not UTF-8: %r" % head[:40])
    _, _, body = request(base + "/anything/else")
    expect_eq(json.loads(body)["event"]["routeKey"], "$default", "the gateway after that")

    # Answers: JSON without statusCode, base64 bodies, failures.
    status_, headers, body = request(base + "/x?shape=plain")
    expect_eq((status_, headers["content-type"], json.loads(body)),
              (200, "application/json", {"plain": True, "route": "$default"}), "plain JSON")
    status_, headers, body = request(base + "/x?shape=binary")
    expect_eq((status_, body), (200, bytes(range(256))), "base64 body decoded")
    status_, _, body = request(base + "/x?shape=raise")
    expect_eq((status_, json.loads(body)), (500, {"message": "Internal Server Error"}),
              "a handler's exception")

    # A timeout fails the call and the process is started afresh.
    before = function_pid(status(env, name)["local"])
    started = time.monotonic()
    status_, _, _ = request(base + "/x?sleep=5")
    expect_eq(status_, 500, "a call past the function's timeout")
    expect(time.monotonic() - started < 4.5, "the timeout was not enforced")
    wait_until(lambda: function_pid(status(env, name)["local"]) not in (0, before), 10,
               "a fresh process after the timeout")
    expect_eq(request(base + "/x?shape=plain")[0], 200, "a call after the timeout")

    local = status(env, name)["local"]
    local_destroy(env, name)
    expect_gone(env, name, pids_of(local), ports_of(local))


ENV_SERVER = r'''
import http.server, json, os, sys

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(dict(os.environ)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass

http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
'''


def control(env, name, method, path, body=None, token=None):
    state = os.path.join(env.home, "state", "local", name, "supervisor.json")
    with open(state) as f:
        rt = json.load(f)
    data = json.dumps(body).encode() if body is not None else None
    headers = {"X-Deployctl-Token": rt["token"] if token is None else token}
    return request("http://127.0.0.1:%d%s" % (rt["control_port"], path), method, data, headers)


def test_local_supervised_process(env):
    """What a server architecture's local type uses: a supervised process
    with the emulator's settings, restarted when it crashes, gone with the
    stack. Driven through the control channel, as such a type would."""
    name = "loc-proc"
    env.vars["DEPLOYCTL_TEMPLATES"] = echo_templates(env)
    env.vars["AWS_SESSION_TOKEN"] = "the-user-s-own-token-must-not-leak"
    doc, _ = local_up(env, "local-echo", name)
    script = os.path.join(env.home, "envserver.py")
    with open(script, "w") as f:
        f.write(ENV_SERVER)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    expect_eq(control(env, name, "GET", "/status", token="wrong")[0], 403, "a wrong token")
    spec = {"argv": ["python3", script, str(port)], "env": {"APP": "x"}, "port": port}
    status_, _, body = control(env, name, "PUT", "/processes/web", spec)
    expect_eq(status_, 200, "PUT /processes/web: %s" % body)
    _, _, body = request("http://127.0.0.1:%d/" % port)
    seen = json.loads(body)
    local = status(env, name)["local"]
    expect_eq(seen["AWS_ENDPOINT_URL"], local["emulator"]["url"], "emulator endpoint")
    expect_eq((seen["APP"], seen["AWS_REGION"]), ("x", "us-east-1"), "env")
    expect("AWS_SESSION_TOKEN" not in seen, "the user's token reached a local process")

    web = [p for p in local["processes"] if p["name"] == "proc:web"][0]
    os.kill(web["pid"], signal.SIGKILL)

    def web_now():
        return [p for p in status(env, name)["local"]["processes"] if p["name"] == "proc:web"][0]
    wait_until(lambda: web_now()["pid"] not in (0, web["pid"]), 10, "the process to be restarted")
    expect_eq(web_now()["restarts"], 1, "restarts")
    wait_until(lambda: alive_port(port), 10, "the restarted process to listen")
    expect_eq(request("http://127.0.0.1:%d/" % port)[0], 200, "the restarted process")

    bad = {"argv": ["python3", "-c", "import sys; print('no luck'); sys.exit(3)"], "port": 1}
    status_, _, body = control(env, name, "PUT", "/processes/bad", bad)
    expect(status_ == 422 and b"no luck" in body, "a process that cannot start: %r" % body)

    local = status(env, name)["local"]
    local_destroy(env, name)
    expect_gone(env, name, pids_of(local), ports_of(local) + [port])


def alive_port(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
