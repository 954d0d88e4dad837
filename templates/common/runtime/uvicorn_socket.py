"""Serve an ASGI app with uvicorn on the listening socket the local
supervisor hands over as descriptor 3, as `python3 uvicorn_socket.py
module:app` in the app's folder.

Not `uvicorn --fd 3`: uvicorn takes that descriptor as a Unix socket
(socket.fromfd(fd, AF_UNIX, ...)), so asyncio never sets TCP_NODELAY on
the connections it accepts, and each answer, written in two parts, waits
about 40 ms for the client's delayed ACK. socket.socket(fileno=3) reads the
socket's real family."""
import os
import socket
import sys

import uvicorn


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: uvicorn_socket.py module:app")
    sys.path.insert(0, os.getcwd())
    sock = socket.socket(fileno=3)
    server = uvicorn.Server(uvicorn.Config(sys.argv[1], access_log=False))
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
