"""The lean per-request path: cached heads per URL, lazy request headers, the plain hop, and the
per-connection deadline timer. Each test checks what reaches the server (or the outcome)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

import surge
from surge import web
from surge.client.request import DEFAULT_USER_AGENT
from surge.http.content.codecs import accept_encoding
from tests.helpers import serve

_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


@asynccontextmanager
async def raw_server(heads: list[bytes]) -> AsyncIterator[str]:
    """A raw socket server recording each request head (requests without bodies only)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                heads.append(head)
                writer.write(_RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


async def test_plain_requests_send_the_exact_head_every_time() -> None:
    heads: list[bytes] = []
    async with raw_server(heads) as host, surge.ClientSession() as session:
        for _ in range(2):
            async with session.get(f"http://{host}/a?x=1") as resp:
                assert resp.status == 200 and await resp.read() == b"ok"
        async with session.delete(f"http://{host}/a") as resp:
            assert await resp.read() == b"ok"
    auto = (
        f"Host: {host}\r\nAccept: */*\r\nAccept-Encoding: {accept_encoding()}\r\n"
        f"User-Agent: {DEFAULT_USER_AGENT}\r\n"
    ).encode()
    get = b"GET /a?x=1 HTTP/1.1\r\n" + auto + b"\r\n"
    assert heads == [get, get, b"DELETE /a HTTP/1.1\r\n" + auto + b"Content-Length: 0\r\n\r\n"]


async def test_session_headers_changed_in_place_apply_to_later_requests() -> None:
    heads: list[bytes] = []
    async with raw_server(heads) as host, surge.ClientSession() as session:
        url = f"http://{host}/"
        await (await session.get(url)).read()
        session.headers["X-Later"] = "1"
        await (await session.get(url)).read()
        del session.headers["X-Later"]
        await (await session.get(url)).read()
    assert [b"X-Later: 1\r\n" in head for head in heads] == [False, True, False]


async def test_middleware_reads_and_changes_headers_and_url_of_a_plain_request() -> None:
    heads: list[bytes] = []
    seen: list[str] = []

    async def middleware(
        request: surge.ClientRequest, handler: surge.ClientHandlerType
    ) -> surge.ClientResponse:
        seen.append(request.headers["Host"])
        request.headers["X-Mw"] = "yes"
        request.url = request.url.with_path("/moved")
        return await handler(request)

    async with (
        raw_server(heads) as host,
        surge.ClientSession(middlewares=(middleware,)) as session,
        session.get(f"http://{host}/orig") as resp,
    ):
        assert await resp.read() == b"ok"
    assert seen == [host]
    assert heads[0].startswith(b"GET /moved HTTP/1.1\r\nHost: ")
    assert b"X-Mw: yes\r\n" in heads[0]


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(float(request.query.get("delay", "0")))
    return web.Response(text="done")


def _slow_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", _slow)
    return app


async def test_short_deadline_after_a_long_one_on_the_same_connection() -> None:
    connector = surge.TCPConnector(limit=1)
    async with serve(_slow_app()) as base, surge.ClientSession(connector=connector) as session:
        async with session.get(base + "/") as resp:
            assert await resp.text() == "done"
        with pytest.raises(surge.ServerTimeoutError):
            async with session.get(
                base + "/?delay=2", timeout=surge.ClientTimeout(total=0.2)
            ) as resp:
                await resp.read()


async def test_long_deadline_after_a_short_one_on_the_same_connection() -> None:
    # The timer armed for the first request's deadline fires during the second, which must
    # carry on to its own deadline.
    connector = surge.TCPConnector(limit=1)
    async with serve(_slow_app()) as base, surge.ClientSession(connector=connector) as session:
        async with session.get(base + "/", timeout=surge.ClientTimeout(total=0.15)) as resp:
            assert await resp.text() == "done"
        async with session.get(base + "/?delay=0.4", timeout=surge.ClientTimeout(total=5)) as r:
            assert await r.text() == "done"
            assert r.request_info.headers["Host"] == base.removeprefix("http://")


async def test_a_dropped_session_warns_at_once_without_a_gc_pass() -> None:
    heads: list[bytes] = []
    async with raw_server(heads) as host:
        session = surge.ClientSession()
        async with session.get(f"http://{host}/") as resp:
            assert await resp.read() == b"ok"
        await session.close()
        leaked = surge.ClientSession()
        with pytest.warns(ResourceWarning, match="Unclosed client session"):
            del leaked  # no reference cycle keeps it until the collector runs
