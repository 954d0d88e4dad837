"""Hit counter server shared by fastapi-ec2, fargate-ecs and k8s.

GET / serves the page, GET /hits increments the counter and answers its new
value as text, GET /healthz says ok. The counter lives in memory, or, when
COUNT_FILE is set, in that file: every increment holds an exclusive flock on
COUNT_FILE.lock, so processes sharing the file (two tasks on one EFS volume)
never lose an increment, and the count survives a restart. The new value is
written to a temporary file and renamed over the old one, so a crash halfway
leaves the old value, never an empty file.

Run: uvicorn app:app --host 0.0.0.0 --port 80
"""
import fcntl
import os
import threading

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, PlainTextResponse

HERE = os.path.dirname(os.path.abspath(__file__))
COUNT_FILE = os.environ.get("COUNT_FILE", "")
NO_STORE = {"cache-control": "no-store"}

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
_lock = threading.Lock()
_count = 0


def _page_path():
    """PAGE_FILE, else index.html beside this file (as deployed), else the
    shared one a directory up (templates/common in the source tree)."""
    if os.environ.get("PAGE_FILE"):
        return os.environ["PAGE_FILE"]
    beside = os.path.join(HERE, "index.html")
    return beside if os.path.exists(beside) else os.path.join(HERE, "..", "index.html")


def _read_count(path):
    try:
        with open(path, "rb") as f:
            text = f.read().strip()
    except FileNotFoundError:
        return 0
    return int(text) if text else 0


def _file_hit(path):
    with open(path + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            count = _read_count(path) + 1
            tmp = "%s.%d.tmp" % (path, os.getpid())
            with open(tmp, "w") as f:
                f.write("%d\n" % count)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            return count
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _memory_hit():
    global _count
    with _lock:
        _count += 1
        return _count


@app.get("/", response_class=HTMLResponse)
def index():
    with open(_page_path(), "rb") as f:
        return HTMLResponse(f.read(), headers=NO_STORE)


# Plain (not async) handlers run in uvicorn's thread pool, so a slow file
# lock never stalls the event loop.
@app.get("/hits", response_class=PlainTextResponse)
def hits():
    count = _file_hit(COUNT_FILE) if COUNT_FILE else _memory_hit()
    return PlainTextResponse(str(count), headers=NO_STORE)


@app.get("/healthz", response_class=PlainTextResponse)
def healthz():
    return PlainTextResponse("ok", headers=NO_STORE)
