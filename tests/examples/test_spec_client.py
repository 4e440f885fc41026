"""The spec's client and testing examples, run with the aiohttp alias against an independent
server (Python's http.server) standing in for https://api.example.com."""

from __future__ import annotations

import asyncio
import json
import threading
import unittest
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.examples.loader import load

API = "https://api.example.com"


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[dict[str, Any]]
    connections: set[tuple[str, int]]

    def _answer(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            body = b"".join(chunks)
        else:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
        self.seen.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        )
        self.connections.add(self.client_address)
        out = json.dumps({"method": self.command, "path": self.path}).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(out)}\r\n\r\n"
        self.wfile.write(head.encode() + out)  # one write: head and body arrive together

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[tuple[str, type[_Recorder]]]:
    handler = type("Recorder", (_Recorder,), {"seen": [], "connections": set()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_basic_client(api: tuple[str, type[_Recorder]], capsys: pytest.CaptureFixture[str]) -> None:
    base, rec = api
    load("basic_client", **{API: base})  # the example runs asyncio.run(fetch()) itself
    assert [(s["method"], s["path"]) for s in rec.seen] == [
        ("GET", "/data"),
        ("POST", "/users"),
        ("PUT", "/users/1"),
        ("DELETE", "/users/1"),
    ]
    assert json.loads(rec.seen[1]["body"]) == {"name": "John", "email": "john@example.com"}
    assert rec.seen[2]["body"] == b"name=Jane"
    assert capsys.readouterr().out == "{'method': 'GET', 'path': '/data'}\n"


# The example opens file.txt and never closes it; that leak's warning is the example's.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_client_request_options(
    api: tuple[str, type[_Recorder]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, rec = api
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.txt").write_text("file content")
    ns = load("client_request_options", **{API: base})
    asyncio.run(ns["client_options"]())
    import gc

    gc.collect()  # the unclosed file warns now, under this test's filters
    search, api_call, users, login, upload, data = rec.seen
    assert search["path"] == "/search?q=python&page=1"
    assert api_call["headers"]["Authorization"] == "Bearer token"
    assert json.loads(users["body"]) == {"name": "John"}
    assert login["body"] == b"username=john&password=secret"
    assert upload["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="file.txt"' in upload["body"]
    assert b"file content" in upload["body"]
    assert data["headers"]["Content-Type"].startswith("text/plain")
    assert data["body"] == b"raw string"


def test_keepalive_reuses_one_connection(api: tuple[str, type[_Recorder]]) -> None:
    base, rec = api
    ns = load("keepalive", **{API: base})
    asyncio.run(ns["client_keepalive"]())
    assert len(rec.seen) == 100
    assert len(rec.connections) == 1


# The example leaks a ClientSession per attempt (`ClientSession().get(url)`), which warns when
# collected; the leak is the example's, so its warning is not an error here.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_fetch_with_retry(
    api: tuple[str, type[_Recorder]], capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    base, _ = api
    ns = load("retry")
    assert asyncio.run(ns["fetch_with_retry"](base + "/data")) == {"method": "GET", "path": "/data"}
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/data"
    with pytest.raises(ns["ClientConnectorError"]):
        asyncio.run(ns["fetch_with_retry"](dead))
    import gc

    gc.collect()  # the leaked sessions warn now, under this test's filters
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == [
        f"Connection attempt {i} failed" for i in (1, 2, 3)
    ]


def test_test_client_and_aiohttp_test_case() -> None:
    ns = load("testing_example")  # runs asyncio.run(run_tests()) with its asserts
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(ns["MyTestCase"])
    result = unittest.TestResult()
    suite.run(result)
    assert (result.testsRun, result.errors, result.failures) == (1, [], [])
