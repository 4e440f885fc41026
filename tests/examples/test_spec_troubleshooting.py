"""The spec's Troubleshooting and Best Practices examples: clients against independent servers
(http.server, TLS from trustme), servers checked with httpx and the websockets library."""

from __future__ import annotations

import asyncio
import gc
import logging
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
import websockets

from tests.examples.loader import load
from tests.examples.local_server import Seen, json_reply, local_server
from tests.examples.probe import probe_sessions
from tests.helpers import serve

API = "https://api.example.com"


def test_timeouts_raise_as_aiohttp_does() -> None:
    """A server that never answers: the example's sock_read (shortened from 10 s) ends the wait
    with ServerTimeoutError, an asyncio.TimeoutError, as aiohttp raises."""
    release = threading.Event()

    def stall(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        release.wait(10)
        return json_reply(b"{}")

    try:
        with local_server({"/": stall}) as api:
            ns = load("timeout_issues", **{API: api.url, "sock_read=10": "sock_read=0.2"})
            from surge import ServerTimeoutError

            with pytest.raises(ServerTimeoutError) as info:
                asyncio.run(ns["fetch_with_timeouts"]())
            assert isinstance(info.value, asyncio.TimeoutError)
            # The total budget ends a slow answer the same way (aiohttp: asyncio.TimeoutError).
            ns = load("timeout_issues", **{API: api.url, "total=30": "total=0.3"})
            with pytest.raises(asyncio.TimeoutError):
                asyncio.run(ns["fetch_with_timeouts"]())
            release.set()
    finally:
        release.set()


def test_timeouts_allow_a_prompt_answer() -> None:
    with local_server({"/": lambda seen: json_reply(b'{"ok": 1}')}) as api:
        ns = load("timeout_issues", keep_locals=("fetch_with_timeouts",), **{API: api.url})
        asyncio.run(ns["fetch_with_timeouts"]())
    got = ns["spec_locals"]["fetch_with_timeouts"]
    assert got["data"] == {"ok": 1}
    assert (got["timeout"].total, got["timeout"].sock_read) == (30, 10)


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_api(ca: trustme.CA) -> Iterator[Any]:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    with local_server({"/": lambda seen: json_reply(b'{"tls": true}')}, tls=ctx) as server:
        yield server


def test_ssl_solution_2_custom_ca_file(
    ca: trustme.CA, tls_api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "ca-bundle.crt"
    ca.cert_pem.write_to_path(str(bundle))
    ns = load("ssl_errors", **{"/path/to/ca-bundle.crt": str(bundle)})
    probes = probe_sessions(monkeypatch, [tls_api.url + "/"])
    asyncio.run(ns["custom_ssl_context"]())
    assert probes.answers == [(200, {"tls": True})]  # verified against the given CA only


async def test_ssl_solution_3_no_verification_for_a_self_signed_server(tls_api: Any) -> None:
    ns = load("ssl_errors")
    from surge import ClientConnectorCertificateError, ClientSession

    async with ClientSession() as session:  # the default trust store: the CA is unknown
        with pytest.raises(ClientConnectorCertificateError):
            await session.get(tls_api.url + "/")
    async with (
        ClientSession(ssl=ns["ssl_context"]) as session,
        session.get(tls_api.url + "/") as response,
    ):
        assert await response.json() == {"tls": True}
    connector = ns["aiohttp"].TCPConnector(ssl=ns["ssl_context"])
    async with (
        ClientSession(connector=connector) as session,
        session.get(tls_api.url + "/") as response,
    ):
        assert response.status == 200


class _Closable:
    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True


async def test_memory_leak_solutions(monkeypatch: pytest.MonkeyPatch) -> None:
    collected: list[int] = []
    real_collect = gc.collect
    monkeypatch.setattr(gc, "collect", lambda *a: collected.append(1) or real_collect(*a))
    with local_server({"/": lambda seen: json_reply(b'{"upstream": 1}')}) as upstream:
        ns = load("memory_leaks", **{"https://example.com": upstream.url + "/"})
        web = ns["web"]
        app = web.Application()
        app.router.add_get("/api/good", ns["good_handler"])
        app.router.add_get("/memory", ns["memory_monitor"])
        app.router.add_get("/ws", ns["websocket_handler"])
        app["db_pool"], app["cache"] = _Closable(), _Closable()
        app.on_cleanup.append(ns["on_cleanup"])
        ns["setup_gc"](app)
        async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
            r = await client.get("/api/good")
            assert (r.status_code, r.text) == (200, "{'upstream': 1}")
            assert collected == [1]  # gc ran for the /api/ path
            r = await client.get("/memory")
            assert r.text.startswith("Memory: ") and r.text.endswith(" MB")
            assert float(r.text.split()[1]) > 0
            assert collected == [1]  # not for others
            async with websockets.connect(base.replace("http", "ws") + "/ws") as ws:
                await ws.send("one")
                assert await ws.recv() == "Echo: one"
                await ws.send("two")
                assert await ws.recv() == "Echo: two"
            assert ws.close_code == 1000
            assert not app["db_pool"].closed
        assert len(upstream.seen) == 1
    assert app["db_pool"].closed and app["cache"].closed


async def test_session_management_one_shared_session() -> None:
    with local_server({"/data": lambda seen: json_reply(b'{"n": 1}')}) as upstream:
        ns = load("best_practices", **{API: upstream.url})
        app = ns["app"]
        app.router.add_get("/", ns["good_handler"])
        async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
            session = app["session"]
            assert not session.closed
            statuses = [(await client.get("/")).status_code for _ in range(3)]
            assert app["session"] is session
        assert session.closed  # closed on cleanup
        await ns["session"].close()
    assert [s.path for s in upstream.seen] == ["/data"] * 3
    # The handler returns the ClientResponse itself, not a web response: aiohttp answers 500.
    assert statuses == [500] * 3


async def test_connection_settings_and_safe_request(caplog: pytest.LogCaptureFixture) -> None:
    def fail(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        return 500, {"Content-Type": "application/json"}, b'{"error": 1}'

    routes = {"/data": lambda seen: json_reply(b'{"n": 1}'), "/fail": fail}
    with local_server(routes) as upstream:
        ns = load("best_practices")
        connector = ns["connector"]
        assert (connector.limit, connector.limit_per_host) == (100, 30)
        assert ns["session"].connector is connector
        for _ in range(3):
            assert await ns["safe_request"](upstream.url + "/data") == {"n": 1}
        with caplog.at_level(logging.ERROR, logger="spec.best_practices"):
            assert await ns["safe_request"](upstream.url + "/fail") is None
        await ns["session"].close()
    assert connector.closed
    assert [r.getMessage() for r in caplog.records if r.name == "spec.best_practices"] == [
        f"Request failed: 500, message='Internal Server Error', url='{upstream.url}/fail'"
    ]
