"""TraceConfig: aiohttp's signals fire in order, with their params and the request's context."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

import surge
from surge import web
from tests.helpers import serve

SIGNALS = [
    "on_request_start",
    "on_request_chunk_sent",
    "on_response_chunk_received",
    "on_request_end",
    "on_request_exception",
    "on_request_redirect",
    "on_connection_queued_start",
    "on_connection_queued_end",
    "on_connection_create_start",
    "on_connection_create_end",
    "on_connection_reuseconn",
    "on_dns_resolvehost_start",
    "on_dns_resolvehost_end",
    "on_dns_cache_hit",
    "on_dns_cache_miss",
    "on_request_headers_sent",
]


def recording_config() -> tuple[surge.TraceConfig, list[tuple[str, Any, Any]]]:
    seen: list[tuple[str, Any, Any]] = []
    config = surge.TraceConfig()
    for name in SIGNALS:

        async def callback(
            session: surge.ClientSession, ctx: SimpleNamespace, params: Any, name: str = name
        ) -> None:
            seen.append((name, ctx.trace_request_ctx, params))

        getattr(config, name).append(callback)
    return config, seen


def _app() -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="hello")

    async def hop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/hello")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.05)
        return web.Response(text="slow")

    app = web.Application()
    app.router.add_route("*", "/hello", hello)
    app.router.add_get("/hop", hop)
    app.router.add_get("/slow", slow)
    return app


async def test_signals_of_a_redirected_post_and_a_reused_connection() -> None:
    config, seen = recording_config()
    async with serve(_app()) as base:
        url = base.replace("127.0.0.1", "localhost")
        async with surge.ClientSession(trace_configs=[config]) as s:
            async with s.post(f"{url}/hello", data=b"body!", trace_request_ctx={"id": 1}) as r:
                assert await r.text() == "hello"
            first = [name for name, _, _ in seen]
            seen.clear()
            async with s.get(f"{url}/hop", trace_request_ctx="second") as r:
                assert await r.text() == "hello"
            second = [name for name, _, _ in seen]
            by_name = {name: params for name, _, params in seen}
    assert first == [
        "on_request_start",
        "on_connection_create_start",
        "on_dns_cache_miss",
        "on_dns_resolvehost_start",
        "on_dns_resolvehost_end",
        "on_connection_create_end",
        "on_request_headers_sent",
        "on_request_chunk_sent",
        "on_request_end",
        "on_response_chunk_received",
    ]
    assert second == [
        "on_request_start",
        "on_connection_reuseconn",
        "on_request_headers_sent",
        "on_request_redirect",
        "on_connection_reuseconn",
        "on_request_headers_sent",
        "on_request_end",
        "on_response_chunk_received",
    ]
    assert all(ctx == "second" for _, ctx, _ in seen)
    start = by_name["on_request_start"]
    assert isinstance(start, surge.TraceRequestStartParams)
    assert (start.method, str(start.url)) == ("GET", f"{url}/hop")
    redirect = by_name["on_request_redirect"]
    assert isinstance(redirect, surge.TraceRequestRedirectParams)
    assert redirect.response.status == 302
    end = by_name["on_request_end"]
    assert isinstance(end, surge.TraceRequestEndParams)
    assert end.response.status == 200
    chunk = by_name["on_response_chunk_received"]
    assert isinstance(chunk, surge.TraceResponseChunkReceivedParams)
    assert chunk.chunk == b"hello"


async def test_chunk_sent_carries_the_body_and_dns_cache_hit() -> None:
    config, seen = recording_config()
    async with serve(_app()) as base:
        url = base.replace("127.0.0.1", "localhost")
        connector = surge.TCPConnector(force_close=True)
        async with surge.ClientSession(connector=connector, trace_configs=[config]) as s:
            for _ in range(2):
                async with s.post(f"{url}/hello", data=b"payload") as r:
                    await r.read()
    sent = [p for name, _, p in seen if name == "on_request_chunk_sent"]
    assert [p.chunk for p in sent] == [b"payload", b"payload"]
    dns = [(name, p.host) for name, _, p in seen if name.startswith("on_dns")]
    assert dns[-1] == ("on_dns_cache_hit", "localhost")


async def test_queued_signals_when_the_limit_is_reached() -> None:
    config, seen = recording_config()
    async with serve(_app()) as base:
        connector = surge.TCPConnector(limit=1)
        async with surge.ClientSession(connector=connector, trace_configs=[config]) as s:

            async def fetch() -> str:
                async with s.get(f"{base}/slow") as r:
                    return await r.text()

            assert await asyncio.gather(fetch(), fetch()) == ["slow", "slow"]
    names = [name for name, _, _ in seen]
    assert names.count("on_connection_queued_start") == 1
    assert names.count("on_connection_queued_end") == 1
    assert names.count("on_connection_create_end") == 1
    assert names.count("on_connection_reuseconn") == 1


async def test_exception_signal_on_a_refused_port() -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    config, seen = recording_config()
    async with surge.ClientSession(trace_configs=[config]) as s:
        with pytest.raises(surge.ClientConnectorError):
            await s.get(f"http://127.0.0.1:{port}/")
    name, _, params = seen[-1]
    assert name == "on_request_exception"
    assert isinstance(params, surge.TraceRequestExceptionParams)
    assert isinstance(params.exception, surge.ClientConnectorError)


async def test_trace_configs_freeze_with_the_session() -> None:
    config = surge.TraceConfig()

    async def cb(*args: Any) -> None:
        pass

    config.on_request_start.append(cb)
    async with surge.ClientSession(trace_configs=[config]):
        with pytest.raises(RuntimeError):
            config.on_request_start.append(cb)


def test_trace_config_ctx_factory() -> None:
    class Ctx(SimpleNamespace):
        pass

    config = surge.TraceConfig(trace_config_ctx_factory=Ctx)
    ctx = config.trace_config_ctx(trace_request_ctx={"a": 1})
    assert isinstance(ctx, Ctx)
    assert ctx.trace_request_ctx == {"a": 1}
