"""Runners and sites on real sockets: TCP (plain, TLS, reuse_port), Unix, pre-made sockets."""

from __future__ import annotations

import asyncio
import socket
import ssl
from pathlib import Path

import httpx
import pytest
import trustme

from surge import web


def make_app() -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=f"hello {request.scheme}")

    app = web.Application()
    app.router.add_get("/", hello)
    return app


async def get(url: str, **kwargs: object) -> httpx.Response:
    async with httpx.AsyncClient(**kwargs) as client:  # type: ignore[arg-type]
        return await client.get(url, timeout=5)


async def test_app_runner_tcp_site_addresses_and_name() -> None:
    runner = web.AppRunner(make_app())
    assert runner.server is None
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = site.port
        assert runner.addresses == [("127.0.0.1", port)]
        assert site.name == f"http://127.0.0.1:{port}"
        assert runner.sites == {site}
        response = await get(f"http://127.0.0.1:{port}/")
        assert response.status_code == 200
        assert response.text == "hello http"
    finally:
        await runner.cleanup()
    assert runner.server is None
    assert runner.addresses == []
    with pytest.raises(ConnectionError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_site_before_setup_is_an_error() -> None:
    runner = web.AppRunner(make_app())
    with pytest.raises(RuntimeError):
        web.TCPSite(runner, "127.0.0.1", 0)


def test_app_runner_rejects_non_app_and_bad_logger_class() -> None:
    with pytest.raises(TypeError):
        web.AppRunner(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        web.AppRunner(make_app(), access_log_class=object)  # type: ignore[arg-type]


def test_tcp_site_default_name_and_port() -> None:
    async def main() -> tuple[str, str]:
        runner = web.AppRunner(make_app())
        await runner.setup()
        try:
            plain = web.TCPSite(runner)
            tls = web.TCPSite(runner, "::1", ssl_context=ssl.create_default_context())
            return plain.name, tls.name
        finally:
            await runner.cleanup()

    assert asyncio.run(main()) == ("http://0.0.0.0:8080", "https://[::1]:8443")


async def test_server_runner_serves_low_level_handler() -> None:
    async def handler(request: web.BaseRequest) -> web.Response:
        return web.Response(text=f"low {request.path}")

    runner = web.ServerRunner(web.Server(handler))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=16)
    await site.start()
    try:
        response = await get(f"http://127.0.0.1:{site.port}/x")
        assert response.text == "low /x"
    finally:
        await runner.cleanup()


async def test_tls_site_with_trustme_certificate(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    runner = web.AppRunner(make_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
    await site.start()
    try:
        assert site.name == f"https://127.0.0.1:{site.port}"
        client_ctx = ssl.create_default_context(cafile=str(ca_file))
        response = await get(f"https://127.0.0.1:{site.port}/", verify=client_ctx)
        assert response.status_code == 200
        assert response.text == "hello https"
        # A client that does not trust the CA fails the handshake.
        with pytest.raises(httpx.ConnectError):
            await get(f"https://127.0.0.1:{site.port}/")
    finally:
        await runner.cleanup()


async def test_reuse_port_lets_two_sites_share_a_port() -> None:
    first = web.AppRunner(make_app())
    second = web.AppRunner(make_app())
    await first.setup()
    await second.setup()
    try:
        site1 = web.TCPSite(first, "127.0.0.1", 0, reuse_port=True)
        await site1.start()
        site2 = web.TCPSite(second, "127.0.0.1", site1.port, reuse_port=True)
        await site2.start()
        assert site2.port == site1.port
        response = await get(f"http://127.0.0.1:{site1.port}/")
        assert response.text == "hello http"
        # Without reuse_port the same bind fails.
        third = web.TCPSite(second, "127.0.0.1", site1.port)
        with pytest.raises(OSError):
            await third.start()
    finally:
        await first.cleanup()
        await second.cleanup()


async def test_unix_site(tmp_path: Path) -> None:
    path = tmp_path / "surge.sock"
    runner = web.AppRunner(make_app())
    await runner.setup()
    site = web.UnixSite(runner, path)
    await site.start()
    try:
        assert site.name == f"http://unix:{path}:"
        assert runner.addresses == [str(path)]
        transport = httpx.AsyncHTTPTransport(uds=str(path))
        response = await get("http://localhost/", transport=transport)
        assert response.status_code == 200
        assert response.text == "hello http"
    finally:
        await runner.cleanup()


async def test_sock_site_serves_a_premade_socket() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    runner = web.AppRunner(make_app())
    await runner.setup()
    site = web.SockSite(runner, sock)
    await site.start()
    try:
        assert site.name == f"http://127.0.0.1:{port}"
        response = await get(f"http://127.0.0.1:{port}/")
        assert response.text == "hello http"
    finally:
        await runner.cleanup()
        sock.close()


async def test_cleanup_runs_shutdown_then_cleanup_signals() -> None:
    calls: list[str] = []
    app = make_app()

    async def on_startup(app: web.Application) -> None:
        calls.append("startup")

    async def on_shutdown(app: web.Application) -> None:
        calls.append("shutdown")

    async def on_cleanup(app: web.Application) -> None:
        calls.append("cleanup")

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    runner = web.AppRunner(app)
    await runner.setup()
    assert calls == ["startup"]
    await runner.cleanup()
    assert calls == ["startup", "shutdown", "cleanup"]
