"""aiohttp 3.13/3.14 multipart limits and helpers: max_field_size, max_headers, client_max_size
(max_size_error_cls), decode_iter, MultipartReader.from_response and its wrapper.

The server side is exercised with httpx uploads to a surge server; the client side parses
multipart responses of a raw-socket server."""

from __future__ import annotations

import asyncio
import gzip
import json
import os

import httpx
import pytest

import surge
from surge import web
from surge.compat.aiohttp.http_exceptions import BadHttpMessage, LineTooLong
from tests.client.servers import Handler, raw_server, read_request
from tests.helpers import serve

_CT = {"Content-Type": "multipart/form-data; boundary=b"}


def _body(header_len: int = 10, extra_headers: int = 0, payload: bytes = b"hi") -> bytes:
    extra = b"".join(b"X-%d: 1\r\n" % i for i in range(extra_headers))
    return (
        b"--b\r\nContent-Disposition: form-data; name=a\r\nX-Long: "
        + b"y" * header_len
        + b"\r\n"
        + extra
        + b"\r\n"
        + payload
        + b"\r\n--b--\r\n"
    )


def _app() -> web.Application:
    async def parts(request: web.Request) -> web.Response:
        reader = await request.multipart()
        try:
            sizes = [len(await part.read()) async for part in reader]  # type: ignore[union-attr]
        except LineTooLong as exc:
            return web.Response(status=431, text=f"line: {exc}")
        except BadHttpMessage as exc:
            return web.Response(status=400, text=f"headers: {exc}")
        return web.json_response(sizes)

    async def form(request: web.Request) -> web.Response:
        data = await request.post()
        return web.json_response({k: len(v) for k, v in data.items()})

    app = web.Application(client_max_size=1000)
    app.router.add_post("/parts", parts)
    app.router.add_post("/form", form)
    return app


async def test_server_multipart_limits_with_httpx_uploads() -> None:
    async with serve(_app()) as base, httpx.AsyncClient() as client:

        async def post(path: str, body: bytes) -> httpx.Response:
            return await client.post(base + path, content=body, headers=_CT)

        ok = await post("/parts", _body())
        assert ok.status_code == 200 and ok.json() == [2]

        # One part header line longer than max_field_size (8190): aiohttp's LineTooLong.
        long = await post("/parts", _body(header_len=9000))
        assert long.status_code == 431 and long.text.startswith("line: ")
        assert (await post("/parts", _body(header_len=8000))).json() == [2]

        # More than max_headers (128) header lines in one part: BadHttpMessage.
        many = await post("/parts", _body(extra_headers=200))
        assert many.status_code == 400 and "Too many headers" in many.text
        assert (await post("/parts", _body(extra_headers=120))).json() == [2]

        # A part read whole past client_max_size: max_size_error_cls, 413 on the server.
        big = await post("/parts", _body(payload=b"z" * 2000))
        assert big.status_code == 413
        assert "1000" in big.text
        assert (await post("/parts", _body(payload=b"z" * 900))).json() == [900]

        # request.post() turns the same faults into 400 (malformed) and 413 (too big).
        assert (await post("/form", _body(header_len=9000))).status_code == 400
        assert (await post("/form", _body(extra_headers=200))).status_code == 400
        assert (await post("/form", _body(payload=b"z" * 2000))).status_code == 413
        assert (await post("/form", _body())).json() == {"a": 2}


def _multipart_response(body: bytes, boundary: str = "xyz") -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\n"
        f"Content-Type: multipart/mixed; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _serving(response: bytes) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(response)
            await writer.drain()

    return handler


_NESTED = (
    b"--xyz\r\nContent-Type: application/json\r\n\r\n"
    b'{"k": [1, 2]}\r\n'
    b"--xyz\r\nContent-Type: multipart/mixed; boundary=inner\r\n\r\n"
    b"--inner\r\nContent-Type: text/plain\r\n\r\nnested one\r\n"
    b"--inner--\r\n"
    b"\r\n--xyz\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    b"caf\xc3\xa9\r\n"
    b"--xyz--\r\n"
)


async def test_client_reads_a_multipart_response_with_from_response() -> None:
    handler = _serving(_multipart_response(_NESTED))
    async with raw_server(handler) as srv, surge.ClientSession() as s:
        async with s.get(srv.url) as resp:
            reader = surge.MultipartReader.from_response(resp)
            assert isinstance(reader, surge.MultipartReader.response_wrapper_cls)
            first = await reader.next()
            assert isinstance(first, surge.BodyPartReader)
            assert await first.json() == {"k": [1, 2]}
            nested = await reader.next()
            assert isinstance(nested, surge.MultipartReader)
            inner = await nested.next()
            assert isinstance(inner, surge.BodyPartReader)
            assert await inner.text() == "nested one"
            assert await nested.next() is None
            last = await reader.next()
            assert isinstance(last, surge.BodyPartReader)
            assert await last.text() == "café"
            assert await reader.next() is None
            assert reader.at_eof()
            assert resp.closed  # released once the last part was read
        # The connection went back to the pool: the next request reuses it.
        async with s.get(srv.url) as resp:
            await surge.MultipartReader.from_response(resp).release()
            assert resp.closed
    assert srv.connections == 1


async def test_client_multipart_part_header_limits() -> None:
    body = b"--xyz\r\nX-Big: " + b"q" * 9000 + b"\r\n\r\ndata\r\n--xyz--\r\n"
    handler = _serving(_multipart_response(body))
    async with raw_server(handler) as srv, surge.ClientSession() as s, s.get(srv.url) as resp:
        reader = surge.MultipartReader.from_response(resp)
        with pytest.raises(LineTooLong):
            await reader.next()

    headers = b"".join(b"X-%d: v\r\n" % i for i in range(5))
    body = b"--xyz\r\n" + headers + b"\r\ndata\r\n--xyz--\r\n"
    handler = _serving(_multipart_response(body))
    async with raw_server(handler) as srv, surge.ClientSession() as s:
        async with s.get(srv.url) as resp:
            strict = surge.MultipartReader(resp.headers, resp.content, max_headers=4)
            with pytest.raises(BadHttpMessage, match="Too many headers"):
                await strict.next()
        async with s.get(srv.url) as resp:
            exact = surge.MultipartReader(resp.headers, resp.content, max_headers=5)
            part = await exact.next()
            assert isinstance(part, surge.BodyPartReader)
            assert part.headers["X-4"] == "v"
            assert await part.read() == b"data"
        async with s.get(srv.url) as resp:
            short = surge.MultipartReader(resp.headers, resp.content, max_field_size=5)
            with pytest.raises(LineTooLong):
                await short.next()


async def test_client_max_size_and_custom_error() -> None:
    class TooBig(Exception):
        pass

    body = b"--xyz\r\n\r\n" + b"z" * 300 + b"\r\n--xyz--\r\n"
    handler = _serving(_multipart_response(body))
    async with raw_server(handler) as srv, surge.ClientSession() as s:
        for limit, error in ((100, ValueError), (299, TooBig)):
            async with s.get(srv.url) as resp:
                reader = surge.MultipartReader(
                    resp.headers,
                    resp.content,
                    client_max_size=limit,
                    max_size_error_cls=error if error is TooBig else ValueError,
                )
                part = await reader.next()
                assert isinstance(part, surge.BodyPartReader)
                with pytest.raises(error) as info:
                    await part.read()
                assert info.value.args == (limit,)
        async with s.get(srv.url) as resp:
            reader = surge.MultipartReader(resp.headers, resp.content, client_max_size=300)
            part = await reader.next()
            assert isinstance(part, surge.BodyPartReader)
            assert await part.read() == b"z" * 300
        async with s.get(srv.url) as resp:
            # Chunked reads are the caller's to bound: the limit is for whole reads.
            reader = surge.MultipartReader(resp.headers, resp.content, client_max_size=10)
            part = await reader.next()
            assert isinstance(part, surge.BodyPartReader)
            got = b""
            while chunk := await part.read_chunk(64):
                got += chunk
            assert got == b"z" * 300


async def test_decode_iter_streams_a_gzip_part() -> None:
    plain = json.dumps({"n": os.urandom(100_000).hex()}).encode()  # ~110 KB gzipped
    packed = gzip.compress(plain)
    body = b"--xyz\r\nContent-Encoding: gzip\r\n\r\n" + packed + b"\r\n--xyz--\r\n"
    handler = _serving(_multipart_response(body))
    async with raw_server(handler) as srv, surge.ClientSession() as s:
        async with s.get(srv.url) as resp:
            part = await surge.MultipartReader.from_response(resp).next()
            assert isinstance(part, surge.BodyPartReader)
            raw = await part.read()
            assert raw == packed
            chunks = [c async for c in part.decode_iter(raw)]
            assert len(chunks) > 1  # inflated a step at a time
            assert b"".join(chunks) == plain == part.decode(raw)
        async with s.get(srv.url) as resp:
            reader = surge.MultipartReader(resp.headers, resp.content)
            part = await reader.next()
            assert isinstance(part, surge.BodyPartReader)
            small = surge.BodyPartReader(
                b"xyz", part.headers, resp.content, max_decompress_size=1000
            )
            raw = await part.read()
            with pytest.raises(ValueError, match="gzip"):
                _ = [c async for c in small.decode_iter(raw)]
