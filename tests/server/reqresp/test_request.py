"""Request's public surface, checked over real sockets with httpx as the client."""

from __future__ import annotations

import json
from typing import Any

import httpx

from surge import web
from tests.helpers import serve


def app_with(
    handler: Any, method: str = "*", path: str = "/{tail:.*}", **kwargs: Any
) -> web.Application:
    app = web.Application(**kwargs)
    app.router.add_route(method, path, handler)
    return app


async def test_line_url_query_and_headers() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "method": request.method,
                "url": str(request.url),
                "rel_url": str(request.rel_url),
                "path": request.path,
                "raw_path": request.raw_path,
                "path_qs": request.path_qs,
                "query_string": request.query_string,
                "tags": request.query.getall("tag"),
                "page": request.query.get("page", "1"),
                "version": list(request.version),
                "host": request.host,
                "scheme": request.scheme,
                "secure": request.secure,
                "remote": request.remote,
                "keep_alive": request.keep_alive,
                "x": request.headers.getall("X-Multi"),
                "raw": [
                    [k.decode(), v.decode()]
                    for k, v in request.raw_headers
                    if k.lower() == b"x-multi"
                ],
                "tail": request.match_info["tail"],
                "peer": request.get_extra_info("peername")[0],
                "has_transport": request.transport is not None,
            }
        )

    async with serve(app_with(handler)) as base, httpx.AsyncClient() as client:
        resp = await client.get(
            f"{base}/a%20b/c?tag=1&tag=2&x=%C3%A9",
            headers=[("X-Multi", "one"), ("X-Multi", "two")],
        )
    data = resp.json()
    port = base.rsplit(":", 1)[1]
    assert data["method"] == "GET"
    assert data["url"] == f"http://127.0.0.1:{port}/a%20b/c?tag=1&tag=2&x=%C3%A9"
    assert data["rel_url"] == "/a%20b/c?tag=1&tag=2&x=%C3%A9"
    assert data["path"] == "/a b/c"
    assert data["raw_path"] == "/a%20b/c?tag=1&tag=2&x=%C3%A9"
    assert data["path_qs"] == "/a%20b/c?tag=1&tag=2&x=%C3%A9"
    assert data["query_string"] == "tag=1&tag=2&x=é"
    assert data["tags"] == ["1", "2"] and data["page"] == "1"
    assert data["version"] == [1, 1]
    assert data["host"] == f"127.0.0.1:{port}"
    assert (data["scheme"], data["secure"], data["remote"]) == ("http", False, "127.0.0.1")
    assert data["keep_alive"] is True
    assert data["x"] == ["one", "two"]
    assert data["raw"] == [["X-Multi", "one"], ["X-Multi", "two"]]
    assert data["tail"] == "a b/c"
    assert data["peer"] == "127.0.0.1" and data["has_transport"]


async def test_cookies_content_type_charset_and_length() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "cookies": dict(request.cookies),
                "content_type": request.content_type,
                "charset": request.charset,
                "content_length": request.content_length,
                "body_exists": request.body_exists,
                "can_read_body": request.can_read_body,
                "text": await request.text(),
                "after": request.can_read_body,
            }
        )

    async with serve(app_with(handler)) as base, httpx.AsyncClient() as client:
        resp = await client.post(
            f"{base}/",
            content="héllo".encode("latin-1"),
            headers={
                "Content-Type": "Text/Plain; Charset=ISO-8859-1",
                "Cookie": 'sid=abc; bad cookie; quoted="x y"; sid=second',
            },
        )
        empty = await client.get(f"{base}/")
    data = resp.json()
    assert data["cookies"] == {"sid": "abc", "quoted": "x y"}
    assert (data["content_type"], data["charset"]) == ("text/plain", "iso-8859-1")
    assert data["content_length"] == 5
    assert data["body_exists"] and data["can_read_body"] and not data["after"]
    assert data["text"] == "héllo"
    none = empty.json()
    assert none["content_type"] == "application/octet-stream" and none["charset"] is None
    assert not none["body_exists"] and not none["can_read_body"] and none["content_length"] is None


async def test_body_read_once_and_cached() -> None:
    async def handler(request: web.Request) -> web.Response:
        first = await request.read()
        second = await request.read()
        data = await request.json()
        return web.json_response(
            {"same": first is second, "data": data, "text": await request.text()}
        )

    async with serve(app_with(handler)) as base, httpx.AsyncClient() as client:
        resp = await client.post(f"{base}/", json={"a": [1, 2]})
    assert resp.json() == {"same": True, "data": {"a": [1, 2]}, "text": '{"a":[1,2]}'}


async def test_json_loads_and_any_content_type() -> None:
    async def handler(request: web.Request) -> web.Response:
        value = await request.json(loads=lambda s: {"wrapped": json.loads(s)})
        return web.json_response(value)

    async with serve(app_with(handler)) as base, httpx.AsyncClient() as client:
        resp = await client.post(f"{base}/", content=b"[1]", headers={"Content-Type": "text/plain"})
    assert resp.json() == {"wrapped": [1]}


async def test_validation_middleware_replaces_body() -> None:
    # The spec's middleware: set request._body and request._parsed_json, then call the handler.
    @web.middleware
    async def validate(request: web.Request, handler: web.Handler) -> web.StreamResponse:
        body = await request.json()
        body["name"] = body["name"].upper()
        request._body = json.dumps(body).encode()
        request._parsed_json = body  # type: ignore[attr-defined]
        return await handler(request)

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "json": await request.json(),
                "parsed": request._parsed_json,
                "raw": (await request.read()).decode(),
            }  # type: ignore[attr-defined]
        )

    app = web.Application(middlewares=[validate])
    app.router.add_post("/", handler)
    async with serve(app) as base, httpx.AsyncClient() as client:
        resp = await client.post(f"{base}/", json={"name": "ann"})
    assert resp.json() == {
        "json": {"name": "ANN"},
        "parsed": {"name": "ANN"},
        "raw": '{"name": "ANN"}',
    }


async def test_client_max_size_gives_413() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=str(len(await request.read())))

    async with (
        serve(app_with(handler, client_max_size=1000)) as base,
        httpx.AsyncClient() as client,
    ):
        ok = await client.post(f"{base}/", content=b"x" * 1000)
        big = await client.post(f"{base}/", content=b"x" * 1001)

        async def chunks() -> Any:
            for _ in range(5):
                yield b"y" * 300

        streamed = await client.post(f"{base}/", content=chunks())
    assert (ok.status_code, ok.text) == (200, "1000")
    assert big.status_code == 413
    assert "1000" in big.text
    assert streamed.status_code == 413


async def test_stream_content_and_payload() -> None:
    async def handler(request: web.Request) -> web.Response:
        assert request.payload is request.content
        first = await request.content.readline()
        exact = await request.content.readexactly(3)
        rest = [c async for c in request.content.iter_chunked(4)]
        return web.json_response(
            {
                "first": first.decode(),
                "exact": exact.decode(),
                "rest": b"".join(rest).decode(),
                "eof": request.content.at_eof(),
            }
        )

    async with serve(app_with(handler)) as base, httpx.AsyncClient() as client:
        resp = await client.post(f"{base}/", content=b"line one\nabcdefghij")
    assert resp.json() == {"first": "line one\n", "exact": "abc", "rest": "defghij", "eof": True}


async def test_urlencoded_post() -> None:
    async def handler(request: web.Request) -> web.Response:
        form = await request.post()
        again = await request.post()
        if request.method == "GET":
            return web.json_response({"fields": len(form)})
        return web.json_response(
            {
                "user": form["username"],
                "tags": form.getall("tag"),
                "same": form is again,
                "empty": form.get("e"),
            }
        )

    async with serve(app_with(handler)) as base, httpx.AsyncClient() as client:
        resp = await client.post(f"{base}/", data={"username": "ann é", "tag": ["a", "b"], "e": ""})
        get = await client.get(f"{base}/")
    assert resp.json() == {"user": "ann é", "tags": ["a", "b"], "same": True, "empty": ""}
    assert get.json() == {"fields": 0}


async def test_conditional_headers_and_range() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "ims": request.if_modified_since.isoformat() if request.if_modified_since else None,
                "ius": request.if_unmodified_since.isoformat()
                if request.if_unmodified_since
                else None,
                "if_range": request.if_range.isoformat() if request.if_range else None,
                "if_match": [[e.value, e.is_weak] for e in request.if_match or ()],
                "if_none_match": [[e.value, e.is_weak] for e in request.if_none_match or ()],
                "range": [request.http_range.start, request.http_range.stop],
            }
        )

    async with serve(app_with(handler)) as base, httpx.AsyncClient() as client:
        resp = await client.get(
            f"{base}/",
            headers={
                "If-Modified-Since": "Sun, 06 Nov 1994 08:49:37 GMT",
                "If-Unmodified-Since": "garbage",
                "If-Range": "Mon, 07 Nov 1994 08:49:37 GMT",
                "If-Match": '"a", W/"b"',
                "If-None-Match": "*",
                "Range": "bytes=10-19",
            },
        )
        bare = await client.get(f"{base}/")
    data = resp.json()
    assert data["ims"] == "1994-11-06T08:49:37+00:00"
    assert data["ius"] is None
    assert data["if_range"] == "1994-11-07T08:49:37+00:00"
    assert data["if_match"] == [["a", False], ["b", True]]
    assert data["if_none_match"] == [["*", False]]
    assert data["range"] == [10, 20]
    assert bare.json()["range"] == [None, None] and bare.json()["if_match"] == []


async def test_forwarded_clone_and_state() -> None:
    async def handler(request: web.Request) -> web.Response:
        request["user"] = "ann"
        clone = request.clone(
            method="POST",
            rel_url="/other?q=1",
            headers={"X-New": "1"},
            host="example.com",
            scheme="https",
            remote="10.0.0.1",
        )
        return web.json_response(
            {
                "forwarded": [dict(f) for f in request.forwarded],
                "clone": [
                    clone.method,
                    clone.path,
                    clone.query["q"],
                    clone.headers.get("X-New"),
                    clone.host,
                    clone.scheme,
                    clone.secure,
                    clone.remote,
                    str(clone.url),
                ],
                "state": [request["user"], clone.get("user"), len(request), "user" in request],
                "orig": [request.method, request.path],
            }
        )

    async with serve(app_with(handler)) as base, httpx.AsyncClient() as client:
        resp = await client.get(
            f"{base}/x",
            headers={"Forwarded": 'for=192.0.2.60;proto=https;by="[2001:db8::1]", for=1.2.3.4'},
        )
    data = resp.json()
    assert data["forwarded"] == [
        {"for": "192.0.2.60", "proto": "https", "by": "[2001:db8::1]"},
        {"for": "1.2.3.4"},
    ]
    assert data["clone"] == [
        "POST",
        "/other",
        "1",
        "1",
        "example.com",
        "https",
        True,
        "10.0.0.1",
        "https://example.com/other?q=1",
    ]
    assert data["state"] == ["ann", "ann", 1, True]
    assert data["orig"] == ["GET", "/x"]


async def test_request_properties_of_spec() -> None:
    # The spec's "Request Properties" handler, printing each property.
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        seen.update(
            method=request.method,
            path=request.url.path,
            query=request.url.query_string,
            version=request.version,
            cookies=dict(request.cookies),
            ctype=request.content_type,
            can_read=request.can_read_body,
            payload=type(request.payload).__name__,
        )
        return web.Response(text="OK")

    async with serve(app_with(handler)) as base, httpx.AsyncClient() as client:
        resp = await client.post(f"{base}/p?a=1", json={}, headers={"Cookie": "c=v"})
    assert resp.text == "OK"
    assert seen == {
        "method": "POST",
        "path": "/p",
        "query": "a=1",
        "version": (1, 1),
        "cookies": {"c": "v"},
        "ctype": "application/json",
        "can_read": True,
        "payload": "StreamReader",
    }
