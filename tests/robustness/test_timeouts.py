"""Slow or idle clients are disconnected by the header and keep-alive timeouts."""

from __future__ import annotations

import asyncio

from tests.robustness.util import request, serve_recording, statuses


async def _read_until_closed(reader: asyncio.StreamReader) -> bytes:
    async with asyncio.timeout(5):  # far above the configured timeouts; never hit when correct
        return await reader.read()


async def test_unfinished_head_is_disconnected() -> None:
    async with serve_recording(header_timeout=0.2) as (port, rec):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n")  # never finished
        received = await _read_until_closed(reader)
        writer.close()
    assert received == b""
    assert rec.paths == []


async def test_unfinished_head_after_a_whole_request_is_disconnected() -> None:
    """One read carries a whole request and the start of the next head: the first is
    answered, and the unfinished one is held to the header timeout (the keep-alive timeout,
    a minute here, does not apply to it)."""
    async with serve_recording(header_timeout=0.2, keepalive_timeout=60) as (port, rec):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request("/one") + b"GET /two HTTP/1.1\r\nHost: t\r\n")
        received = await _read_until_closed(reader)
        writer.close()
    assert statuses(received) == [200]
    assert rec.paths == ["/one"]


async def test_trickling_head_is_disconnected() -> None:
    """Sending a byte now and then does not extend the header deadline."""
    async with serve_recording(header_timeout=0.3) as (port, rec):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        closed = False
        for byte in b"GET / HTTP/1.1\r\nX-Slow: " + b"a" * 1000:
            if reader.at_eof():
                closed = True
                break
            try:
                writer.write(bytes([byte]))
                await writer.drain()
            except ConnectionError:
                closed = True
                break
            await asyncio.sleep(0.02)
        writer.close()
    assert closed
    assert rec.paths == []


async def test_silent_connection_is_disconnected() -> None:
    async with serve_recording(header_timeout=0.2, keepalive_timeout=60) as (port, rec):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        received = await _read_until_closed(reader)
        writer.close()
    assert received == b""
    assert rec.paths == []


async def test_idle_keep_alive_connection_is_closed() -> None:
    async with serve_recording(keepalive_timeout=0.2, header_timeout=60) as (port, rec):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request("/one"))
        received = await _read_until_closed(reader)
        writer.close()
    assert statuses(received) == [200]
    assert rec.paths == ["/one"]


async def test_keep_alive_connection_is_reused_within_timeout() -> None:
    async with serve_recording(keepalive_timeout=5) as (port, rec):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for path in ("/one", "/two"):
            writer.write(request(path))
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK")
            await reader.readexactly(len(f"ok {path}"))
        writer.close()
    assert rec.paths == ["/one", "/two"]
