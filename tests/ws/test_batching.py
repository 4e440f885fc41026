"""Answers to a burst of messages go out in one write, in order, and never wait on the handler.

While received messages are still queued, a WebSocket holds back the frames it sends and
writes them together (one send syscall for a burst instead of one per message); control frames
and the close keep their place, and a handler that suspends without reading still gets its
frames out. Checked over real sockets with a raw client, plus one in-memory count of writes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import surge
from surge import web
from surge.http.ws.connection import WSConnection
from surge.http.ws.frames import encode_frame
from surge.http.ws.handshake import accept_key
from surge.http.ws.models import WSMsgType
from surge.net.websocket import WebSocketChannel
from tests.helpers import serve

HANDSHAKE = (
    b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
OP_TEXT, OP_CLOSE, OP_PONG = 0x1, 0x8, 0xA


def text(payload: bytes) -> bytes:
    return encode_frame(OP_TEXT, payload, mask=True)


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One unmasked server frame: (opcode, payload)."""
    b0, b1 = await reader.readexactly(2)
    assert b1 & 0x80 == 0, "a server frame must not be masked"
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(await reader.readexactly(2), "big")
    elif n == 127:
        n = int.from_bytes(await reader.readexactly(8), "big")
    assert b0 & 0x80, "unexpected fragment"
    return b0 & 0x0F, await reader.readexactly(n)


async def upgraded(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HANDSHAKE)
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 ")
    return reader, writer


def app_with(handler: Any) -> web.Application:
    app = web.Application()
    app.router.add_get("/ws", handler)
    return app


def port_of(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


async def echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:
        if msg.data == "bye":
            await ws.close(code=4000, message=b"done")
        elif msg.data == "pong-me":
            await ws.pong(b"p")
        else:
            await ws.send_str(msg.data)
    return ws


@pytest.mark.parametrize("pad", [0, 1000])  # 1000: held frames pass HOLD_LIMIT mid-burst
async def test_a_burst_in_one_write_gets_every_echo_in_order(pad: int) -> None:
    count = 500
    messages = [b"m%d " % i + b"x" * pad for i in range(count)]
    async with serve(app_with(echo)) as base:
        reader, writer = await upgraded(port_of(base))
        writer.write(b"".join(text(m) for m in messages))
        async with asyncio.timeout(10):
            got = [await read_frame(reader) for _ in range(count)]
        writer.close()
    assert got == [(OP_TEXT, m) for m in messages]


async def test_close_goes_after_the_echoes_held_before_it() -> None:
    async with serve(app_with(echo)) as base:
        reader, writer = await upgraded(port_of(base))
        writer.write(text(b"a") + text(b"b") + text(b"bye") + text(b"c"))
        async with asyncio.timeout(5):
            got = [await read_frame(reader) for _ in range(3)]
            writer.write(encode_frame(OP_CLOSE, (4000).to_bytes(2, "big"), mask=True))
            rest = await reader.read()
        writer.close()
    assert got == [
        (OP_TEXT, b"a"),
        (OP_TEXT, b"b"),
        (OP_CLOSE, (4000).to_bytes(2, "big") + b"done"),
    ]
    assert rest == b""  # nothing after the close (the echo of "c" is not sent)


async def test_a_pong_sent_by_the_handler_keeps_its_place() -> None:
    async with serve(app_with(echo)) as base:
        reader, writer = await upgraded(port_of(base))
        writer.write(text(b"a") + text(b"pong-me") + text(b"b"))
        async with asyncio.timeout(5):
            got = [await read_frame(reader) for _ in range(3)]
        writer.close()
    assert got == [(OP_TEXT, b"a"), (OP_PONG, b"p"), (OP_TEXT, b"b")]


async def test_a_handler_that_suspends_without_reading_still_gets_its_frames_out() -> None:
    go_on = asyncio.Event()

    async def answer_then_wait(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            await ws.send_str("re: " + msg.data)  # "b" is still queued: this frame is held
            await go_on.wait()  # suspends without reading
        return ws

    async with serve(app_with(answer_then_wait)) as base:
        reader, writer = await upgraded(port_of(base))
        writer.write(text(b"a") + text(b"b"))
        async with asyncio.timeout(5):
            first = await read_frame(reader)  # arrives while the handler is still waiting
            go_on.set()
            second = await read_frame(reader)
        writer.close()
    assert first == (OP_TEXT, b"re: a")
    assert second == (OP_TEXT, b"re: b")


class RecordingTransport(asyncio.Transport):
    """Records each write call (what one send syscall would carry)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[bytes] = []
        self.protocol: Any = None

    def set_protocol(self, protocol: Any) -> None:
        self.protocol = protocol

    def is_reading(self) -> bool:
        return True

    def is_closing(self) -> bool:
        return False

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def write(self, data: Any) -> None:
        self.calls.append(bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        self.calls.append(b"".join(list_of_data))


async def test_echoes_of_one_read_go_out_in_one_write() -> None:
    transport = RecordingTransport()
    ws = WebSocketChannel()
    ws._ws_configure(
        timeout=1.0,
        receive_timeout=None,
        autoclose=True,
        autoping=True,
        heartbeat=None,
        max_msg_size=1 << 20,
    )
    ws._ws_start(transport, WSConnection(client=False), b"", None)

    async def handler() -> None:
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                await ws.send_str(msg.data)

    task = asyncio.create_task(handler())
    await asyncio.sleep(0)
    transport.protocol.data_received(b"".join(text(b"%d" % i) for i in range(10)))
    for _ in range(3):
        await asyncio.sleep(0)
    transport.protocol.data_received(text(b"alone"))
    for _ in range(3):
        await asyncio.sleep(0)
    task.cancel()
    expected = b"".join(b"\x81\x01%d" % i for i in range(10))
    assert transport.calls == [expected, b"\x81\x05alone"]


async def test_the_client_answers_a_burst_in_order() -> None:
    """The surge client shares the channel: a raw server sends a burst of frames in one write,
    the client answers each, the server unmasks and checks the answers in order."""
    count = 300
    answers: list[bytes] = []

    async def raw_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        key = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
            + accept_key(key.decode()).encode()
            + b"\r\n\r\n"
            + b"".join(encode_frame(OP_TEXT, b"q%d" % i) for i in range(count))
        )
        for _ in range(count):
            b0, b1 = await reader.readexactly(2)
            assert (b0, b1 & 0x80) == (0x80 | OP_TEXT, 0x80)
            mask = await reader.readexactly(4)
            payload = await reader.readexactly(b1 & 0x7F)
            answers.append(bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        writer.write(encode_frame(OP_CLOSE, (1000).to_bytes(2, "big")))
        await reader.readexactly(2 + 4 + 2)  # the client's close answer (masked, code only)
        writer.close()

    server = await asyncio.start_server(raw_server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with (
        server,
        surge.ClientSession() as session,
        session.ws_connect(f"ws://127.0.0.1:{port}") as ws,
        asyncio.timeout(10),
    ):
        async for msg in ws:
            await ws.send_str("a" + msg.data[1:])
    assert answers == [b"a%d" % i for i in range(count)]
