"""SSE from the server, read by curl -N, httpx streaming and raw sockets."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import Awaitable, Callable

import httpx

from surge import web
from surge.http.sse import ServerSentEvent, SSEParser
from tests.conftest import require_tool
from tests.helpers import serve

SPEC_SLEEP = 0.01  # the spec sleeps 1 s between events; the handler is otherwise as written


async def spec_sse_handler(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events handler (the spec's hand-written version)."""
    response = web.StreamResponse()
    response.headers["Content-Type"] = "text/event-stream"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Connection"] = "keep-alive"
    await response.prepare(request)
    try:
        for i in range(10):
            # Send event
            data = json.dumps({"count": i})
            response.write(f"data: {data}\n\n".encode())  # type: ignore[unused-awaitable]
            await response.drain()
            await asyncio.sleep(SPEC_SLEEP)
    finally:
        await response.write_eof()
    return response


async def events_handler(request: web.Request) -> web.StreamResponse:
    async with web.sse_response(request) as events:
        await events.send("first")
        await events.send("multi\nline\r\ndata", event="update", id="2")
        await events.comment("just a comment")
        await events.send(json.dumps({"last_event_id": events.last_event_id}), retry=100)
    return events


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/spec", spec_sse_handler)
    app.router.add_get("/events", events_handler)
    return app


def parse(data: bytes) -> list[ServerSentEvent]:
    return SSEParser().feed(data)


async def test_spec_handler_delivers_all_events_to_httpx() -> None:
    async with (
        serve(make_app()) as base,
        httpx.AsyncClient() as client,
        client.stream("GET", base + "/spec") as resp,
    ):
        assert resp.headers["Content-Type"] == "text/event-stream"
        body = b"".join([chunk async for chunk in resp.aiter_bytes()])
    assert [json.loads(e.data) for e in parse(body)] == [{"count": i} for i in range(10)]


async def test_event_source_response_with_curl() -> None:
    curl = require_tool("curl")
    async with serve(make_app()) as base:
        proc = await asyncio.create_subprocess_exec(
            curl,
            "-sN",
            "-i",
            "-H",
            "Last-Event-ID: 41",
            base + "/events",
            stdout=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(10):
            out, _ = await proc.communicate()
    head, _, body = out.partition(b"\r\n\r\n")
    headers = head.decode().lower()
    assert "content-type: text/event-stream; charset=utf-8" in headers
    assert "cache-control: no-cache" in headers
    assert "x-accel-buffering: no" in headers
    assert "content-encoding" not in headers
    # curl shows the chunked body already de-chunked
    assert parse(body) == [
        ServerSentEvent("first"),
        ServerSentEvent("multi\nline\ndata", "update", "2"),
        ServerSentEvent(json.dumps({"last_event_id": "41"}), "message", "2", 100),
    ]


async def test_keep_alive_pings_and_client_going_away_is_noticed() -> None:
    gone = asyncio.Event()
    sent: list[int] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.EventSourceResponse(ping_interval=0.02)
        await response.prepare(request)
        await response.send("hello")
        try:
            await response.wait()  # returns once the client is gone
            assert not response.is_connected()
            try:
                for i in range(100):
                    await response.send(str(i))
                    sent.append(i)
            except ConnectionResetError:
                gone.set()
        finally:
            await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/", handler)
    async with serve(app) as base:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        data = b""
        async with asyncio.timeout(5):
            while b": ping" not in data:
                data += await reader.read(1024)
        writer.close()
        async with asyncio.timeout(5):
            await gone.wait()
    assert b"data: hello\n\n" in data
    assert sent == []


async def test_event_stream_is_never_compressed() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.EventSourceResponse(ping_interval=None)
        response.enable_compression()
        await response.prepare(request)
        await response.send("plain")
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/", handler)
    async with serve(app) as base, httpx.AsyncClient() as client:
        resp = await client.get(base + "/", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in resp.headers
    assert resp.content == b"data: plain\n\n"


def _blocked_handler(
    state: dict[str, object], outcome: list[bool]
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A handler blocked on its own source (a queue never fed; no pings, no writes) that
    also waits for its client to leave."""

    async def handler(request: web.Request) -> web.StreamResponse:
        async with web.sse_response(request, ping_interval=None) as events:
            await events.send("ready")
            feed: asyncio.Queue[str] = asyncio.Queue()
            getter = asyncio.ensure_future(feed.get())
            waiter = asyncio.ensure_future(events.wait())
            state["request"], state["waiter"] = request, waiter
            done, _ = await asyncio.wait({getter, waiter}, return_when=asyncio.FIRST_COMPLETED)
            getter.cancel()
            outcome.append(waiter in done and not events.is_connected())
        return events

    return handler


async def _open_stream(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    data = b""
    async with asyncio.timeout(5):
        while b"data: ready" not in data:
            data += await reader.read(1024)
    return reader, writer


async def test_handler_blocked_on_its_own_source_learns_that_the_client_closed() -> None:
    """The client's close (its EOF) reaches a handler that never writes: no ping, no poll."""
    state: dict[str, object] = {}
    outcome: list[bool] = []
    app = web.Application()
    app.router.add_get("/", _blocked_handler(state, outcome))
    async with serve(app) as base:
        _reader, writer = await _open_stream(int(base.rsplit(":", 1)[1]))
        writer.close()
        async with asyncio.timeout(5):  # a hang guard: nothing else would ever tell it
            while not outcome:
                await asyncio.sleep(0.005)
    assert outcome == [True]


async def test_connection_reset_wakes_wait_within_loop_iterations() -> None:
    """A reset connection resolves ``wait()`` from the protocol's ``connection_lost``: a few
    loop iterations after the server saw it, the handler has been told (no clock involved)."""
    state: dict[str, object] = {}
    outcome: list[bool] = []
    app = web.Application()
    app.router.add_get("/", _blocked_handler(state, outcome))
    async with serve(app) as base:
        _reader, writer = await _open_stream(int(base.rsplit(":", 1)[1]))
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # RST, not FIN
        request = state["request"]
        assert isinstance(request, web.BaseRequest)
        async with asyncio.timeout(5):  # a hang guard only
            while not request._disconnected:
                await asyncio.sleep(0.001)
        waiter = state["waiter"]
        assert isinstance(waiter, asyncio.Future)
        for _ in range(10):
            if waiter.done():
                break
            await asyncio.sleep(0)
        assert waiter.done()
        async with asyncio.timeout(5):
            while not outcome:
                await asyncio.sleep(0.005)
    assert outcome == [True]
