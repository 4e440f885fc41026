"""Responses whose only header is Content-Type take a shortcut on HTTP/1.1 (no header
multidict until something reads the headers); the bytes on the wire must be the same as
through the general path, whatever the request or the handler does to the response."""

from __future__ import annotations

from surge import web
from tests.helpers import raw_exchange, serve


def _port(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


async def _raw(app: web.Application, request: bytes) -> bytes:
    async with serve(app) as base:
        return await raw_exchange(_port(base), request, timeout=0.5)


def _app() -> web.Application:
    async def text(request: web.Request) -> web.Response:
        return web.Response(text="héllo", content_type="text/html")

    async def touched(request: web.Request) -> web.Response:
        response = web.Response(text="x")
        response.headers["X-Extra"] = "1"
        return response

    async def closed(request: web.Request) -> web.Response:
        response = web.Response(text="bye")
        response.force_close()
        return response

    async def raw_body(request: web.Request) -> web.Response:
        return web.Response(body=b"\x00\x01", content_type="application/octet-stream")

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read(), content_type="application/x-echo")

    async def new_body(request: web.Request) -> web.Response:
        response = web.Response(text="old")
        response.body = b"new body"
        return response

    async def bad_type(request: web.Request) -> web.Response:
        return web.Response(text="x", content_type="text/plain\r\nX-Injected: 1")

    app = web.Application()
    for path, handler in [
        ("/text", text),
        ("/touched", touched),
        ("/closed", closed),
        ("/raw", raw_body),
        ("/new", new_body),
        ("/bad", bad_type),
    ]:
        app.router.add_get(path, handler)
    app.router.add_post("/echo", echo)
    return app


def _head_and_body(raw: bytes) -> tuple[list[bytes], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.split(b"\r\n"), body


async def test_text_response_on_the_wire() -> None:
    lines, body = _head_and_body(await _raw(_app(), b"GET /text HTTP/1.1\r\nHost: h\r\n\r\n"))
    assert lines[0] == b"HTTP/1.1 200 OK"
    assert b"Content-Type: text/html; charset=utf-8" in lines
    assert b"Content-Length: 6" in lines
    assert any(line.startswith(b"Date: ") for line in lines)
    assert not any(line.lower().startswith(b"connection:") for line in lines)
    assert body == "héllo".encode()


async def test_headers_changed_by_the_handler_are_sent() -> None:
    lines, body = _head_and_body(await _raw(_app(), b"GET /touched HTTP/1.1\r\nHost: h\r\n\r\n"))
    assert b"X-Extra: 1" in lines and b"Content-Type: text/plain; charset=utf-8" in lines
    assert body == b"x"


async def test_head_http10_and_force_close_keep_their_framing() -> None:
    app = _app()
    lines, body = _head_and_body(await _raw(app, b"HEAD /text HTTP/1.1\r\nHost: h\r\n\r\n"))
    assert b"Content-Length: 6" in lines and body == b""
    lines, body = _head_and_body(await _raw(app, b"GET /text HTTP/1.0\r\nHost: h\r\n\r\n"))
    assert lines[0] == b"HTTP/1.0 200 OK" and body == "héllo".encode()
    lines, body = _head_and_body(await _raw(app, b"GET /closed HTTP/1.1\r\nHost: h\r\n\r\n"))
    assert b"Connection: close" in lines and body == b"bye"


async def test_bytes_body_keeps_its_content_type_and_new_bodies_are_sent() -> None:
    app = _app()
    lines, body = _head_and_body(await _raw(app, b"GET /raw HTTP/1.1\r\nHost: h\r\n\r\n"))
    assert b"Content-Type: application/octet-stream" in lines and body == b"\x00\x01"
    lines, body = _head_and_body(await _raw(app, b"GET /new HTTP/1.1\r\nHost: h\r\n\r\n"))
    assert b"Content-Length: 8" in lines and body == b"new body"


async def test_pipelined_echo_then_get_on_one_connection() -> None:
    raw = await _raw(
        _app(),
        b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
        b"GET /text HTTP/1.1\r\nHost: h\r\n\r\n",
    )
    first, _, rest = raw.partition(b"\r\n\r\n")
    assert b"Content-Type: application/x-echo" in first.split(b"\r\n")
    assert rest.startswith(b"abcHTTP/1.1 200 OK")
    assert rest.endswith("héllo".encode())


async def test_a_content_type_with_crlf_is_refused_not_sent() -> None:
    raw = await _raw(_app(), b"GET /bad HTTP/1.1\r\nHost: h\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 500 ")
    assert b"X-Injected" not in raw


def _touched_app() -> web.Application:
    """Each handler changes a Response(text=...) in a way send_simple does not carry."""

    async def cookie(request: web.Request) -> web.Response:
        response = web.Response(text="c")
        response.set_cookie("k", "v", httponly=True)
        return response

    async def deleted_cookie(request: web.Request) -> web.Response:
        response = web.Response(text="d")
        response.del_cookie("gone")
        return response

    async def compressed(request: web.Request) -> web.Response:
        response = web.Response(text="z" * 100)
        response.enable_compression(web.ContentCoding.gzip)
        return response

    async def with_trailers(request: web.Request) -> web.Response:
        response = web.Response(text="t")
        response.trailers["X-Checksum"] = "1"
        return response

    async def status(request: web.Request) -> web.Response:
        response = web.Response(text="s")
        response.set_status(201, "Made")
        return response

    app = web.Application()
    for path, handler in [
        ("/cookie", cookie),
        ("/deleted", deleted_cookie),
        ("/gzip", compressed),
        ("/trailers", with_trailers),
        ("/status", status),
    ]:
        app.router.add_get(path, handler)
    return app


async def test_changes_after_construction_reach_the_wire() -> None:
    import gzip

    app = _touched_app()
    lines, body = _head_and_body(await _raw(app, b"GET /cookie HTTP/1.1\r\nHost: h\r\n\r\n"))
    assert b"Set-Cookie: k=v; HttpOnly; Path=/" in lines and body == b"c"
    lines, body = _head_and_body(await _raw(app, b"GET /deleted HTTP/1.1\r\nHost: h\r\n\r\n"))
    assert any(line.startswith(b"Set-Cookie: gone=") for line in lines) and body == b"d"
    request = b"GET /gzip HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n"
    lines, body = _head_and_body(await _raw(app, request))
    assert b"Content-Encoding: gzip" in lines
    assert b"Content-Type: text/plain; charset=utf-8" in lines
    assert gzip.decompress(body) == b"z" * 100
    lines, body = _head_and_body(await _raw(app, b"GET /trailers HTTP/1.1\r\nHost: h\r\n\r\n"))
    assert lines[0] == b"HTTP/1.1 200 OK" and body == b"t"  # trailers are HTTP/2 only
    lines, body = _head_and_body(await _raw(app, b"GET /status HTTP/1.1\r\nHost: h\r\n\r\n"))
    assert lines[0] == b"HTTP/1.1 201 Made" and body == b"s"
