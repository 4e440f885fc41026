"""ClientSession against surge's own server: verbs, options, bodies, life cycle."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import warnings
from collections.abc import AsyncIterator

import pytest
from multidict import MultiDict

import surge
from surge import web
from tests.helpers import serve


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "path": request.path,
            "query": list(request.query.items()),
            "headers": dict(request.headers),
            "body": body.decode("latin-1"),
        }
    )


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


async def test_get_json_and_response_fields() -> None:
    async with serve(make_app()) as base, surge.ClientSession() as session:
        async with session.get(base + "/users/1") as resp:
            assert resp.status == 200 and resp.ok and resp.reason == "OK"
            assert resp.content_type == "application/json"
            assert resp.charset == "utf-8"
            assert resp.version == (1, 1)
            assert str(resp.url) == base + "/users/1"
            assert resp.request_info.method == "GET"
            data = await resp.json()
        assert data["method"] == "GET" and data["path"] == "/users/1"
        headers = {k.lower(): v for k, v in data["headers"].items()}
        assert headers["host"] == base.removeprefix("http://")
        assert headers["accept-encoding"] == "gzip, deflate, br, zstd"
        assert headers["user-agent"].startswith("Python/")


async def test_base_url_and_session_headers() -> None:
    async with (
        serve(make_app()) as base,
        surge.ClientSession(base_url=base, headers={"Authorization": "Bearer token"}) as s,
        s.get("/users/1", headers={"X-Extra": "1"}) as resp,
    ):
        data = await resp.json()
    assert data["path"] == "/users/1"
    assert data["headers"]["Authorization"] == "Bearer token"
    assert data["headers"]["X-Extra"] == "1"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "python", "page": 1}, [["q", "python"], ["page", "1"]]),
        ([("a", "1"), ("a", "2")], [["a", "1"], ["a", "2"]]),
        (MultiDict([("k", "v"), ("k", "w")]), [["k", "v"], ["k", "w"]]),
        ({"x": ["1", "2"]}, [["x", "1"], ["x", "2"]]),
        ("a=b%20c&d=e", [["a", "b c"], ["d", "e"]]),
    ],
)
async def test_params(params: object, expected: list[list[str]]) -> None:
    async with (
        serve(make_app()) as base,
        surge.ClientSession(base_url=base) as s,
        s.get("/search", params=params) as resp,
    ):
        assert (await resp.json())["query"] == expected


async def test_bodies() -> None:
    async with serve(make_app()) as base, surge.ClientSession(base_url=base) as s:
        async with s.post("/users", json={"name": "John"}) as resp:
            data = await resp.json()
        assert json.loads(data["body"]) == {"name": "John"}
        assert data["headers"]["Content-Type"] == "application/json"

        async with s.post("/login", data={"username": "john", "password": "secret"}) as resp:
            data = await resp.json()
        assert data["body"] == "username=john&password=secret"
        assert data["headers"]["Content-Type"] == "application/x-www-form-urlencoded"

        async with s.post("/data", data="raw string", content_type="text/plain") as resp:
            data = await resp.json()
        assert data["body"] == "raw string"
        assert data["headers"]["Content-Type"] == "text/plain"

        async with s.put("/bytes", data=b"\x00\x01") as resp:
            data = await resp.json()
        assert data["body"] == "\x00\x01" and data["headers"]["Content-Length"] == "2"
        assert data["method"] == "PUT"


async def test_streamed_bodies() -> None:
    async def gen() -> AsyncIterator[bytes]:
        for part in (b"one ", b"two ", b"three"):
            yield part

    async with serve(make_app()) as base, surge.ClientSession(base_url=base) as s:
        async with s.post("/stream", data=gen()) as resp:
            data = await resp.json()
        assert data["body"] == "one two three"
        assert data["headers"]["Transfer-Encoding"] == "chunked"

        async with s.post("/file", data=io.BytesIO(b"file-content")) as resp:
            data = await resp.json()
        assert data["body"] == "file-content"


async def test_compress_request_body() -> None:

    async with (
        serve(make_app()) as base,
        surge.ClientSession(base_url=base) as s,
        s.post("/c", data=b"x" * 1000, compress="deflate") as resp,
    ):
        data = await resp.json()
    assert data["headers"]["Content-Encoding"] == "deflate"
    # surge's server decodes request Content-Encoding (as aiohttp's does): the handler sees
    # the original bytes only if the client's deflate stream was valid.
    assert data["body"].encode("latin-1") == b"x" * 1000


async def test_skip_auto_headers() -> None:
    async with (
        serve(make_app()) as base,
        surge.ClientSession(base_url=base) as s,
        s.get("/", skip_auto_headers=["User-Agent", "Accept-Encoding"]) as resp,
    ):
        headers = (await resp.json())["headers"]
    assert "User-Agent" not in headers and "Accept-Encoding" not in headers


async def test_basic_auth_and_auth_in_url() -> None:
    async with serve(make_app()) as base, surge.ClientSession() as s:
        async with s.get(base + "/", auth=surge.BasicAuth("user", "pass")) as resp:
            headers = (await resp.json())["headers"]
        assert surge.BasicAuth.decode(headers["Authorization"]) == ("user", "pass", "latin1")
        async with s.get(base.replace("http://", "http://u:p@") + "/") as resp:
            headers = (await resp.json())["headers"]
        assert surge.BasicAuth.decode(headers["Authorization"]).password == "p"


async def test_await_without_context_manager_and_all_verbs() -> None:
    async with serve(make_app()) as base, surge.ClientSession(base_url=base) as s:
        for verb in ("get", "post", "put", "patch", "delete", "options"):
            resp = await getattr(s, verb)("/v")
            assert (await resp.json())["method"] == verb.upper()
        resp = await s.head("/v")
        assert resp.status == 200 and await resp.read() == b""
        resp = await s.request("PATCH", "/x")
        assert (await resp.json())["method"] == "PATCH"


async def test_text_uses_charset() -> None:
    async def latin(request: web.Request) -> web.Response:
        return web.Response(
            body="café".encode("latin-1"), content_type="text/plain", charset="latin-1"
        )

    app = web.Application()
    app.router.add_get("/", latin)
    async with serve(app) as base, surge.ClientSession() as s, s.get(base) as resp:
        assert await resp.text() == "café"
        assert await resp.read() == "café".encode("latin-1")


async def test_json_content_type_error() -> None:
    async def text(request: web.Request) -> web.Response:
        return web.Response(text='{"a": 1}')

    app = web.Application()
    app.router.add_get("/", text)
    async with serve(app) as base, surge.ClientSession() as s, s.get(base) as resp:
        with pytest.raises(surge.ContentTypeError) as info:
            await resp.json()
        assert info.value.status == 200
        assert await resp.json(content_type=None) == {"a": 1}


async def test_raise_for_status() -> None:
    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404, text="nope")

    app = web.Application()
    app.router.add_get("/", missing)
    async with serve(app) as base, surge.ClientSession() as s:
        async with s.get(base) as resp:
            assert not resp.ok
            with pytest.raises(surge.ClientResponseError) as info:
                resp.raise_for_status()
        assert info.value.status == 404 and info.value.message == "Not Found"
        assert info.value.request_info.url == resp.url
        async with surge.ClientSession(raise_for_status=True) as strict:
            with pytest.raises(surge.ClientResponseError):
                await strict.get(base)
            with pytest.raises(surge.ClientResponseError):
                await s.get(base, raise_for_status=True)


async def test_streaming_the_body() -> None:
    async def big(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        for i in range(50):
            await resp.write(b"line %d\n" % i)
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/", big)
    async with serve(app) as base, surge.ClientSession() as s:
        async with s.get(base) as resp:
            lines = [line async for line in resp.content]
        assert lines[0] == b"line 0\n" and lines[-1] == b"line 49\n" and len(lines) == 50
        async with s.get(base) as resp:
            chunks = [c async for c in resp.content.iter_chunked(7)]
        assert b"".join(chunks) == b"".join(b"line %d\n" % i for i in range(50))


async def test_close_detach_and_closed() -> None:
    session = surge.ClientSession()
    assert not session.closed
    await session.close()
    assert session.closed
    with pytest.raises(RuntimeError, match="closed"):
        await session.get("http://127.0.0.1:1/")
    connector = surge.TCPConnector()
    other = surge.ClientSession(connector=connector)
    other.detach()
    assert other.closed and not connector.closed
    await connector.close()


async def test_unclosed_session_warns() -> None:
    session = surge.ClientSession()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del session
        gc.collect()
    assert any(issubclass(w.category, ResourceWarning) for w in caught)


async def test_one_shot_request() -> None:
    async with serve(make_app()) as base:
        async with surge.request("GET", base + "/one") as resp:
            assert (await resp.json())["path"] == "/one"
        resp = await surge.request("POST", base + "/two", data=b"x")
        assert resp.status == 200 and json.loads(await resp.read())["body"] == "x"


async def test_server_closing_after_response_is_not_reused() -> None:
    async def closing(request: web.Request) -> web.Response:
        return web.Response(text="bye", headers={"Connection": "close"})

    app = web.Application()
    app.router.add_get("/", closing)
    async with serve(app) as base, surge.ClientSession() as s:
        for _ in range(3):
            async with s.get(base) as resp:
                assert await resp.text() == "bye"
        await asyncio.sleep(0)
        connector = s.connector
        assert isinstance(connector, surge.TCPConnector)
        assert connector._pool == {}
