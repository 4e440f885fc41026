"""What the server says and does about the connection around a response."""

from __future__ import annotations

import asyncio

from surge import web
from tests.helpers import serve


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


async def test_response_announces_close_when_a_large_body_is_left_unread() -> None:
    async def early(request: web.Request) -> web.Response:
        return web.Response(status=401, text="no")  # never reads the upload

    app = web.Application()
    app.router.add_post("/", early)
    async with serve(app) as url:
        reader, writer = await asyncio.open_connection("127.0.0.1", _port(url))
        writer.write(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n" + b"x" * 1000
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 401 ")
        assert b"\r\nConnection: close\r\n" in head
        writer.close()


async def test_small_unread_body_keeps_the_connection() -> None:
    async def early(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/", early)
    async with serve(app) as url:
        reader, writer = await asyncio.open_connection("127.0.0.1", _port(url))
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert b"Connection: close" not in head
        await reader.readexactly(2)
        writer.write(b"hello" + b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        second = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert second.startswith(b"HTTP/1.1 200 ")
        writer.close()


async def _disconnect_during_slow_handler(handler_cancellation: bool) -> list[str]:
    events: list[str] = []
    started = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        started.set()
        try:
            await asyncio.sleep(0.5)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise
        events.append("finished")
        return web.Response(text="late")

    app = web.Application()
    app.router.add_get("/", slow)
    async with serve(app, handler_cancellation=handler_cancellation) as url:
        _, writer = await asyncio.open_connection("127.0.0.1", _port(url))
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await asyncio.wait_for(started.wait(), 5)
        writer.close()
        await asyncio.sleep(0.8)
    return events


async def test_handler_cancellation_cancels_the_handler_of_a_gone_client() -> None:
    assert await _disconnect_during_slow_handler(True) == ["cancelled"]


async def test_handlers_finish_by_default_when_the_client_goes() -> None:
    assert await _disconnect_during_slow_handler(False) == ["finished"]
