"""The spec's Client Configuration, Client Response and Client WebSocket examples, run with the
aiohttp alias against independent servers (http.server, with TLS from a trustme CA; the
`websockets` library)."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
import websockets

from tests.examples.loader import load
from tests.examples.local_server import Seen, json_reply, local_server
from tests.examples.probe import probe_sessions

API = "https://api.example.com"


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server_ctx(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    return ctx


@pytest.fixture
def trusted_ca_file(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CA as the process's default trust store: ssl.create_default_context() reads
    $SSL_CERT_FILE, so the example's own context trusts the local TLS server."""
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    monkeypatch.setenv("SSL_CERT_FILE", str(path))
    return path


def _echo(seen: Seen) -> tuple[int, dict[str, str], bytes]:
    return json_reply(json.dumps({"path": seen.path}).encode())


@pytest.fixture
def servers(tls_server_ctx: ssl.SSLContext) -> Iterator[tuple[Any, Any]]:
    routes = {"/users/1": _echo, "/probe": _echo}
    with local_server(routes) as plain, local_server(routes, tls=tls_server_ctx) as tls:
        yield plain, tls


def test_client_configuration(
    servers: tuple[Any, Any], trusted_ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each session the example opens (and leaves with `pass`) is probed (see probe.py)."""
    plain, tls = servers
    ns = load("client_configuration", keep_locals=("configured_client",), **{API: plain.url})
    probes = probe_sessions(
        monkeypatch, [None, plain.url + "/probe", plain.url + "/probe", tls.url + "/probe"]
    )
    asyncio.run(ns["configured_client"]())
    final = ns["spec_locals"]["configured_client"]
    sessions = probes.sessions
    assert len(sessions) == 4 and all(s.closed for s in sessions)

    # base_url + headers: the relative URL went to the base, with the session's header.
    first = plain.seen[0]
    assert (first.method, first.path) == ("GET", "/users/1")
    assert first.headers["Authorization"] == "Bearer token"
    # The timeout is the session's.
    timeout = final["timeout"]
    assert (timeout.total, timeout.connect, timeout.sock_read) == (30, 5, 10)
    assert sessions[1].timeout == timeout
    # The timeout session has no cookie; the cookie session sends it.
    assert "Cookie" not in plain.seen[1].headers
    assert plain.seen[2].headers["Cookie"] == "session=abc123"
    assert "Authorization" not in plain.seen[2].headers
    # The ssl session verified the local server through the (default, CA-trusting) context.
    assert [s.path for s in tls.seen] == ["/probe"]
    assert probes.answers == [(200, {"path": "/probe"})] * 3


async def test_client_session_ssl_context_rejects_untrusted(
    servers: tuple[Any, Any],
) -> None:
    """Without the CA in the trust store the same session refuses the server's certificate."""
    _, tls = servers
    from surge import ClientConnectorCertificateError, ClientSession

    async with ClientSession(ssl=ssl.create_default_context()) as session:
        with pytest.raises(ClientConnectorCertificateError):
            await session.get(tls.url + "/probe")
    assert tls.seen == []


def test_client_response(capsys: pytest.CaptureFixture[str]) -> None:
    def start(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        return 302, {"Location": "/final", "Set-Cookie": "visited=1; Path=/"}, b""

    def final(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        return json_reply(b'{"ok": true}', **{"Set-Cookie": "session=xyz; Path=/", "X-Env": "t"})

    with local_server({"/": start, "/final": final}) as api:
        ns = load("client_response", keep_locals=("handle_response",), **{API: api.url + "/"})
        asyncio.run(ns["handle_response"]())
        got = ns["spec_locals"]["handle_response"]
        assert [(s.method, s.path) for s in api.seen] == [("GET", "/"), ("GET", "/final")]
        # As aiohttp's default (safe) cookie jar: cookies from an IP-address host are not kept.
        assert "Cookie" not in api.seen[1].headers
    out = capsys.readouterr().out.splitlines()
    status, headers, content_type, cookies, history = out
    assert status == "200"
    assert headers.startswith("<CIMultiDictProxy(") and "'X-Env': 't'" in headers
    assert content_type == "application/json"
    assert "session=xyz" in cookies and "visited" not in cookies  # this response's cookies
    assert history.startswith("(<ClientResponse(") and "[302 Found]" in history
    assert history.count("<ClientResponse(") == 1
    assert got["text"] == '{"ok": true}'
    assert got["json_data"] == {"ok": True}
    assert got["content"] == b'{"ok": true}'


async def test_client_websocket_against_websockets_server() -> None:
    received: list[str | bytes] = []
    close_codes: list[int | None] = []

    async def handler(conn: Any) -> None:
        async for message in conn:
            received.append(message)
            if len(received) == 2:
                await conn.send("welcome")
        close_codes.append(conn.close_code)

    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        ns = load(
            "client_websocket",
            keep_locals=("websocket_client",),
            **{"wss://example.com/ws": f"ws://127.0.0.1:{port}/ws"},
        )
        await ns["websocket_client"]()
        got = ns["spec_locals"]["websocket_client"]
        for _ in range(100):
            if close_codes:
                break
            await asyncio.sleep(0.01)
    assert received == ["Hello", '{"type": "message", "data": "test"}']
    from surge import WSMsgType

    assert got["msg"].type is WSMsgType.TEXT
    assert got["text"] == "welcome"
    assert got["ws"].closed
    assert close_codes == [1000]
