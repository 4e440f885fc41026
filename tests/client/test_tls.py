"""TLS: verification, ssl=False, custom contexts, server_hostname, certificate errors."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator

import pytest
import trustme

import surge
from tests.client.servers import read_request, reply


@contextlib.asynccontextmanager
async def tls_server(ca: trustme.CA, name: str = "localhost") -> AsyncIterator[int]:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(name).configure_cert(ctx)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await read_request(reader)
                writer.write(reply(200, b"secure"))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=ctx)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def _client_ctx(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


async def test_verified_tls_with_a_custom_context() -> None:
    ca = trustme.CA()
    async with tls_server(ca) as port:
        connector = surge.TCPConnector(ssl=_client_ctx(ca))
        async with surge.ClientSession(connector=connector) as s:
            for _ in range(2):
                async with s.get(f"https://localhost:{port}/") as resp:
                    assert await resp.read() == b"secure"
        async with (
            surge.ClientSession(ssl=_client_ctx(ca)) as s,
            s.get(f"https://localhost:{port}/") as resp,
        ):
            assert resp.status == 200


async def test_untrusted_certificate_is_a_certificate_error() -> None:
    ca = trustme.CA()
    async with tls_server(ca) as port, surge.ClientSession() as s:
        with pytest.raises(surge.ClientConnectorCertificateError) as info:
            await s.get(f"https://localhost:{port}/")
    assert isinstance(info.value, ssl.SSLError)
    assert isinstance(info.value.certificate_error, ssl.SSLCertVerificationError)


async def test_ssl_false_skips_verification() -> None:
    ca = trustme.CA()
    async with (
        tls_server(ca) as port,
        surge.ClientSession() as s,
        s.get(f"https://localhost:{port}/", ssl=False) as resp,
    ):
        assert await resp.read() == b"secure"


async def test_server_hostname_overrides_the_checked_name() -> None:
    ca = trustme.CA()
    async with tls_server(ca, name="api.internal") as port, surge.ClientSession() as s:
        ctx = _client_ctx(ca)
        with pytest.raises(surge.ClientConnectorCertificateError):
            await s.get(f"https://127.0.0.1:{port}/", ssl=ctx)
        async with s.get(
            f"https://127.0.0.1:{port}/", ssl=ctx, server_hostname="api.internal"
        ) as resp:
            assert await resp.read() == b"secure"


async def test_fingerprint_pins_the_server_certificate() -> None:
    import hashlib

    ca = trustme.CA()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert = ca.issue_cert("localhost")
    cert.configure_cert(ctx)
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    good = surge.Fingerprint(hashlib.sha256(der).digest())
    bad = surge.Fingerprint(hashlib.sha256(b"other").digest())

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await read_request(reader)
            writer.write(reply(200, b"pinned"))
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=ctx)
    port = server.sockets[0].getsockname()[1]
    try:
        async with surge.ClientSession() as s:
            # not trusted by any CA we know: the pin alone is the trust
            async with s.get(f"https://localhost:{port}/", ssl=good) as r:
                assert await r.read() == b"pinned"
            with pytest.raises(surge.ServerFingerprintMismatch) as info:
                await s.get(f"https://localhost:{port}/", ssl=bad)
            assert info.value.expected == bad.fingerprint
            assert info.value.got == good.fingerprint
            with pytest.raises(surge.ClientConnectorCertificateError):
                await s.get(f"https://localhost:{port}/")
    finally:
        server.close()


def test_fingerprint_refuses_weak_digests() -> None:
    with pytest.raises(ValueError, match="insecure"):
        surge.Fingerprint(b"\x00" * 20)
    with pytest.raises(ValueError, match="length"):
        surge.Fingerprint(b"\x00" * 7)


def test_closing_the_session_aborts_its_tls_connections() -> None:
    """As aiohttp: the connector aborts TLS connections when it closes rather than waiting for
    the peer's TLS shutdown, which asyncio.run, returning right after, would cut short, leaving
    the socket open (a ResourceWarning later)."""
    import gc
    import socket
    import threading
    import warnings

    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    done = threading.Event()

    def serve_once() -> None:
        # One answer, then silence: the peer never answers the client's close_notify.
        conn, _ = listener.accept()
        with server_ctx.wrap_socket(conn, server_side=True) as tls:
            tls.recv(65536)
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            done.wait(10)

    thread = threading.Thread(target=serve_once)
    thread.start()

    async def main() -> None:
        async with (
            surge.ClientSession(ssl=_client_ctx(ca)) as s,
            s.get(f"https://127.0.0.1:{port}/") as resp,
        ):
            assert await resp.read() == b"ok"

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            asyncio.run(main())
            gc.collect()
    finally:
        done.set()
        thread.join()
        listener.close()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
