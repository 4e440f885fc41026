"""``session.sse`` / ``EventSource`` against surge's server and a raw socket server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

import surge
from surge import web
from surge.http.sse import SSELineTooLong
from tests.helpers import serve


@contextlib.asynccontextmanager
async def raw_server(body: bytes) -> AsyncIterator[str]:
    """An HTTP/1.0 server that answers every request with ``body`` as an event stream."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.close()
        await server.wait_closed()


async def test_reconnects_with_last_event_id_after_retry() -> None:
    seen_ids: list[str | None] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        seen_ids.append(request.headers.get("Last-Event-ID"))
        if len(seen_ids) == 3:
            return web.Response(status=204)  # no more: the client must stop
        async with web.sse_response(request, ping_interval=None) as events:
            n = len(seen_ids)
            await events.send(f"event {n}", id=str(n), retry=10, event="tick")
        return events

    app = web.Application()
    app.router.add_get("/stream", handler)
    async with (
        serve(app) as base,
        surge.ClientSession() as session,
        session.sse(base + "/stream") as source,
    ):
        events = [event async for event in source]
    assert [(e.data, e.id, e.event) for e in events] == [
        ("event 1", "1", "tick"),
        ("event 2", "2", "tick"),
    ]
    assert seen_ids == [None, "1", "2"]
    assert source.reconnection_time == 0.01


async def test_cr_line_endings_from_an_independent_server() -> None:
    body = b"data: a\rdata: b\r\rid: 5\rdata: c\r\n\r\n"
    async with raw_server(body) as url, surge.EventSource(url, reconnect=False) as source:
        events = [event async for event in source]
    assert [(e.data, e.id) for e in events] == [("a\nb", ""), ("c", "5")]


async def test_line_limit_is_configurable() -> None:
    body = b"data: " + b"x" * 5000 + b"\n\n"
    async with raw_server(body) as url:
        async with surge.EventSource(url, reconnect=False, max_line_size=100_000) as source:
            assert [len(e.data) async for e in source] == [5000]
        async with surge.EventSource(url, reconnect=False, max_line_size=1000) as source:
            with pytest.raises(SSELineTooLong):
                await source.__anext__()


async def test_not_an_event_stream_is_an_error() -> None:
    app = web.Application()
    app.router.add_get("/", lambda request: web.Response(text="nope"))  # type: ignore[arg-type,return-value]
    async with serve(app) as base, surge.ClientSession() as session:
        with pytest.raises(surge.ClientResponseError):
            async with session.sse(base + "/"):
                pass
