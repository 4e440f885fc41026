"""Message framing and connection reuse: HEAD/204/304, HTTP/1.0, Connection: close, chunked
request bodies, unread bodies, absolute-form targets, handler errors, Upgrade."""

from __future__ import annotations

import asyncio
import logging

import pytest

from surge import web
from tests.robustness.util import exchange, request, serve_recording, statuses


def framing_app() -> web.Application:
    async def status(req: web.Request) -> web.Response:
        return web.Response(status=int(req.match_info["code"]), text="must not be sent")

    async def echo(req: web.Request) -> web.Response:
        return web.Response(body=await req.read())

    async def where(req: web.Request) -> web.Response:
        return web.Response(text=f"{req.scheme} {req.host} {req.url} {req.path}")

    async def boom(req: web.Request) -> web.Response:
        raise ValueError("secret detail")

    app = web.Application()
    app.router.add_get("/status/{code}", status)
    app.router.add_post("/echo", echo)
    app.router.add_get("/where", where)
    app.router.add_get("/boom", boom)
    return app


async def test_head_has_no_body_but_keeps_content_length() -> None:
    async with serve_recording(framing_app()) as (port, rec):
        data = b"HEAD /x HTTP/1.1\r\nHost: t\r\n\r\n" + request("/after")
        received, closed = await exchange(port, data, timeout=0.5)
    first, _, rest = received.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200 OK")
    assert b"Content-Length: 5\r\n" in first + b"\r\n"  # len("ok /x")
    assert rest.startswith(b"HTTP/1.1 200 OK")  # no body bytes between the two
    assert rec.paths == ["/x", "/after"]
    assert not closed


@pytest.mark.parametrize("code", [204, 304])
async def test_no_body_statuses(code: int) -> None:
    async with serve_recording(framing_app()) as (port, rec):
        data = request(f"/status/{code}") + request("/after")
        received, _ = await exchange(port, data, timeout=0.5)
    assert statuses(received) == [code, 200]
    assert b"must not be sent" not in received
    _, _, rest = received.partition(b"\r\n\r\n")
    assert rest.startswith(b"HTTP/1.1 200 OK")
    assert rec.paths == ["/after"]


async def test_http10_closes_by_default() -> None:
    async with serve_recording() as (port, rec):
        received, closed = await exchange(port, b"GET /one HTTP/1.0\r\n\r\n")
    assert received.startswith(b"HTTP/1.0 200 OK")
    assert received.endswith(b"ok /one")
    assert closed
    assert rec.paths == ["/one"]


async def test_http10_keep_alive_on_request() -> None:
    async with serve_recording() as (port, rec):
        one = b"GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
        received, closed = await exchange(port, one + b"GET /two HTTP/1.0\r\n\r\n")
    assert statuses(received) == [200, 200]
    assert b"Connection: keep-alive\r\n" in received
    assert closed  # the second request did not ask to keep the connection
    assert rec.paths == ["/one", "/two"]


async def test_connection_close_from_client() -> None:
    async with serve_recording() as (port, rec):
        data = request("/one", b"Connection: close\r\n")
        received, closed = await exchange(port, data)
    assert rec.paths == ["/one"]
    assert statuses(received) == [200]
    assert b"Connection: close\r\n" in received
    assert closed


async def test_client_half_close_answers_then_closes() -> None:
    async with serve_recording() as (port, rec):
        received, closed = await exchange(port, request("/one") + request("/two"), shut=True)
    assert statuses(received) == [200, 200]
    assert closed
    assert rec.paths == ["/one", "/two"]


async def test_chunked_request_body_is_decoded() -> None:
    async with serve_recording(framing_app()) as (port, _):
        body = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
        data = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + body
        received, _ = await exchange(port, data + request("/after"), timeout=0.5)
    assert statuses(received) == [200, 200]
    assert b"Content-Length: 11\r\n" in received
    assert b"\r\n\r\nhello worldHTTP/1.1 200 OK" in received


async def test_small_unread_body_keeps_connection() -> None:
    async with serve_recording() as (port, rec):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /ignored HTTP/1.1\r\nHost: t\r\nContent-Length: 20000\r\n\r\n" + b"a" * 100
        )
        async with asyncio.timeout(3):
            head = await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(len("ok /ignored"))
            writer.write(b"b" * 19900 + request("/after"))  # the rest of the body, then more
            head2 = await reader.readuntil(b"\r\n\r\n")
            body2 = await reader.readexactly(len("ok /after"))
        writer.close()
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert head2.startswith(b"HTTP/1.1 200 OK")
    assert body2 == b"ok /after"
    assert rec.paths == ["/ignored", "/after"]


async def test_large_unread_body_closes_after_response() -> None:
    size = 4 * 1024**2
    async with serve_recording() as (port, rec):
        data = b"POST /ignored HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size
        received, closed = await exchange(port, data + b"a" * size + request("/after"))
    assert statuses(received) == [200]
    assert received.endswith(b"ok /ignored")  # complete: the close did not reset it away
    assert closed
    assert rec.paths == ["/ignored"]


async def test_absolute_form_target_does_not_change_scheme_or_host() -> None:
    async with serve_recording(framing_app()) as (port, _):
        data = b"GET https://evil.example/where?q=1 HTTP/1.1\r\nHost: good.example\r\n\r\n"
        received, _ = await exchange(port, data, timeout=0.5)
    assert statuses(received) == [200]
    assert received.endswith(b"http good.example http://good.example/where?q=1 /where")


async def test_handler_exception_is_500_logged_and_connection_survives(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="surge.server")
    async with serve_recording(framing_app()) as (port, rec):
        received, closed = await exchange(port, request("/boom") + request("/after"), timeout=0.5)
    assert statuses(received) == [500, 200]
    assert b"secret detail" not in received  # no traceback outside debug mode
    assert not closed
    assert rec.paths == ["/after"]
    assert any(r.exc_info and "secret detail" in str(r.exc_info[1]) for r in caplog.records)


async def test_handler_exception_shows_traceback_in_debug_mode() -> None:
    async with serve_recording(framing_app(), debug=True) as (port, _):
        received, _ = await exchange(port, request("/boom"), timeout=0.5)
    assert statuses(received) == [500]
    assert b"Traceback" in received
    assert b"secret detail" in received


async def test_declined_upgrade_gets_normal_response_and_nothing_after_is_parsed() -> None:
    async with serve_recording() as (port, rec):
        up = request("/up", b"Connection: Upgrade\r\nUpgrade: websocket\r\n")
        received, closed = await exchange(port, up + request("/after"))
    assert statuses(received) == [200]
    assert received.endswith(b"ok /up")
    assert closed
    assert rec.paths == ["/up"]


async def test_upgrade_request_body_is_never_parsed_as_a_request() -> None:
    async with serve_recording() as (port, rec):
        hidden = request("/hidden")
        up = b"POST /up HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"
        up += b"Content-Length: %d\r\n\r\n" % len(hidden) + hidden
        received, closed = await exchange(port, up)
    assert statuses(received) == [200]
    assert closed
    assert rec.paths == ["/up"]
