"""``web.WebSocketResponse`` over real sockets, checked with the ``websockets`` library,
httpx and raw sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from surge import web
from surge.http.ws.frames import encode_frame
from tests.helpers import serve

HANDSHAKE = (
    b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


async def spec_echo(request: web.Request) -> web.WebSocketResponse:
    """The spec's handler, as written there."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    try:
        async for msg in ws:
            if msg.type == web.WSMsgType.TEXT:
                text = msg.data
                await ws.send_str(f"Echo: {text}")
            elif msg.type == web.WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
            elif msg.type == web.WSMsgType.ERROR:
                print(f"WebSocket error: {ws.exception()}")
    finally:
        await ws.close()
    return ws


def make_app(handler: Any = spec_echo) -> web.Application:
    app = web.Application()
    app.router.add_get("/ws", handler)
    return app


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/ws"


async def test_spec_echo_handler_with_websockets_client() -> None:
    async with serve(make_app()) as base:
        async with connect(ws_url(base)) as client:
            await client.send("hello")
            assert await client.recv() == "Echo: hello"
            await client.send(b"\x00\x01" * 50000)
            assert await client.recv() == b"\x00\x01" * 50000
            await client.send("é✓" * 1000)
            assert await client.recv() == "Echo: " + "é✓" * 1000
        assert client.close_code == 1000


async def test_compression_is_negotiated_with_websockets() -> None:
    async with serve(make_app()) as base, connect(ws_url(base)) as client:
        assert client.response is not None
        ext = client.response.headers["Sec-WebSocket-Extensions"]
        assert ext.startswith("permessage-deflate")
        text = "compressible " * 5000
        for _ in range(3):
            await client.send(text)
            assert await client.recv() == "Echo: " + text


async def test_compress_false_declines_the_extension() -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        await ws.send_str("plain")
        await ws.close()
        return ws

    async with serve(make_app(handler)) as base, connect(ws_url(base)) as client:
        assert client.response is not None
        assert "Sec-WebSocket-Extensions" not in client.response.headers
        assert await client.recv() == "plain"


async def test_server_close_code_and_reason_reach_the_client() -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        assert await ws.close(code=4001, message=b"done here") is True
        assert ws.closed
        assert await ws.close() is False
        return ws

    async with serve(make_app(handler)) as base:
        async with connect(ws_url(base)) as client:
            with pytest.raises(ConnectionClosed) as info:
                await client.recv()
        assert info.value.rcvd is not None
        assert (info.value.rcvd.code, info.value.rcvd.reason) == (4001, "done here")


async def test_client_close_code_is_seen_by_the_handler() -> None:
    seen: list[Any] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        msg = await ws.receive()
        seen.append((msg.type, msg.data, msg.extra))
        seen.append((await ws.receive()).type)
        seen.append(ws.close_code)
        return ws

    async with serve(make_app(handler)) as base:
        async with connect(ws_url(base)) as client:
            await client.close(code=4002, reason="bye")
        await asyncio.sleep(0.05)
    assert seen == [(web.WSMsgType.CLOSE, 4002, "bye"), web.WSMsgType.CLOSED, 4002]


async def test_message_over_max_msg_size_closes_with_1009() -> None:
    errors: list[Any] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=1024)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == web.WSMsgType.ERROR:
                errors.append(ws.exception())
            else:
                await ws.send_str("ok")
        return ws

    async with serve(make_app(handler)) as base:
        async with connect(ws_url(base)) as client:
            await client.send("x" * 1024)
            assert await client.recv() == "ok"
            await client.send("x" * 1025)
            with pytest.raises(ConnectionClosed) as info:
                await client.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 1009
    assert len(errors) == 1


async def test_declared_1gib_frame_is_refused_at_once() -> None:
    async with serve(make_app()) as base:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HANDSHAKE)
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101 ")
        # Only the header of a 1 GiB frame: no payload follows, the answer comes anyway.
        writer.write(bytes([0x82, 0xFF]) + (2**30).to_bytes(8, "big") + b"mask")
        async with asyncio.timeout(5):
            answer = await reader.read()
        writer.close()
    assert answer[:4] == b"\x88\x02" + (1009).to_bytes(2, "big")


async def test_101_head_has_no_body_framing() -> None:
    async with serve(make_app()) as base:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HANDSHAKE)
        head = (await reader.readuntil(b"\r\n\r\n")).lower()
        writer.close()
    assert head.startswith(b"http/1.1 101 switching protocols\r\n")
    assert b"sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=" in head
    assert b"content-length" not in head
    assert b"transfer-encoding" not in head
    assert b"connection: close" not in head


async def test_frames_sent_with_the_handshake_are_not_lost() -> None:
    async with serve(make_app()) as base:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HANDSHAKE + encode_frame(1, b"early", mask=True))
        await reader.readuntil(b"\r\n\r\n")
        async with asyncio.timeout(5):
            frame = await reader.readexactly(2 + len(b"Echo: early"))
        writer.close()
    assert frame == b"\x81\x0bEcho: early"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 400),
        ({"Upgrade": "websocket", "Connection": "Upgrade"}, 400),
        (
            {
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Version": "8",
            },
            426,
        ),
    ],
)
async def test_bad_handshakes_get_http_errors(headers: dict[str, str], status: int) -> None:
    async with serve(make_app()) as base, httpx.AsyncClient() as client:
        resp = await client.get(base + "/ws", headers=headers)
    assert resp.status_code == status
    if status == 426:
        assert resp.headers["Sec-WebSocket-Version"] == "13"


async def test_can_prepare_and_protocols() -> None:
    ready: list[Any] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(protocols=("v2.chat", "v1.chat"))
        check = ws.can_prepare(request)
        ready.append((bool(check), check.protocol))
        if not check:
            return web.Response(text="not a websocket")
        await ws.prepare(request)
        await ws.send_str(ws.ws_protocol or "")
        await ws.close()
        return ws

    async with serve(make_app(handler)) as base:
        async with connect(ws_url(base), subprotocols=["v1.chat", "v2.chat"]) as client:  # type: ignore[list-item]
            assert client.subprotocol == "v2.chat"
            assert await client.recv() == "v2.chat"
        async with httpx.AsyncClient() as http:
            resp = await http.get(base + "/ws")
    assert resp.text == "not a websocket"
    assert ready == [(True, "v2.chat"), (False, None)]


async def test_json_helpers_and_receive_timeout() -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(receive_timeout=0.2)
        await ws.prepare(request)
        data = await ws.receive_json()
        await ws.send_json({"got": data})
        try:
            await ws.receive()
        except TimeoutError:
            await ws.send_str("timed out")
        with pytest.raises(TypeError):
            await ws.send_str(b"bytes")  # type: ignore[arg-type]
        await ws.close()
        return ws

    async with serve(make_app(handler)) as base, connect(ws_url(base)) as client:
        await client.send(json.dumps([1, 2]))
        assert json.loads(await client.recv()) == {"got": [1, 2]}
        assert await client.recv() == "timed out"


async def test_a_cancelled_wait_leaves_receive_usable() -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        waiting = asyncio.ensure_future(ws.__anext__())
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        with pytest.raises(TimeoutError):
            await ws.receive(timeout=0.05)  # a timed-out wait, too, is not "concurrent"
        await ws.send_str("ready")
        msg = await ws.receive()
        await ws.send_str(f"got {msg.data}")
        await ws.close()
        return ws

    async with serve(make_app(handler)) as base, connect(ws_url(base)) as client:
        assert await client.recv() == "ready"
        await client.send("after")
        assert await client.recv() == "got after"


async def test_heartbeat_closes_a_peer_that_never_pongs() -> None:
    result: list[Any] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=0.1)
        await ws.prepare(request)
        msg = await ws.receive()
        result.append((msg.type, ws.close_code, type(ws.exception())))
        return ws

    async with serve(make_app(handler)) as base:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HANDSHAKE)
        await reader.readuntil(b"\r\n\r\n")
        async with asyncio.timeout(5):
            ping = await reader.readexactly(2)
            rest = await reader.read()  # the server gives up and drops the connection
        writer.close()
    assert ping == b"\x89\x00"
    assert rest == b""
    assert result == [(web.WSMsgType.ERROR, 1006, TimeoutError)]


async def test_heartbeat_keeps_a_live_peer() -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=0.05)
        await ws.prepare(request)
        msg = await ws.receive()
        await ws.send_str(f"still here: {msg.data}")
        await ws.close()
        return ws

    async with serve(make_app(handler)) as base, connect(ws_url(base)) as client:
        await asyncio.sleep(0.3)  # several heartbeats, answered by websockets
        await client.send("x")
        assert await client.recv() == "still here: x"


async def test_server_shutdown_closes_websockets_with_1001() -> None:
    runner = web.AppRunner(make_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    async with connect(f"ws://127.0.0.1:{site.port}/ws") as client:
        await client.send("hi")
        assert await client.recv() == "Echo: hi"
        cleanup = asyncio.create_task(runner.cleanup())
        with pytest.raises(ConnectionClosed) as info:
            await client.recv()
        await cleanup
    assert info.value.rcvd is not None and info.value.rcvd.code == 1001


async def test_websocket_cannot_write_raw_bytes() -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        with pytest.raises(RuntimeError):
            await ws.send_str("too early")
        await ws.prepare(request)
        with pytest.raises(RuntimeError):
            ws.write(b"raw")
        await ws.send_str("ok")
        await ws.close()
        return ws

    async with serve(make_app(handler)) as base, connect(ws_url(base)) as client:
        assert await client.recv() == "ok"


async def test_decode_text_false_gives_text_messages_as_bytes() -> None:
    seen: list[tuple[web.WSMsgType, Any]] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(decode_text=False)
        await ws.prepare(request)
        async for msg in ws:
            seen.append((msg.type, msg.data))
            await ws.send_bytes(msg.data)
        return ws

    async with serve(make_app(handler)) as base, connect(ws_url(base), compression=None) as client:
        await client.send("plain ascii")
        assert await client.recv() == b"plain ascii"
        await client.send("héllo ✓")
        assert await client.recv() == "héllo ✓".encode()
        # A fragmented text message is assembled as bytes too.
        await client.send(iter(["frag", "mént"]))
        assert await client.recv() == "fragmént".encode()
    assert seen == [
        (web.WSMsgType.TEXT, b"plain ascii"),
        (web.WSMsgType.TEXT, "héllo ✓".encode()),
        (web.WSMsgType.TEXT, "fragmént".encode()),
    ]


async def test_decode_text_false_still_refuses_invalid_utf8_with_1007() -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(decode_text=False)
        await ws.prepare(request)
        async for msg in ws:
            await ws.send_bytes(msg.data)
        return ws

    async with serve(make_app(handler)) as base:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HANDSHAKE)
        await reader.readuntil(b"\r\n\r\n")
        writer.write(encode_frame(1, b"ok", mask=True) + encode_frame(1, b"\xff\xfe", mask=True))
        async with asyncio.timeout(5):
            answer = await reader.read()
        writer.close()
    # The valid message is answered first, then the connection fails with 1007.
    assert answer == b"\x82\x02ok" + b"\x88\x02" + (1007).to_bytes(2, "big")


async def test_writer_limit_bounds_what_a_send_leaves_buffered() -> None:
    buffered: list[int] = []
    limits: list[tuple[int, int]] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(writer_limit=1000, compress=False)
        await ws.prepare(request)
        transport = request.transport
        assert transport is not None
        # A small kernel buffer, so what the peer has not read yet stays in the transport.
        transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        limits.append(transport.get_write_buffer_limits())
        for _ in range(40):
            await ws.send_bytes(b"z" * 16384)
            buffered.append(transport.get_write_buffer_size())
        await ws.close()
        return ws

    async with (
        serve(make_app(handler)) as base,
        connect(ws_url(base), compression=None, max_size=None) as client,
    ):
        got = 0
        with contextlib.suppress(ConnectionClosed):
            async for message in client:
                got += len(message)
    assert got == 40 * 16384
    assert limits == [(250, 1000)]
    # Each send returned only once the transport held at most writer_limit bytes.
    assert len(buffered) == 40 and max(buffered) <= 1000


async def test_writer_limit_default_is_256_kib() -> None:
    limits: list[tuple[int, int]] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        assert request.transport is not None
        limits.append(request.transport.get_write_buffer_limits())
        await ws.close()
        return ws

    async with serve(make_app(handler)) as base, connect(ws_url(base)) as client:
        with contextlib.suppress(ConnectionClosed):
            await client.recv()
    assert limits == [(65536, 262144)]
