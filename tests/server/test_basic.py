"""The basic request/response cycle over real sockets, checked with httpx and curl."""

from __future__ import annotations

import asyncio
import subprocess

import httpx

from surge import web
from tests.conftest import require_tool
from tests.helpers import serve


def make_app() -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="Hello, World!")

    async def user(request: web.Request) -> web.Response:
        return web.json_response({"id": request.match_info["user_id"]})

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    async def stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.headers["Content-Type"] = "text/plain"
        await resp.prepare(request)
        for i in range(3):
            resp.write(f"line {i}\n".encode())  # not awaited, as the spec's SSE example does
            await resp.drain()
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_get("/users/{user_id:int}", user)
    app.router.add_post("/echo", echo)
    app.router.add_get("/stream", stream)
    return app


async def test_plain_text_json_and_typed_route() -> None:
    async with serve(make_app()) as url, httpx.AsyncClient(base_url=url) as client:
        resp = await client.get("/")
        assert resp.status_code == 200
        assert resp.text == "Hello, World!"
        assert resp.headers["content-type"] == "text/plain; charset=utf-8"
        assert resp.headers["content-length"] == "13"
        resp = await client.get("/users/42")
        assert resp.json() == {"id": 42}
        assert (await client.get("/users/abc")).status_code == 404


async def test_echo_and_405_with_allow() -> None:
    async with serve(make_app()) as url, httpx.AsyncClient(base_url=url) as client:
        payload = bytes(range(256)) * 300
        resp = await client.post("/echo", content=payload)
        assert resp.content == payload
        resp = await client.post("/")
        assert resp.status_code == 405
        assert resp.headers["allow"] == "GET,HEAD"


async def test_unawaited_writes_arrive_in_order_chunked() -> None:
    async with serve(make_app()) as url, httpx.AsyncClient(base_url=url) as client:
        resp = await client.get("/stream")
        assert resp.headers["transfer-encoding"] == "chunked"
        assert resp.text == "line 0\nline 1\nline 2\n"


async def test_keep_alive_with_curl() -> None:
    curl = require_tool("curl")
    async with serve(make_app()) as url:
        proc = await asyncio.create_subprocess_exec(
            curl,
            "-sv",
            f"{url}/",
            f"{url}/users/7",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = await proc.communicate()
        assert out == b'Hello, World!{"id": 7}'
        assert b"Re-using existing connection" in err or b"reusing" in err.lower()


async def test_request_version_is_a_named_tuple() -> None:
    async def version(request: web.Request) -> web.Response:
        v = request.version
        return web.json_response([v.major, v.minor, v == (v.major, v.minor)])

    app = web.Application()
    app.router.add_get("/v", version)
    async with serve(app) as url:
        port = int(url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /v HTTP/1.0\r\n\r\n")
        reply = await reader.read()
        writer.close()
        assert reply.endswith(b"[1, 0, true]")
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/v")).json() == [1, 1, True]
        async with httpx.AsyncClient(base_url=url, http1=False, http2=True) as client:
            assert (await client.get("/v")).json() == [2, 0, True]
