"""Flow control both ways: a slow reader makes writes wait, a fast sender is paused."""

from __future__ import annotations

import asyncio
import socket

from surge import web
from tests.helpers import serve

CHUNK = 64 * 1024
TOTAL = 16 * 1024 * 1024


async def test_slow_reader_makes_write_wait_and_buffer_stays_bounded() -> None:
    paused = asyncio.Event()
    seen: dict[str, int] = {"max_buffer": 0, "high": 0}

    async def download(req: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_length = TOTAL
        await resp.prepare(req)
        transport = req.transport
        assert transport is not None
        seen["high"] = transport.get_write_buffer_limits()[1]
        block = b"d" * CHUNK
        for _ in range(TOTAL // CHUNK):
            waiter = resp.write(block)  # the bytes are on the transport already
            size = transport.get_write_buffer_size()
            seen["max_buffer"] = max(seen["max_buffer"], size)
            if size > seen["high"]:
                paused.set()
            await waiter  # waits while the transport is over its high-water mark
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/download", download)
    async with serve(app) as url:
        port = int(url.rsplit(":", 1)[1])
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock)
        writer.write(b"GET /download HTTP/1.1\r\nHost: t\r\n\r\n")
        async with asyncio.timeout(10):
            # Do not read until the server's transport buffer has filled up once.
            while not paused.is_set() and seen["max_buffer"] <= seen["high"]:
                await asyncio.sleep(0.01)
            await reader.readuntil(b"\r\n\r\n")
            received = 0
            while received < TOTAL:
                data = await reader.read(CHUNK)
                assert data
                received += len(data)
        writer.close()
    assert received == TOTAL
    assert seen["max_buffer"] > seen["high"]  # back-pressure did happen
    # ... and awaiting write() kept the buffer from growing past one write over high water.
    assert seen["max_buffer"] <= seen["high"] + CHUNK


async def test_fast_uploader_is_paused_when_handler_does_not_read() -> None:
    size = 8 * 1024 * 1024
    observed: dict[str, object] = {}

    async def upload(req: web.Request) -> web.Response:
        transport = req.transport
        assert transport is not None
        async with asyncio.timeout(5):
            while transport.is_reading():
                await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)  # would read more here if reading had not been paused
        observed["buffered"] = req.content.total_bytes
        total = 0
        while chunk := await req.content.read(CHUNK):
            total += len(chunk)
        return web.Response(text=str(total))

    app = web.Application()
    app.router.add_post("/upload", upload)
    async with serve(app) as url:
        port = int(url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size)
        writer.write(b"u" * size)
        async with asyncio.timeout(10):
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            body = await reader.read(100)
        writer.close()
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert body == str(size).encode()
    buffered = observed["buffered"]
    assert isinstance(buffered, int)
    assert buffered < 1024 * 1024  # paused after the buffer's high water, not the whole body
