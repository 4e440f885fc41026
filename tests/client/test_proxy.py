"""Proxies: http targets in absolute form, https targets through CONNECT, proxy auth,
HTTP(S)_PROXY / NO_PROXY and netrc with trust_env=True."""

from __future__ import annotations

import base64
import ssl
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import trustme

import surge
from tests.client.proxy_server import forward_proxy
from tests.client.servers import http_server
from tests.client.test_tls import tls_server


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"{self.path}|{self.headers.get('Authorization')}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _basic(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


async def test_http_target_goes_to_the_proxy_in_absolute_form() -> None:
    with http_server(_Echo) as origin:
        async with (
            forward_proxy(require_auth=_basic("pu", "pp")) as proxy,
            surge.ClientSession() as s,
            s.get(f"{origin}/a?b=1", proxy=proxy.url, proxy_auth=surge.BasicAuth("pu", "pp")) as r,
        ):
            assert r.status == 200
            assert await r.text() == "/a?b=1|None"
    first_line = proxy.heads[0].split(b"\r\n")[0]
    assert first_line == f"GET {origin}/a?b=1 HTTP/1.1".encode()
    assert f"Proxy-Authorization: {_basic('pu', 'pp')}".encode() in proxy.heads[0]


async def test_proxy_credentials_in_the_proxy_url() -> None:
    with http_server(_Echo) as origin:
        async with forward_proxy(require_auth=_basic("u", "p w")) as proxy:
            proxy_url = proxy.url.replace("http://", "http://u:p%20w@")
            async with surge.ClientSession(proxy=proxy_url) as s, s.get(f"{origin}/x") as r:
                assert r.status == 200
                assert await r.text() == "/x|None"


async def test_https_target_through_a_connect_tunnel() -> None:
    ca = trustme.CA()
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    async with (
        tls_server(ca, "localhost") as port,
        forward_proxy(require_auth=_basic("pu", "pp")) as proxy,
        surge.ClientSession() as s,
    ):
        for _ in range(2):  # the second request reuses the tunnel
            async with s.get(
                f"https://localhost:{port}/secret",
                proxy=proxy.url,
                proxy_auth=surge.BasicAuth("pu", "pp"),
                ssl=ctx,
            ) as r:
                assert r.status == 200
                assert await r.read() == b"secure"
    assert len(proxy.heads) == 1
    head = proxy.heads[0]
    assert head.startswith(f"CONNECT localhost:{port} HTTP/1.1\r\n".encode())
    assert f"Host: localhost:{port}".encode() in head
    assert b"/secret" not in head  # the request itself went inside the TLS tunnel


async def test_connect_refused_by_the_proxy_raises_client_http_proxy_error() -> None:
    async with forward_proxy(require_auth=_basic("a", "b")) as proxy, surge.ClientSession() as s:
        with pytest.raises(surge.ClientHttpProxyError) as info:
            await s.get("https://localhost:1/", proxy=proxy.url)
    assert info.value.status == 407


async def test_unreachable_proxy_raises_client_proxy_connection_error() -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    async with surge.ClientSession() as s:
        with pytest.raises(surge.ClientProxyConnectionError) as info:
            await s.get("http://example.invalid/", proxy=f"http://127.0.0.1:{port}")
    assert isinstance(info.value, surge.ClientConnectorError)
    assert info.value.port == port


async def test_non_http_proxy_scheme_is_refused() -> None:
    async with surge.ClientSession() as s:
        with pytest.raises(ValueError, match="http proxies"):
            await s.get("http://127.0.0.1/", proxy="socks5://127.0.0.1:1080")


async def test_trust_env_reads_http_proxy_and_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    with http_server(_Echo) as origin:
        async with forward_proxy() as proxy:
            monkeypatch.setenv("HTTP_PROXY", proxy.url)
            monkeypatch.delenv("NO_PROXY", raising=False)
            monkeypatch.delenv("no_proxy", raising=False)
            monkeypatch.delenv("http_proxy", raising=False)
            async with surge.ClientSession(trust_env=True) as s, s.get(f"{origin}/via") as r:
                assert await r.text() == "/via|None"
            assert len(proxy.heads) == 1
            async with (
                surge.ClientSession() as s,
                s.get(f"{origin}/direct") as r,
            ):  # trust_env=False: direct
                assert await r.text() == "/direct|None"
            monkeypatch.setenv("NO_PROXY", "127.0.0.1")
            async with surge.ClientSession(trust_env=True) as s, s.get(f"{origin}/bypass") as r:
                assert await r.text() == "/bypass|None"
            assert len(proxy.heads) == 1


async def test_trust_env_takes_credentials_from_netrc(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1\n  login alice\n  password s3cret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    with http_server(_Echo) as origin:
        async with surge.ClientSession(trust_env=True) as s, s.get(f"{origin}/n") as r:
            assert await r.text() == f"/n|{_basic('alice', 's3cret')}"
        async with surge.ClientSession() as s, s.get(f"{origin}/n") as r:
            assert await r.text() == "/n|None"
