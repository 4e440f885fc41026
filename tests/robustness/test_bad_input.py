"""Each malformed or oversized request gets its status, then the connection closes, and no
handler runs for the bytes that follow the fault."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from tests.conftest import require_tool
from tests.robustness.util import exchange, request, serve_recording, statuses

H = b"Host: t\r\n"

BAD = {
    "request-line-too-long": (b"GET /" + b"a" * 8200 + b" HTTP/1.1\r\n" + H + b"\r\n", 414),
    "header-field-too-long": (
        b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"a" * 8200 + b"\r\n\r\n",
        431,
    ),
    "too-many-headers": (
        b"GET / HTTP/1.1\r\n" + H + b"".join(b"X-%d: v\r\n" % i for i in range(200)) + b"\r\n",
        431,
    ),
    "malformed-request-line": (b"GARBAGE\r\n\r\n", 400),
    "missing-version": (b"GET /\r\n" + H + b"\r\n", 400),
    "invalid-method": (b"G(T / HTTP/1.1\r\n" + H + b"\r\n", 400),
    "version-1.7": (b"GET / HTTP/1.7\r\n" + H + b"\r\n", 400),
    "version-2.0": (b"GET / HTTP/2.0\r\n" + H + b"\r\n", 400),
    "h2-preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400),
    "cl-with-te": (
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\n",
        400,
    ),
    "duplicate-cl-same": (
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        400,
    ),
    "duplicate-cl-differ": (
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        400,
    ),
    "non-digit-cl": (b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5a\r\n\r\nhello", 400),
    "signed-cl": (b"POST / HTTP/1.1\r\n" + H + b"Content-Length: +5\r\n\r\nhello", 400),
    "duplicate-host": (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    "invalid-chunk-size": (
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        400,
    ),
    "invalid-chunk-extension": (
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
        b'5;a="\x01"\r\nhello\r\n0\r\n\r\n',
        400,
    ),
    "bare-lf-line-ends": (b"GET / HTTP/1.1\n" + b"Host: t\n\n", 400),
    "bare-lf-in-headers": (b"GET / HTTP/1.1\r\nHost: t\nX-A: b\r\n\r\n", 400),
    "nul-in-header-value": (b"GET / HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n", 400),
    "cr-in-header-value": (b"GET / HTTP/1.1\r\n" + H + b"X-A: a\rb\r\n\r\n", 400),
    "obs-fold": (b"GET / HTTP/1.1\r\n" + H + b"X-A: a\r\n folded\r\n\r\n", 400),
    "space-in-header-name": (b"GET / HTTP/1.1\r\n" + H + b"X A: b\r\n\r\n", 400),
}


@pytest.mark.parametrize("name", list(BAD))
async def test_bad_request_answered_and_closed(name: str) -> None:
    data, status = BAD[name]
    # With HTTP/2 on, the preface starts HTTP/2 (tests/h2 covers what follows it).
    kwargs = {"http2": False} if name == "h2-preface" else {}
    async with serve_recording(**kwargs) as (port, rec):
        received, closed = await exchange(port, data + request("/after"))
    assert statuses(received) == [status], received[:200]
    assert received.startswith(b"HTTP/1.1 %d " % status)
    assert b"Connection: close\r\n" in received
    assert closed
    assert rec.paths == []


async def test_fault_after_valid_requests_answers_them_first() -> None:
    async with serve_recording() as (port, rec):
        data = request("/one") + request("/two") + b"GARBAGE\r\n\r\n" + request("/after")
        received, closed = await exchange(port, data)
    assert statuses(received) == [200, 200, 400]
    assert closed
    assert rec.paths == ["/one", "/two"]


async def test_data_after_connection_close_is_ignored() -> None:
    async with serve_recording() as (port, rec):
        data = request("/one", b"Connection: close\r\n") + request("/after")
        received, closed = await exchange(port, data)
    assert statuses(received) == [200]
    assert closed
    assert rec.paths == ["/one"]


async def test_bad_chunk_in_body_while_handler_reads() -> None:
    """A fault inside the body being read: the handler sees an error, nothing else runs."""
    from surge import web

    seen: list[str] = []

    async def upload(req: web.Request) -> web.Response:
        try:
            await req.read()
        except ConnectionError as exc:
            seen.append(type(exc).__name__)
            raise
        return web.Response(text="read")

    app = web.Application()
    app.router.add_post("/upload", upload)
    async with serve_recording(app) as (port, rec):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /upload HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhel"
        )
        await writer.drain()
        await asyncio.sleep(0.05)  # let the handler start reading
        writer.write(b"lo\r\nZZ\r\n" + request("/after"))
        async with asyncio.timeout(3):
            received = await reader.read()
        writer.close()
    assert seen == ["ConnectionResetError"]
    assert b"HTTP/1.1 200" not in received
    assert rec.paths == []


async def test_long_url_with_curl_gets_414() -> None:
    curl = require_tool("curl")
    async with serve_recording() as (port, rec):
        proc = await asyncio.create_subprocess_exec(
            curl,
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            f"http://127.0.0.1:{port}/{'a' * 9000}",
            stdout=subprocess.PIPE,
        )
        out, _ = await proc.communicate()
    assert out == b"414"
    assert rec.paths == []


async def test_huge_header_with_curl_gets_431() -> None:
    curl = require_tool("curl")
    async with serve_recording() as (port, rec):
        proc = await asyncio.create_subprocess_exec(
            curl,
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            f"X-Big: {'b' * 9000}",
            f"http://127.0.0.1:{port}/",
            stdout=subprocess.PIPE,
        )
        out, _ = await proc.communicate()
    assert out == b"431"
    assert rec.paths == []
