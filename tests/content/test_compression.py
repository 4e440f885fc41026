"""Response compression over real sockets (curl shows the raw encoded bytes)."""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib

import brotli
import pytest
import zstandard

from surge import web
from surge.http.content.compression import choose_coding, is_compressible, parse_accept_encoding
from tests.conftest import require_tool
from tests.helpers import serve

DATA = {"items": [{"id": i, "name": f"item {i}", "tags": ["a", "b"]} for i in range(600)]}


async def _curl(*args: str) -> tuple[int, dict[str, str], bytes]:
    curl = require_tool("curl")
    proc = await asyncio.create_subprocess_exec(
        curl, "-s", "-N", "-D", "-", "-o", "-", *args, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def _decode(coding: str | None, body: bytes) -> bytes:
    if coding == "gzip":
        return gzip.decompress(body)
    if coding == "deflate":
        return zlib.decompress(body)
    if coding == "br":
        return bytes(brotli.decompress(body))
    if coding == "zstd":
        return bytes(zstandard.ZstdDecompressor().decompressobj().decompress(body))
    return body


def _app(**kwargs: bool) -> web.Application:
    app = web.Application(**kwargs)

    async def big_json(request: web.Request) -> web.Response:
        return web.json_response(DATA)

    async def small(request: web.Request) -> web.Response:
        return web.Response(text="tiny")

    async def png(request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG" + b"\0" * 5000, content_type="image/png")

    async def no_transform(request: web.Request) -> web.Response:
        resp = web.json_response(DATA)
        resp.headers["Cache-Control"] = "no-transform"
        return resp

    async def forced(request: web.Request) -> web.Response:
        resp = web.Response(text="x" * 10)
        resp.enable_compression(web.ContentCoding.gzip)
        return resp

    async def stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_type = "text/plain"
        resp.enable_compression()
        await resp.prepare(request)
        for i in range(5):
            await resp.write(f"line {i}\n".encode() * 50)
        await resp.write_eof()
        return resp

    async def sse(request: web.Request) -> web.StreamResponse:
        resp = web.Response(text="data: x\n\n" * 500, content_type="text/event-stream")
        return resp

    for path, handler in [
        ("/json", big_json),
        ("/small", small),
        ("/png", png),
        ("/nt", no_transform),
        ("/forced", forced),
        ("/stream", stream),
        ("/sse", sse),
    ]:
        app.router.add_get(path, handler)
    return app


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip", "gzip"),
        ("deflate", "deflate"),
        ("br", "br"),
        ("zstd", "zstd"),
        ("gzip, deflate, br, zstd", "br"),
        ("gzip;q=1, br;q=0.5", "gzip"),
        ("br;q=0, *", "zstd"),
        ("identity", None),
        ("gzip;q=0", None),
    ],
)
async def test_automatic_compression_negotiates(accept: str, coding: str | None) -> None:
    async with serve(_app()) as url:
        status, headers, body = await _curl("-H", f"Accept-Encoding: {accept}", url + "/json")
    assert status == 200
    assert headers.get("content-encoding") == coding
    assert headers["vary"] == "Accept-Encoding"
    assert json.loads(_decode(coding, body)) == DATA
    if coding is not None:
        assert int(headers["content-length"]) == len(body) < len(json.dumps(DATA)) // 3


async def test_what_is_not_compressed() -> None:
    async with serve(_app()) as url:
        for path in ("/small", "/png", "/nt", "/sse"):
            _, headers, _ = await _curl("-H", "Accept-Encoding: gzip, br", url + path)
            assert "content-encoding" not in headers, path
        _, headers, body = await _curl(url + "/json")  # the client accepts nothing
        assert "content-encoding" not in headers and json.loads(body) == DATA
    async with serve(_app(compress=False)) as url:
        _, headers, body = await _curl("-H", "Accept-Encoding: gzip", url + "/json")
        assert "content-encoding" not in headers and json.loads(body) == DATA
        _, headers, body = await _curl(url + "/forced")  # explicit compression still works
        assert headers["content-encoding"] == "gzip" and gzip.decompress(body) == b"x" * 10


async def test_streaming_compresses_incrementally() -> None:
    expected = b"".join(f"line {i}\n".encode() * 50 for i in range(5))
    async with serve(_app()) as url:
        for coding in ("gzip", "br", "zstd", "deflate"):
            _, headers, body = await _curl("-H", f"Accept-Encoding: {coding}", url + "/stream")
            assert headers["content-encoding"] == coding
            assert headers["transfer-encoding"] == "chunked"
            assert _decode(coding, body) == expected


def test_negotiation_helpers() -> None:
    assert parse_accept_encoding("gzip;q=0.5, br;q=abc, zstd;q=2") == {
        "gzip": 0.5,
        "br": 0.0,
        "zstd": 0.0,
    }
    assert choose_coding("x-gzip") == "gzip"
    assert choose_coding("") is None
    assert choose_coding("*;q=0") is None
    assert is_compressible("application/json; charset=utf-8")
    assert is_compressible("application/vnd.foo+json")
    assert not is_compressible("text/event-stream")
    assert not is_compressible("image/jpeg")
