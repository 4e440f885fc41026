"""An independent HTTP server (Python's http.server, in a thread) standing in for the spec's
https://api.example.com: each path answers from a small route function, every request is
recorded."""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# A route gets the request (method, path, headers, body) and answers (status, headers, body).
Reply = tuple[int, dict[str, str], bytes]
Route = Callable[["Seen"], Reply]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    url: str
    seen: list[Seen] = field(default_factory=list)
    # Set at teardown: routes that stall wait on it, so no thread outlives the test for long.
    stop: threading.Event = field(default_factory=threading.Event)


def json_reply(body: bytes, **headers: str) -> Reply:
    return 200, {"Content-Type": "application/json", **headers}, body


@contextlib.contextmanager
def local_server(
    routes: dict[str, Route], *, tls: ssl.SSLContext | None = None
) -> Iterator[Server]:
    """Serve ``routes`` (by path without query) on 127.0.0.1; 404 for anything else."""
    state: dict[str, Server] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen = Seen(self.command, self.path, dict(self.headers), body)
            state["server"].seen.append(seen)
            route = routes.get(self.path.split("?")[0])
            status, headers, out = route(seen) if route else (404, {}, b"not found")
            head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
            head += [f"{k}: {v}" for k, v in headers.items()]
            head.append(f"Content-Length: {len(out)}")
            # One write: head and body arrive together.
            self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + out)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    scheme = "https" if tls is not None else "http"
    server = state["server"] = Server(f"{scheme}://127.0.0.1:{httpd.server_port}")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        httpd.shutdown()
        httpd.server_close()
