"""``session.ws_connect`` against the ``websockets`` library's server (and surge's own)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

import surge
from surge import web
from tests.helpers import serve as serve_surge

Handler = Callable[[ServerConnection], Awaitable[None]]


@contextlib.asynccontextmanager
async def ws_server(handler: Handler, **kwargs: Any) -> AsyncIterator[str]:
    async with serve(handler, "127.0.0.1", 0, **kwargs) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


async def echo(conn: ServerConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for message in conn:
            await conn.send(message)


async def test_spec_client_example_against_websockets() -> None:
    async with ws_server(echo) as url, surge.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            await ws.send_str("Hello")
            await ws.send_json({"type": "message", "data": "test"})
            msg = await ws.receive()
            assert msg.type == surge.WSMsgType.TEXT
            assert msg.data == "Hello"
            assert (await ws.receive()).json() == {"type": "message", "data": "test"}
            await ws.send_bytes(b"\x00" * 200_000)
            assert await ws.receive_bytes() == b"\x00" * 200_000
            await ws.ping()
            assert await ws.close() is True
        assert ws.closed
        assert ws.close_code == 1000


async def test_server_close_code_reaches_the_client() -> None:
    async def handler(conn: ServerConnection) -> None:
        await conn.close(code=4000, reason="go away")

    async with ws_server(handler) as url, surge.ClientSession() as session:
        ws = await session.ws_connect(url)
        msg = await ws.receive()
        assert (msg.type, msg.data, msg.extra) == (surge.WSMsgType.CLOSE, 4000, "go away")
        assert ws.close_code == 4000
        assert (await ws.receive()).type in (surge.WSMsgType.CLOSED, surge.WSMsgType.CLOSING)


async def test_client_close_code_reaches_the_server() -> None:
    codes: list[Any] = []

    async def handler(conn: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            await conn.recv()
        codes.append((conn.close_code, conn.close_reason))

    async with ws_server(handler) as url, surge.ClientSession() as session:
        ws = await session.ws_connect(url)
        await ws.close(code=4003, message=b"client done")
        await asyncio.sleep(0.05)
    assert codes == [(4003, "client done")]


async def test_max_msg_size_on_the_client() -> None:
    codes: list[Any] = []

    async def handler(conn: ServerConnection) -> None:
        await conn.send(b"y" * 2000)
        with contextlib.suppress(ConnectionClosed):
            await conn.recv()
        codes.append(conn.close_code)

    async with ws_server(handler) as url, surge.ClientSession() as session:
        ws = await session.ws_connect(url, max_msg_size=1000)
        msg = await ws.receive()
        assert msg.type == surge.WSMsgType.ERROR
        assert ws.close_code == 1009
        await asyncio.sleep(0.05)
    assert codes == [1009]


async def test_refused_handshake_raises_ws_server_handshake_error() -> None:
    def refuse(conn: ServerConnection, request: Request) -> Response:
        return conn.respond(403, "Forbidden\n")

    async with ws_server(echo, process_request=refuse) as url, surge.ClientSession() as session:
        with pytest.raises(surge.WSServerHandshakeError) as info:
            await session.ws_connect(url)
    assert info.value.status == 403


async def test_protocols_headers_origin_and_compression() -> None:
    seen: list[Headers] = []

    async def handler(conn: ServerConnection) -> None:
        seen.append(conn.request.headers)  # type: ignore[union-attr]
        await echo(conn)

    async with (
        ws_server(handler, subprotocols=["v2", "v1"]) as url,  # type: ignore[list-item]
        surge.ClientSession(headers={"X-Session": "s"}) as session,
        session.ws_connect(
            url,
            protocols=("v1", "v2"),
            headers={"X-Extra": "e"},
            origin="http://example.test",
            compress=15,
        ) as ws,
    ):
        assert ws.protocol == "v2"
        assert ws.compress
        text = "squeeze " * 10000
        await ws.send_str(text)
        assert await ws.receive_str() == text
    headers = seen[0]
    assert headers["Origin"] == "http://example.test"
    assert headers["X-Extra"] == "e"
    assert headers["X-Session"] == "s"
    assert headers["Sec-WebSocket-Extensions"].startswith("permessage-deflate")


async def test_autoping_false_shows_pings() -> None:
    async def handler(conn: ServerConnection) -> None:
        await conn.ping(b"hello?")
        with contextlib.suppress(ConnectionClosed):
            await conn.recv()

    async with (
        ws_server(handler) as url,
        surge.ClientSession() as session,
        session.ws_connect(url, autoping=False) as ws,
    ):
        msg = await ws.receive()
        assert (msg.type, msg.data) == (surge.WSMsgType.PING, b"hello?")
        await ws.pong(msg.data)


async def test_receive_timeout_from_client_ws_timeout() -> None:
    async def handler(conn: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            await conn.recv()

    async with ws_server(handler) as url, surge.ClientSession() as session:
        timeout = surge.ClientWSTimeout(ws_receive=0.1, ws_close=1.0)
        async with session.ws_connect(url, timeout=timeout) as ws:
            with pytest.raises(TimeoutError):
                await ws.receive()


async def test_client_against_surge_server_with_compression() -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            await ws.send_str(msg.data.upper())
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    async with (
        serve_surge(app) as base,
        surge.ClientSession() as session,
        session.ws_connect(base + "/ws", compress=15) as ws,
    ):
        assert ws.compress
        for word in ("alpha", "beta", "gamma " * 3000):
            await ws.send_str(word)
            assert await ws.receive_str() == word.upper()
        await ws.close()
        assert [msg async for msg in ws] == []


async def test_decode_text_false_on_the_client() -> None:
    async def handler(conn: ServerConnection) -> None:
        await conn.send("plain")
        await conn.send("héllo ✓")
        await conn.send(iter(["frag", "mént"]))
        await conn.send('{"a": [1, 2]}')
        await conn.send(b"\x00raw")
        with contextlib.suppress(ConnectionClosed):
            await conn.recv()

    async with (
        ws_server(handler, compression=None) as url,
        surge.ClientSession() as session,
        session.ws_connect(url, decode_text=False) as ws,
    ):
        msg = await ws.receive()
        assert (msg.type, msg.data) == (surge.WSMsgType.TEXT, b"plain")
        assert await ws.receive_str() == "héllo ✓".encode()
        assert await ws.receive_str() == "fragmént".encode()
        assert await ws.receive_json() == {"a": [1, 2]}
        assert await ws.receive_bytes() == b"\x00raw"


async def test_decode_text_default_gives_str_on_the_client() -> None:
    async def handler(conn: ServerConnection) -> None:
        await conn.send("héllo")
        with contextlib.suppress(ConnectionClosed):
            await conn.recv()

    async with (
        ws_server(handler) as url,
        surge.ClientSession() as session,
        session.ws_connect(url) as ws,
    ):
        assert await ws.receive_str() == "héllo"


async def test_compress_reports_the_negotiated_window_bits() -> None:
    """``compress`` as aiohttp reports it: the window bits each side compresses with, 0 when
    permessage-deflate is off, the option given before the handshake; ``compress=10`` offers
    ``server_max_window_bits=10``, which surge's server takes."""
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        seen["before"] = ws.compress
        await ws.prepare(request)
        seen["after"] = ws.compress
        seen["offer"] = request.headers.get("Sec-WebSocket-Extensions")
        async for msg in ws:
            await ws.send_str(msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    text = "window " * 5000
    async with serve_surge(app) as base, surge.ClientSession() as session:
        async with session.ws_connect(base + "/ws", compress=10) as ws:
            assert ws.compress == 15  # the client's own window: the server did not limit it
            await ws.send_str(text)
            assert await ws.receive_str() == text
        assert (seen["before"], seen["after"]) == (True, 10)
        assert "server_max_window_bits=10" in seen["offer"]
        async with session.ws_connect(base + "/ws") as ws:  # aiohttp's default: no offer
            assert ws.compress == 0
            await ws.send_str("plain")
            assert await ws.receive_str() == "plain"
        assert (seen["after"], seen["offer"]) == (0, None)
        with pytest.raises(ValueError):
            await session.ws_connect(base + "/ws", compress=8)


async def test_compress_window_bits_with_the_websockets_server() -> None:
    offers: list[str] = []
    answers: list[str] = []

    async def handler(conn: ServerConnection) -> None:
        offers.append(conn.request.headers["Sec-WebSocket-Extensions"])  # type: ignore[union-attr]
        answers.append(conn.response.headers["Sec-WebSocket-Extensions"])  # type: ignore[union-attr]
        await echo(conn)

    text = "squeeze " * 5000
    async with (
        ws_server(handler) as url,
        surge.ClientSession() as session,
        session.ws_connect(url, compress=12) as ws,
    ):
        await ws.send_str(text)
        assert await ws.receive_str() == text
        client_bits = ws.compress
    assert "server_max_window_bits=12" in offers[0]
    assert "server_max_window_bits=12" in answers[0]
    # The client compresses with the window the server's answer allows it (15 if unnamed).
    named = [p for p in answers[0].split("; ") if p.startswith("client_max_window_bits=")]
    assert client_bits == (int(named[0].split("=")[1]) if named else 15)
