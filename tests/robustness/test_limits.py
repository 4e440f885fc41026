"""Body size limits (413) and ``Expect: 100-continue``."""

from __future__ import annotations

import asyncio

from surge import web
from tests.robustness.util import exchange, request, serve_recording, statuses

LIMIT = 1024**2


def reading_app() -> tuple[web.Application, list[str]]:
    errors: list[str] = []

    async def upload(req: web.Request) -> web.Response:
        try:
            body = await req.read()
        except web.HTTPRequestEntityTooLarge as exc:
            errors.append(type(exc).__name__)
            raise
        return web.Response(text=f"got {len(body)}")

    async def ignore(req: web.Request) -> web.Response:
        return web.Response(status=401, text="no")

    app = web.Application()
    app.router.add_post("/upload", upload)
    app.router.add_post("/ignore", ignore)
    return app, errors


def post(path: str, headers: bytes = b"") -> bytes:
    return b"POST " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n" + headers + b"\r\n"


async def test_body_over_client_max_size_gets_413() -> None:
    app, errors = reading_app()
    body = b"x" * (LIMIT + 1)
    async with serve_recording(app) as (port, rec):
        data = post("/upload", b"Content-Length: %d\r\n" % len(body)) + body + request()
        received, closed = await exchange(port, data)
    assert statuses(received) == [413]
    assert b"Maximum request body size 1048576 exceeded" in received
    assert errors == ["HTTPRequestEntityTooLarge"]
    assert closed
    assert rec.paths == []


async def test_chunked_body_over_client_max_size_gets_413() -> None:
    app, errors = reading_app()
    chunk = b"%x\r\n" % 65536 + b"y" * 65536 + b"\r\n"
    data = post("/upload", b"Transfer-Encoding: chunked\r\n") + chunk * 40 + b"0\r\n\r\n"
    async with serve_recording(app) as (port, rec):
        received, closed = await exchange(port, data + request())
    assert statuses(received) == [413]
    assert errors == ["HTTPRequestEntityTooLarge"]
    assert closed
    assert rec.paths == []


async def test_declared_oversize_body_gets_413_before_it_is_sent() -> None:
    app, errors = reading_app()
    async with serve_recording(app) as (port, _):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(post("/upload", b"Content-Length: %d\r\n" % (LIMIT * 50)))  # no body
        async with asyncio.timeout(3):
            head = await reader.readuntil(b"\r\n\r\n")
            rest = await reader.read()  # the server ends the connection after answering
        writer.close()
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"Maximum request body size" in rest
    assert errors == ["HTTPRequestEntityTooLarge"]


async def test_body_at_the_limit_is_accepted() -> None:
    app, _ = reading_app()
    body = b"z" * LIMIT
    async with serve_recording(app) as (port, _):
        data = post("/upload", b"Content-Length: %d\r\n" % len(body)) + body
        received, _ = await exchange(port, data, timeout=0.5)
    assert statuses(received) == [200]
    assert received.endswith(b"got 1048576")


async def test_expect_continue_sent_when_handler_reads() -> None:
    app, _ = reading_app()
    async with serve_recording(app) as (port, _):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(post("/upload", b"Expect: 100-continue\r\nContent-Length: 5\r\n"))
        async with asyncio.timeout(3):
            interim = await reader.readuntil(b"\r\n\r\n")
            assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
            writer.write(b"hello")
            head = await reader.readuntil(b"\r\n\r\n")
            body = await reader.readexactly(5)
        writer.close()
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert body == b"got 5"


async def test_expect_continue_not_sent_when_handler_does_not_read() -> None:
    app, _ = reading_app()
    async with serve_recording(app) as (port, rec):
        data = post("/ignore", b"Expect: 100-continue\r\nContent-Length: 5\r\n")
        received, closed = await exchange(port, data)
    assert statuses(received) == [401]  # no 100 first
    assert closed  # the body may or may not come: the connection cannot be reused
    assert rec.paths == []


async def test_expect_continue_with_oversize_length_gets_413_without_100() -> None:
    app, _ = reading_app()
    async with serve_recording(app) as (port, _):
        head = b"Expect: 100-continue\r\nContent-Length: %d\r\n" % (LIMIT + 1)
        received, closed = await exchange(port, post("/upload", head))
    assert statuses(received) == [413]
    assert closed


async def test_route_expect_handler_decides() -> None:
    async def reject(req: web.Request) -> web.Response | None:
        if req.headers.get("X-Token") != "ok":
            return web.Response(status=403, text="forbidden")
        return None

    async def upload(req: web.Request) -> web.Response:
        return web.Response(text=f"got {len(await req.read())}")

    app = web.Application()
    app.router.add_post("/guarded", upload, expect_handler=reject)
    async with serve_recording(app) as (port, _):
        received, closed = await exchange(
            port, post("/guarded", b"Expect: 100-continue\r\nContent-Length: 5\r\n")
        )
        assert statuses(received) == [403]
        assert closed
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            post("/guarded", b"X-Token: ok\r\nExpect: 100-continue\r\nContent-Length: 5\r\n")
        )
        async with asyncio.timeout(3):
            assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
            writer.write(b"hello")
            head = await reader.readuntil(b"\r\n\r\n")
            body = await reader.readexactly(5)
        writer.close()
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert body == b"got 5"


async def test_unknown_expectation_gets_417() -> None:
    app, _ = reading_app()
    async with serve_recording(app) as (port, _):
        data = post("/upload", b"Expect: something-else\r\nContent-Length: 5\r\n") + b"hello"
        received, _ = await exchange(port, data, timeout=0.5)
    assert statuses(received) == [417]
