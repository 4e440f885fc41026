"""``ws_connect`` through HTTP proxies: ws:// and wss:// in a CONNECT tunnel, proxy auth,
``proxy_headers``, the session's and the environment's proxy.

Two independent proxies: proxy.py (a real proxy server, its access log shows the tunnel) and
the raw-socket proxy of the client tests (it keeps every request head it receives). The
origins are the ``websockets`` library's servers.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

import surge
from tests.client.proxy_server import forward_proxy
from tests.conftest import require_tool


def _basic(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


class _Origin:
    """A ``websockets`` echo server that keeps the request headers it was sent."""

    def __init__(self) -> None:
        self.requests: list[Any] = []

    async def handler(self, conn: ServerConnection) -> None:
        self.requests.append(conn.request.headers if conn.request else None)
        with contextlib.suppress(ConnectionClosed):
            async for message in conn:
                await conn.send(message)


@contextlib.asynccontextmanager
async def origin(tls: ssl.SSLContext | None = None) -> AsyncIterator[tuple[_Origin, int]]:
    srv = _Origin()
    async with serve(srv.handler, "127.0.0.1", 0, ssl=tls) as server:
        yield srv, next(iter(server.sockets)).getsockname()[1]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server_tls(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(ctx)
    return ctx


def _client_tls(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


class ProxyPy:
    def __init__(self, port: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log

    def wait_for_log(self, needle: str) -> str:
        """The access log once it mentions ``needle`` (a line is written when a tunnel
        ends, which may be just after the client saw its end)."""
        deadline = time.monotonic() + 10
        while True:
            text = self.log.read_text() if self.log.exists() else ""
            if needle in text or time.monotonic() > deadline:
                return text
            time.sleep(0.02)


@pytest.fixture(scope="module")
def proxy_py(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyPy]:
    """proxy.py on a free port, requiring Basic credentials ``pu:pp``."""
    if importlib.util.find_spec("proxy") is None:
        require_tool("proxy")  # the proxy.py package (dev extra): skips locally, fails in CI
    tmp = tmp_path_factory.mktemp("proxy_py")
    port_file, log = tmp / "port", tmp / "access.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "proxy",
            "--hostname",
            "127.0.0.1",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--num-workers",
            "1",
            "--num-acceptors",
            "1",
            "--basic-auth",
            "pu:pp",
            "--log-level",
            "INFO",
            "--log-file",
            str(log),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("proxy.py did not start")
            time.sleep(0.05)
        yield ProxyPy(int(port_file.read_text()), log)
    finally:
        proc.terminate()
        proc.wait(10)


async def _echo_once(ws: surge.ClientWebSocketResponse, text: str) -> str:
    await ws.send_str(text)
    msg = await ws.receive()
    assert msg.type == surge.WSMsgType.TEXT
    return str(msg.data)


async def test_ws_through_proxy_py_with_proxy_auth(proxy_py: ProxyPy) -> None:
    async with (
        origin() as (srv, port),
        surge.ClientSession() as session,
        session.ws_connect(
            f"ws://127.0.0.1:{port}/chat",
            proxy=proxy_py.url,
            proxy_auth=surge.BasicAuth("pu", "pp"),
        ) as ws,
    ):
        assert await _echo_once(ws, "plain through proxy.py") == "plain through proxy.py"
    assert f"CONNECT 127.0.0.1:{port}" in proxy_py.wait_for_log(f"CONNECT 127.0.0.1:{port}")
    assert "Proxy-Authorization" not in srv.requests[0]


async def test_wss_through_proxy_py_credentials_in_the_proxy_url(
    proxy_py: ProxyPy, ca: trustme.CA
) -> None:
    proxy = proxy_py.url.replace("http://", "http://pu:pp@")
    async with (
        origin(_server_tls(ca)) as (srv, port),
        surge.ClientSession() as session,
        session.ws_connect(f"wss://localhost:{port}/", proxy=proxy, ssl=_client_tls(ca)) as ws,
    ):
        assert await _echo_once(ws, "secure through proxy.py") == "secure through proxy.py"
        await ws.send_bytes(b"\x01" * 300_000)
        assert await ws.receive_bytes() == b"\x01" * 300_000
    assert f"CONNECT localhost:{port}" in proxy_py.wait_for_log(f"CONNECT localhost:{port}")
    assert len(srv.requests) == 1


async def test_proxy_py_refusing_credentials_raises_client_http_proxy_error(
    proxy_py: ProxyPy,
) -> None:
    async with origin() as (srv, port), surge.ClientSession() as session:
        for auth in (None, surge.BasicAuth("pu", "wrong")):
            with pytest.raises(surge.ClientHttpProxyError) as info:
                await session.ws_connect(
                    f"ws://127.0.0.1:{port}/", proxy=proxy_py.url, proxy_auth=auth
                )
            assert info.value.status == 407
    assert srv.requests == []


async def test_proxy_auth_and_headers_reach_the_proxy_only() -> None:
    async with (
        origin() as (srv, port),
        forward_proxy(require_auth=_basic("u", "p")) as proxy,
        surge.ClientSession() as session,
        session.ws_connect(
            f"ws://127.0.0.1:{port}/room?x=1",
            proxy=proxy.url,
            proxy_auth=surge.BasicAuth("u", "p"),
            proxy_headers={"X-Proxy-Token": "t0k"},
            headers={"X-Origin": "o"},
        ) as ws,
    ):
        assert await _echo_once(ws, "hi") == "hi"
    assert len(proxy.heads) == 1  # the tunnel; the upgrade request went inside it
    head = proxy.heads[0].decode("latin-1")
    assert head.startswith(f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\n")
    assert f"Proxy-Authorization: {_basic('u', 'p')}" in head
    assert "X-Proxy-Token: t0k" in head
    assert "X-Origin" not in head and "Sec-WebSocket-Key" not in head
    (headers,) = srv.requests
    assert headers["X-Origin"] == "o"
    assert "Proxy-Authorization" not in headers and "X-Proxy-Token" not in headers


async def test_refused_connect_raises_and_never_reaches_the_origin() -> None:
    async with (
        origin() as (srv, port),
        forward_proxy(require_auth=_basic("u", "p")) as proxy,
        surge.ClientSession() as session,
    ):
        with pytest.raises(surge.ClientHttpProxyError) as info:
            await session.ws_connect(f"ws://127.0.0.1:{port}/", proxy=proxy.url)
    assert info.value.status == 407
    assert srv.requests == []


async def test_wss_tunnel_through_the_raw_proxy(ca: trustme.CA) -> None:
    async with (
        origin(_server_tls(ca)) as (_srv, port),
        forward_proxy() as proxy,
        surge.ClientSession(proxy=proxy.url) as session,  # the session's default proxy
        session.ws_connect(f"wss://localhost:{port}/", ssl=_client_tls(ca)) as ws,
    ):
        assert await _echo_once(ws, "tls") == "tls"
    assert [h.split(b"\r\n")[0] for h in proxy.heads] == [
        f"CONNECT localhost:{port} HTTP/1.1".encode()
    ]


async def test_trust_env_takes_ws_proxy_not_http_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "no_proxy", "ws_proxy", "wss_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    async with (
        origin() as (_srv, port),
        forward_proxy(require_auth=_basic("e", "v")) as proxy,
    ):
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # not for WebSockets (aiohttp)
        async with surge.ClientSession(trust_env=True) as session:
            async with session.ws_connect(f"ws://127.0.0.1:{port}/") as ws:
                assert await _echo_once(ws, "direct") == "direct"
            assert proxy.heads == []
            monkeypatch.setenv("WS_PROXY", proxy.url.replace("http://", "http://e:v@"))
            async with session.ws_connect(f"ws://127.0.0.1:{port}/") as ws:
                assert await _echo_once(ws, "via env") == "via env"
            assert len(proxy.heads) == 1
            assert proxy.heads[0].startswith(f"CONNECT 127.0.0.1:{port} ".encode())
        async with (
            surge.ClientSession() as session,  # trust_env off: the variable is ignored
            session.ws_connect(f"ws://127.0.0.1:{port}/") as ws,
        ):
            assert await _echo_once(ws, "direct again") == "direct again"
        assert len(proxy.heads) == 1
