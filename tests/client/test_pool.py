"""The keep-alive pool: reuse, limits, and servers that close idle connections."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

import surge
from tests.client.servers import raw_server, read_head, read_request, reply


async def keepalive_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        try:
            await read_request(reader)
        except asyncio.IncompleteReadError:
            return
        writer.write(reply(200, b"hello"))
        await writer.drain()


async def test_connections_are_reused() -> None:
    async with raw_server(keepalive_handler) as srv, surge.ClientSession() as s:
        for _ in range(10):
            async with s.get(srv.url) as resp:
                assert await resp.read() == b"hello"
    assert srv.connections == 1


async def test_force_close_opens_a_connection_per_request() -> None:
    connector = surge.TCPConnector(force_close=True)
    async with raw_server(keepalive_handler) as srv, surge.ClientSession(connector=connector) as s:
        for _ in range(3):
            async with s.get(srv.url) as resp:
                assert await resp.read() == b"hello"
    assert srv.connections == 3


async def test_unread_body_closes_the_connection() -> None:
    big = b"x" * 1_000_000

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            writer.write(reply(200, big))
            with contextlib.suppress(ConnectionError):
                await writer.drain()

    async with raw_server(handler) as srv, surge.ClientSession() as s:
        async with s.get(srv.url) as resp:
            assert len(await resp.content.read(10)) == 10
        async with s.get(srv.url) as resp:
            assert await resp.read() == big
    assert srv.connections == 2


async def test_head_and_204_and_304_need_no_body_and_keep_the_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await read_head(reader)
            except asyncio.IncompleteReadError:
                return
            if head.startswith(b"HEAD"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            elif b"/204" in head:
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            elif b"/304" in head:
                writer.write(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n")
            else:
                writer.write(reply(200, b"end"))

    async with raw_server(handler) as srv, surge.ClientSession() as s:
        async with s.head(srv.url) as resp:
            assert resp.status == 200 and await resp.read() == b""
            assert resp.content_length == 1000
        async with s.get(srv.url + "/204") as resp:
            assert resp.status == 204 and await resp.read() == b""
        async with s.get(srv.url + "/304") as resp:
            assert resp.status == 304 and await resp.read() == b""
        async with s.get(srv.url) as resp:
            assert await resp.read() == b"end"
    assert srv.connections == 1


async def test_server_closing_idle_connection_is_retried_transparently() -> None:
    """The server answers one request per connection but without Connection: close, and
    closes a moment later: the pooled connection is dead when the next request goes out."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(reply(200, b"once"))
        await writer.drain()
        # Close without reading on: the client's next request meets a closed socket.

    async with raw_server(handler) as srv, surge.ClientSession() as s:
        for _ in range(5):
            async with s.get(srv.url) as resp:
                assert await resp.read() == b"once"
            await asyncio.sleep(0.01)  # let the FIN arrive, or not: both must work
        for _ in range(5):
            async with s.get(srv.url) as resp:  # no pause: the race with the FIN
                assert await resp.read() == b"once"
    assert srv.connections == 10


async def test_stale_connection_race_is_retried_for_idempotent_requests() -> None:
    """The FIN arrives only after the next request was written: ServerDisconnected on a
    reused connection with nothing received is retried once on a fresh connection."""
    served = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        await read_request(reader)
        served += 1
        writer.write(reply(200, b"ok"))
        await writer.drain()
        with contextlib.suppress(Exception):
            await read_head(reader)  # the second request arrives...
        # ...and the server closes without answering (a keep-alive timeout race).

    async with raw_server(handler) as srv, surge.ClientSession() as s:
        async with s.get(srv.url) as resp:
            assert await resp.read() == b"ok"
        async with s.get(srv.url) as resp:
            assert await resp.read() == b"ok"
        # A POST is not idempotent: it is not sent twice.
        with pytest.raises(surge.ServerDisconnectedError):
            await s.post(srv.url, data=b"x")
    assert served == 2  # the POST reached the server but was never answered, nor resent


async def test_limit_queues_requests() -> None:
    active = 0
    peak = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal active, peak
        while True:
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.01)
            active -= 1
            writer.write(reply(200, b"x"))

    for kwargs in ({"limit": 2}, {"limit": 100, "limit_per_host": 2}):
        peak = 0
        connector = surge.TCPConnector(**kwargs)  # type: ignore[arg-type]
        async with raw_server(handler) as srv, surge.ClientSession(connector=connector) as s:

            async def one(s: surge.ClientSession = s, url: str = srv.url) -> bytes:
                async with s.get(url) as resp:
                    return await resp.read()

            results = await asyncio.gather(*(one() for _ in range(8)))
        assert results == [b"x"] * 8
        assert peak == 2
        assert srv.connections == 2


async def test_keepalive_timeout_expires_pooled_connections() -> None:
    connector = surge.TCPConnector(keepalive_timeout=0.05)
    async with raw_server(keepalive_handler) as srv, surge.ClientSession(connector=connector) as s:
        async with s.get(srv.url) as resp:
            await resp.read()
        await asyncio.sleep(0.12)
        async with s.get(srv.url) as resp:
            await resp.read()
    assert srv.connections == 2


async def test_unix_connector(tmp_path: object) -> None:
    import pathlib

    path = str(pathlib.Path(str(tmp_path)) / "s.sock")
    done = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await keepalive_handler(reader, writer)
        finally:
            writer.close()
            done.set()

    server = await asyncio.start_unix_server(handler, path)
    try:
        async with surge.ClientSession(connector=surge.UnixConnector(path=path)) as s:
            for _ in range(2):
                async with s.get("http://localhost/x") as resp:
                    assert await resp.text() == "hello"
        await done.wait()
    finally:
        server.close()
        await server.wait_closed()
