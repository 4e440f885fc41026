"""The client against independent servers: uvicorn (ASGI) and Python's http.server."""

from __future__ import annotations

import gzip
import json
import zlib
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

import surge
from tests.client.servers import http_server, uvicorn_server

PAYLOAD = b"The quick brown fox jumps over the lazy dog. " * 200


def _encode(encoding: str, data: bytes) -> bytes:
    if encoding == "gzip":
        return gzip.compress(data)
    if encoding == "deflate":
        return zlib.compress(data)
    if encoding == "br":
        import brotli

        return bytes(brotli.compress(data))
    import zstandard

    return bytes(zstandard.ZstdCompressor().compress(data))


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path = scope["path"]
    headers = {k.decode(): v.decode() for k, v in scope["headers"]}
    if path.startswith("/encoded/"):
        encoding = path.rsplit("/", 1)[1]
        data = _encode(encoding, PAYLOAD)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-encoding", encoding.encode()),
                    (b"content-type", b"text/plain"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})
        return
    if path == "/stream":
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        for i in range(100):
            await send({"type": "http.response.body", "body": b"%d," % i, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    reply = json.dumps(
        {
            "method": scope["method"],
            "path": path,
            "query": scope["query_string"].decode(),
            "body": body.decode(),
            "headers": headers,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"application/json"), (b"set-cookie", b"u=1; Path=/")],
        }
    )
    await send({"type": "http.response.body", "body": reply})


async def test_uvicorn_basic_exchange_and_keepalive() -> None:
    with uvicorn_server(asgi_app) as base:
        async with surge.ClientSession(base_url=base) as s:
            for i in range(5):
                async with s.post("/users", json={"i": i}, params={"page": i}) as resp:
                    assert resp.status == 201
                    data = await resp.json()
                assert data["method"] == "POST" and data["query"] == f"page={i}"
                assert json.loads(data["body"]) == {"i": i}
            connector = s.connector
            assert isinstance(connector, surge.TCPConnector)
            assert sum(len(v) for v in connector._pool.values()) == 1


async def test_uvicorn_chunked_streaming() -> None:
    with uvicorn_server(asgi_app) as base:
        async with surge.ClientSession() as s, s.get(base + "/stream") as resp:
            assert resp.headers["Transfer-Encoding"] == "chunked"
            assert await resp.text() == "".join(f"{i}," for i in range(100))


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
async def test_uvicorn_decompression(encoding: str) -> None:
    with uvicorn_server(asgi_app) as base:
        async with surge.ClientSession() as s:
            async with s.get(f"{base}/encoded/{encoding}") as resp:
                assert resp.headers["Content-Encoding"] == encoding
                assert await resp.read() == PAYLOAD
            async with s.get(f"{base}/encoded/{encoding}", auto_decompress=False) as resp:
                assert await resp.read() == _encode(encoding, PAYLOAD)


class OldServer(BaseHTTPRequestHandler):
    """HTTP/1.0 answers without Content-Length: the body ends when the connection closes."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=iso-8859-1")
        self.end_headers()
        self.wfile.write("héllo until close".encode("latin-1"))


async def test_http_server_body_until_close() -> None:
    with http_server(OldServer) as base:
        async with surge.ClientSession() as s:
            for _ in range(2):
                async with s.get(base) as resp:
                    assert resp.version == (1, 0)
                    assert resp.charset == "iso-8859-1"
                    assert await resp.text() == "héllo until close"
            connector = s.connector
            assert isinstance(connector, surge.TCPConnector)
            assert connector._pool == {}


class Upload(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        if self.headers.get("Transfer-Encoding") == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                chunk = self.rfile.read(size + 2)[:-2]
                if not size:
                    break
                body += chunk
        else:
            body = self.rfile.read(int(self.headers["Content-Length"]))
        out = json.dumps(
            {"ctype": self.headers.get("Content-Type"), "body": body.decode("latin-1")}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


async def test_http_server_file_and_multipart_uploads(tmp_path: Any) -> None:
    path = tmp_path / "file.txt"
    path.write_bytes(b"file body\n")
    with http_server(Upload) as base:
        async with surge.ClientSession() as s:
            with path.open("rb") as f:
                async with s.post(base, data=f) as resp:
                    data = await resp.json()
            assert data["body"] == "file body\n" and data["ctype"] == "text/plain"
            with path.open("rb") as f:
                async with s.post(base, data={"file": f, "name": "x"}) as resp:
                    data = await resp.json()
            assert data["ctype"].startswith("multipart/form-data; boundary=")
            assert 'name="file"; filename="file.txt"' in data["body"]
            assert "file body\n" in data["body"] and 'name="name"\r\n\r\nx\r\n' in data["body"]
            form = surge.FormData()
            form.add_field("a", "1")
            form.add_field("blob", b"\x00\x01", filename="b.bin", content_type="application/x-bin")
            async with s.post(base, data=form) as resp:
                data = await resp.json()
            # part headers in aiohttp's order: Content-Type, then Content-Disposition
            assert "Content-Type: application/x-bin\r\n" in data["body"]
            assert 'filename="b.bin"\r\n\r\n\x00\x01\r\n' in data["body"]


async def test_expect_100_continue() -> None:
    with http_server(Upload) as base:
        async with (
            surge.ClientSession() as s,
            s.post(base, data=b"payload", expect100=True) as resp,
        ):
            assert (await resp.json())["body"] == "payload"
