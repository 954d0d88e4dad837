"""moto_server with one request handled at a time, for tests/app.

    python3 moto_serial.py PORT

moto applies each call as a Python read-modify-write without a lock, so two
requests running at once in moto_server's threads can both read the old
state: concurrent DynamoDB UpdateItem ADDs lose increments, and an S3 PutObject
with If-Match can pass its check while another write lands (moto 5.2). AWS
applies each call atomically; serialising the calls restores that, and
changes nothing between calls: a client's GET and PUT are still two requests
that other clients' requests interleave with. Connections stay concurrent
(threaded server, keep-alive)."""
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main():
    port = int(sys.argv[1])
    inner = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def app(environ, start_response):
        with lock:
            return list(inner(environ, start_response))

    run_simple("127.0.0.1", port, app, threaded=True)


if __name__ == "__main__":
    main()
