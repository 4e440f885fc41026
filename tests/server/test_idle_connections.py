"""``Application(client_max_cache_size=N)``: at most N idle keep-alive connections are kept."""

from __future__ import annotations

import asyncio

from surge import web
from tests.helpers import serve

REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


async def _request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(REQUEST)
    head = await reader.readuntil(b"\r\n\r\n")
    body = await reader.readexactly(2)
    return head + body


async def _closed_by_server(reader: asyncio.StreamReader) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1), 0.5) == b""
    except TimeoutError:
        return False


async def test_longest_idle_connection_is_closed_past_the_limit() -> None:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(client_max_cache_size=2)
    app.router.add_get("/", ok)
    async with serve(app) as url:
        port = int(url.rsplit(":", 1)[1])
        conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        for reader, writer in conns:
            assert (await _request(reader, writer)).endswith(b"\r\n\r\nok")
        assert await _closed_by_server(conns[0][0])
        assert not await _closed_by_server(conns[1][0])
        # The survivors still serve requests.
        assert (await _request(*conns[2])).endswith(b"ok")
        for _, writer in conns:
            writer.close()


async def test_unbounded_by_default() -> None:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", ok)
    async with serve(app) as url:
        port = int(url.rsplit(":", 1)[1])
        conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(5)]
        for reader, writer in conns:
            await _request(reader, writer)
        assert not await _closed_by_server(conns[0][0])
        for _, writer in conns:
            writer.close()
