"""TestServer and RawTestServer on real loopback sockets, checked with httpx."""

from __future__ import annotations

import httpx
import pytest

from surge import web
from surge.test_utils import RawTestServer, TestServer


def _app(events: list[str]) -> web.Application:
    app = web.Application()

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=f"hello {request.query.get('name', 'world')}")

    async def on_startup(app: web.Application) -> None:
        events.append("startup")

    async def on_cleanup(app: web.Application) -> None:
        events.append("cleanup")

    app.router.add_get("/hello", hello)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


async def test_test_server_serves_app_and_runs_hooks() -> None:
    events: list[str] = []
    app = _app(events)
    server = TestServer(app)
    assert server.app is app and not server.started
    await server.start_server()
    assert events == ["startup"]
    assert server.host == "127.0.0.1" and server.scheme == "http"
    assert isinstance(server.port, int) and server.port > 0
    url = server.make_url("/hello?name=surge")
    assert str(url) == f"http://127.0.0.1:{server.port}/hello?name=surge"
    async with httpx.AsyncClient() as client:
        resp = await client.get(str(url))
    assert resp.status_code == 200
    assert resp.text == "hello surge"
    assert isinstance(server.handler, web.Server)
    await server.close()
    assert events == ["startup", "cleanup"] and server.closed
    await server.close()  # a second close is a no-op
    assert events == ["startup", "cleanup"]


async def test_test_server_context_manager_stops_listening() -> None:
    async with TestServer(_app([])) as server:
        port = server.port
        async with httpx.AsyncClient() as client:
            assert (await client.get(str(server.make_url("/hello")))).text == "hello world"
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/hello")


async def test_make_url_refuses_absolute_urls() -> None:
    async with TestServer(_app([])) as server:
        with pytest.raises(AssertionError):
            server.make_url("http://example.com/")


async def test_raw_test_server_calls_handler() -> None:
    async def handler(request: web.BaseRequest) -> web.Response:
        body = await request.read()
        return web.Response(body=request.method.encode() + b" " + body)

    async with RawTestServer(handler) as server, httpx.AsyncClient() as client:
        resp = await client.post(str(server.make_url("/x")), content=b"payload")
    assert resp.status_code == 200
    assert resp.content == b"POST payload"


async def test_raw_test_server_reports_handler_errors_as_500() -> None:
    async def handler(request: web.BaseRequest) -> web.Response:
        raise ValueError("boom")

    async with RawTestServer(handler) as server, httpx.AsyncClient() as client:
        resp = await client.get(str(server.make_url("/")))
    assert resp.status_code == 500
    assert "ValueError" in resp.text  # RawTestServer runs in debug mode, as aiohttp's


async def test_fixed_port() -> None:
    from surge.test_utils import unused_port

    port = unused_port()
    async with TestServer(_app([]), port=port) as server:
        assert server.port == port
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}/hello")).status_code == 200
