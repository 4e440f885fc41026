"""aiohttp 3.14's byte counters: StreamReader.total_raw_bytes / total_compressed_bytes on
responses from a raw-socket server, ClientResponse.output_size / upload_complete on uploads."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator

import pytest

import surge
from tests.client.servers import Handler, raw_server, read_head, read_request, reply

_PLAIN = b"hello world " * 500
_GZIPPED = gzip.compress(_PLAIN)


def _serve(body: bytes, *, gzip_body: bool, chunked: bool) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        head = b"HTTP/1.1 200 OK\r\n"
        if gzip_body:
            head += b"Content-Encoding: gzip\r\n"
        if chunked:
            half = len(body) // 2
            framed = b"".join(
                b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:half], body[half:])
            )
            writer.write(head + b"Transfer-Encoding: chunked\r\n\r\n" + framed + b"0\r\n\r\n")
        else:
            writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()

    return handler


@pytest.mark.parametrize("chunked", [False, True])
async def test_gzip_response_counts_raw_and_decoded_bytes(chunked: bool) -> None:
    async with raw_server(_serve(_GZIPPED, gzip_body=True, chunked=chunked)) as srv:
        async with surge.ClientSession() as s, s.get(srv.url) as r:
            assert await r.read() == _PLAIN
            content = r.content
            assert content.total_bytes == len(_PLAIN)
            assert content.total_compressed_bytes == len(_GZIPPED)
            assert content.total_raw_bytes == len(_GZIPPED)  # without the chunk framing

        async with surge.ClientSession(auto_decompress=False) as s, s.get(srv.url) as r:
            assert await r.read() == _GZIPPED
            assert r.content.total_compressed_bytes is None  # nothing was decompressed
            assert r.content.total_raw_bytes == r.content.total_bytes == len(_GZIPPED)


async def test_identity_response_raw_bytes_are_its_bytes() -> None:
    handler = _serve(b"hello", gzip_body=False, chunked=False)
    async with raw_server(handler) as srv, surge.ClientSession() as s, s.get(srv.url) as r:
        assert await r.read() == b"hello"
        assert r.content.total_compressed_bytes is None
        assert r.content.total_raw_bytes == 5


async def test_gzip_request_body_counts_on_the_server() -> None:
    from surge import web
    from tests.helpers import serve

    async def handler(request: web.Request) -> web.Response:
        data = await request.read()
        content = request.content
        return web.json_response(
            [len(data), content.total_raw_bytes, content.total_compressed_bytes]
        )

    app = web.Application()
    app.router.add_post("/", handler)
    import httpx

    async with serve(app) as base, httpx.AsyncClient() as client:
        r = await client.post(base + "/", content=_GZIPPED, headers={"Content-Encoding": "gzip"})
        assert r.json() == [len(_PLAIN), len(_GZIPPED), len(_GZIPPED)]


def _upload_server(received: list[tuple[bytes, bytes]]) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await read_head(reader)
            if b"chunked" in head.lower():
                body = b""
                while not body.endswith(b"0\r\n\r\n"):
                    body += await reader.read(65536)
            else:
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                body = await reader.readexactly(length)
            received.append((head, body))
            writer.write(reply(200, b"ok"))
            await writer.drain()

    return handler


async def test_output_size_and_upload_complete_after_a_post() -> None:
    received: list[tuple[bytes, bytes]] = []

    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"a" * 1000, b"b" * 3000):
            yield part

    async with raw_server(_upload_server(received)) as srv, surge.ClientSession() as s:
        for data in (b"x" * 1234, chunks()):
            async with s.post(srv.url + "/up", data=data) as r:
                assert await r.read() == b"ok"
                with pytest.warns(DeprecationWarning, match="UploadTracker"):
                    size = r.output_size
                with pytest.warns(DeprecationWarning, match="UploadTracker"):
                    done = r.upload_complete
                head, body = received[-1]
                assert size == len(head) + len(body)  # every byte the server read
                assert done.done()
                assert await done is None
        async with s.get(srv.url + "/g") as r:
            await r.read()
            with pytest.warns(DeprecationWarning):
                assert r.output_size == len(received[-1][0])
    assert received[0][1] == b"x" * 1234
    assert b"a" * 1000 in received[1][1] and b"b" * 3000 in received[1][1]


async def test_upload_complete_fails_when_the_body_was_refused() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await read_head(reader)
        assert b"expect: 100-continue" in head.lower()
        writer.write(reply(417, b"no"))  # a final answer instead of 100 Continue
        await writer.drain()

    async with (
        raw_server(handler) as srv,
        surge.ClientSession() as s,
        s.post(srv.url, data=b"z" * 5000, expect100=True) as r,
    ):
        assert r.status == 417
        with pytest.warns(DeprecationWarning):
            done = r.upload_complete
        with pytest.warns(DeprecationWarning):
            assert r.output_size < 5000  # the head only
        assert done.done()
        with pytest.raises(surge.ClientConnectionError):
            await done
