"""Responses: constructors, setters, cookies, streaming; on the wire via httpx."""

from __future__ import annotations

import datetime
import json
from typing import Any

import httpx
import pytest

from surge import web
from surge.http.conditional import ETag
from tests.helpers import raw_exchange, serve


def app_of(**routes: Any) -> web.Application:
    app = web.Application()
    for name, handler in routes.items():
        app.router.add_route("*", f"/{name}", handler)
    return app


# construction (no network) ---------------------------------------------------------------


def test_response_bodies_and_content_types() -> None:
    positional = web.Response("Unauthorized", status=401, headers={"WWW-Authenticate": "Basic"})
    assert positional.body == b"Unauthorized" and positional.content_type == "text/plain"
    assert positional.charset == "utf-8" and positional.status == 401
    text = web.Response(text="hé", content_type="text/html", charset="latin-1")
    assert text.headers[
        "Content-Type"
    ] == "text/html; charset=latin-1" and text.body == "hé".encode("latin-1")
    assert text.text == "hé"
    raw = web.Response(body=b"\x00\x01", content_type="application/octet-stream")
    assert raw.content_type == "application/octet-stream" and raw.charset is None
    assert raw.content_length == 2
    empty = web.Response()
    assert empty.body is None and empty.content_length == 0 and empty.text is None
    with pytest.raises(ValueError):
        web.Response(body=b"x", text="y")
    with pytest.raises(ValueError):
        web.Response(text="x", content_type="text/plain; charset=utf-8")
    with pytest.raises(ValueError):
        web.Response(text="x", headers={"Content-Type": "text/plain"}, content_type="text/html")
    with pytest.raises(TypeError):
        web.Response(text=b"bytes")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        empty.content_length = 5


def test_setters() -> None:
    resp = web.Response(text="x")
    resp.content_type = "application/xml"
    assert resp.headers["Content-Type"] == "application/xml; charset=utf-8"
    resp.charset = "ISO-8859-1"
    assert resp.charset == "iso-8859-1" and resp.content_type == "application/xml"
    resp.charset = None
    assert resp.headers["Content-Type"] == "application/xml"
    resp.body = b"new"
    assert resp.body == b"new"
    resp.text = "txt"
    assert resp.body == b"txt"
    resp.set_status(418, "I'm a teapot today")
    assert (resp.status, resp.reason) == (418, "I'm a teapot today")
    resp.set_status(404)
    assert resp.reason == "Not Found"
    stream = web.StreamResponse()
    with pytest.raises(RuntimeError):
        stream.charset = "utf-8"  # no content type yet
    stream.content_length = 10
    assert stream.headers["Content-Length"] == "10"
    with pytest.raises(RuntimeError):
        stream.enable_chunked_encoding()
    stream.content_length = None
    stream.enable_chunked_encoding()
    assert stream.chunked
    with pytest.raises(RuntimeError):
        stream.content_length = 3
    stream["k"] = 1
    assert stream["k"] == 1 and len(stream) == 1 and list(stream) == ["k"]


def test_last_modified_and_etag() -> None:
    resp = web.StreamResponse()
    resp.last_modified = 0
    assert resp.headers["Last-Modified"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    resp.last_modified = 1.2  # rounded up
    assert resp.headers["Last-Modified"] == "Thu, 01 Jan 1970 00:00:02 GMT"
    naive = datetime.datetime(2024, 5, 6, 7, 8, 9)
    resp.last_modified = naive
    assert resp.headers["Last-Modified"] == "Mon, 06 May 2024 07:08:09 GMT"
    assert resp.last_modified == naive.replace(tzinfo=datetime.UTC)
    resp.last_modified = "Tue, 15 Nov 1994 12:45:26 GMT"
    assert resp.last_modified == datetime.datetime(1994, 11, 15, 12, 45, 26, tzinfo=datetime.UTC)
    resp.last_modified = None
    assert "Last-Modified" not in resp.headers and resp.last_modified is None
    resp.etag = "abc"
    assert resp.headers["ETag"] == '"abc"' and resp.etag == ETag("abc")
    resp.etag = ETag("w1", is_weak=True)
    assert resp.headers["ETag"] == 'W/"w1"' and resp.etag == ETag("w1", True)
    resp.etag = "*"
    assert resp.headers["ETag"] == "*"
    with pytest.raises(ValueError):
        resp.etag = 'bad"quote'
    resp.etag = None
    assert resp.etag is None


def test_cookie_attributes() -> None:
    resp = web.Response()
    resp.set_cookie(
        "sid",
        "a b",
        expires="Wed, 21 Oct 2037 07:28:00 GMT",
        domain="example.com",
        max_age=3600,
        path="/app",
        secure=True,
        httponly=True,
        samesite="Strict",
        partitioned=True,
    )
    out = resp.cookies["sid"].OutputString()
    for piece in (
        'sid="a b"',
        "expires=Wed, 21 Oct 2037 07:28:00 GMT",
        "Domain=example.com",
        "Max-Age=3600",
        "Path=/app",
        "Secure",
        "HttpOnly",
        "SameSite=Strict",
        "Partitioned",
    ):
        assert piece in out, (piece, out)
    resp.set_cookie("plain", "v")
    assert resp.cookies["plain"].OutputString() == "plain=v; Path=/"
    resp.del_cookie("plain", domain="example.com")
    gone = resp.cookies["plain"].OutputString()
    assert (
        'plain=""' in gone
        and "Max-Age=0" in gone
        and "01 Jan 1970" in gone
        and "Domain=example.com" in gone
    )


def test_json_response() -> None:
    resp = web.json_response(
        {"a": 1}, dumps=lambda x: json.dumps(x, indent=2), status=201, headers={"X-C": "v"}
    )
    assert resp.text == '{\n  "a": 1\n}' and resp.status == 201
    assert (
        resp.headers["Content-Type"] == "application/json; charset=utf-8"
        and resp.headers["X-C"] == "v"
    )
    assert web.json_response(text='"t"').text == '"t"'
    with pytest.raises(ValueError):
        web.json_response({"a": 1}, text="x")


# on the wire ---------------------------------------------------------------------------


async def test_cookies_arrive_as_set_cookie_headers() -> None:
    async def handler(request: web.Request) -> web.Response:
        resp = web.Response(text="ok")
        resp.set_cookie("a", "1", httponly=True, samesite="Lax")
        resp.set_cookie("b", "2", max_age=10, secure=True)
        resp.del_cookie("old")
        return resp

    async with serve(app_of(c=handler)) as base, httpx.AsyncClient() as client:
        resp = await client.get(f"{base}/c")
    values = resp.headers.get_list("set-cookie")
    assert len(values) == 3
    assert "a=1; HttpOnly; Path=/; SameSite=Lax" in values
    assert any(v.startswith("b=2") and "Max-Age=10" in v and "Secure" in v for v in values)
    assert any(v.startswith('old=""') and "Max-Age=0" in v for v in values)
    assert resp.cookies.get("a") == "1"


async def test_status_reason_headers_on_wire() -> None:
    async def custom(request: web.Request) -> web.Response:
        return web.Response(text="x", status=299, reason="Custom Thing", headers={"X-A": "b"})

    async def spec(request: web.Request) -> web.Response:
        return web.json_response({"message": "JSON data"}, dumps=lambda x: json.dumps(x, indent=2))

    async with serve(app_of(custom=custom, spec=spec)) as base, httpx.AsyncClient() as client:
        first = await client.get(f"{base}/custom")
        second = await client.get(f"{base}/spec")
    assert (first.status_code, first.reason_phrase, first.headers["x-a"]) == (
        299,
        "Custom Thing",
        "b",
    )
    assert second.text == '{\n  "message": "JSON data"\n}'
    assert second.headers["content-type"] == "application/json; charset=utf-8"


async def test_stream_response_chunked_and_lifecycle() -> None:
    errors: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
        resp.enable_chunked_encoding()
        first = await resp.prepare(request)
        assert await resp.prepare(request) is first  # prepare twice is safe
        assert resp.prepared
        for i in range(3):
            await resp.write(f"line {i}\n".encode())
        resp.write(b"unawaited\n")  # delivered even when not awaited
        await resp.drain()
        await resp.write_eof(b"end")
        await resp.write_eof()  # twice: no-op
        try:
            await resp.write(b"late")
        except RuntimeError as exc:
            errors.append(str(exc))
        try:
            resp.set_status(500)
        except RuntimeError:
            errors.append("status")
        return resp

    async with serve(app_of(s=handler)) as base, httpx.AsyncClient() as client:
        resp = await client.get(f"{base}/s")
    assert resp.text == "line 0\nline 1\nline 2\nunawaited\nend"
    assert resp.headers["transfer-encoding"] == "chunked"
    assert len(errors) == 2


async def test_content_length_and_force_close() -> None:
    async def sized(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_length = 6
        resp.force_close()
        await resp.prepare(request)
        await resp.write(b"abc")
        await resp.write(b"def")
        return resp

    async with serve(app_of(sized=sized)) as base:
        port = int(base.rsplit(":", 1)[1])
        raw = await raw_exchange(
            port, b"GET /sized HTTP/1.1\r\nHost: x\r\n\r\nGET /sized HTTP/1.1\r\nHost: x\r\n\r\n"
        )
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"Content-Length: 6" in head and b"Connection: close" in head
    assert body == b"abcdef"  # the connection closed after one response


async def test_head_and_prepare_hook_see_response() -> None:
    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        response.headers["X-Prepared"] = "yes"

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="body")

    app = app_of(h=handler)
    app.on_response_prepare.append(on_prepare)
    async with serve(app) as base, httpx.AsyncClient() as client:
        got = await client.get(f"{base}/h")
        head = await client.head(f"{base}/h")
    assert got.headers["x-prepared"] == "yes" and got.text == "body"
    assert head.content == b"" and head.headers["content-length"] == "4"
