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


# Streaming responses without enable_compression() -----------------------------------------

LINES = [f"event line {i}\n".encode() * 40 for i in range(6)]


def _stream_app(**kwargs: bool) -> web.Application:
    app = web.Application(**kwargs)

    def _streamer(ctype: str, **headers: str) -> web.Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            resp = web.StreamResponse(headers=headers)
            resp.headers["Content-Type"] = ctype
            await resp.prepare(request)
            for line in LINES:
                await resp.write(line)
            await resp.write_eof()
            return resp

        return handler

    async def partial(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=206, headers={"Content-Range": "bytes 0-9/100"})
        resp.content_type = "text/plain"
        await resp.prepare(request)
        await resp.write_eof(b"0123456789")
        return resp

    async def short(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Length": "5"})
        resp.content_type = "text/plain"
        await resp.prepare(request)
        await resp.write_eof(b"short")
        return resp

    routes = {
        "/text": _streamer("text/plain"),
        "/ndjson": _streamer("application/x-ndjson"),
        "/sse": _streamer("text/event-stream"),
        "/binary": _streamer("application/octet-stream"),
        "/encoded": _streamer("text/plain", **{"Content-Encoding": "identity"}),
        "/nt": _streamer("text/plain", **{"Cache-Control": "no-transform"}),
        "/partial": partial,
        "/short": short,
    }
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    return app


async def test_stream_response_compressed_automatically() -> None:
    expected = b"".join(LINES)
    async with serve(_stream_app()) as url:
        for path in ("/text", "/ndjson"):
            for coding in ("gzip", "br", "zstd"):
                status, headers, body = await _curl("-H", f"Accept-Encoding: {coding}", url + path)
                assert status == 200
                assert headers["content-encoding"] == coding, (path, coding)
                assert headers["vary"] == "Accept-Encoding"
                assert headers["transfer-encoding"] == "chunked"
                assert _decode(coding, body) == expected
        _, headers, body = await _curl(url + "/text")  # accepts nothing: identity
        assert "content-encoding" not in headers and body == expected
    async with serve(_stream_app(compress=False)) as url:
        _, headers, body = await _curl("-H", "Accept-Encoding: gzip", url + "/text")
        assert "content-encoding" not in headers and body == expected


async def test_stream_responses_left_alone() -> None:
    async with serve(_stream_app()) as url:
        for path in ("/sse", "/binary", "/nt"):
            _, headers, body = await _curl("-H", "Accept-Encoding: gzip, br", url + path)
            assert "content-encoding" not in headers, path
            assert body == b"".join(LINES)
        _, headers, body = await _curl("-H", "Accept-Encoding: gzip", url + "/encoded")
        assert headers["content-encoding"] == "identity" and body == b"".join(LINES)
        status, headers, body = await _curl("-H", "Accept-Encoding: gzip", url + "/partial")
        assert status == 206 and "content-encoding" not in headers and body == b"0123456789"
        _, headers, body = await _curl("-H", "Accept-Encoding: gzip", url + "/short")
        assert "content-encoding" not in headers and body == b"short"


async def test_stream_compression_is_incremental() -> None:
    """The first write reaches the client, decodable, while the handler still waits."""
    release = asyncio.Event()
    app = web.Application()

    async def slow(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_type = "application/json"
        await resp.prepare(request)
        await resp.write(b'{"first": ' + b"1" * 2000)
        await release.wait()
        await resp.write_eof(b"}")
        return resp

    app.router.add_get("/", slow)
    async with serve(app) as url:
        port = int(url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
        data = b""
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        plain = b""
        try:
            async with asyncio.timeout(5):
                while not plain.startswith(b'{"first": ' + b"1" * 2000):
                    data += await reader.read(65536)
                    head, sep, rest = data.partition(b"\r\n\r\n")
                    if not sep:
                        continue
                    assert b"Content-Encoding: gzip" in head
                    size_line, _, chunk = rest.partition(b"\r\n")
                    if size_line and len(chunk) >= int(size_line, 16):
                        plain = decoder.decompress(chunk[: int(size_line, 16)])
        finally:
            release.set()
            writer.close()
